// The benchmark's two entities and their rows: deterministic (row i is a pure function of i), so
// every path and the reference CSV write the very same values, and a streamed run can make them
// lazily. Also the reference CSV encoder that feeds `psql \copy` — written independently of the
// library's encoder so that comparing the tables checks the library too.
import { createWriteStream } from 'node:fs';
import { once } from 'node:events';
import { EntitySchema } from '@mikro-orm/postgresql';

/** How a value is written in COPY's CSV format. */
type Kind = 'text' | 'int' | 'bigint' | 'float' | 'numeric' | 'bool' | 'timestamptz' | 'date' | 'json' | 'textarray' | 'uuid';

interface Column {
  prop: string;
  kind: Kind;
  /** MikroORM property options for EntitySchema. */
  options: Record<string, unknown>;
  value: (i: number) => unknown;
}

export interface BenchEntity {
  /** `book` or `wide`. */
  key: string;
  cls: new () => object;
  schema: EntitySchema;
  columns: Column[];
  /** A property whose value is unique per row, to order rows when hashing a table. */
  orderProp: string;
  row(i: number): Record<string, unknown>;
}

// --- deterministic pseudo-random numbers: a hash of (row, column) -----------------------------
function rnd(i: number, salt: number): number {
  let h = Math.imul(i ^ 0x5bd1e995, 0x9e3779b1) ^ Math.imul(salt + 1, 0x85ebca6b);
  h ^= h >>> 15;
  h = Math.imul(h, 0x2c1b3c6d);
  h ^= h >>> 12;
  h = Math.imul(h, 0x297a2d39);
  h ^= h >>> 15;
  return h >>> 0;
}

const WORDS = ['Dune', 'Ulysses', 'Emma', 'Beloved', 'Solaris', 'Middlemarch', 'Kokoro', 'Ficciones', 'Austerlitz', 'Stoner'];
const BASE_TIME = Date.UTC(2001, 0, 1);

function title(i: number): string {
  if (i % 97 === 13) return ''; // the empty string, which must not become NULL
  const w = WORDS[rnd(i, 1) % WORDS.length];
  switch (i % 4) {
    case 0: return `${w} #${i}`;
    case 1: return `"${w}", vol. ${i % 7}`;
    case 2: return `${w}, part ${i}\nsecond line with a "quote"`;
    default: return `${w} \\ back\\slash, tab\tand 'single' ${i}`;
  }
}

// No element spelled NULL: MikroORM's marshallArray writes it unquoted, so flush (and hence
// copyPersist) stores a null element where the reference CSV stores the string 'NULL'.
function tags(i: number): string[] | null {
  if (i % 10 === 3) return null;
  if (i % 10 === 7) return [];
  return ['fiction', `t${rnd(i, 2) % 50}`, 'with "quote", comma', i % 3 === 0 ? '{braces} \\ back\\slash' : 'plain'];
}

function money(i: number, salt: number): string {
  const cents = rnd(i, salt) % 10_000_000;
  return `${Math.floor(cents / 100)}.${String(cents % 100).padStart(2, '0')}`;
}

function col(prop: string, kind: Kind, options: Record<string, unknown>, value: (i: number) => unknown): Column {
  return { prop, kind, options, value };
}

function entity(key: string, cls: new () => object, columns: Column[], orderProp: string): BenchEntity {
  const properties: Record<string, unknown> = { id: { type: 'bigint', primary: true, autoincrement: true } };
  for (const c of columns) properties[c.prop] = c.options;
  const schema = new EntitySchema({ class: cls, properties } as never);
  const props = columns.map(c => c.prop);
  const values = columns.map(c => c.value);
  return {
    key,
    cls,
    schema,
    columns,
    orderProp,
    row(i: number) {
      const row: Record<string, unknown> = {};
      for (let c = 0; c < props.length; c++) {
        const v = values[c](i);
        if (v !== undefined) row[props[c]] = v;
      }
      return row;
    },
  };
}

// jsonb columns use MikroORM's own JsonType (`type: 'json'`, jsonb on PostgreSQL).
const jsonb = (nullable: boolean) => ({ type: 'json', nullable });

// --- Book: the 8-column table of NOTES.md ------------------------------------------------------
export class Book {
  id?: bigint;
  title!: string;
  isbn!: string;
  price?: string | null;
  publishedAt!: Date;
  tags?: string[] | null;
  meta?: Record<string, unknown> | null;
  active!: boolean;
  authorId!: number;
}

export const BOOK = entity('book', Book, [
  col('title', 'text', { type: 'text' }, title),
  col('isbn', 'text', { type: 'string', length: 20 }, i => `978-${String(i).padStart(12, '0')}`),
  col('price', 'numeric', { type: 'decimal', precision: 10, scale: 2, nullable: true }, i => (i % 10 === 5 ? null : money(i, 3))),
  col('publishedAt', 'timestamptz', { type: 'datetime' }, i => new Date(BASE_TIME + i * 61_000 + (rnd(i, 4) % 1000))),
  col('tags', 'textarray', { type: 'string[]', nullable: true }, tags),
  col('meta', 'json', jsonb(true), i =>
    i % 10 === 9 ? null : { n: i, note: 'say "hi", then\nleave', nested: { a: [1, 2, rnd(i, 5) % 100], ok: i % 2 === 0 } }),
  col('active', 'bool', { type: 'boolean' }, i => i % 3 !== 0),
  col('authorId', 'int', { type: 'integer' }, i => rnd(i, 6) % 10_000),
], 'isbn');

