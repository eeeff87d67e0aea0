import { after, afterEach, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { EntitySchema, type MikroORM } from '@mikro-orm/postgresql';
import { loadFile, truncateEntities, type CopyEntityManager } from '../../src/index.js';
import { initTestOrm } from '../support/orm.js';

const SCHEMA = 'load_file_values_test';

class Hostile {
  id!: number;
  txt?: string;
  vc?: string;
  n?: number;
  big?: string;
  price?: string;
  at?: Date;
  flag?: boolean;
  tags?: string[];
  meta?: unknown;
}

const HostileSchema = new EntitySchema<Hostile>({
  class: Hostile,
  properties: {
    id: { type: 'integer', primary: true },
    txt: { type: 'text', nullable: true },
    vc: { type: 'string', length: 12, nullable: true },
    n: { type: 'smallint', nullable: true },
    big: { type: 'bigint', nullable: true },
    price: { type: 'decimal', precision: 12, scale: 4, nullable: true },
    at: { type: 'datetime', nullable: true },
    flag: { type: 'boolean', nullable: true },
    tags: { type: 'string[]', nullable: true },
    meta: { type: 'json', nullable: true },
  },
});

const TEXTS = [
  '',
  ' leading and trailing ',
  'comma, "quote", and \\ backslash',
  'line\nbreak',
  'crlf\r\nbreak',
  'lone \r cr',
  '\\N',
  'NULL',
  '"QUOTED"',
  '"',
  ',',
  '\ttab',
  'emoji 😀, é and e\u0301',
  '{a,b}',
  'ends with \\',
  'x'.repeat(10_000),
];
const SHORT = ['', ' sp ', '"q"', ',', 'é😀', '\\N', 'NULL', '12 chars 😀!'];

type Row = { id: number; txt: string | null; vc: string | null; n: number | null; big: string | null; price: string | null; at: string | null; flag: boolean | null; tags: string[] | null; meta: unknown };

/** Every hostile value at least once, and a row of NULLs. */
function hostileRows(): Row[] {
  const numbers = [-32768, 32767, 0, null];
  const bigs = ['-9223372036854775808', '9223372036854775807', '0', null];
  const prices = ['0.0001', '-99999999.9999', '12.5000', null];
  const dates = ['2020-02-29T23:59:59.999Z', '1970-01-01T00:00:00.000Z', '2100-12-31T12:00:00.001Z', null];
  // no item with surrounding spaces: MikroORM's marshallArray leaves it unquoted and PostgreSQL trims it (flush too)
  const tags = [['a,b', 'quote"d', 'back\\slash', '{x}', 'NULL?', 'é😀'], [], ['one'], null];
  const metas = [{ s: 'quote" and \\ and \n', n: [1, null, true, 2.5], u: 'é😀' }, [1, 'two'], 'a string', null];
  const rows: Row[] = TEXTS.map((txt, i) => ({
    id: i + 1,
    txt,
    vc: SHORT[i % SHORT.length],
    n: numbers[i % 4],
    big: bigs[i % 4],
    price: prices[i % 4],
    at: dates[i % 4],
    flag: [true, false, null][i % 3],
    tags: tags[i % 4],
    meta: metas[i % 4],
  }));
  rows.push({ id: rows.length + 1, txt: null, vc: null, n: null, big: null, price: null, at: null, flag: null, tags: null, meta: null });
  return rows;
}

/** A CSV field as a careful writer quotes it: NULL unquoted and empty, everything else quoted. */
function csvField(value: unknown, json: boolean): string {
  if (value === null) return '';
  const text = typeof value === 'string' && !json ? value : JSON.stringify(value);
  return `"${text.replaceAll('"', '""')}"`;
}

describe('loadFile: hostile values are read back exactly', () => {
  let orm: MikroORM;
  let dir: string;
  const columns = ['id', 'txt', 'vc', 'n', 'big', 'price', 'at', 'flag', 'tags', 'meta'] as const;
  const readBack = async (): Promise<Row[]> => {
    const rows = await orm.em.fork().getConnection().execute<Row[]>(`select ${columns.join(', ')} from ${SCHEMA}.hostile order by id`);
    // timestamptz comes back as a Date in MikroORM 6 and as text in 7; bigint and numeric as text in both
    return rows.map(r => ({ ...r, at: r.at === null ? null : new Date(r.at).toISOString(), big: r.big === null ? null : String(r.big) }));
  };

  before(async () => {
    orm = await initTestOrm({ schema: SCHEMA, entities: [HostileSchema] });
    dir = await mkdtemp(join(tmpdir(), 'load-file-values-'));
  });
  afterEach(async () => {
    await truncateEntities(orm.em);
  });
  after(async () => {
    await orm?.close(true);
    await rm(dir, { recursive: true, force: true });
  });

  it('CSV (CRLF line ends, every field quoted except NULLs)', async () => {
    const rows = hostileRows();
    const lines = [columns.join(','), ...rows.map(row => columns.map(c => (c === 'id' ? String(row.id) : csvField(row[c], c === 'meta'))).join(','))];
    const path = join(dir, 'hostile.csv');
    await writeFile(path, lines.join('\r\n') + '\r\n');
    const result = await loadFile(orm.em.fork() as CopyEntityManager, { path, entity: Hostile });
    assert.equal(result.rows, rows.length);
    assert.equal(result.rejected, 0);
    assert.deepEqual(await readBack(), rows);
  });

  it('NDJSON', async () => {
    const rows = hostileRows();
    const path = join(dir, 'hostile.ndjson');
    await writeFile(path, rows.map(row => JSON.stringify(row)).join('\n') + '\n');
    const result = await loadFile(orm.em.fork() as CopyEntityManager, { path, entity: Hostile, batchSize: 5 });
    assert.equal(result.rows, rows.length);
    assert.deepEqual(await readBack(), rows);
  });
});
