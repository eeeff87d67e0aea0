// copyUpdate: updates rows by primary key from entities that are not managed (loaded elsewhere,
// built from a file). The keys and the chosen columns go through COPY into a temporary staging
// table, then one `UPDATE ... FROM` per table and column set moves them into the entity's table —
// instead of flush's batched UPDATEs with a CASE per column.
import { OptimisticLockError, helper, type AnyEntity, type EntityManager, type EntityProperty, type Platform, type RequiredEntityData } from '@mikro-orm/core';
import type { SqlEntityManager } from '@mikro-orm/postgresql';
import type { CopyDestination, RunQuery } from '../copy/copy-session.js';
import { keysNotFound, notUpdatable } from '../errors.js';
import { readCopyCall, type EntityClassLike } from '../input/entity-class.js';
import type { CopySource } from '../input/read-chunks.js';
import { propertyNamed } from '../input/row-keys.js';
import type { ColumnGroup, EntityPlan } from '../plan/entity-plan.js';
import { checkRow, keyColumnsOf, rejectDuplicateKeys, runStaged } from '../engine/staged-rows.js';
import { versionBump } from '../copy/version-bump.js';
import { createStage } from '../copy/stage.js';

/** Options of {@link copyUpdate}. */
export interface CopyUpdateOptions {
  /**
   * Properties to write (names as on the entity; an embeddable's name writes all its columns).
   * Default: every column but the primary key, the version and `onCreate` properties (flush
   * writes those only on insert). `onUpdate` properties and the version are always written.
   * A property an item leaves `undefined` is not written for that item.
   */
  fields?: string[];
  /**
   * What a key that no row has does: `'count'` (default) counts it in `notFound`;
   * `'fail'` throws `CopyPersistError` with code `NOT_FOUND` and nothing is written.
   */
  onMissing?: 'count' | 'fail';
}

/** Counts of a {@link copyUpdate}. */
export interface CopyUpdateResult {
  /** Rows updated. */
  updated: number;
  /** Input keys that matched no row. */
  notFound: number;
  /** The same, per entity class name. */
  byEntity: Record<string, { updated: number; notFound: number }>;
}

/** One `UPDATE ... FROM` of a staging table: what {@link stagedUpdateSql} writes. */
export interface StagedUpdate {
  /** Quoted, schema-qualified target table. */
  table: string;
  /** Quoted staging table. */
  stage: string;
  /** Quoted key columns, present in both. */
  keys: string[];
  /** Quoted columns copied from the stage. */
  set: string[];
  /** The version column: incremented as flush does; `checked` also requires the staged version to match where one is given. */
  version?: { column: string; bump: string; checked: boolean };
}

/**
 * The statement that moves staged rows into their table by key (aliases `t` and `s`). Every
 * identifier comes quoted by the platform; no data reaches this SQL.
 */
export function stagedUpdateSql({ table, stage, keys, set, version }: StagedUpdate): string {
  const assignments = set.map(c => `${c} = s.${c}`);
  if (version) assignments.push(version.bump);
  // nothing to write still has to name a column for the row to count as matched
  if (!assignments.length) assignments.push(`${keys[0]} = t.${keys[0]}`);
  const where = keys.map(c => `t.${c} = s.${c}`);
  if (version?.checked) where.push(`(s.${version.column} is null or t.${version.column} = s.${version.column})`);
  return `update ${table} as t set ${assignments.join(', ')} from ${stage} as s where ${where.join(' and ')}`;
}

