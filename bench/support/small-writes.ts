// Warm small writes taking turns in one process (issue 13's target "10 rows: no slower than
// insertMany"): a cold call in a fresh process times connecting and compiling, not what an
// application pays for each of its many small calls. Used by bench/small-writes.ts and
// bench/targets.ts.
import type { EntityClass } from '@mikro-orm/core';
import type { MikroORM } from '@mikro-orm/postgresql';
import type { CopyEntityManager } from '../../src/index.js';
import { BOOK } from './data.js';
import { tableInfo } from './orm.js';

export const SMALL_WRITE_PATHS = ['copyPersist(entities)', 'copyPersist(Book, rows)', 'insertMany', 'insertMany in transactional'] as const;
export type SmallWritePath = (typeof SMALL_WRITE_PATHS)[number];
/** The first calls of each path warm up (JIT, compiled encoders, statement caches) and are not counted. */
const WARM_UP_CALLS = 5;

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

/**
 * `calls` counted calls of each path on fresh Book entities, `rows` per call, the paths taking
 * turns; returns the median milliseconds per call of each. The bench schema must exist and the
 * Book table be empty.
 */
export async function timeSmallWrites(orm: MikroORM, rows: number, calls: number): Promise<Record<SmallWritePath, number>> {
  const cls = BOOK.cls as EntityClass<object>;
  const times = Object.fromEntries(SMALL_WRITE_PATHS.map(p => [p, [] as number[]])) as Record<SmallWritePath, number[]>;
  let next = 0;
  for (let call = 0; call < calls + WARM_UP_CALLS; call++) {
    for (const path of SMALL_WRITE_PATHS) {
      const em = orm.em.fork() as CopyEntityManager;
      const first = next;
      next += rows;
      const plain = Array.from({ length: rows }, (_, i) => BOOK.row(first + i));
      const entities = path === 'copyPersist(Book, rows)' ? [] : plain.map(row => em.create(cls, row as never, { persist: false }));
      const started = performance.now();
      if (path === 'copyPersist(entities)') await em.copyPersist(entities);
      else if (path === 'copyPersist(Book, rows)') await em.copyPersist(cls, plain);
      else if (path === 'insertMany') await em.insertMany(entities);
      else await em.transactional(trx => trx.insertMany(entities));
      if (call >= WARM_UP_CALLS) times[path].push(performance.now() - started);
    }
  }
  const [{ n }] = await orm.em.getConnection().execute<{ n: number }[]>(`select count(*)::int as n from ${tableInfo(orm, BOOK).table}`);
  if (n !== next) throw new Error(`${n} rows in the table, ${next} written`);
  return Object.fromEntries(SMALL_WRITE_PATHS.map(p => [p, median(times[p])])) as Record<SmallWritePath, number>;
}
