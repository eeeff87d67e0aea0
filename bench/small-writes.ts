// Issue 13's target "10 rows: no slower than insertMany": `npm run bench -- --sizes=10` times one
// cold call in a fresh process (connection, metadata, compiling), which says little about a call
// an application makes many times. This times warm calls instead, taking turns in one process:
// copyPersist(entities), copyPersist(Book, rows), em.insertMany(entities) as a user calls it (one
// INSERT, autocommit) and inside em.transactional (as the bench's insertMany path), each on fresh
// entities of the bench's Book, `--rows` per call (default 10), median per call of `--calls`
// (bench/support/small-writes.ts; `npm run bench -- --targets` runs the same).
//
//   npm run build:test && node build/bench/small-writes.js [--rows=10] [--calls=200]
import { loadavg } from 'node:os';
import { createBenchSchema, initBenchOrm } from './support/orm.js';
import { redact, startPostgres } from './support/postgres.js';
import { parseFlags, parseSize } from './support/runner.js';
import { SMALL_WRITE_PATHS, timeSmallWrites } from './support/small-writes.js';

const flags = parseFlags(process.argv.slice(2), ['rows', 'calls']);
const rows = parseSize(flags.get('rows') ?? '10');
const calls = Number(flags.get('calls') ?? 200);
const server = await startPostgres();
const orm = await initBenchOrm(server.url);
try {
  await createBenchSchema(orm);
  const medians = await timeSmallWrites(orm, rows, calls);
  const base = medians.insertMany;
  console.log(`${rows} Book rows per call, ${calls} warm calls of each path taking turns; PostgreSQL ${server.embedded ? 'embedded' : redact(server.url)}\n`);
  console.log('| path | median ms per call | × insertMany |');
  console.log('|---|--:|--:|');
  for (const path of SMALL_WRITE_PATHS) console.log(`| ${path} | ${medians[path].toFixed(2)} | ${(medians[path] / base).toFixed(2)} |`);
  console.log(`\nload average after: ${loadavg().map(l => l.toFixed(2)).join(' ')}`);
} finally {
  await orm.close(true);
  await server.stop();
}
