// copyFlush against flush itself (issue #18): the same random mixes of inserts, changes and
// removals applied to two identical schemas, once with em.flush() and once with em.copyFlush(),
// must leave equal tables and an equal unit of work; plus optimistic locking, hooks, the caller's
// transaction and failures.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { Collection, EntitySchema, OptimisticLockError, UniqueConstraintViolationException, wrap, type EventArgs, type EventSubscriber, type MikroORM } from '@mikro-orm/postgresql';
import type { CopyEntityManager } from '../../src/index.js';
import { assertPoolHealthy, initTestOrm } from '../support/orm.js';

function model(calls: string[]) {
  class Author {
    id?: number;
    name!: string;
    books = new Collection<Book>(this);
  }
  class Tag {
    id?: number;
    label!: string;
    books = new Collection<Book>(this);
  }
  class Book {
    id?: number;
    title!: string;
    isbn?: string | null;
    price?: string | null;
    published?: Date | null;
    keywords?: string[] | null;
    meta?: Record<string, unknown> | null;
    active?: boolean;
    revision?: number;
    author!: Author;
    tags = new Collection<Tag>(this);
  }
  class Account {
    id?: number;
    owner!: string;
    balance!: number;
    version?: number;
  }
  const log = (event: string) => (args: EventArgs<Book>) => void calls.push(`${event} ${args.entity.title}`);
  const schemas = [
    new EntitySchema<Author>({
      class: Author,
      properties: {
        id: { type: 'integer', primary: true, autoincrement: true },
        name: { type: 'string', unique: true },
        books: { kind: '1:m', entity: () => Book, mappedBy: 'author' },
      },
    }),
    new EntitySchema<Tag>({
      class: Tag,
      properties: {
        id: { type: 'integer', primary: true, autoincrement: true },
        label: { type: 'string' },
        books: { kind: 'm:n', entity: () => Book, mappedBy: 'tags' },
      },
    }),
    new EntitySchema<Book>({
      class: Book,
      hooks: { beforeCreate: [log('beforeCreate')], afterCreate: [log('afterCreate')], beforeUpdate: [log('beforeUpdate')], afterUpdate: [log('afterUpdate')], beforeDelete: [log('beforeDelete')], afterDelete: [log('afterDelete')] },
      properties: {
        id: { type: 'integer', primary: true, autoincrement: true },
        title: { type: 'string' },
        isbn: { type: 'string', length: 20, nullable: true, unique: true },
        price: { type: 'decimal', precision: 10, scale: 2, nullable: true },
        published: { type: 'datetime', nullable: true },
        keywords: { type: 'string[]', nullable: true },
        meta: { type: 'json', nullable: true },
        active: { type: 'boolean', default: true },
        // onUpdate: flush computes it per changed entity; a counter keeps both runs comparable
        revision: { type: 'integer', default: 0, onUpdate: (b: Book) => (b.revision ?? 0) + 1 },
        author: { kind: 'm:1', entity: () => Author },
        tags: { kind: 'm:n', entity: () => Tag, owner: true, inversedBy: 'books' },
      },
    }),
    new EntitySchema<Account>({
      class: Account,
      properties: {
        id: { type: 'integer', primary: true, autoincrement: true },
        owner: { type: 'string' },
        balance: { type: 'integer' },
        version: { type: 'integer', version: true },
      },
    }),
  ];
  return { Author, Tag, Book, Account, schemas };
}

type Model = ReturnType<typeof model>;

/** A small seeded generator, so a failing mix can be replayed. */
function random(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s * 1664525 + 1013904223) >>> 0;
    return s / 2 ** 32;
  };
}

interface Side {
  orm: MikroORM;
  m: Model;
  calls: string[];
  schema: string;
}

