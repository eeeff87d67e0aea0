import type { RequiredEntityData } from '@mikro-orm/core';
import { copyDelete, type CopyDeleteKey, type CopyDeleteResult } from '../bulk/copy-delete.js';
import { copyUpdate, type CopyUpdateOptions, type CopyUpdateResult } from '../bulk/copy-update.js';
import { copySync, type CopySyncOptions, type CopySyncResult } from '../bulk/sync.js';
import { EntityManager, type PostgreSqlDriver } from '@mikro-orm/postgresql';
import { copyPersist } from './copy-persist.js';
import { copyFlush, type CopyFlushOptions, type CopyFlushResult } from '../bulk/copy-flush.js';
import type { EntityClassLike } from '../input/entity-class.js';
import type { CopySource } from '../input/read-chunks.js';
import type { CopyPersistOptions, CopyPersistResult } from './options.js';

/**
 * MikroORM's PostgreSQL EntityManager with `copyPersist()`. Register it once; every fork, and the
 * EM inside `em.transactional()`, is one.
 *
 * @example
 * ```ts
 * import { MikroORM } from '@mikro-orm/postgresql';
 * import { CopyEntityManager } from 'mikro-orm-pg-copy';
 *
 * const orm = await MikroORM.init({ ...config, entityManager: CopyEntityManager });
 * const em = orm.em.fork();
 * await em.copyPersist(books);                 // entity instances
 * await em.copyPersist(Book, [{ title: 'A' }]); // plain rows keyed by property name
 * ```
 */
export class CopyEntityManager<Driver extends PostgreSqlDriver = PostgreSqlDriver> extends EntityManager<Driver> {
  /**
   * Writes entities through `COPY ... FROM STDIN`: exactly the rows `persist()` + `flush()` would
   * insert, without the unit of work (the entities stay unmanaged). Runs in the current
   * transaction when there is one, else in its own; all or nothing.
   *
   * @example
   * ```ts
   * const { rows, byEntity } = await em.copyPersist([author, ...books]);
   * ```
   */
  copyPersist(entities: CopySource<object>, options?: CopyPersistOptions): Promise<CopyPersistResult>;
  /**
   * Writes plain rows keyed by property name as entities of `entityClass`.
   *
   * @example
   * ```ts
   * await em.copyPersist(Book, [{ title: 'Dune', author: 1 }], { chunkSize: 5000 });
   * ```
   */
  copyPersist<T extends object>(entityClass: EntityClassLike<T>, rows: CopySource<RequiredEntityData<T>>, options?: CopyPersistOptions): Promise<CopyPersistResult>;
  copyPersist(a: CopySource<object> | EntityClassLike<object>, b?: CopySource<object> | CopyPersistOptions, c?: CopyPersistOptions): Promise<CopyPersistResult> {
    return (copyPersist as (em: this, a: unknown, b?: unknown, c?: unknown) => Promise<CopyPersistResult>)(this, a, b, c);
  }

  /**
   * Updates rows by primary key from entities that are not managed, through COPY into a staging
   * table and one `UPDATE ... FROM` (see {@link copyUpdate}).
   *
   * @example
   * ```ts
   * const { updated, notFound } = await em.copyUpdate(books, { fields: ['price'] });
   * await em.copyUpdate(Book, [{ id: 1, price: '9.99' }]);
   * ```
   */
  copyUpdate(entities: CopySource<object>, options?: CopyUpdateOptions): Promise<CopyUpdateResult>;
  copyUpdate<T extends object>(entityClass: EntityClassLike<T>, rows: CopySource<Partial<RequiredEntityData<T>>>, options?: CopyUpdateOptions): Promise<CopyUpdateResult>;
  copyUpdate(a: CopySource<object> | EntityClassLike<object>, b?: CopySource<object> | CopyUpdateOptions, c?: CopyUpdateOptions): Promise<CopyUpdateResult> {
    return (copyUpdate as (em: this, a: unknown, b?: unknown, c?: unknown) => Promise<CopyUpdateResult>)(this, a, b, c);
  }

  /**
   * Deletes rows by primary key through COPY of the keys and one `DELETE ... USING` (see {@link copyDelete}).
   *
   * @example
   * ```ts
   * await em.copyDelete(staleBooks);
   * const { deleted } = await em.copyDelete(Book, [1, 2, 3]);
   * ```
   */
  copyDelete(entities: CopySource<object>): Promise<CopyDeleteResult>;
  copyDelete<T extends object>(entityClass: EntityClassLike<T>, keys: CopySource<CopyDeleteKey<T>>): Promise<CopyDeleteResult>;
  copyDelete(a: CopySource<object> | EntityClassLike<object>, b?: CopySource<unknown>): Promise<CopyDeleteResult> {
    return (copyDelete as (em: this, a: unknown, b?: unknown) => Promise<CopyDeleteResult>)(this, a, b);
  }

  /**
   * Upserts `rows` on the primary key and deletes the rows of the `where` scope the input does
   * not have (see {@link copySync}).
   *
   * @example
   * ```ts
   * const { inserted, updated, unchanged, deleted } = await em.copySync(Book, rows, { where: { author: 7 } });
   * ```
   */
  copySync<T extends object>(entityClass: EntityClassLike<T>, rows: CopySource<RequiredEntityData<T> | T>, options: CopySyncOptions<T>): Promise<CopySyncResult> {
    return copySync(this, entityClass, rows, options);
  }

  /**
   * `flush()` for large change sets: the same change sets, order, hooks and unit-of-work state
   * afterwards, with big batches written through COPY and a staging table.
   *
   * @example
   * ```ts
   * for (const book of await em.find(Book, {})) book.price *= 1.1;
   * await em.copyFlush();
   * ```
   */
  copyFlush(options?: CopyFlushOptions): Promise<CopyFlushResult> {
    return copyFlush(this, options);
  }
}
