// Upsert through COPY: the rows go into a temporary staging table shaped like the COPY's columns
// (no constraints, no indexes, dropped at commit), then one INSERT ... SELECT ... ON CONFLICT
// moves them into the entity's table in the same transaction. The staging table carries each
// row's input position (`_ord`), so duplicates and keys can be traced back to the input.
import { type AnyEntity, type EntityProperty, type Platform } from '@mikro-orm/core';
import type { SqlEntityManager } from '@mikro-orm/postgresql';
import type { CopyDestination, RunQuery } from '../copy/copy-session.js';
import type { WireResult } from '../copy/wire-query.js';
import { distributionColumn, duplicateConflictKey, mergeFieldNotSet, unknownConflictProperty, unknownConstraint } from '../errors.js';
import { propertyNamed } from '../input/row-keys.js';
import type { CopyConflictOptions } from '../api/options.js';
import type { EntityPlan } from '../plan/entity-plan.js';
import { setGeneratedKey } from './assign-keys.js';
import { createStage } from '../copy/stage.js';

/** PostgreSQL's SQLSTATE for a merge that meets one row twice ("ON CONFLICT DO UPDATE command cannot affect row a second time"). */
const CARDINALITY_VIOLATION = '21000';

/** Counts of an upsert, per entity class name. */
export interface UpsertCounts {
  inserted: number;
  updated: number;
  skipped: number;
}

/** What a sync (bulk/sync.ts) adds to an upsert. */
export interface UpsertExtras {
  /** Update only rows where a merged column differs (`IS DISTINCT FROM`); the others count as skipped. */
  onlyChanged?: boolean;
  /** Runs after the merge of each staging table, before it is dropped; `keys` are its quoted conflict columns. */
  afterMerge?: (plan: EntityPlan, stage: string, keys: string[], run: RunQuery) => Promise<void>;
}

interface ConflictPlan {
  /** Quoted conflict columns; for a named constraint, read from the catalog. */
  keyColumns: string[];
  /** `on conflict (...)` or `on conflict on constraint ...`, with an index predicate. */
  target: string;
  /** Quoted primary key column, when the entity has a single-column one. */
  pkColumn: string | undefined;
  pkProp: EntityProperty | undefined;
  keyIsPrimary: boolean;
  versionColumn: string | undefined;
  versionIsDate: boolean;
}

export class UpsertDestination implements CopyDestination {
  readonly #platform: Platform;
  readonly #options: CopyConflictOptions;
  readonly #entityAt: ((position: number) => AnyEntity | undefined) | undefined;
  readonly #plans = new Map<EntityPlan, ConflictPlan>();
  readonly #extras: UpsertExtras;
  readonly counts: Record<string, UpsertCounts> = {};

  /** `entityAt` gives back input entities, to set the keys of rows that met an existing row. */
  constructor(em: SqlEntityManager, options: CopyConflictOptions, entityAt?: (position: number) => AnyEntity | undefined, extras: UpsertExtras = {}) {
    this.#platform = em.getPlatform();
    this.#options = options;
    this.#entityAt = entityAt;
    this.#extras = extras;
  }

