import { MikroORM } from '@mikro-orm/postgresql';
import { TestEntityManager, beginTestTransaction, cloneTemplateDatabase, type TestTransaction } from 'mikro-orm-pg-copy';
import { afterAll, afterEach, beforeAll, beforeEach } from 'vitest';
import config from '../src/mikro-orm.config.js';

/** Per test file: a fresh clone of the template for this worker; per test: a transaction rolled back. */
export function useTestDatabase() {
  const db = {} as { orm: MikroORM; tx: TestTransaction };
  beforeAll(async () => {
    db.orm = await MikroORM.init(await cloneTemplateDatabase({
      config: { ...config, entityManager: TestEntityManager },
      template: 'app_test_template',
      name: `app_test_${process.env.VITEST_POOL_ID}`,
    }));
  });
  beforeEach(async () => {
    db.tx = await beginTestTransaction(db.orm.em);
  });
  afterEach(() => db.tx.rollback());
  afterAll(() => db.orm.close());
  return db;
}
