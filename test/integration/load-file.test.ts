import { after, afterEach, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createWriteStream } from 'node:fs';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { once } from 'node:events';
import { EntitySchema, ForeignKeyConstraintViolationException, type MikroORM } from '@mikro-orm/postgresql';
import { loadFile, LoadFileError, truncateEntities, type CopyEntityManager, type LoadFileReject } from '../../src/index.js';
import { countRows, initTestOrm } from '../support/orm.js';

const SCHEMA = 'load_file_test';

class Author {
  id!: number;
  name!: string;
}

class Book {
  id!: number;
  title!: string;
  price?: string;
  pages?: number;
  publishedAt?: Date;
  tags?: string[];
  meta?: Record<string, unknown>;
  active!: boolean;
  author?: Author;
}

const AuthorSchema = new EntitySchema<Author>({
  class: Author,
  properties: {
    id: { type: 'integer', primary: true, autoincrement: true },
    name: { type: 'string' },
  },
});
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
    author: { kind: 'm:1', entity: () => Author, nullable: true },
  },
});

type BookRow = { id: number; title: string; price: string | null; pages: number | null; published_at: Date | null; tags: string[] | null; meta: unknown; active: boolean; author_id: number | null };

describe('loadFile', () => {
  let orm: MikroORM;
  let dir: string;
  const fork = () => orm.em.fork() as CopyEntityManager;
  // timestamptz comes back as a Date in MikroORM 6 and as text in 7: compare instants
  const books = async () =>
    (await orm.em.fork().getConnection().execute<BookRow[]>(`select * from ${SCHEMA}.book order by id`)).map(r => ({
      ...r,
      published_at: r.published_at === null ? null : new Date(r.published_at),
    }));
  const file = async (name: string, content: string) => {
    const path = join(dir, name);
    await writeFile(path, content);
    return path;
  };

  before(async () => {
    orm = await initTestOrm({ schema: SCHEMA, entities: [AuthorSchema, BookSchema] });
    dir = await mkdtemp(join(tmpdir(), 'load-file-test-'));
  });
  afterEach(async () => {
    await truncateEntities(orm.em);
  });
  after(async () => {
    await orm?.close(true);
    await rm(dir, { recursive: true, force: true });
  });

  it('CSV: BOM, CRLF, quoted fields with commas, quotes and newlines, values converted per property type', async () => {
    await fork().getConnection().execute(`insert into ${SCHEMA}.author (name) values ('Frank')`);
    const path = await file('books.csv', [
      '\uFEFFTitle,price,pages,Published,tags,meta,active,author',
      '"Dune, ""the"" novel\r\nsecond line",9.99,412,2020-01-02T03:04:05Z,"[""a"",""b,c""]","{""k"":[1,2]}",f,1',
      'Plain,,,,"{x,""y z""}",,yes,',
      '"",0.5,0,,,,1,',
      '',
    ].join('\r\n'));
    const result = await loadFile(fork(), { path, entity: Book, map: { Title: 'title', Published: 'publishedAt' } });
    assert.deepEqual(result, { rows: 3, rejected: 0, lines: 5 });
    const rows = await books();
    assert.deepEqual(rows, [
      { id: 1, title: 'Dune, "the" novel\r\nsecond line', price: '9.99', pages: 412, published_at: new Date('2020-01-02T03:04:05Z'), tags: ['a', 'b,c'], meta: { k: [1, 2] }, active: false, author_id: 1 },
      // an unquoted empty field is no value: NULL, or the column default (active)
      { id: 2, title: 'Plain', price: null, pages: null, published_at: null, tags: ['x', 'y z'], meta: null, active: true, author_id: null },
      // a quoted "" is the empty string
      { id: 3, title: '', price: '0.50', pages: 0, published_at: null, tags: null, meta: null, active: true, author_id: null },
    ]);
  });

  it('CSV: the first bad line stops the load with its line number, and nothing is written', async () => {
    const path = await file('bad.csv', 'title,pages\n"multi\nline",1\nok,2\nbad,twelve\nlater,3\n');
    await assert.rejects(loadFile(fork(), { path, entity: 'Book' }), (e: LoadFileError) => {
      assert.ok(e instanceof LoadFileError);
      assert.equal(e.line, 5);
      assert.match(e.message, /^line 5: pages: not a number: "twelve"/);
      return true;
    });
    assert.equal(await countRows(orm, `${SCHEMA}.book`), 0);
  });

  it('CSV: with a reject file, bad lines go there (after the header) and the rest is loaded', async () => {
    const path = await file('mixed.csv', [
      'title,pages,active,published_at',
      'good 1,1,t,',
      'too,many,fields,here,!', // field count
      'bad bool,2,maybe,', // conversion
      ',3,t,', // missing required title (unquoted empty = no value)
      '"bad date\nacross lines",4,t,not a date',
      'good 2,5,f,2021-06-01',
      'bad pages,six,t,', // conversion
      'a "quote" inside,7,t,', // strict CSV: a quote in an unquoted field
      '',
      'good 3,8,t,',
      '',
    ].join('\n'));
    const rejectFile = join(dir, 'mixed.rejected.csv');
    const rejects: LoadFileReject[] = [];
    const result = await loadFile(fork(), { path, entity: Book, rejectFile, onReject: r => rejects.push(r) });
    assert.deepEqual(result, { rows: 3, rejected: 6, lines: 12 });
    assert.deepEqual((await books()).map(b => b.title), ['good 1', 'good 2', 'good 3']);
    assert.deepEqual(rejects.map(r => r.line), [3, 4, 5, 6, 9, 10]);
    assert.match(rejects[0].reason, /5 fields where the header has 4/);
    assert.match(rejects[1].reason, /active: not a boolean/);
    assert.match(rejects[2].reason, /title: missing required value/);
    assert.match(rejects[3].reason, /publishedAt: not a date/);
    assert.match(rejects[5].reason, /a quote inside unquoted field 1/);
    assert.equal(await readFile(rejectFile, 'utf8'), [
      'title,pages,active,published_at',
      'too,many,fields,here,!',
      'bad bool,2,maybe,',
      ',3,t,',
      '"bad date\nacross lines",4,t,not a date',
      'bad pages,six,t,',
      'a "quote" inside,7,t,',
      '',
    ].join('\n'));
  });

  it('CSV: relaxQuotes takes a stray quote literally, as PostgreSQL does', async () => {
    const path = await file('relaxed.csv', 'title,pages\na "quote" inside,1\n"closed"then text,2\n');
    await assert.rejects(loadFile(fork(), { path, entity: Book }), /^LoadFileError: line 2: a quote inside unquoted field 1/);
    const result = await loadFile(fork(), { path, entity: Book, relaxQuotes: true });
    assert.equal(result.rows, 2);
    assert.deepEqual((await books()).map(b => b.title), ['a "quote" inside', 'closedthen text']);
  });

  it('CSV: an unclosed quote makes the rest of the file one bad record, named by the line the quote opens on', async () => {
    const path = await file('unclosed.csv', 'title,pages\nok,1\n"never closed,2\nmore,3\n');
    await assert.rejects(loadFile(fork(), { path, entity: Book }), (e: LoadFileError) => {
      assert.equal(e.code, 'BAD_ROW');
      assert.equal(e.line, 3);
      assert.match(e.message, /^line 3: the quoted field opened on line 3 is never closed/);
      return true;
    });
    assert.equal(await countRows(orm, `${SCHEMA}.book`), 0);
    const rejectFile = join(dir, 'u.csv');
    const result = await loadFile(fork(), { path, entity: Book, rejectFile });
    assert.deepEqual(result, { rows: 1, rejected: 1, lines: 4 });
    assert.equal(await readFile(rejectFile, 'utf8'), 'title,pages\n"never closed,2\nmore,3\n');
  });

  it('CSV: an unknown column fails the file before anything is written', async () => {
    const path = await file('unknown.csv', 'title,isbn\nx,1\n');
    await assert.rejects(loadFile(fork(), { path, entity: Book, rejectFile: join(dir, 'r.csv') }), (e: unknown) => {
      assert.ok(e instanceof LoadFileError && e.code === 'BAD_HEADER', String(e));
      assert.match(e.message, /line 1: unknown column "isbn".*option map/);
      // a library message names the library's option, never a CLI flag
      assert.doesNotMatch(e.message, /--/);
      return true;
    });
  });

  it('NDJSON: keys mapped, JSON values kept, bad lines stop or are rejected', async () => {
    const lines = [
      '\uFEFF{"name":"a","pages":1,"tags":["x"],"meta":{"deep":true},"publishedAt":"2022-02-02T00:00:00.000Z"}',
      '{"name":"b","pages":"2"}',
      '',
      '{"name":"c","isbn":"123"}', // unknown key
      'not json',
      '[1,2]',
      '{"pages":3}', // no title
      '{"name":"d","pages":4}',
    ];
    const path = await file('books.ndjson', lines.join('\r\n') + '\r\n');
    await assert.rejects(loadFile(fork(), { path, entity: Book, map: { name: 'title' } }), /^LoadFileError: line 4: unknown key "isbn"/);
    assert.equal(await countRows(orm, `${SCHEMA}.book`), 0);

    const rejectFile = join(dir, 'books.rejected.ndjson');
    const result = await loadFile(fork(), { path, entity: Book, map: { name: 'title' }, rejectFile });
    assert.deepEqual(result, { rows: 3, rejected: 4, lines: 8 });
    const rows = await books();
    assert.deepEqual(rows.map(r => [r.title, r.pages, r.tags, r.meta, r.published_at]), [
      ['a', 1, ['x'], { deep: true }, new Date('2022-02-02T00:00:00.000Z')],
      ['b', 2, null, null, null],
      ['d', 4, null, null, null],
    ]);
    assert.equal(await readFile(rejectFile, 'utf8'), `${lines[3]}\n${lines[4]}\n${lines[5]}\n${lines[6]}\n`);
  });

  it('a row PostgreSQL rejects (foreign key, checked after the last row) is found and named by its line', async () => {
    const lines = ['{"title":"a"}', '{"title":"b","author":99}', '{"title":"c"}'];
    const path = await file('fk.ndjson', lines.join('\n') + '\n');
    await assert.rejects(loadFile(fork(), { path, entity: Book }), (e: LoadFileError) => {
      assert.equal(e.code, 'BAD_ROW');
      assert.equal(e.line, 2);
      assert.match(e.message, /^line 2: .*foreign key.*Key \(author_id\)=\(99\) is not present/);
      assert.ok(e.cause instanceof ForeignKeyConstraintViolationException);
      return true;
    });
    assert.equal(await countRows(orm, `${SCHEMA}.book`), 0);
    const rejectFile = join(dir, 'fk.rejected');
    const result = await loadFile(fork(), { path, entity: Book, rejectFile, batchSize: 2 });
    assert.deepEqual(result, { rows: 2, rejected: 1, lines: 3 });
    assert.deepEqual((await books()).map(b => b.title), ['a', 'c']);
    assert.equal(await readFile(rejectFile, 'utf8'), `${lines[1]}\n`);
  });

  it('NDJSON: 100k lines stream with bounded memory', async () => {
    const path = join(dir, 'many.ndjson');
    const out = createWriteStream(path);
    const n = 100_000;
    for (let i = 0; i < n; i++) {
      const line = JSON.stringify({ title: `book ${i} "quoted", with comma`, pages: i, tags: ['a', String(i)], meta: { i }, publishedAt: new Date(1_600_000_000_000 + i * 1000).toISOString() });
      if (!out.write(line + '\n')) await once(out, 'drain');
    }
    await new Promise<void>(resolve => out.end(resolve));
    global.gc?.();
    const before = process.memoryUsage().rss;
    let peak = before;
    let progressCalls = 0;
    const started = performance.now();
    const result = await loadFile(fork(), {
      path,
      entity: Book,
      onProgress: p => {
        progressCalls++;
        peak = Math.max(peak, process.memoryUsage().rss);
        assert.ok(p.totalBytes && p.bytes <= p.totalBytes);
      },
    });
    const seconds = (performance.now() - started) / 1000;
    assert.deepEqual(result, { rows: n, rejected: 0, lines: n });
    assert.equal(await countRows(orm, `${SCHEMA}.book`), n);
    const growth = (peak - before) / 2 ** 20;
    console.error(`# ${n} NDJSON lines in ${seconds.toFixed(1)} s (${Math.round(n / seconds)} rows/s), RSS growth ${growth.toFixed(0)} MB`);
    assert.ok(growth < 150, `RSS grew by ${growth.toFixed(0)} MB`);
    assert.ok(progressCalls >= n / 2000);
  });
});
