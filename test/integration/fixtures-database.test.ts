// A database per test worker (issue 16.5): fixtures loaded once into a template, one clone each.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { MikroORM, type Options } from '@mikro-orm/postgresql';
import { CopyEntityManager, cloneTemplateDatabase, createTemplateDatabase, dropTestDatabases, loadFixtures } from '../../src/index.js';
import { MIKRO_ORM_VERSION, databaseUrl } from '../support/orm.js';
import { Author, Book, libraryEntities } from '../support/library.js';

const TEMPLATE = `mpc_fixtures_template_v${MIKRO_ORM_VERSION}`;
const CLONES = [1, 2, 3].map(n => `mpc_fixtures_worker_v${MIKRO_ORM_VERSION}_${n}`);

describe('fixtures: a database per worker', () => {
  const config = { clientUrl: databaseUrl(), entities: libraryEntities, entityManager: CopyEntityManager, pool: { min: 0, max: 2 } } as Options;
  let seeded = 0;

  before(async () => {
    await createTemplateDatabase({
      config,
      template: TEMPLATE,
      seed: async orm => {
        seeded++;
        await loadFixtures(orm.em.fork(), {
          Book: Array.from({ length: 1000 }, (_, i) => ({ id: i + 1, title: `book ${i + 1}`, author: (i % 10) + 1 })),
          Author: Array.from({ length: 10 }, (_, i) => ({ id: i + 1, name: `author ${i + 1}` })),
        });
      },
    });
  });
  after(async () => {
    assert.deepEqual(await dropTestDatabases(config, { prefix: `mpc_fixtures_worker_v${MIKRO_ORM_VERSION}_` }), CLONES);
    await dropTestDatabases(config, [TEMPLATE]);
  });

  it('clones made at the same time each hold the fixtures, and writes to one stay out of the others', async () => {
    const configs = await Promise.all(CLONES.map(name => cloneTemplateDatabase({ config, template: TEMPLATE, name })));
    assert.equal(seeded, 1, 'fixtures are loaded once');
    const orms = await Promise.all(configs.map(c => MikroORM.init(c)));
    try {
      assert.deepEqual(orms.map(orm => orm.config.get('dbName')), CLONES);
      const em = orms[0].em.fork();
      em.create(Book, { title: 'only in the first clone', author: em.getReference(Author, 1) });
      await em.flush();
      assert.deepEqual(await Promise.all(orms.map(orm => orm.em.fork().count(Book))), [1001, 1000, 1000]);
      // the sequences were moved past the fixtures' keys before the template was copied
      assert.equal((await em.findOneOrFail(Book, { title: 'only in the first clone' })).id, 1001);
    } finally {
      await Promise.all(orms.map(orm => orm.close(true)));
    }
  });

  it('a fresh clone replaces an older one of the same name', async () => {
    const config1 = await cloneTemplateDatabase({ config, template: TEMPLATE, name: CLONES[0] });
    const orm = await MikroORM.init(config1);
    try {
      assert.equal(await orm.em.fork().count(Book), 1000);
    } finally {
      await orm.close(true);
    }
  });
});
