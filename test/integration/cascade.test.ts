// cascade: true — whole object graphs, compared with what persist + flush writes for the same graph.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { Collection, EntitySchema, type MikroORM } from '@mikro-orm/postgresql';
import { CopyPersistError, type CopyEntityManager } from '../../src/index.js';
import { assertPoolHealthy, initTestOrm } from '../support/orm.js';

/** Fresh classes per ORM, so each side has its own metadata. */
function library() {
  class Publisher {
    id?: number;
    name!: string;
  }
  class Author {
    id?: number;
    name!: string;
    books = new Collection<Book>(this);
    favoriteBook?: Book | null;
  }
  class Book {
    id?: number;
    title!: string;
    author!: Author;
    publisher?: Publisher | null;
    tags = new Collection<Tag>(this);
    editions = new Collection<Edition>(this);
  }
  class Tag {
    id?: number;
    name!: string;
    books = new Collection<Book>(this);
  }
  class Edition {
    book!: Book;
    code!: string;
    year!: number;
  }
  class Chicken {
    id?: number;
    egg!: Egg;
  }
  class Egg {
    id?: number;
    chicken!: Chicken;
  }
  class Category {
    id?: number;
    name!: string;
    parent?: Category | null;
    children = new Collection<Category>(this);
  }
  const schemas = [
    new EntitySchema<Publisher>({ class: Publisher, properties: { id: { type: 'integer', primary: true, autoincrement: true }, name: { type: 'string' } } }),
    new EntitySchema<Author>({
      class: Author,
      properties: {
        id: { type: 'integer', primary: true, autoincrement: true },
        name: { type: 'string' },
        books: { kind: '1:m', entity: () => Book, mappedBy: 'author' },
        favoriteBook: { kind: 'm:1', entity: () => Book, nullable: true },
      },
    }),
    new EntitySchema<Book>({
      class: Book,
      properties: {
        id: { type: 'integer', primary: true, autoincrement: true },
        title: { type: 'string' },
        author: { kind: 'm:1', entity: () => Author },
        publisher: { kind: 'm:1', entity: () => Publisher, nullable: true },
        tags: { kind: 'm:n', entity: () => Tag, owner: true, inversedBy: 'books' },
        editions: { kind: '1:m', entity: () => Edition, mappedBy: 'book' },
      },
    }),
    new EntitySchema<Tag>({
      class: Tag,
      properties: {
        id: { type: 'integer', primary: true, autoincrement: true },
        name: { type: 'string' },
        books: { kind: 'm:n', entity: () => Book, mappedBy: 'tags' },
      },
    }),
    new EntitySchema<Edition>({
      class: Edition,
      properties: {
        book: { kind: 'm:1', entity: () => Book, primary: true },
        code: { type: 'string', primary: true },
        year: { type: 'integer' },
      },
    }),
    new EntitySchema<Chicken>({ class: Chicken, properties: { id: { type: 'integer', primary: true, autoincrement: true }, egg: { kind: 'm:1', entity: () => Egg } } }),
    new EntitySchema<Egg>({ class: Egg, properties: { id: { type: 'integer', primary: true, autoincrement: true }, chicken: { kind: 'm:1', entity: () => Chicken } } }),
    new EntitySchema<Category>({
      class: Category,
      properties: {
        id: { type: 'integer', primary: true, autoincrement: true },
        name: { type: 'string' },
        parent: { kind: 'm:1', entity: () => Category, nullable: true },
        children: { kind: '1:m', entity: () => Category, mappedBy: 'parent' },
      },
    }),
  ];
  return { Publisher, Author, Book, Tag, Edition, Category, Chicken, Egg, schemas };
}

type Library = ReturnType<typeof library>;

/** The same graph for both sides: 20 authors × 3 books, shared publishers and tags, editions, a cycle, a category tree. */
function buildGraph(em: CopyEntityManager, lib: Library) {
  const make = <T extends object>(cls: new () => T, data: object) => em.create(cls, data as never, { persist: false }) as T;
  const publishers = [0, 1, 2].map(i => make(lib.Publisher, { name: `publisher ${i}` }));
  const tags = [0, 1, 2, 3].map(i => make(lib.Tag, { name: `tag ${i}` }));
  const authors = Array.from({ length: 20 }, (_, a) => {
    const author = make(lib.Author, { name: `author ${a}` });
    for (let b = 0; b < 3; b++) {
      const book = make(lib.Book, { title: `book ${a}-${b}`, author, publisher: b === 2 ? null : publishers[(a + b) % 3] });
      book.tags.add(tags[(a + b) % 4], tags[(a + b + 1) % 4]);
      if (b === 0) book.editions.add(make(lib.Edition, { book, code: `E${a}`, year: 2000 + a }));
      author.books.add(book);
    }
    // a cycle of new entities: author → favorite book → author
    if (a % 2 === 0) author.favoriteBook = author.books.getItems()[1];
    return author;
  });
  const root = make(lib.Category, { name: 'root' });
  for (let c = 0; c < 3; c++) {
    const child = make(lib.Category, { name: `child ${c}`, parent: root });
    root.children.add(child);
    for (let g = 0; g < 2; g++) child.children.add(make(lib.Category, { name: `grandchild ${c}-${g}`, parent: child }));
  }
  return [...authors, root];
}

