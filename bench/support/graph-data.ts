// Entities and rows of bench/graph.ts and bench/upsert.ts, each on a schema of its own:
// - graph: Author (1:m books) and Book (m:1 author), 10 books per author, built as an object graph;
// - upsert: a Book-like table with a unique natural key (isbn).
// Rows are pure functions of their index, so every path and the reference CSV write the same values.
import { createWriteStream } from 'node:fs';
import { once } from 'node:events';
import { Collection, EntitySchema, MikroORM, type Options } from '@mikro-orm/postgresql';
import { CopyEntityManager } from '../../src/index.js';

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

function money(i: number, salt: number): string {
  const cents = rnd(i, salt) % 10_000_000;
  return `${Math.floor(cents / 100)}.${String(cents % 100).padStart(2, '0')}`;
}

/** A CSV field: null unquoted-empty, strings quoted. */
function csv(v: string | number | boolean | Date | null): string {
  if (v == null) return '';
  if (v instanceof Date) return v.toISOString();
  if (typeof v === 'boolean') return v ? 't' : 'f';
  if (typeof v === 'number') return String(v);
  return `"${v.replaceAll('"', '""')}"`;
}

async function writeLines(file: string, n: number, line: (i: number) => string): Promise<void> {
  const out = createWriteStream(file);
  const done = once(out, 'close');
  let buf = '';
  for (let i = 0; i < n; i++) {
    buf += line(i);
    if (buf.length > 1 << 20 || i === n - 1) {
      if (!out.write(buf)) await once(out, 'drain');
      buf = '';
    }
  }
  out.end();
  await done;
}

// ---------------------------------------------------------------------------------------------
// graph: authors and their books
// ---------------------------------------------------------------------------------------------

export const GRAPH_SCHEMA = 'bench_graph';
export const BOOKS_PER_AUTHOR = 10;
export const AUTHORS_TABLE = `"${GRAPH_SCHEMA}"."author"`;
export const BOOKS_TABLE = `"${GRAPH_SCHEMA}"."book"`;

export class GraphAuthor {
  id?: number;
  name!: string;
  email!: string;
  born!: string;
  books = new Collection<GraphBook>(this);
}

export class GraphBook {
  id?: number;
  title!: string;
  isbn!: string;
  price?: string | null;
  publishedAt!: Date;
  author!: GraphAuthor;
}

export const graphSchemas = [
  new EntitySchema<GraphAuthor>({
    class: GraphAuthor,
    tableName: 'author',
    properties: {
      id: { type: 'integer', primary: true, autoincrement: true },
      name: { type: 'string' },
      email: { type: 'string' },
      born: { type: 'date' },
      books: { kind: '1:m', entity: () => GraphBook, mappedBy: 'author' },
    },
  }),
  new EntitySchema<GraphBook>({
    class: GraphBook,
    tableName: 'book',
    properties: {
      id: { type: 'integer', primary: true, autoincrement: true },
      title: { type: 'text' },
      isbn: { type: 'string', length: 20 },
      price: { type: 'decimal', precision: 10, scale: 2, nullable: true },
      publishedAt: { type: 'datetime' },
      author: { kind: 'm:1', entity: () => GraphAuthor },
    },
  }),
];

export function authorRow(a: number) {
  return {
    name: `${WORDS[rnd(a, 1) % WORDS.length]} "${a}", author`,
    email: `author${a}@example.com`,
    born: new Date(BASE_TIME - (rnd(a, 2) % 30_000) * 86_400_000).toISOString().slice(0, 10),
  };
}

/** Book `b` (0..9) of author `a`; its global index is a * 10 + b. */
export function bookRow(a: number, b: number) {
  const i = a * BOOKS_PER_AUTHOR + b;
  return {
    title: i % 3 === 0 ? `${WORDS[rnd(i, 3) % WORDS.length]}, vol. ${b}` : `${WORDS[rnd(i, 3) % WORDS.length]} #${i}\nwith "quotes", commas`,
    isbn: `978-${String(i).padStart(12, '0')}`,
    price: i % 10 === 5 ? null : money(i, 4),
    publishedAt: new Date(BASE_TIME + i * 61_000 + (rnd(i, 5) % 1000)),
  };
}

/** Authors 1..n, books 1..10n, ids in the order the graph is written (both tables numbered from 1). */
export async function writeGraphCsv(authors: number, authorsFile: string, booksFile: string): Promise<void> {
  await writeLines(authorsFile, authors, a => {
    const r = authorRow(a);
    return `${a + 1},${csv(r.name)},${csv(r.email)},${r.born}\n`;
  });
  await writeLines(booksFile, authors * BOOKS_PER_AUTHOR, i => {
    const a = Math.floor(i / BOOKS_PER_AUTHOR);
    const r = bookRow(a, i % BOOKS_PER_AUTHOR);
    return `${i + 1},${csv(r.title)},${csv(r.isbn)},${csv(r.price)},${csv(r.publishedAt)},${a + 1}\n`;
  });
}

