// Type-level test, checked by `tsc` in `npm test` (never run): what users write must type-check,
// and the mistakes below must not. Each `@ts-expect-error` fails the build if its line compiles.
import type { EntityManager as CoreEntityManager } from '@mikro-orm/core';
import { EntitySchema, MikroORM, type EntityManager as PgEntityManager } from '@mikro-orm/postgresql';
import {
  CopyParallelError,
  CopyPersistError,
  LoadFileError,
  PgCopyError,
  copyPersist,
  defineCopyConfig,
  type CopyEntityManager,
  type CopyErrorCode,
  type LoadFileErrorCode,
  type PgCopyErrorCode,
} from '../../src/index.js';

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

// the error family: one base with a code users can narrow on, today's classes below it
export function errors(e: unknown): string | undefined {
  const codes: PgCopyErrorCode[] = ['INVALID_OPTION', 'REFERENCE_CYCLE', 'UNKNOWN_CONSTRAINT', 'BAD_ROW'];
  const persistCodes: CopyErrorCode[] = ['INVALID_OPTION', 'REFERENCE_CYCLE', 'UNKNOWN_CONSTRAINT'];
  const fileCodes: LoadFileErrorCode[] = ['INVALID_OPTION', 'BAD_HEADER'];
  // @ts-expect-error BAD_ROW is a LoadFileError code, not a CopyPersistError one
  const wrong: CopyErrorCode = 'BAD_ROW';
  void [codes, persistCodes, fileCodes, wrong];
  const base: PgCopyError = new LoadFileError('BAD_ROW', 'x');
  const persist: PgCopyError<CopyErrorCode> = new CopyParallelError(base, [], undefined, undefined);
  void persist;
  if (e instanceof CopyPersistError) {
    const code: CopyErrorCode = e.code;
    return `${code} ${e.entity ?? ''} ${e.property ?? ''} ${e.position ?? ''} ${e.option ?? ''}`;
  }
  if (e instanceof LoadFileError) {
    const code: LoadFileErrorCode = e.code;
    return `${code} ${e.line ?? ''} ${e.reason ?? ''} ${e.option ?? ''}`;
  }
  if (e instanceof PgCopyError) {
    const code: PgCopyErrorCode = e.code;
    return code;
  }
  // @ts-expect-error the base class is abstract: throw one of its subclasses
  return new PgCopyError('INTERNAL', 'x').code;
}
