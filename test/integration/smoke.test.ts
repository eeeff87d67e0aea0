import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { EntitySchema, type MikroORM } from '@mikro-orm/postgresql';
import { CopyEntityManager } from '../../src/index.js';
import { initTestOrm } from '../support/orm.js';

class Author {
  id!: number;
  name!: string;
  createdAt?: Date;
}
class Book {
  id!: number;
  title!: string;
  author!: Author;
  price?: string;
  tags?: string[];
}
const AuthorSchema = new EntitySchema<Author>({
  class: Author,
  properties: {
    id: { type: 'integer', primary: true, autoincrement: true },
    name: { type: 'string' },
    createdAt: { type: 'datetime', onCreate: () => new Date('2024-01-02T03:04:05.678Z') },
  },
});
const BookSchema = new EntitySchema<Book>({
  class: Book,
  properties: {
    id: { type: 'integer', primary: true, autoincrement: true },
    title: { type: 'text' },
    author: { kind: 'm:1', entity: () => Author },
    price: { type: 'decimal', precision: 10, scale: 2, nullable: true },
    tags: { type: 'string[]', nullable: true },
  },
});

describe('smoke', () => {
  let orm: MikroORM;
  before(async () => {
    orm = await initTestOrm({ schema: 'smoke', entities: [AuthorSchema, BookSchema] });
  });
  after(async () => orm?.close(true));

  it('copies authors and books', async () => {
    const em = orm.em.fork() as CopyEntityManager;
    assert.ok(em instanceof CopyEntityManager);
    const authors = [1, 2, 3].map(i => em.create(Author, { id: i, name: `A "${i}", x\ny` }, { persist: false }));
    const books = authors.flatMap(a => [1, 2].map(j => em.create(Book, { title: `t${j}`, author: a, price: '1.50', tags: ['a', 'b"c'] }, { persist: false })));
    const result = await em.copyPersist([...books, ...authors]);
    assert.deepEqual(result, { rows: 9, byEntity: { Author: 3, Book: 6 } });
    const rows = await em.getConnection().execute('select * from smoke.book order by id');
    assert.equal(rows.length, 6);
    const a = await em.getConnection().execute('select * from smoke.author order by id');
    assert.equal(a[0].name, 'A "1", x\ny');
  });
});