/**
 * Updates rows by primary key (composite keys too) from entities or plain rows that are not
 * managed, through COPY into a staging table and one `UPDATE ... FROM` per table and column set.
 * Runs in the current transaction when there is one, else in its own; all or nothing. Like
 * flush, it sets `onUpdate` properties and increments the version; where an item carries a
 * version, it must match the row's, or the whole call fails with MikroORM's `OptimisticLockError`.
 * Lifecycle hooks do not run (as with `em.nativeUpdate`).
 *
 * @example
 * ```ts
 * import { copyUpdate } from 'mikro-orm-pg-copy';
 *
 * // entities built or loaded elsewhere: write their title and price
 * const { updated, notFound } = await copyUpdate(em, books, { fields: ['title', 'price'] });
 *
 * // plain rows keyed by property name, primary key included
 * await copyUpdate(em, Book, [{ id: 1, price: '9.99' }, { id: 2, price: '12.00' }], { onMissing: 'fail' });
 * ```
 */
export function copyUpdate(em: EntityManager, entities: CopySource<object>, options?: CopyUpdateOptions): Promise<CopyUpdateResult>;
export function copyUpdate<T extends object>(em: EntityManager, entityClass: EntityClassLike<T>, rows: CopySource<Partial<RequiredEntityData<T>>>, options?: CopyUpdateOptions): Promise<CopyUpdateResult>;
export async function copyUpdate(
  anyEm: EntityManager,
  a: CopySource<object> | EntityClassLike<object>,
  b?: CopySource<object> | CopyUpdateOptions,
  c?: CopyUpdateOptions,
): Promise<CopyUpdateResult> {
  const em = anyEm as SqlEntityManager;
  const { entityClass, source, options } = readCopyCall<CopyUpdateOptions>(em, a, b, c);
  const platform = em.getPlatform();
  const selection = new Map<EntityPlan, Set<EntityProperty>>();
  const selected = (plan: EntityPlan) => {
    let props = selection.get(plan);
    if (!props) selection.set(plan, (props = selectedProps(plan, options.fields)));
    return props;
  };
  const destination = new UpdateDestination(platform, options.onMissing ?? 'count');
  await runStaged(em, entityClass, source, {
    name: 'copyUpdate',
    stages: (plan, group) => selected(plan).has(group.prop),
    prepare: (plan, entity) => {
      // flush computes `onUpdate` values for every entity it updates
      for (const prop of plan.meta.hydrateProps) if (prop.onUpdate) entity[prop.name] = prop.onUpdate(entity, em);
    },
    destination,
    failure: () => destination.failure,
    settle: entities => settleUpdated(em, entities),
  }, checkRow);
  const byEntity = destination.counts;
  const sum = (key: 'updated' | 'notFound') => Object.values(byEntity).reduce((n, counts) => n + counts[key], 0);
  return { updated: sum('updated'), notFound: sum('notFound'), byEntity };
}

/** The properties whose columns are written: `fields`, or the default; plus `onUpdate` and the version. */
function selectedProps(plan: EntityPlan, fields: readonly string[] | undefined): Set<EntityProperty> {
  const root = plan.meta.root;
  const topName = (group: ColumnGroup) => group.prop.embedded?.[0] ?? group.prop.name;
  const writable = plan.groups.filter(g => !g.prop.primary);
  let chosen: ColumnGroup[];
  if (fields) {
    for (const name of fields) {
      const prop = propertyNamed(root, name);
      if (!prop) throw notUpdatable(plan.entityName, name, 'unknown');
      if (prop.primary) throw notUpdatable(plan.entityName, name, 'primary');
      if (!writable.some(g => topName(g) === name)) {
        throw notUpdatable(plan.entityName, name, 'no-column');
      }
    }
    chosen = writable.filter(g => fields.includes(topName(g)));
  } else {
    chosen = writable.filter(g => !g.prop.onCreate || g.prop.onUpdate);
  }
  const props = new Set(chosen.map(g => g.prop));
  for (const group of writable) {
    if (group.prop.onUpdate || group.prop.name === root.versionProperty) props.add(group.prop);
  }
  return props;
}

