// The files and the entities of the loader benchmark (issue 13's target: `load` of a CSV file
// within 1.3× of the same rows as NDJSON), shared by bench/load-file.ts and bench/targets.ts:
// the same rows written as a CSV and as an NDJSON file (8 columns: text with quotes and commas,
// decimal, integer, timestamptz, text[] and jsonb given as JSON text, boolean), or the CMU
// Pronouncing Dictionary's rows; and one timed loadFile of one of them.
import { once } from 'node:events';
import { createWriteStream } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { EntitySchema, MikroORM, type Options } from '@mikro-orm/postgresql';
import { CopyEntityManager, loadFile } from '../../src/index.js';
import { createSchema } from './graph-data.js';

export const LOAD_SCHEMA = 'bench_load_file';
export type LoadFormat = 'csv' | 'ndjson';

export class LoadBook {
  id!: number;
  title!: string;
  price?: string;
  pages?: number;
  publishedAt?: Date;
  tags?: string[];
  meta?: Record<string, unknown>;
  active!: boolean;
}
const LoadBookSchema = new EntitySchema<LoadBook>({
  class: LoadBook,
  tableName: 'book',
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

export class Word {
  id!: number;
  word!: string;
  phones!: string;
}
const WordSchema = new EntitySchema<Word>({
  class: Word,
  properties: { id: { type: 'integer', primary: true, autoincrement: true }, word: { type: 'text' }, phones: { type: 'text' } },
});

export async function initLoadOrm(url: string): Promise<MikroORM> {
  return MikroORM.init({ clientUrl: url, schema: LOAD_SCHEMA, entities: [LoadBookSchema, WordSchema], entityManager: CopyEntityManager, allowGlobalContext: true, debug: false, pool: { min: 0, max: 2 } } as Options);
}

export const createLoadSchema = (orm: MikroORM) => createSchema(orm, LOAD_SCHEMA);

/**
 * Writes `lines` generated book rows (or, given `cmudict`, that dictionary's words) to
 * `dir/books.csv` and `dir/books.ndjson`; returns both paths.
 */
export async function writeLoadFiles(dir: string, lines: number, cmudict?: string): Promise<Record<LoadFormat, string>> {
  const paths = { ndjson: join(dir, 'books.ndjson'), csv: join(dir, 'books.csv') };
  const ndjson = createWriteStream(paths.ndjson);
  const csv = createWriteStream(paths.csv);
  const quote = (text: string) => `"${text.replaceAll('"', '""')}"`;
  const write = async (json: string, line: string) => {
    const a = ndjson.write(json);
    const b = csv.write(line);
    if (!a) await once(ndjson, 'drain');
    if (!b) await once(csv, 'drain');
  };
  if (cmudict) {
    // "WORD  PH ON ES" per line; quoted only where CSV needs it, as an export would
    csv.write('word,phones\n');
    for (const line of (await readFile(cmudict, 'utf8')).split('\n')) {
      const at = line.indexOf('  ');
      if (at === -1) continue;
      const row = { word: line.slice(0, at), phones: line.slice(at + 2) };
      await write(JSON.stringify(row) + '\n', `${/[",]/.test(row.word) ? quote(row.word) : row.word},${row.phones}\n`);
    }
  } else {
    csv.write('title,price,pages,publishedAt,tags,meta,active\n');
    for (let i = 0; i < lines; i++) {
      const row = { title: `book ${i} "quoted", with comma`, price: (i % 10_000) / 100, pages: i % 1000, publishedAt: new Date(1_600_000_000_000 + i * 1000).toISOString(), tags: ['a', String(i)], meta: { i }, active: i % 2 === 0 };
      const line = [quote(row.title), row.price, row.pages, row.publishedAt, quote(JSON.stringify(row.tags)), quote(JSON.stringify(row.meta)), row.active].join(',');
      await write(JSON.stringify(row) + '\n', line + '\n');
    }
  }
  await Promise.all([new Promise<void>(resolve => ndjson.end(resolve)), new Promise<void>(resolve => csv.end(resolve))]);
  return paths;
}

/** Empties the table, then loads `file` with loadFile; timed: the loadFile call only. */
export async function loadOnce(orm: MikroORM, file: string, cmudict: boolean, onProgress?: () => void): Promise<{ rows: number; ms: number; cpuMs: number }> {
  await orm.em.getConnection().execute(`truncate "${LOAD_SCHEMA}"."${cmudict ? 'word' : 'book'}" restart identity`);
  const started = performance.now();
  const cpuBefore = process.cpuUsage();
  const result = await loadFile(orm.em.fork(), { path: file, entity: cmudict ? Word : LoadBook, onProgress });
  const ms = performance.now() - started;
  const cpu = process.cpuUsage(cpuBefore);
  return { rows: result.rows, ms, cpuMs: (cpu.user + cpu.system) / 1000 };
}