// --- Wide: 33 columns of mixed types -----------------------------------------------------------
export class Wide {
  id?: bigint;
  [prop: string]: unknown;
}

const wideColumns: Column[] = [];
for (let k = 1; k <= 6; k++) {
  wideColumns.push(col(`text${k}`, 'text', { type: 'text', nullable: k > 4 }, i => (k > 4 && i % 11 === k ? null : k === 1 ? title(i) : `text ${k}:${rnd(i, 10 + k) % 100_000}, "q"`)));
}
for (let k = 1; k <= 4; k++) {
  wideColumns.push(col(`name${k}`, 'text', { type: 'string', nullable: k === 4 }, i => (k === 4 && i % 13 === 0 ? null : `${WORDS[rnd(i, 20 + k) % WORDS.length]}-${k}-${i}`)));
}
for (let k = 1; k <= 5; k++) {
  wideColumns.push(col(`count${k}`, 'int', { type: 'integer', nullable: k === 5 }, i => (k === 1 ? i : k === 5 && i % 7 === 0 ? null : (rnd(i, 30 + k) % 2_000_000) - 1_000_000)));
}
for (let k = 1; k <= 2; k++) {
  wideColumns.push(col(`big${k}`, 'bigint', { type: 'bigint' }, i => BigInt(rnd(i, 40 + k)) * 1_000_003n + BigInt(i)));
}
for (let k = 1; k <= 3; k++) {
  wideColumns.push(col(`ratio${k}`, 'float', { type: 'double' }, i => (rnd(i, 50 + k) / 0xffffffff) * 10 ** k - 3));
}
for (let k = 1; k <= 3; k++) {
  wideColumns.push(col(`amount${k}`, 'numeric', { type: 'decimal', precision: 12, scale: 2, nullable: true }, i => (i % 17 === k ? null : money(i, 60 + k))));
}
for (let k = 1; k <= 3; k++) {
  wideColumns.push(col(`flag${k}`, 'bool', { type: 'boolean' }, i => (rnd(i, 70 + k) & 1) === 1));
}
for (let k = 1; k <= 2; k++) {
  wideColumns.push(col(`at${k}`, 'timestamptz', { type: 'datetime', nullable: k === 2 }, i => (k === 2 && i % 5 === 0 ? null : new Date(BASE_TIME + (rnd(i, 80 + k) % 2_000_000_000) * 1000 + (i % 1000)))));
}
wideColumns.push(col('day', 'date', { type: 'date' }, i => new Date(BASE_TIME + (rnd(i, 90) % 9000) * 86_400_000).toISOString().slice(0, 10)));
wideColumns.push(col('doc1', 'json', jsonb(false), i => ({ id: i, label: `doc "${i}"`, list: [i % 5, 'x,y'] })));
wideColumns.push(col('doc2', 'json', jsonb(true), i => (i % 4 === 0 ? null : [rnd(i, 91) % 1000, { deep: { er: true } }])));
wideColumns.push(col('labels', 'textarray', { type: 'string[]', nullable: true }, tags));
wideColumns.push(col('uid', 'uuid', { type: 'uuid' }, i => {
  const h = (s: number) => rnd(i, s).toString(16).padStart(8, '0');
  const a = h(100), b = h(101), c = h(102), d = h(103);
  return `${a}-${b.slice(0, 4)}-4${b.slice(5, 8)}-8${c.slice(1, 4)}-${c.slice(4)}${d}`;
}));

export const WIDE = entity('wide', Wide, wideColumns, 'count1');

export const ENTITIES: Record<string, BenchEntity> = { book: BOOK, wide: WIDE };

// --- the reference CSV ------------------------------------------------------------------------
function quote(s: string): string {
  return `"${s.replaceAll('"', '""')}"`;
}

function arrayLiteral(items: string[]): string {
  return `{${items.map(s => `"${s.replaceAll('\\', '\\\\').replaceAll('"', '\\"')}"`).join(',')}}`;
}

function csvField(kind: Kind, v: unknown): string {
  if (v == null) return ''; // unquoted empty: NULL
  switch (kind) {
    case 'text':
    case 'uuid':
    case 'date':
      return quote(v as string);
    case 'int':
    case 'bigint':
    case 'float':
    case 'numeric':
      return String(v);
    case 'bool':
      return v ? 't' : 'f';
    case 'timestamptz':
      return (v as Date).toISOString();
    case 'json':
      return quote(JSON.stringify(v));
    case 'textarray':
      return quote(arrayLiteral(v as string[]));
  }
}

export function csvLine(e: BenchEntity, row: Record<string, unknown>): string {
  let line = '';
  for (let c = 0; c < e.columns.length; c++) {
    if (c > 0) line += ',';
    line += csvField(e.columns[c].kind, row[e.columns[c].prop]);
  }
  return line + '\n';
}

/** Writes rows 0..n-1 of `e` as CSV (no header), in the order of `e.columns`. */
export async function writeCsv(e: BenchEntity, n: number, file: string): Promise<void> {
  const out = createWriteStream(file);
  const done = once(out, 'close');
  let buf = '';
  for (let i = 0; i < n; i++) {
    buf += csvLine(e, e.row(i));
    if (buf.length > 1 << 20 || i === n - 1) {
      if (!out.write(buf)) await once(out, 'drain');
      buf = '';
    }
  }
  out.end();
  await done;
}
