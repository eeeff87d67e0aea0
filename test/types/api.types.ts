// Type-level test, checked by `tsc` in `npm test` (never run): what users write must type-check,
// and the mistakes below must not. Each `@ts-expect-error` fails the build if its line compiles.
import type { EntityManager as CoreEntityManager } from '@mikro-orm/core';
import { EntitySchema, MikroORM, type EntityManager as PgEntityManager } from '@mikro-orm/postgresql';
import { copyPersist, defineCopyConfig, type CopyEntityManager } from '../../src/index.js';

class Book {
  id?: number;
  title!: string;
  pages?: number;
}
const BookSchema = new EntitySchema<Book>({
  class: Book,
  properties: { id: { type: 'integer', primary: true }, title: { type: 'string' }, pages: { type: 'integer', nullable: true } },
});

export async function usage(): Promise<void> {
  const orm = await MikroORM.init(defineCopyConfig({ entities: [BookSchema] }));
  const em = orm.em.fork();
  // the EM type survives defineCopyConfig, forks and transactional, without casts
  const forked: CopyEntityManager = em;
  await forked.copyPersist(Book, [{ title: 'Dune' }, { title: 'Emma', pages: 474 }]);
  await em.transactional(async tx => {
    await tx.copyPersist([new Book()]);
  });
  await em.copyPersist(BookSchema, [{ title: 'from a schema' }]);
  // the function form takes the EntityManager types users hold: PostgreSQL's, or MikroORM's base class
  await copyPersist(orm.em, Book, [{ title: 'x' }]);
  const pgEm: PgEntityManager = orm.em;
  await copyPersist(pgEm, [new Book()]);
  const coreEm: CoreEntityManager = orm.em;
  await copyPersist(coreEm, Book, [{ title: 'y' }]);

  // bulk update, delete and sync: rows are partial, keys typed by the entity
  await em.copyUpdate(Book, [{ id: 1, pages: 10 }], { fields: ['pages'], onMissing: 'fail' });
  await em.copyUpdate([new Book()]);
  await em.copyDelete(Book, [1, 2, { id: 3 }]);
  const synced = await em.copySync(Book, [{ id: 1, title: 'kept' }], { where: { pages: { $gt: 100 } } });
  const counted: number = synced.inserted + synced.updated + synced.unchanged + synced.deleted;
  void counted;

  // @ts-expect-error copyUpdate: a key that is not a property
  await em.copyUpdate(Book, [{ id: 1, nam: 'typo' }]);
  // @ts-expect-error copySync needs a scope
  await em.copySync(Book, [], {});
  // @ts-expect-error a key that is not a property
  await em.copyPersist(Book, [{ nam: 'typo' }]);
  // @ts-expect-error a value of the wrong type
  await em.copyPersist(Book, [{ title: 42 }]);
  // @ts-expect-error a required property missing
  await em.copyPersist(Book, [{ pages: 1 }]);
}