async function side(schema: string): Promise<Side> {
  const calls: string[] = [];
  const m = model(calls);
  // a subscriber beside the entity hooks: both must fire as flush fires them
  const subscriber: EventSubscriber<object> = {
    beforeFlush: () => void calls.push('beforeFlush'),
    onFlush: args => void calls.push(`onFlush ${args.uow.getChangeSets().length}`),
    afterFlush: () => void calls.push('afterFlush'),
    afterTransactionStart: () => void calls.push('afterTransactionStart'),
    beforeTransactionCommit: () => void calls.push('beforeTransactionCommit'),
    afterTransactionCommit: () => void calls.push('afterTransactionCommit'),
    afterCreate: args => void calls.push(`subscriber afterCreate ${args.meta.className}`),
    afterDelete: args => void calls.push(`subscriber afterDelete ${args.meta.className}`),
  };
  const orm = await initTestOrm({ schema, entities: m.schemas, subscribers: [subscriber] });
  return { orm, m, calls, schema };
}

async function seed(s: Side, books: number): Promise<void> {
  await s.orm.em.getConnection().execute(`truncate ${s.schema}.book_tags, ${s.schema}.book, ${s.schema}.tag, ${s.schema}.author, ${s.schema}.account restart identity cascade`);
  const em = s.orm.em.fork();
  const authors = Array.from({ length: 20 }, (_, i) => em.create(s.m.Author, { name: `author ${i}` }));
  const tags = Array.from({ length: 10 }, (_, i) => em.create(s.m.Tag, { label: `tag ${i}` }));
  for (let i = 0; i < books; i++) {
    const book = em.create(s.m.Book, {
      title: `book ${i}`,
      isbn: i % 3 ? `isbn-${i}` : null,
      price: i % 4 ? `${i}.50` : null,
      published: i % 5 ? new Date(Date.UTC(2000, 0, 1 + i)) : null,
      keywords: i % 2 ? ['a', `k"${i}`] : null,
      meta: i % 2 ? { n: i, s: `x,${i}` } : null,
      author: authors[i % authors.length],
    });
    book.tags.add(tags.slice(i % 3, (i % 3) + (i % 4)));
  }
  await em.flush();
}

/** Applies the same random changes on `em` (entities and collections loaded in id order); `round` keeps new names unique. */
async function mutate(s: Side, em: CopyEntityManager, rnd: () => number, newBooks: number, round: number): Promise<void> {
  // the tags of a book in id order too: without it the join's plan decides, and the two sides'
  // tables, written differently, can get different plans (a collection's order is in its snapshot)
  const books = await em.find(s.m.Book, {}, { orderBy: { id: 'asc', tags: { id: 'asc' } }, populate: ['tags'] });
  const authors = await em.find(s.m.Author, {}, { orderBy: { id: 'asc' } });
  const tags = await em.find(s.m.Tag, {}, { orderBy: { id: 'asc' } });
  for (const book of books) {
    const r = rnd();
    if (r < 0.1) em.remove(book);
    else if (r < 0.3) book.title = `${book.title} (rev)`;
    else if (r < 0.4) {
      book.price = rnd() < 0.5 ? null : `${Math.floor(rnd() * 1000)}.25`;
      book.published = new Date(Date.UTC(2020, 1, 1 + Math.floor(rnd() * 300), 10, 30));
      book.active = !book.active;
    } else if (r < 0.5) book.author = authors[Math.floor(rnd() * authors.length)];
    else if (r < 0.6) {
      const tag = tags[Math.floor(rnd() * tags.length)];
      if (book.tags.contains(tag)) book.tags.remove(tag);
      else book.tags.add(tag);
    } else if (r < 0.65) {
      book.keywords = ['x', `y${Math.floor(rnd() * 9)}`];
      book.meta = { changed: true };
    }
  }
  for (let i = 0; i < newBooks; i++) {
    const book = em.create(s.m.Book, { title: `new ${round}.${i}`, isbn: rnd() < 0.5 ? `new-${round}.${i}` : null, author: rnd() < 0.2 ? em.create(s.m.Author, { name: `new author ${round}.${i}` }) : authors[i % authors.length] });
    if (rnd() < 0.3) book.tags.add(tags[i % tags.length]);
  }
}

async function dump(s: Side): Promise<unknown> {
  const conn = s.orm.em.getConnection();
  const out: Record<string, unknown> = {};
  for (const table of ['author', 'tag', 'book', 'book_tags', 'account']) {
    out[table] = await conn.execute(`select * from ${s.schema}.${table} order by 1, 2`);
  }
  return out;
}