  async open(plan: EntityPlan, columns: string[], run: RunQuery): Promise<{ table: string; columns: string[] }> {
    // only the COPY's columns: a column left out (database default) must not become NULL here
    return createStage(this.#platform, plan.table, columns, run);
  }

  async close(plan: EntityPlan, columns: string[], copied: number, run: RunQuery, stage: string): Promise<number> {
    const conflict = await this.#conflictOf(plan, run);
    // a key column these rows leave out takes its default in every row, so it cannot tell rows apart
    const keys = conflict.keyColumns.filter(c => columns.includes(c));
    const action = this.#options.onConflictAction ?? 'merge';
    const lastWins = this.#options.onConflictDuplicates === 'last-wins';
    const rejectsDuplicates = action === 'merge' && !lastWins && keys.length > 0;
    // A merge refuses a key met twice by itself (21000, "cannot affect row a second time"), so the
    // input is searched for the duplicates only then, not before every merge (a sort of the whole
    // staging table: about a fifth of a 1M-row upsert's server time). A merge that may leave a row
    // untouched (onlyChanged) locks it without changing it, and PostgreSQL lets a second row update
    // it: there the search runs first.
    const lateCheck = rejectsDuplicates && !this.#extras.onlyChanged;
    if (rejectsDuplicates && !lateCheck) await this.#rejectDuplicates(plan, keys, stage, run);

    const list = columns.join(', ');
    const source = lastWins && keys.length
      ? `(select distinct on (${keys.join(', ')}) * from ${stage} order by ${keys.join(', ')}, "_ord" desc) s order by "_ord"`
      : `${stage} order by "_ord"`;
    const update = action === 'ignore' ? 'do nothing' : `do update set ${this.#assignments(plan, columns, conflict).join(', ')}${this.#changedOnly(plan, columns, conflict)}`;
    const merge =
      `with merged as (insert into ${plan.table} (${list}) select ${list} from ${source} ${conflict.target} ${update} returning (xmax = 0) as inserted) ` +
      `select count(*) filter (where inserted)::int as inserted, count(*) filter (where not inserted)::int as updated from merged`;
    const { rows } = lateCheck ? await this.#mergeOrRejectDuplicates(plan, keys, stage, merge, run) : await run(merge);
    const inserted = rows[0].inserted as number;
    const updated = rows[0].updated as number;
    const counts = (this.counts[plan.entityName] ??= { inserted: 0, updated: 0, skipped: 0 });
    counts.inserted += inserted;
    counts.updated += updated;
    counts.skipped += copied - inserted - updated;

    if (this.#entityAt && conflict.pkColumn && !conflict.keyIsPrimary && keys.length) await this.#restoreKeys(plan, keys, conflict, stage, run);
    await this.#extras.afterMerge?.(plan, stage, keys, run);
    await run(`${lateCheck ? `release savepoint ${this.#mergeSavepoint()}; ` : ''}drop table ${stage}`);
    return inserted + updated;
  }

  /** `set col = excluded.col` for the merged columns; the version increments as on UPDATE. */
  #assignments(plan: EntityPlan, columns: string[], conflict: ConflictPlan): string[] {
    const set = this.#mergedColumns(plan, columns, conflict).map(c => `${c} = excluded.${c}`);
    if (conflict.versionColumn) {
      const table = plan.table;
      set.push(`${conflict.versionColumn} = ${conflict.versionIsDate ? 'current_timestamp(3)' : `${table}.${conflict.versionColumn} + 1`}`);
    }
    // nothing to update still has to name a column, or PostgreSQL would not lock and return the row
    if (set.length === 0) set.push(`${conflict.keyColumns[0]} = excluded.${conflict.keyColumns[0]}`);
    return set;
  }

  /** The columns a merge copies from the input: not keys, not the version. */
  #mergedColumns(plan: EntityPlan, columns: string[], conflict: ConflictPlan): string[] {
    const quote = (prop: string) => this.#fieldsOf(plan, prop).map(f => this.#platform.quoteIdentifier(f));
    const only = this.#options.onConflictMergeFields?.flatMap(quote);
    const excluded = new Set([...(this.#options.onConflictExcludeFields?.flatMap(quote) ?? []), ...conflict.keyColumns]);
    if (conflict.pkColumn) excluded.add(conflict.pkColumn);
    if (conflict.versionColumn) excluded.add(conflict.versionColumn);
    for (const column of only ?? []) {
      if (!columns.includes(column)) {
        throw mergeFieldNotSet(plan.entityName, column);
      }
    }
    return (only ?? columns).filter(c => !excluded.has(c));
  }

  /** With `onlyChanged`: the merge's `where`, true when a merged column (not the version) differs. */
  #changedOnly(plan: EntityPlan, columns: string[], conflict: ConflictPlan): string {
    if (!this.#extras.onlyChanged) return '';
    const compared = this.#mergedColumns(plan, columns, conflict);
    if (!compared.length) return ' where false';
    return ` where (${compared.map(c => `${plan.table}.${c}`).join(', ')}) is distinct from (${compared.map(c => `excluded.${c}`).join(', ')})`;
  }

  /**
   * Runs `merge` within a savepoint; when PostgreSQL refuses it for a key met twice, rolls it back
   * and names the duplicate input positions instead.
   */
  async #mergeOrRejectDuplicates(plan: EntityPlan, keys: string[], stage: string, merge: string, run: RunQuery): Promise<WireResult> {
    const savepoint = this.#mergeSavepoint();
    let result: WireResult;
    try {
      // no round trip of its own: the savepoint goes with the merge, its release with the drop of the stage
      result = await run(`savepoint ${savepoint}; ${merge}`);
    } catch (e) {
      if ((e as { code?: unknown }).code !== CARDINALITY_VIOLATION) throw e;
      await run(`rollback to savepoint ${savepoint}`);
      await this.#rejectDuplicates(plan, keys, stage, run);
      throw e;
    }
    return result;
  }

  #mergeSavepoint(): string {
    return this.#platform.quoteIdentifier('mikro_orm_pg_copy_merge');
  }

  async #rejectDuplicates(plan: EntityPlan, keys: string[], stage: string, run: RunQuery): Promise<void> {
    // keys holding a NULL meet no other row under a unique index unless it treats NULLs as equal
    // (NULLS NOT DISTINCT): such groups are named only when no other is found
    const { rows } = await run(
      `select array_agg("_ord" order by "_ord")::text[] as positions from ${stage} group by ${keys.join(', ')} having count(*) > 1 ` +
        `order by (${keys.join(', ')}) is not null desc, min("_ord") limit 1`,
    );
    if (!rows.length) return;
    const positions = (rows[0].positions as string[]).map(Number);
    throw duplicateConflictKey(plan.entityName, positions);
  }

  /**
   * Every entity takes the primary key of the row it ended up in: inserted (the column's default
   * gave it) or met (the existing row's). Keys are not reserved before an upsert on another key,
   * so one staging table holds the whole input and duplicates are found across all of it.
   */
  async #restoreKeys(plan: EntityPlan, keys: string[], conflict: ConflictPlan, stage: string, run: RunQuery): Promise<void> {
    // `=`, not `is not distinct from`: PostgreSQL can hash-join or use the unique index only on
    // `=`, and a NULL key never met an existing row under a unique constraint anyway
    const on = keys.map(c => `t.${c} = s.${c}`).join(' and ');
    const { rows } = await run(`select t.${conflict.pkColumn}::text as pk, s."_ord"::text as ord from ${stage} s join ${plan.table} t on ${on}`);
    for (const row of rows) {
      const entity = this.#entityAt!(Number(row.ord));
      if (entity) setGeneratedKey(this.#platform, conflict.pkProp!, entity, row.pk as string, true);
    }
  }

  async #conflictOf(plan: EntityPlan, run: RunQuery): Promise<ConflictPlan> {
    const known = this.#plans.get(plan);
    if (known) return known;
    const meta = plan.meta.root;
    const quote = (field: string) => this.#platform.quoteIdentifier(field);
    const pkProps = meta.primaryKeys.map(name => meta.properties[name]);
    const pkFields = pkProps.flatMap(p => p.fieldNames);
    const fields = this.#options.onConflictFields;
    let keyColumns: string[];
    let target: string;
    if (fields && !Array.isArray(fields)) {
      const constraint = this.#platform.quoteValue(fields.constraint) as string;
      const { rows } = await run(
        `select a.attname as name from pg_constraint c join pg_attribute a on a.attrelid = c.conrelid and a.attnum = any (c.conkey) ` +
          `where c.conname = ${constraint} and c.conrelid = ${this.#platform.quoteValue(plan.table) as string}::regclass order by array_position(c.conkey, a.attnum)`,
      );
      if (!rows.length) throw unknownConstraint(plan.entityName, fields.constraint, plan.table);
      keyColumns = rows.map(r => quote(r.name as string));
      target = `on conflict on constraint ${quote(fields.constraint)}`;
    } else {
      keyColumns = (fields ?? meta.primaryKeys).flatMap((name: string) => this.#fieldsOf(plan, name)).map(quote);
      const where = this.#options.onConflictIndexWhere ? ` where ${this.#options.onConflictIndexWhere}` : '';
      target = `on conflict (${keyColumns.join(', ')})${where}`;
    }
    const versionProp = meta.versionProperty ? meta.properties[meta.versionProperty] : undefined;
    const conflict: ConflictPlan = {
      keyColumns,
      target,
      pkColumn: pkFields.length === 1 ? quote(pkFields[0]) : undefined,
      pkProp: pkProps.length === 1 ? pkProps[0] : undefined,
      keyIsPrimary: keyColumns.length === pkFields.length && pkFields.every(f => keyColumns.includes(quote(f))),
      versionColumn: versionProp ? quote(versionProp.fieldNames[0]) : undefined,
      versionIsDate: versionProp?.runtimeType === 'Date',
    };
    await rejectWithoutDistributionColumn(this.#platform, plan, keyColumns, run);
    this.#plans.set(plan, conflict);
    return conflict;
  }

  #fieldsOf(plan: EntityPlan, property: string): string[] {
    const prop = propertyNamed(plan.meta.root, property);
    if (!prop) throw unknownConflictProperty(plan.entityName, property);
    return prop.fieldNames;
  }
}

/**
 * Citus enforces a unique index of a distributed table shard by shard, so it accepts one only when
 * it holds the distribution column, and an ON CONFLICT target without it matches no index: the
 * server's error would not say why. On plain PostgreSQL this costs one catalog query per entity.
 */
export async function rejectWithoutDistributionColumn(platform: Platform, plan: EntityPlan, keyColumns: string[], run: RunQuery): Promise<void> {
  const { rows: extension } = await run(`select exists (select 1 from pg_extension where extname = 'citus') as citus`);
  if (!extension[0]?.citus) return;
  // citus_tables (Citus 10+): '<none>' for reference tables and schema-sharded tables
  const { rows } = await run(
    `select distribution_column::text as name from citus_tables where table_name = ${platform.quoteValue(plan.table) as string}::regclass and citus_table_type = 'distributed'`,
  );
  const column = rows[0]?.name as string | undefined;
  if (!column || column === '<none>' || keyColumns.includes(platform.quoteIdentifier(column))) return;
  throw distributionColumn(plan.entityName, plan.table, platform.quoteIdentifier(column), keyColumns);
}
