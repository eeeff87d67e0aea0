// Rows per second of a parallel load with 1, 2 and 4 streams: 1M Book rows (bench/support/data.ts)
// generated lazily as plain rows, each run into an emptied table on embedded PostgreSQL (or
// DATABASE_URL). The load average is printed beside every figure, because on a shared machine it
// says more about a figure than the figure does.
//
//   npm run build:test && node build/bench/parallel.js [rows] [streams...]
import { loadavg, cpus } from 'node:os';
import { MikroORM, type Options } from '@mikro-orm/postgresql';
import { CopyEntityManager } from '../src/index.js';
import { copyParallel } from '../src/loaders/parallel.js';
import { BOOK, Book } from './support/data.js';
import { redact, startPostgres } from './support/postgres.js';

const SCHEMA = 'bench_parallel';
const rows = Number(process.argv[2] ?? 1_000_000);
const streamCounts = process.argv.length > 3 ? process.argv.slice(3).map(Number) : [1, 2, 4];

function* books(n: number): Generator<Record<string, unknown>> {
  for (let i = 0; i < n; i++) yield BOOK.row(i);
}

const load = () => loadavg().map(l => l.toFixed(2)).join(' ');

const pg = await startPostgres();
console.error(`PostgreSQL: ${pg.embedded ? 'embedded' : 'DATABASE_URL'} ${redact(pg.url)}; ${cpus().length} CPUs; node ${process.version}`);
const orm = await MikroORM.init({
  clientUrl: pg.url,
  schema: SCHEMA,
  entities: [BOOK.schema],
  entityManager: CopyEntityManager,
  allowGlobalContext: true,
  // one connection per stream, and one spare for the truncate and counts
  pool: { min: 0, max: Math.max(...streamCounts) + 1 },
} as Options);
try {
  const conn = orm.em.getConnection();
  await conn.execute(`drop schema if exists "${SCHEMA}" cascade`);
  await conn.execute(`create schema "${SCHEMA}"`);
  const generator = orm.schema as unknown as { create?: () => Promise<void>; createSchema?: () => Promise<void> };
  await (generator.create ? generator.create() : generator.createSchema!());

  const results: { streams: number; seconds: number; rowsPerSecond: number; loadBefore: string; loadAfter: string }[] = [];
  for (const streams of streamCounts) {
    await conn.execute(`truncate "${SCHEMA}"."book" restart identity`);
    await conn.execute(`checkpoint`).catch(() => undefined); // start every run from a clean WAL state
    const loadBefore = load();
    const started = process.hrtime.bigint();
    const result = await copyParallel(orm.em.fork(), Book, books(rows), { parallel: streams, batchSize: 50_000 });
    const seconds = Number(process.hrtime.bigint() - started) / 1e9;
    const [row] = await conn.execute<{ n: string }[]>(`select count(*) as n from "${SCHEMA}"."book"`);
    if (Number(row.n) !== rows || result.rows !== rows) throw new Error(`expected ${rows} rows, found ${row.n} (reported ${result.rows})`);
    const entry = { streams, seconds, rowsPerSecond: Math.round(rows / seconds), loadBefore, loadAfter: load() };
    results.push(entry);
    console.error(`${streams} stream(s): ${rows} rows in ${seconds.toFixed(1)} s = ${entry.rowsPerSecond} rows/s (load average before ${loadBefore}, after ${entry.loadAfter})`);
  }
  console.log('\n| streams | rows/s | seconds | load average before | after |\n|---|---|---|---|---|');
  for (const r of results) console.log(`| ${r.streams} | ${r.rowsPerSecond.toLocaleString('en')} | ${r.seconds.toFixed(1)} | ${r.loadBefore} | ${r.loadAfter} |`);
} finally {
  await orm.close(true);
  await pg.stop();
}
