// copyPersist, the public entry point: its overloads are read once into (entity class, input,
// options), then a load goes to the engine (engine/run.ts), or to copyParallel when asked for.
import type { EntityManager, RequiredEntityData } from '@mikro-orm/core';
import type { SqlEntityManager } from '@mikro-orm/postgresql';
import { runCopy } from '../engine/run.js';
import { runParallel, type CopyParallelOptions } from '../loaders/parallel.js';
import { readCopyCall, type EntityClassLike } from '../input/entity-class.js';
import type { CopySource } from '../input/read-chunks.js';
import type { CopyPersistOptions, CopyPersistResult } from './options.js';

/**
 * Writes entities with `COPY ... FROM STDIN`: the same rows `em.persist()` + `em.flush()` would
 * insert, without the unit of work. Use it with any PostgreSQL EntityManager; with
 * `CopyEntityManager` the same is `em.copyPersist(...)`.
 *
 * @example
 * ```ts
 * import { copyPersist } from 'mikro-orm-pg-copy';
 *
 * const books = titles.map(title => em.create(Book, { title, author }));
 * const { rows } = await copyPersist(em, books);
 *
 * // plain objects keyed by property name, from any (async) iterable
 * await copyPersist(em, Book, readRows('books.ndjson'));
 * ```
 */
export function copyPersist(em: EntityManager, entities: CopySource<object>, options?: CopyPersistOptions): Promise<CopyPersistResult>;
export function copyPersist<T extends object>(em: EntityManager, entityClass: EntityClassLike<T>, rows: CopySource<RequiredEntityData<T>>, options?: CopyPersistOptions): Promise<CopyPersistResult>;
export function copyPersist(
  anyEm: EntityManager,
  a: CopySource<object> | EntityClassLike<object>,
  b?: CopySource<object> | CopyPersistOptions,
  c?: CopyPersistOptions,
): Promise<CopyPersistResult> {
  // typed as MikroORM's base class so that any EntityManager type users hold is accepted; the
  // ORM must be a PostgreSQL one, whose EntityManager is the SQL one
  const em = anyEm as SqlEntityManager;
  const { entityClass, source, options } = readCopyCall<CopyPersistOptions>(em, a, b, c);
  // `parallel`: batches on several connections, each batch a run of the engine (loaders/parallel)
  if (options.parallel !== undefined) return runParallel(em, entityClass, source, options as CopyParallelOptions);
  return runCopy(em, entityClass, source, options);
}