/** Table contents with foreign keys spelled as the referenced names, so generated ids don't matter. */
const NATURAL_VIEWS = (s: string) => ({
  publisher: `select name from ${s}.publisher`,
  author: `select a.name, b.title as favorite from ${s}.author a left join ${s}.book b on b.id = a.favorite_book_id`,
  book: `select b.title, a.name as author, p.name as publisher from ${s}.book b join ${s}.author a on a.id = b.author_id left join ${s}.publisher p on p.id = b.publisher_id`,
  tag: `select name from ${s}.tag`,
  book_tags: `select b.title, t.name from ${s}.book_tags bt join ${s}.book b on b.id = bt.book_id join ${s}.tag t on t.id = bt.tag_id`,
  edition: `select b.title, e.code, e.year from ${s}.edition e join ${s}.book b on b.id = e.book_id`,
  category: `select c.name, p.name as parent from ${s}.category c left join ${s}.category p on p.id = c.parent_id`,
});

describe('cascade: whole object graphs', () => {
  const flushSide = library();
  const copySide = library();
  let flushOrm: MikroORM;
  let copyOrm: MikroORM;

  before(async () => {
    flushOrm = await initTestOrm({ schema: 'graph_flush', entities: flushSide.schemas });
    copyOrm = await initTestOrm({ schema: 'graph_copy', entities: copySide.schemas });
  });
  after(async () => {
    await flushOrm?.close(true);
    await copyOrm?.close(true);
  });

  it('writes the same rows as persist + flush, relations resolved', async () => {
    const fem = flushOrm.em.fork() as CopyEntityManager;
    fem.persist(buildGraph(fem, flushSide));
    await fem.flush();

    const cem = copyOrm.em.fork() as CopyEntityManager;
    const roots = buildGraph(cem, copySide);
    const result = await cem.copyPersist(roots, { cascade: true, chunkSize: 50 });
    assert.deepEqual(result.byEntity, { Publisher: 3, Tag: 4, Author: 20, Book: 60, Edition: 20, Category: 10, book_tags: 120 });

    const conn = copyOrm.em.getConnection();
    for (const [table, flushView] of Object.entries(NATURAL_VIEWS('graph_flush'))) {
      const copyView = NATURAL_VIEWS('graph_copy')[table as keyof ReturnType<typeof NATURAL_VIEWS>];
      const onlyFlush = await conn.execute(`${flushView} except all ${copyView}`);
      const onlyCopy = await conn.execute(`${copyView} except all ${flushView}`);
      assert.deepEqual({ table, onlyFlush, onlyCopy }, { table, onlyFlush: [], onlyCopy: [] });
      const [{ n }] = await conn.execute(`select count(*)::int as n from (${copyView}) v`);
      assert.ok(n > 0, `${table} is empty`);
    }
    // keys are back on every entity of the graph
    for (const root of roots) assert.ok((root as { id?: number }).id! > 0);
    await assertPoolHealthy(copyOrm);
  });

  it('orders a table of 300k rows (more than one spread of arguments can take) and writes them all', async () => {
    const em = copyOrm.em.fork() as CopyEntityManager;
    const author = em.create(copySide.Author, { name: 'prolific' }, { persist: false });
    const books = Array.from({ length: 300_000 }, (_, i) => em.create(copySide.Book, { title: `b${i}`, author }, { persist: false }));
    // books first: the write order must put the author before them
    const result = await em.copyPersist([...books, author]);
    assert.deepEqual(result.byEntity, { Author: 1, Book: 300_000 });
    const [{ n }] = await copyOrm.em.getConnection().execute(`select count(*)::int as n from graph_copy.book where author_id = ${author.id}`);
    assert.equal(n, 300_000);
    await copyOrm.em.getConnection().execute(`delete from graph_copy.book where author_id = ${author.id}`);
  });

  it('references managed entities and references instead of copying them again', async () => {
    const em = copyOrm.em.fork() as CopyEntityManager;
    const existingTag = await em.findOneOrFail(copySide.Tag, { name: 'tag 0' });
    const publisher = em.getReference(copySide.Publisher, 1);
    const author = em.create(copySide.Author, { name: 'newcomer' }, { persist: false });
    const book = em.create(copySide.Book, { title: 'new book', author, publisher }, { persist: false });
    book.tags.add(existingTag);
    author.books.add(book);
    const result = await em.copyPersist([author], { cascade: true });
    assert.deepEqual(result.byEntity, { Author: 1, Book: 1, book_tags: 1 });
  });

  it('a cycle that closes on a non-nullable key unwinds to a nullable one', async () => {
    const em = copyOrm.em.fork() as CopyEntityManager;
    const author = em.create(copySide.Author, { name: 'loop author' }, { persist: false });
    const book = em.create(copySide.Book, { title: 'loop book', author }, { persist: false });
    author.favoriteBook = book;
    // starting from the book: Book.author (not null) → Author.favoriteBook (nullable) → Book
    await em.copyPersist([book], { cascade: true });
    const [row] = await em.getConnection().execute(
      `select a.name, b.title from graph_copy.author a join graph_copy.book b on b.id = a.favorite_book_id where a.name = 'loop author'`,
    );
    assert.deepEqual(row, { name: 'loop author', title: 'loop book' });
  });

  it('a cycle through non-nullable foreign keys only is a clear error', async () => {
    const em = copyOrm.em.fork() as CopyEntityManager;
    const chicken = em.create(copySide.Chicken, {} as never, { persist: false });
    const egg = em.create(copySide.Egg, { chicken }, { persist: false });
    chicken.egg = egg;
    await assert.rejects(em.copyPersist([chicken], { cascade: true }), (e: unknown) => {
      assert.ok(e instanceof CopyPersistError);
      assert.equal(e.code, 'REFERENCE_CYCLE');
      // the cycle is named from either of its tables
      assert.match(e.message, /cycle of new entities through non-nullable foreign keys \((Chicken\.egg → Egg\.chicken|Egg\.chicken → Chicken\.egg)\)/);
      return true;
    });
    await assertPoolHealthy(copyOrm);
  });
});
