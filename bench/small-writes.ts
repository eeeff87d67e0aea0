// Issue 13's target "10 rows: no slower than insertMany": `npm run bench -- --sizes=10` times one
// cold call in a fresh process (connection, metadata, compiling), which says little about a call
// an application makes many times. This times warm calls instead, taking turns in one process:
// copyPersist(entities), copyPersist(Book, rows), em.insertMany(entities) as a user calls it (one
// INSERT, autocommit) and inside em.transactional (as the bench's insertMany path), each on fresh
// entities of the bench's Book, `--rows` per call (default 10), median per call of `--calls`.
//
//   npm run build:test && node build/bench/small-writes.js [--rows=10] [--calls=200]
import { loadavg } from 'node:os';
import type { EntityClass } from '@mikro-orm/core';
import type { CopyEntityManager } from '../src/index.js';
import { BOOK } from './support/data.js';
import { createBenchSchema, initBenchOrm, tableInfo } from './support/orm.js';
import { redact, startPostgres } from './support/postgres.js';
import { parseFlags, parseSize } from './support/runner.js';

const PATHS = ['copyPersist(entities)', 'copyPersist(Book, rows)', 'insertMany', 'insertMany in transactional'] as const;

const flags = parseFlags(process.argv.slice(2), ['rows', 'calls']);
const rows = parseSize(flags.get('rows') ?? '10');
const calls = Number(flags.get('calls') ?? 200);
const server = await startPostgres();
const orm = await initBenchOrm(server.url);
try {
  await createBenchSchema(orm);
  const cls = BOOK.cls as EntityClass<object>;
  const times: Record<string, number[]> = {};
  let next = 0;
  for (let call = 0; call < calls + 5; call++) {
    for (const path of PATHS) {
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
      // the first calls of each path warm up (JIT, compiled encoders, statement caches)
      if (call >= 5) (times[path] ??= []).push(performance.now() - started);
    }
  }
  const [{ n }] = await orm.em.getConnection().execute<{ n: number }[]>(`select count(*)::int as n from ${tableInfo(orm, BOOK).table}`);
  if (n !== next) throw new Error(`${n} rows in the table, ${next} written`);
  const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
  const base = median(times.insertMany);
  console.log(`${rows} Book rows per call, ${calls} warm calls of each path taking turns; PostgreSQL ${server.embedded ? 'embedded' : redact(server.url)}\n`);
  console.log('| path | median ms per call | × insertMany |');
  console.log('|---|--:|--:|');
  for (const path of PATHS) console.log(`| ${path} | ${median(times[path]).toFixed(2)} | ${(median(times[path]) / base).toFixed(2)} |`);
  console.log(`\nload average after: ${loadavg().map(l => l.toFixed(2)).join(' ')}`);
} finally {
  await orm.close(true);
  await server.stop();
}
