// copySync (django-pgbulk's `sync`): an upsert through COPY on the primary key that also deletes
// the rows of a scope that were not in the input. It is the upsert engine with two additions: rows
// where no merged column differs are left alone (and counted as unchanged), and each staging
// table's keys are kept in a temporary table, so that after the merge one DELETE removes the rows
// of the scope — a `where` translated by MikroORM's own query builder — whose keys never came.
import type { EntityManager, FilterQuery, RequiredEntityData } from '@mikro-orm/core';
import type { SqlEntityManager } from '@mikro-orm/postgresql';
import { runCopy } from '../engine/run.js';
import { notRegistered, syncWithoutScope } from '../errors.js';
import { entityClassOf, type EntityClassLike } from '../input/entity-class.js';
import type { CopySource } from '../input/read-chunks.js';
import { planFor } from '../plan/entity-plan.js';
import { keyColumnsOf } from '../engine/staged-rows.js';
import { UpsertDestination } from '../engine/upsert.js';

let keysCounter = 0;

/** Options of {@link copySync}. */
export interface CopySyncOptions<T> {
  /**
   * The scope: rows matching it whose primary key is not in the input are deleted. A MikroORM
   * filter on the same entity (`{}` for the whole table).
   */
  where: FilterQuery<T>;
  /** Merge only these properties into existing rows (and compare only these). */
  onConflictMergeFields?: string[];
  /** Leave these properties of existing rows alone (and out of the comparison). */
  onConflictExcludeFields?: string[];
  /** Rows per chunk of input (default 2000). */
  chunkSize?: number;
}

/** Counts of a {@link copySync}. */
export interface CopySyncResult {
  /** Input rows whose key no row had. */
  inserted: number;
  /** Existing rows where at least one merged column differed (`IS DISTINCT FROM`). */
  updated: number;
  /** Existing rows where no merged column differed: not written. */
  unchanged: number;
  /** Rows of the scope whose key was not in the input. */
  deleted: number;
}

/**
 * Makes the rows of a scope equal to the input: inserts the new ones, updates the changed ones
 * (by primary key), leaves the equal ones alone and deletes the rows of the scope that the input
 * does not have. Runs in the current transaction when there is one, else in its own; all or
 * nothing. New rows get keys and defaults as `copyPersist` gives them.
 *
 * @example
 * ```ts
 * import { copySync } from 'mikro-orm-pg-copy';
 *
 * // the author's books become exactly `rows`
 * const { inserted, updated, unchanged, deleted } = await copySync(em, Book, rows, { where: { author: 7 } });
 * ```
 */
export async function copySync<T extends object>(
  anyEm: EntityManager,
  entityClass: EntityClassLike<T>,
  rows: CopySource<RequiredEntityData<T> | T>,
  options: CopySyncOptions<T>,
): Promise<CopySyncResult> {
  const em = anyEm as SqlEntityManager;
  const cls = entityClassOf(em, entityClass)!;
  const meta = em.getMetadata().find(cls);
  if (!meta) throw notRegistered(cls.name);
  if (options?.where === undefined) throw syncWithoutScope(meta.className);
  const platform = em.getPlatform();
  const root = meta.root;
  const plan = planFor(em, meta, em.schema, new Map());
  const keyColumns = keyColumnsOf(platform, plan);
  const fromTable = plan.table;
  const keys = platform.quoteIdentifier(`mikro_orm_pg_copy_sync_${++keysCounter}`);

  return em.transactional(async trx => {
    // the scope as MikroORM writes it: a subquery of the keys it selects, its values inlined by
    // MikroORM's own formatter (the platform's quoting); bound parameters would differ between
    // MikroORM 6 ($1, knex) and 7 (?) in the statement around it
    const scope = trx.createQueryBuilder(cls, 'e0').select(root.primaryKeys as never).where(options.where).getFormattedQuery();
    // the keys the input brought, across all of its staging tables
    await trx.execute(`create temporary table ${keys} on commit drop as select ${keyColumns.join(', ')} from ${fromTable} with no data`);
    const destination = new UpsertDestination(trx, options, undefined, {
      onlyChanged: true,
      afterMerge: async (_plan, stage, _conflictKeys, run) => {
        await run(`insert into ${keys} select ${keyColumns.join(', ')} from ${stage}`);
      },
    });
    const upsert = await runCopy(
      trx,
      cls,
      rows as CopySource<object>,
      { onConflictAction: 'merge', onConflictMergeFields: options.onConflictMergeFields, onConflictExcludeFields: options.onConflictExcludeFields, chunkSize: options.chunkSize },
      destination,
    );
    const on = keyColumns.map(c => `t.${c} = k.${c}`).join(' and ');
    const removed = await trx.execute<{ affectedRows: number }>(
      `delete from ${fromTable} as t where (${keyColumns.map(c => `t.${c}`).join(', ')}) in (${scope}) and not exists (select 1 from ${keys} as k where ${on})`,
      [],
      'run',
    );
    await trx.execute(`drop table ${keys}`);
    const counts = upsert.upserted!;
    return { inserted: counts.inserted, updated: counts.updated, unchanged: counts.skipped, deleted: removed.affectedRows };
  });
}
