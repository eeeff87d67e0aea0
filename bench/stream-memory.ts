// Where a stream's peak RSS comes from (issue 13: 5M rows from an AsyncIterable within 200 MB):
// Book entities made lazily by an async generator, as `npm run bench -- --stream-only` does, in
// this process, printing the peak RSS and, with --live (needs node --expose-gc), the live heap
// after a forced collection every 100k rows: growth there is retention, growth only in RSS is
// V8's heap between collections.
//
//   npm run build:test && node [--expose-gc] build/bench/stream-memory.js [--rows=1m] [--chunk=N] [--live]
import type { EntityClass } from '@mikro-orm/core';
import type { CopyEntityManager } from '../src/index.js';
import { BOOK } from './support/data.js';
import { initBenchOrm, tableInfo } from './support/orm.js';
import { startPostgres } from './support/postgres.js';
import { parseFlags, parseSize } from './support/runner.js';

const flags = parseFlags(process.argv.slice(2), ['rows', 'chunk', 'live']);
const rows = parseSize(flags.get('rows') ?? '1m');
const live = flags.has('live');
const gc = (globalThis as { gc?: () => void }).gc;
if (live && !gc) throw new Error('--live needs node --expose-gc');
const mb = (bytes: number) => `${(bytes / 2 ** 20).toFixed(0)} MB`;

const server = await startPostgres();
const orm = await initBenchOrm(server.url);
try {
  const generator = orm.schema as unknown as { create?: () => Promise<void>; createSchema?: () => Promise<void> };
  await orm.em.getConnection().execute('create schema if not exists "bench"');
  await (generator.create ? generator.create() : generator.createSchema!()).catch(() => undefined); // the table may exist
  await orm.em.getConnection().execute(`truncate ${tableInfo(orm, BOOK).table} restart identity`);
  const em = orm.em.fork() as CopyEntityManager;
  const cls = BOOK.cls as EntityClass<object>;
  async function* lazily() {
    for (let i = 0; i < rows; i++) {
      if (live && i % 100_000 === 0) {
        gc!();
        console.log(`row ${i}: live heap ${mb(process.memoryUsage().heapUsed)}, RSS ${mb(process.memoryUsage.rss())}`);
      }
      yield em.create(cls, BOOK.row(i) as never, { persist: false });
    }
  }
  const started = performance.now();
  await em.copyPersist(lazily(), flags.has('chunk') ? { chunkSize: Number(flags.get('chunk')) } : {});
  const seconds = (performance.now() - started) / 1000;
  if (live) {
    gc!();
    console.log(`after the call: live heap ${mb(process.memoryUsage().heapUsed)}`);
  }
  console.log(`${rows} rows in ${seconds.toFixed(1)} s (${Math.round(rows / seconds)} rows/s), chunk ${flags.get('chunk') ?? 'default'}: peak RSS ${mb(process.resourceUsage().maxRSS * 1024)}`);
} finally {
  await orm.close(true);
  await server.stop();
}
