import { after, afterEach, before, beforeEach, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { Collection, EntitySchema, type EntityData, type MikroORM } from '@mikro-orm/postgresql';
import { Factory } from '@mikro-orm/seeder';
import { loadFixtures, truncateEntities, type CopyEntityManager } from '../../src/index.js';
import { countRows, initTestOrm } from '../support/orm.js';

const SCHEMA = 'fixtures_test';

class Author {
  id!: number;
  name!: string;
  country?: string;
  books = new Collection<Book>(this);
}

class Book {
  id!: number;
  title!: string;
  author!: Author;
  tags = new Collection<Tag>(this);
}

class Tag {
  id!: number;
  label!: string;
}

const AuthorSchema = new EntitySchema<Author>({
  class: Author,
  properties: {
    id: { type: 'integer', primary: true, autoincrement: true },
    name: { type: 'string' },
    country: { type: 'string', nullable: true },
    books: { kind: '1:m', entity: () => Book, mappedBy: 'author' },
  },
});
const BookSchema = new EntitySchema<Book>({
  class: Book,
  properties: {
    id: { type: 'integer', primary: true, autoincrement: true },
    title: { type: 'text' },
    author: { kind: 'm:1', entity: () => Author },
    tags: { kind: 'm:n', entity: () => Tag, owner: true },
  },
});
const TagSchema = new EntitySchema<Tag>({
  class: Tag,
  properties: {
    id: { type: 'integer', primary: true, autoincrement: true },
    label: { type: 'string' },
  },
});

/** A seeder factory as users write them: only `definition` and `model`. */
class AuthorFactory extends Factory<Author> {
  model = Author;
  #n = 0;
  protected definition(): EntityData<Author> {
    return { name: `author ${++this.#n}` };
  }
}

describe('fixtures', () => {
  let orm: MikroORM;
  const fork = () => orm.em.fork() as CopyEntityManager;

  before(async () => {
    orm = await initTestOrm({ schema: SCHEMA, entities: [AuthorSchema, BookSchema, TagSchema] });
  });
  after(async () => orm?.close(true));

  describe('loading', () => {
    afterEach(async () => {
      await truncateEntities(orm.em);
    });

    it('an array of entities, referenced ones first in the array', async () => {
      const em = fork();
      const frank = em.create(Author, { name: 'Frank' }, { persist: false });
      const ursula = em.create(Author, { name: 'Ursula' }, { persist: false });
      const books = ['Dune', 'Children of Dune'].map(title => em.create(Book, { title, author: frank }, { persist: false }));
      const result = await loadFixtures(em, [frank, ursula, ...books]);
      assert.deepEqual(result, { rows: 4, byEntity: { Author: 2, Book: 2 } });
      const rows = await orm.em.getConnection().execute<{ title: string; name: string }[]>(
        `select b.title, a.name from ${SCHEMA}.book b join ${SCHEMA}.author a on a.id = b.author_id order by b.id`,
      );
      assert.deepEqual(rows.map(r => ({ ...r })), [{ title: 'Dune', name: 'Frank' }, { title: 'Children of Dune', name: 'Frank' }]);
      assert.equal(em.getUnitOfWork().getIdentityMap().values().length, 0, 'fixtures stay out of the identity map');
    });

    it('rows keyed by entity name, in the wrong order, are written referenced tables first', async () => {
      const result = await loadFixtures(fork(), {
        Book: [{ id: 1, title: 'Dune', author: 1 }, { id: 2, title: 'Earthsea', author: 2 }],
        Tag: [{ id: 1, label: 'sf' }],
        Author: [{ id: 1, name: 'Frank' }, { id: 2, name: 'Ursula' }],
      });
      assert.deepEqual(result, { rows: 5, byEntity: { Tag: 1, Author: 2, Book: 2 } });
      assert.equal(await countRows(orm, `${SCHEMA}.book`), 2);
      assert.equal(await countRows(orm, `${SCHEMA}.author`), 2);
    });

    // issue 16: with `cascade`, Tag listed after Book failed on book_tags' foreign key to tag
    for (const cascade of [true, false]) {
      it(`rows keyed by entity name: many-to-many targets are written before the owner (cascade: ${cascade})`, async () => {
        const result = await loadFixtures(fork(), {
          Book: [{ id: 1, title: 'Dune', author: 1, tags: [1, 2] }, { id: 2, title: 'Earthsea', author: 1, tags: [2] }],
          Author: [{ id: 1, name: 'Frank' }],
          Tag: [{ id: 1, label: 'sf' }, { id: 2, label: 'classic' }],
        }, { cascade });
        assert.deepEqual(Object.keys(result.byEntity).filter(name => ['Author', 'Tag', 'Book'].includes(name)), ['Author', 'Tag', 'Book'], 'write order');
        assert.equal(await countRows(orm, `${SCHEMA}.book`), 2);
        // the links of `tags: [ids]` are written with and without cascade (issue 16.1: never dropped)
        const links = await orm.em.fork().getConnection().execute<{ book_id: number; tag_id: number }[]>(
          `select book_id, tag_id from ${SCHEMA}.book_tags order by 1, 2`,
        );
        assert.deepEqual(links.map(l => [l.book_id, l.tag_id]), [[1, 1], [1, 2], [2, 2]]);
      });
    }

    it('rows of a failing table leave no other table written (one transaction)', async () => {
      await assert.rejects(loadFixtures(fork(), {
        Author: [{ id: 1, name: 'Frank' }],
        Book: [{ id: 1, title: 'Dune', author: 99 }], // no author 99
      }));
      assert.equal(await countRows(orm, `${SCHEMA}.author`), 0);
    });

    it('an unknown entity name is an error naming the known ones', async () => {
      await assert.rejects(loadFixtures(fork(), { Writer: [{ name: 'x' }] }), /no entity named "Writer".*Author, Book, Tag/);
    });

    it('a seeder factory makes 10k entities lazily, never through the unit of work', async () => {
      const em = fork();
      let made = 0;
      const factory = new AuthorFactory(em).each(() => made++);
      let maxAhead = 0;
      const result = await loadFixtures(em, { factory, count: 10_000, overrides: i => ({ country: i % 2 ? 'NL' : 'FR' }) }, {
        // a generator is read a chunk ahead of the COPY, not whole
        onProgress: p => (maxAhead = Math.max(maxAhead, made - p.rows)),
      });
      assert.deepEqual(result, { rows: 10_000, byEntity: { Author: 10_000 } });
      assert.ok(maxAhead <= 2000, `made ${maxAhead} entities ahead of the COPY`);
      assert.equal(em.getUnitOfWork().getIdentityMap().values().length, 0);
      assert.equal(em.getUnitOfWork().getPersistStack().size, 0, 'makeEntity persists nothing');
      const [row] = await orm.em.getConnection().execute<{ nl: string; fr: string; max: number }[]>(
        `select count(*) filter (where country = 'NL') as nl, count(*) filter (where country = 'FR') as fr, max(id) as max from ${SCHEMA}.author`,
      );
      assert.deepEqual({ nl: Number(row.nl), fr: Number(row.fr), max: row.max }, { nl: 5000, fr: 5000, max: 10_000 });
    });

    it('factory fixtures mixed with entities in an array', async () => {
      const em = fork();
      const frank = em.create(Author, { name: 'Frank' }, { persist: false });
      const result = await loadFixtures(em, [frank, { factory: new AuthorFactory(em), count: 3 }]);
      assert.deepEqual(result, { rows: 4, byEntity: { Author: 4 } });
    });
  });

  // issue 16: rows with explicit keys left the sequences at 1, and the test's first flush failed
  // with `duplicate key value violates unique constraint "author_pkey"`
  describe('sequences after loading', () => {
    beforeEach(async () => {
      await truncateEntities(orm.em);
    });

    it('rows keyed by entity name with explicit keys: the next flush takes the key after the highest', async () => {
      await loadFixtures(fork(), {
        Author: [{ id: 1, name: 'a' }, { id: 7, name: 'b' }, { id: 3, name: 'c' }],
        Book: [{ id: 2, title: 'x', author: 7 }],
        Tag: [{ id: 40, label: 't' }],
      });
      const em = fork();
      const author = em.create(Author, { name: 'flushed' });
      const book = em.create(Book, { title: 'flushed', author });
      const tag = em.create(Tag, { label: 'flushed' });
      await em.flush();
      assert.deepEqual([author.id, book.id, tag.id], [8, 3, 41]);
    });

    it('entities and factory fixtures with explicit keys move the sequence too', async () => {
      const em = fork();
      const frank = em.create(Author, { id: 10, name: 'Frank' }, { persist: false });
      await loadFixtures(em, [frank, { factory: new AuthorFactory(em), count: 2, overrides: (i: number) => ({ id: 20 + i }) }]);
      const next = em.create(Author, { name: 'flushed' });
      await em.flush();
      assert.equal(next.id, 22);
    });

    it('never moves a sequence back', async () => {
      const em = fork();
      em.create(Tag, { label: 'first' });
      em.create(Tag, { label: 'second' });
      await em.flush(); // the sequence has handed out 1 and 2
      await em.getConnection().execute(`delete from ${SCHEMA}.tag`);
      await loadFixtures(em, { Tag: [{ id: 1, label: 'fixture' }] });
      const tag = em.create(Tag, { label: 'flushed' });
      await em.flush();
      assert.equal(tag.id, 3);
    });

    it('truncateEntities restarts the sequences at 1', async () => {
      await loadFixtures(fork(), { Tag: [{ id: 100, label: 't' }] });
      await truncateEntities(orm.em);
      const em = fork();
      const tag = em.create(Tag, { label: 'flushed' });
      await em.flush();
      assert.equal(tag.id, 1);
    });
  });

  describe('truncateEntities', () => {
    beforeEach(async () => {
      await truncateEntities(orm.em);
    });

    it('empties every table, pivot tables included, and restarts identities', async () => {
      const em = fork();
      await loadFixtures(em, { Author: [{ name: 'a' }, { name: 'b' }], Tag: [{ label: 't' }] });
      await loadFixtures(em, { Book: [{ title: 'x', author: 1 }] });
      await em.getConnection().execute(`insert into ${SCHEMA}.book_tags (book_id, tag_id) values (1, 1)`);
      const tables = await truncateEntities(em);
      assert.deepEqual(
        [...tables].sort(),
        ['author', 'book', 'book_tags', 'tag'].map(t => `"${SCHEMA}"."${t}"`),
      );
      for (const t of ['author', 'book', 'book_tags', 'tag']) assert.equal(await countRows(orm, `${SCHEMA}.${t}`), 0, t);
      await loadFixtures(em, { Author: [{ name: 'c' }] });
      const [row] = await em.getConnection().execute<{ id: number }[]>(`select id from ${SCHEMA}.author`);
      assert.equal(row.id, 1, 'identity restarted');
    });

    it('given entities: only their tables (and, by CASCADE, what references them)', async () => {
      const em = fork();
      await loadFixtures(em, { Author: [{ id: 1, name: 'a' }], Book: [{ id: 1, title: 'x', author: 1 }], Tag: [{ id: 1, label: 't' }] });
      assert.deepEqual(await truncateEntities(em, [Author]), [`"${SCHEMA}"."author"`]);
      assert.equal(await countRows(orm, `${SCHEMA}.book`), 0, 'book references author');
      assert.equal(await countRows(orm, `${SCHEMA}.tag`), 1);
      await truncateEntities(em, ['Tag']);
      assert.equal(await countRows(orm, `${SCHEMA}.tag`), 0);
    });
  });

  // The recipe from the README: each test in a transaction that is rolled back afterwards.
  describe('transaction per test', () => {
    let em: CopyEntityManager;
    before(async () => {
      await truncateEntities(orm.em);
    });
    beforeEach(async () => {
      em = fork();
      await em.begin();
    });
    afterEach(async () => {
      await em.rollback();
    });

    for (const n of [1, 2]) {
      it(`test ${n} sees only its own fixtures, and they are gone after it`, async () => {
        assert.equal(await em.count(Author), 0);
        await loadFixtures(em, { factory: new AuthorFactory(em), count: 100 });
        assert.equal(await em.count(Author), 100, 'visible inside the transaction');
        assert.equal(await countRows(orm, `${SCHEMA}.author`), 0, 'invisible outside it');
      });
    }

    it('truncateEntities inside the transaction is rolled back too', async () => {
      await loadFixtures(em, { Tag: [{ label: 'gone after rollback' }] });
      await truncateEntities(em);
      assert.equal(await em.count(Tag), 0);
    });
  });
});