export async function truncateGraph(orm: MikroORM): Promise<void> {
  await orm.em.getConnection().execute(`truncate ${BOOKS_TABLE}, ${AUTHORS_TABLE} restart identity`);
}

/** Row counts and a hash of every column but the ids, books joined to their author. */
export async function graphDigest(orm: MikroORM): Promise<{ authors: number; books: number; hash: string }> {
  // without fresh statistics the planner may join 1M books to 100k authors in a nested loop
  await orm.em.getConnection().execute(`analyze ${AUTHORS_TABLE}, ${BOOKS_TABLE}`);
  const [row] = await orm.em.getConnection().execute<{ authors: number; books: number; hash: string }[]>(
    `select (select count(*)::int from ${AUTHORS_TABLE}) as authors, count(*)::int as books,
            md5(coalesce(string_agg(md5(row(a.name, a.email, a.born, b.title, b.isbn, b.price, b.published_at)::text), '' order by b.isbn), '')) as hash
       from ${BOOKS_TABLE} b join ${AUTHORS_TABLE} a on a.id = b.author_id`,
  );
  return row;
}

// ---------------------------------------------------------------------------------------------
// upsert: a Book-like table with a unique isbn
// ---------------------------------------------------------------------------------------------

export const UPSERT_SCHEMA = 'bench_upsert';

export class UpsertBook {
  id?: number;
  isbn!: string;
  title!: string;
  price?: string | null;
  publishedAt!: Date;
  stock!: number;
  active!: boolean;
}

export const upsertSchemas = [
  new EntitySchema<UpsertBook>({
    class: UpsertBook,
    tableName: 'book',
    properties: {
      id: { type: 'integer', primary: true, autoincrement: true },
      isbn: { type: 'string', length: 20, unique: true },
      title: { type: 'text' },
      price: { type: 'decimal', precision: 10, scale: 2, nullable: true },
      publishedAt: { type: 'datetime' },
      stock: { type: 'integer' },
      active: { type: 'boolean' },
    },
  }),
];

/** The columns of the upsert CSV, in order (without id). */
export const UPSERT_COLUMNS = ['isbn', 'title', 'price', 'published_at', 'stock', 'active'];

/** Version `v` of the book with natural key `k` (the seed is v1, the upsert input v2). */
export function upsertRow(k: number, v: number) {
  return {
    isbn: `978-${String(k).padStart(12, '0')}`,
    title: k % 4 === 1 ? `${WORDS[rnd(k, 1) % WORDS.length]} "${k}", v${v}\nsecond line` : `${WORDS[rnd(k, 1) % WORDS.length]} #${k} v${v}`,
    price: k % 10 === 5 ? null : money(k, 10 + v),
    publishedAt: new Date(BASE_TIME + k * 61_000 + v * 1000),
    stock: (rnd(k, 20 + v) % 1000) - (v === 1 ? 0 : 1),
    active: (rnd(k, 30 + v) & 1) === 1,
  };
}

export function upsertCsvLine(k: number, v: number): string {
  const r = upsertRow(k, v);
  return `${csv(r.isbn)},${csv(r.title)},${csv(r.price)},${csv(r.publishedAt)},${r.stock},${csv(r.active)}\n`;
}

/** Rows `key(0..n-1)` in version `v`, as CSV without ids. */
export async function writeUpsertCsv(n: number, key: (i: number) => number, v: number, file: string): Promise<void> {
  await writeLines(file, n, i => upsertCsvLine(key(i), v));
}

// ---------------------------------------------------------------------------------------------

export async function initOrm(url: string, schema: string, entities: Options['entities']): Promise<MikroORM> {
  return MikroORM.init({
    clientUrl: url,
    schema,
    entities,
    entityManager: CopyEntityManager,
    allowGlobalContext: true,
    debug: false,
    pool: { min: 0, max: 2 },
  } as Options);
}

/** Drops and recreates `schema` with the ORM's tables. */
export async function createSchema(orm: MikroORM, schema: string): Promise<void> {
  const conn = orm.em.getConnection();
  await conn.execute(`drop schema if exists "${schema}" cascade`);
  await conn.execute(`create schema "${schema}"`);
  const generator = orm.schema as unknown as { create?: () => Promise<void>; createSchema?: () => Promise<void> };
  await (generator.create ? generator.create() : generator.createSchema!());
}
