import type { RequiredEntityData } from '@mikro-orm/core';
import { EntityManager, type PostgreSqlDriver } from '@mikro-orm/postgresql';
import { copyPersist } from './copy-persist.js';
import { copyFlush, type CopyFlushOptions, type CopyFlushResult } from './features/copy-flush.js';
import type { EntityClassLike } from './input/entity-class.js';
import type { CopySource } from './input/read-chunks.js';
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