/** Managed entities take the snapshot flush would take, so the next flush does not write them again. */
function settleUpdated(em: SqlEntityManager, entities: readonly AnyEntity[]): void {
  const comparator = em.getComparator();
  for (const entity of entities) {
    const wrapped = helper(entity);
    const meta = wrapped.__meta;
    const version = meta.versionProperty;
    // the database incremented it; an integer version can follow here, a timestamp is only known there
    if (version && typeof entity[version] === 'number') entity[version]++;
    if (wrapped.__managed) wrapped.__originalEntityData = comparator.prepareEntity(entity);
  }
}

class UpdateDestination implements CopyDestination {
  readonly #platform: Platform;
  readonly #onMissing: 'count' | 'fail';
  readonly counts: Record<string, { updated: number; notFound: number }> = {};
  /** An optimistic lock failure: thrown by the loop, so it keeps its class. */
  failure: Error | undefined;

  constructor(platform: Platform, onMissing: 'count' | 'fail') {
    this.#platform = platform;
    this.#onMissing = onMissing;
  }

  async open(plan: EntityPlan, columns: string[], run: RunQuery): Promise<{ table: string; columns: string[] }> {
    return createStage(this.#platform, plan.table, columns, run);
  }

  async close(plan: EntityPlan, columns: string[], copied: number, run: RunQuery, stage: string): Promise<number> {
    const keys = keyColumnsOf(this.#platform, plan);
    const on = keys.map(c => `t.${c} = s.${c}`).join(' and ');
    const meta = plan.meta.root;
    const versionProp = meta.versionProperty ? meta.properties[meta.versionProperty] : undefined;
    const versionColumn = versionProp && this.#platform.quoteIdentifier(versionProp.fieldNames[0]);
    const checked = versionColumn !== undefined && columns.includes(versionColumn);
    if (checked && !this.failure) this.failure = await staleVersion(plan, versionProp!, versionColumn, stage, on, run);
    if (this.failure) return 0;

    const versionGroup = (g: ColumnGroup) => g.prop === versionProp;
    const settable = new Set(plan.groups.filter(g => !g.prop.primary && !versionGroup(g)).flatMap(g => g.quotedFields));
    const set = columns.filter(c => settable.has(c));
    const version = versionColumn ? { column: versionColumn, bump: versionBump(this.#platform, versionProp!, versionColumn), checked } : undefined;
    const { rowCount } = await run(stagedUpdateSql({ table: plan.table, stage, keys, set, version }));
    // a row meets at most one staged key, so only a shortfall can hide duplicates (which one
    // PostgreSQL applied would be arbitrary): checked then, and the call fails
    if (rowCount < copied) await rejectDuplicateKeys(plan, keys, stage, run, 'copyUpdate');
    const notFound = copied - rowCount;
    if (notFound > 0 && this.#onMissing === 'fail') {
      const { rows } = await run(`select min(s."_ord")::text as ord from ${stage} as s where not exists (select 1 from ${plan.table} as t where ${on})`);
      throw keysNotFound(plan.entityName, notFound, Number(rows[0]?.ord));
    }
    const counts = (this.counts[plan.entityName] ??= { updated: 0, notFound: 0 });
    counts.updated += rowCount;
    counts.notFound += notFound;
    await run(`drop table ${stage}`);
    return rowCount;
  }
}

/** Flush's optimistic lock: an item's version must be the row's. Returns the failure of the first stale item. */
async function staleVersion(plan: EntityPlan, prop: EntityProperty, column: string, stage: string, on: string, run: RunQuery): Promise<Error | undefined> {
  const { rows } = await run(
    `select s."_ord"::text as ord, s.${column}::text as expected, t.${column}::text as actual from ${stage} as s join ${plan.table} as t on ${on} ` +
      `where s.${column} is not null and t.${column} is distinct from s.${column} order by s."_ord" limit 1`,
  );
  if (!rows.length) return undefined;
  const { ord, expected, actual } = rows[0] as { ord: string; expected: string; actual: string };
  return new OptimisticLockError(
    `The optimistic lock on entity ${plan.entityName} failed: version ${expected} was expected, but is actually ${actual} (${plan.entityName}.${prop.name}, input position ${ord})`,
  );
}
