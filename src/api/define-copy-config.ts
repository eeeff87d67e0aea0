// MikroORM's `defineConfig`, with `CopyEntityManager` registered and typed: on MikroORM 6 the
// PostgreSQL `defineConfig` fixes the EntityManager type to its own, so `orm.em.copyPersist`
// would not type-check; this keeps it on both versions.
import type { Options } from '@mikro-orm/core';
import type { PostgreSqlDriver } from '@mikro-orm/postgresql';
import { CopyEntityManager } from './copy-entity-manager.js';

/** MikroORM options whose EntityManager is a `CopyEntityManager`. */
export type CopyOptions = Partial<Options<PostgreSqlDriver, CopyEntityManager>>;

/**
 * Defines a PostgreSQL configuration with `entityManager: CopyEntityManager`, typed so that
 * `orm.em`, its forks and the EM inside `em.transactional()` have `copyPersist`.
 *
 * @example
 * ```ts
 * import { MikroORM } from '@mikro-orm/postgresql';
 * import { defineCopyConfig } from 'mikro-orm-pg-copy';
 *
 * const config = defineCopyConfig({ clientUrl: 'postgres://localhost/app', entities: [Book] });
 * const orm = await MikroORM.init(config);
 * await orm.em.fork().copyPersist(Book, [{ title: 'Dune' }]);
 * ```
 */
export function defineCopyConfig(options: CopyOptions): CopyOptions & { entityManager: typeof CopyEntityManager } {
  return { ...options, entityManager: CopyEntityManager };
}
