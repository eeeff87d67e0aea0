// Not part of the recipe: a test that each file runs on the clone of its own worker, and a log of
// which worker ran which file, so .ci/fixtures-example.sh can check that several workers took part.
import { appendFileSync } from 'node:fs';
import type { MikroORM } from '@mikro-orm/postgresql';
import { expect, it } from 'vitest';

export function itRunsOnItsWorkersClone(db: { orm: MikroORM }, file: string): void {
  it('runs on the clone of its own worker', () => {
    const dbName = db.orm.config.get('dbName');
    expect(dbName).toBe(`app_test_${process.env.VITEST_POOL_ID}`);
    const log = process.env.FIXTURES_EXAMPLE_WORKER_LOG;
    if (log) appendFileSync(log, `${process.env.VITEST_POOL_ID} ${dbName} ${file}\n`);
  });
}