/** The unit of work as flush leaves it: identity map keys, snapshots, collection snapshots. */
function unitOfWork(em: CopyEntityManager): unknown {
  const entries = [...em.getUnitOfWork().getIdentityMap()].map(entity => {
    const wrapped = wrap(entity, true);
    const collections: Record<string, unknown> = {};
    for (const [key, value] of Object.entries(entity)) {
      if (value instanceof Collection && value.isInitialized()) collections[key] = value.getSnapshot?.()?.map(e => wrap(e as object, true).getPrimaryKey()).sort();
    }
    return [`${entity.constructor.name}:${wrap(entity, true).getSerializedPrimaryKey()}`, { snapshot: wrapped.__originalEntityData, collections }] as const;
  });
  return Object.fromEntries(entries.sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
}

describe('copyFlush', () => {
  let a: Side;
  let b: Side;

  before(async () => {
    a = await side('copy_flush_a');
    b = await side('copy_flush_b');
  });
  after(async () => {
    await a?.orm.close(true);
    await b?.orm.close(true);
  });

  for (const [name, threshold, books, seedValue] of [
    ['every batch through COPY (threshold 1)', 1, 300, 1],
    ['another mix, every batch through COPY', 1, 400, 7],
    ['threshold 300: updates through COPY, the 60 inserts through flush’s own SQL', 300, 1500, 3],
  ] as const) {
    it(`writes the tables and leaves the unit of work as flush does: ${name}`, async () => {
      await seed(a, books);
      await seed(b, books);
      a.calls.length = 0;
      b.calls.length = 0;
      const emA = a.orm.em.fork() as CopyEntityManager;
      const emB = b.orm.em.fork() as CopyEntityManager;
      await mutate(a, emA, random(seedValue), 60, 1);
      await mutate(b, emB, random(seedValue), 60, 1);
      await emA.flush();
      const result = await emB.copyFlush({ threshold });
      assert.deepEqual(await dump(b), await dump(a));
      assert.deepEqual(unitOfWork(emB), unitOfWork(emA));
      assert.ok(a.calls.includes('afterFlush') && a.calls.includes('afterTransactionCommit') && a.calls.some(c => c.startsWith('afterUpdate')), 'the hooks under comparison ran');
      assert.deepEqual(b.calls, a.calls, 'hooks fire in the same order');
      if (threshold === 1) assert.ok(result.copied.inserted > 0 && result.copied.updated > 0 && result.copied.deleted > 0, JSON.stringify(result));
      else assert.ok(result.copied.updated > 0 && result.copied.inserted === 0, JSON.stringify(result));
      // a second round on the same EntityManagers: wrong snapshots would write differently now
      await mutate(a, emA, random(seedValue + 100), 5, 2);
      await mutate(b, emB, random(seedValue + 100), 5, 2);
      await emA.flush();
      await emB.copyFlush({ threshold });
      assert.deepEqual(await dump(b), await dump(a));
      assert.deepEqual(unitOfWork(emB), unitOfWork(emA));
      await assertPoolHealthy(b.orm);
    });
  }

  it('fails the whole flush with OptimisticLockError on a version mismatch, writing nothing', async () => {
    await seed(b, 10);
    const em = b.orm.em.fork() as CopyEntityManager;
    // more than batchSize (300): flush's version check reads them in slices
    for (let i = 0; i < 700; i++) em.create(b.m.Account, { owner: `o${i}`, balance: i });
    await em.flush();
    const accounts = await em.find(b.m.Account, {}, { orderBy: { id: 'asc' } });
    const book = await em.findOneOrFail(b.m.Book, { title: 'book 1' });
    await b.orm.em.getConnection().execute(`update ${b.schema}.account set version = version + 1 where id = ${accounts[650].id}`);
    for (const account of accounts) account.balance += 100;
    book.title = 'must not be written';
    await assert.rejects(em.copyFlush({ threshold: 1 }), (e: unknown) => e instanceof OptimisticLockError && (e as OptimisticLockError).entity === accounts[650]);
    const balances = await b.orm.em.getConnection().execute(`select balance from ${b.schema}.account order by id`);
    assert.deepEqual(balances.map(r => r.balance), accounts.map((_, i) => i));
    assert.equal((await b.orm.em.getConnection().execute(`select count(*)::int as n from ${b.schema}.book where title = 'must not be written'`))[0].n, 0);
    await assertPoolHealthy(b.orm);
  });

  it('bumps version columns as flush does, so the next flush passes its lock check', async () => {
    await seed(b, 0);
    const em = b.orm.em.fork() as CopyEntityManager;
    const accounts = Array.from({ length: 5 }, (_, i) => em.create(b.m.Account, { owner: `o${i}`, balance: i }));
    await em.copyFlush({ threshold: 1 });
    assert.deepEqual(accounts.map(x => x.version), [1, 1, 1, 1, 1]);
    for (const account of accounts) account.balance += 1;
    await em.copyFlush({ threshold: 1 });
    assert.deepEqual(accounts.map(x => x.version), [2, 2, 2, 2, 2]);
    for (const account of accounts) account.balance += 1;
    await em.flush();
    const rows = await b.orm.em.getConnection().execute(`select balance, version from ${b.schema}.account order by id`);
    assert.deepEqual(rows, accounts.map((_, i) => ({ balance: i + 2, version: 3 })));
  });

  it('a database error leaves nothing written and the pool healthy', async () => {
    await seed(b, 50);
    const before = await dump(b);
    const em = b.orm.em.fork() as CopyEntityManager;
    const books = await em.find(b.m.Book, {}, { orderBy: { id: 'asc' } });
    for (const book of books) book.title = 'changed';
    // two books on the same isbn: the UPDATE ... FROM fails on the unique index
    books[10].isbn = 'dup';
    books[20].isbn = 'dup';
    await assert.rejects(em.copyFlush({ threshold: 1 }), UniqueConstraintViolationException);
    assert.deepEqual(await dump(b), before);
    await assertPoolHealthy(b.orm);
  });

  it('a failure inside the caller’s transaction leaves that transaction usable, as before the call', async () => {
    await seed(b, 20);
    const em = b.orm.em.fork() as CopyEntityManager;
    await em.transactional(async tx => {
      await tx.getConnection().execute(`update ${b.schema}.author set name = 'kept' where id = 1`, [], 'run', tx.getTransactionContext());
      const books = await tx.find(b.m.Book, {}, { orderBy: { id: 'asc' } });
      for (const book of books) book.title = 'not kept';
      books[1].isbn = 'dup';
      books[2].isbn = 'dup';
      await assert.rejects((tx as CopyEntityManager).copyFlush({ threshold: 1 }), UniqueConstraintViolationException);
      tx.clear();
    });
    const conn = b.orm.em.getConnection();
    assert.equal((await conn.execute(`select name from ${b.schema}.author where id = 1`))[0].name, 'kept');
    assert.equal((await conn.execute(`select count(*)::int as n from ${b.schema}.book where title = 'not kept'`))[0].n, 0);
    await assertPoolHealthy(b.orm);
  });

  it('runs in the caller’s transaction: rolled back with it, committed with it', async () => {
    await seed(b, 20);
    const count = async () => (await b.orm.em.getConnection().execute(`select count(*)::int as n from ${b.schema}.book where title = 'in trx'`))[0].n;
    const em = b.orm.em.fork() as CopyEntityManager;
    await assert.rejects(
      em.transactional(async tx => {
        for (const book of await tx.find(b.m.Book, {})) book.title = 'in trx';
        await (tx as CopyEntityManager).copyFlush({ threshold: 1 });
        assert.equal((await tx.getConnection().execute(`select count(*)::int as n from ${b.schema}.book where title = 'in trx'`, [], 'all', tx.getTransactionContext()))[0].n, 20);
        throw new Error('roll back');
      }),
      /roll back/,
    );
    assert.equal(await count(), 0);
    await em.fork().transactional(async tx => {
      for (const book of await tx.find(b.m.Book, {})) book.title = 'in trx';
      await (tx as CopyEntityManager).copyFlush({ threshold: 1 });
    });
    assert.equal(await count(), 20);
    await assertPoolHealthy(b.orm);
  });
});
