// copyDelete: deletes rows by primary key. The keys go through COPY into a temporary staging table,
// then one `DELETE ... USING` per table removes the rows — instead of flush's key lists.
import { helper, type EntityManager, type EntityMetadata, type Platform, type Primary } from '@mikro-orm/core';
import type { SqlEntityManager } from '@mikro-orm/postgresql';
import type { CopyDestination, RunQuery } from '../copy/copy-session.js';
import { keyWidthMismatch } from '../errors.js';
import { readCopyCall, type EntityClassLike } from '../input/entity-class.js';
import type { CopySource } from '../input/read-chunks.js';
import type { EntityPlan } from '../plan/entity-plan.js';
import { checkRow, keyColumnsOf, runStaged } from '../engine/staged-rows.js';
import { createStage } from '../copy/stage.js';

/** Counts of a {@link copyDelete}. */
export interface CopyDeleteResult {
  /** Rows deleted. */
  deleted: number;
  /** Distinct input keys that matched no row. */
  notFound: number;
  /** The same, per entity class name. */
  byEntity: Record<string, { deleted: number; notFound: number }>;
}

/**
 * A key of `T` as `copyDelete(em, T, keys)` takes it: the primary key value, the values of a
 * composite key in the order of the entity's primary keys, or an object holding the key properties.
 */
export type CopyDeleteKey<T> = Primary<T> | unknown[] | Partial<T>;

/**
 * Deletes rows by primary key through COPY of the keys into a staging table and one
 * `DELETE ... USING` per table. Runs in the current transaction when there is one, else in its
 * own; all or nothing. As with `em.nativeDelete`, the database's foreign keys decide what happens
 * to referencing rows (`on delete cascade`, or an error); MikroORM's `cascade: [Cascade.REMOVE]`,
 * orphan removal and lifecycle hooks do not run. Managed entities passed in leave the identity map.
 * A key given twice is deleted once.
 *
 * @example
 * ```ts
 * import { copyDelete } from 'mikro-orm-pg-copy';
 *
 * const { deleted, notFound } = await copyDelete(em, staleBooks);  // entities
 * await copyDelete(em, Book, [1, 2, 3]);                            // primary key values
 * await copyDelete(em, BookTag, [[1, 'sf'], [2, 'fantasy']]);       // composite keys
 * ```
 */
export function copyDelete(em: EntityManager, entities: CopySource<object>): Promise<CopyDeleteResult>;
export function copyDelete<T extends object>(em: EntityManager, entityClass: EntityClassLike<T>, keys: CopySource<CopyDeleteKey<T>>): Promise<CopyDeleteResult>;
export async function copyDelete(anyEm: EntityManager, a: CopySource<object> | EntityClassLike<object>, b?: CopySource<unknown>): Promise<CopyDeleteResult> {
  const em = anyEm as SqlEntityManager;
  const { entityClass, source } = readCopyCall(em, a, b);
  const destination = new DeleteDestination(em.getPlatform());
  await runStaged(em, entityClass, source, {
    name: 'copyDelete',
    stages: () => false,
    destination,
    settle: entities => {
      const uow = em.getUnitOfWork();
      for (const entity of entities) if (helper(entity).__managed) uow.unsetIdentity(entity);
    },
  }, (meta, item, position) => checkRow(meta, keyRow(meta, item, position), position));
  const byEntity = destination.counts;
  const sum = (key: 'deleted' | 'notFound') => Object.values(byEntity).reduce((n, counts) => n + counts[key], 0);
  return { deleted: sum('deleted'), notFound: sum('notFound'), byEntity };
}

/** A key as a row of the key properties. */
function keyRow(meta: EntityMetadata, key: unknown, position: number): unknown {
  const names = meta.primaryKeys;
  const values = Array.isArray(key) ? key : key !== null && typeof key === 'object' && !(key instanceof Date) ? undefined : [key];
  if (!values) return key;
  if (values.length !== names.length) {
    throw keyWidthMismatch(meta.className, values.length, names.length, position);
  }
  return Object.fromEntries(names.map((name, i) => [name, values[i]]));
}

class DeleteDestination implements CopyDestination {
  readonly #platform: Platform;
  readonly counts: Record<string, { deleted: number; notFound: number }> = {};

  constructor(platform: Platform) {
    this.#platform = platform;
  }

  async open(plan: EntityPlan, columns: string[], run: RunQuery): Promise<{ table: string; columns: string[] }> {
    return createStage(this.#platform, plan.table, columns, run);
  }

  async close(plan: EntityPlan, _columns: string[], _copied: number, run: RunQuery, stage: string): Promise<number> {
    const keys = keyColumnsOf(this.#platform, plan);
    const { rows } = await run(
      `with removed as (delete from ${plan.table} as t using ${stage} as s where ${keys.map(c => `t.${c} = s.${c}`).join(' and ')} returning 1) ` +
        `select (select count(*) from removed)::int as deleted, (select count(*) from (select distinct ${keys.join(', ')} from ${stage}) k)::int as keys`,
    );
    const { deleted, keys: distinct } = rows[0] as { deleted: number; keys: number };
    const counts = (this.counts[plan.entityName] ??= { deleted: 0, notFound: 0 });
    counts.deleted += deleted;
    counts.notFound += distinct - deleted;
    await run(`drop table ${stage}`);
    return deleted;
  }
}
