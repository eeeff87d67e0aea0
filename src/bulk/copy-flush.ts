// em.copyFlush(): what em.flush() does, with its large batches written through COPY. MikroORM's
// own flush computes the change sets, runs hooks and subscribers, orders the tables, checks
// optimistic locks and leaves the unit of work as it always does; only its batch writes are swapped
// (orm/flush-driver.ts) for COPY into a temporary staging table followed by one
// INSERT ... SELECT, UPDATE ... FROM or DELETE ... USING per table and column set. Whatever this
// file does not write itself (small batches, mappings COPY cannot reproduce, pivot rows) goes to
// MikroORM's own SQL, so the result is flush's either way.
import { ReferenceKind, Utils, type Dictionary, type EntityMetadata, type EntityName, type EntityProperty, type Platform } from '@mikro-orm/core';
import type { SqlEntityManager } from '@mikro-orm/postgresql';
import { isRawSql, mikroOrm, withTransactionConnection, type Submittable } from '../orm/index.js';
import { inTransaction } from '../orm/transaction.js';
import { inList, insertReturning, installFlushScope, runInFlushScope, type FlushScope, type NativeResult } from '../orm/flush-driver.js';
import { CopyIn } from '../copy/copy-in.js';
import { runQuery, type WireResult } from '../copy/wire-query.js';
import { csvField } from '../encoding/row-encoder.js';
import { columnTraits, toPgText } from '../encoding/pg-text.js';
import { ValueError, checkedCount } from '../errors.js';
import { versionBump } from '../copy/version-bump.js';
import { ORDINAL_COLUMN, createStage } from '../copy/stage.js';

/**
 * Batches smaller than this go through MikroORM's own statements. Measured with bench/copy-flush.ts
 * (Book, threshold 1, paired runs on a loaded 2-core machine): at 100 and 500 rows the staging
 * table's extra round trips made copyFlush as slow or slower than flush; from 2000 rows on it was
 * faster for updates and deletes.
 */
export const DEFAULT_COPY_THRESHOLD = 1000;

/** Options of {@link copyFlush}. */
export interface CopyFlushOptions {
  /**
   * A table's batch (its new, changed or removed entities of one flush) is written through COPY
   * from this many rows on; smaller ones through flush's own statements. Default 1000.
   */
  threshold?: number;
}

/** What {@link copyFlush} wrote through COPY (the rest went through flush's own statements). */
export interface CopyFlushResult {
  /** Rows inserted, updated and deleted through COPY and a staging table. */
  copied: { inserted: number; updated: number; deleted: number };
}

/**
 * Flushes the unit of work like `em.flush()` — same change sets, order, hooks, subscribers,
 * optimistic locking, transaction events and unit-of-work state afterwards — writing large batches
 * through COPY, in flush's one transaction (or the caller's, within a savepoint).
 *
 * @example
 * ```ts
 * const books = await em.find(Book, {});
 * for (const book of books) book.price = book.price * 1.1;
 * const { copied } = await copyFlush(em);   // or em.copyFlush()
 * console.log(`${copied.updated} rows updated through COPY`);
 * ```
 */
export async function copyFlush(em: SqlEntityManager, options: CopyFlushOptions = {}): Promise<CopyFlushResult> {
  const threshold = checkedCount('copyFlush', 'threshold', options.threshold ?? DEFAULT_COPY_THRESHOLD);
  installFlushScope(em);
  const result: CopyFlushResult = { copied: { inserted: 0, updated: 0, deleted: 0 } };
  const flush = () => runInFlushScope(new CopyWrites(em, threshold, result), () => em.flush());
  // Without a transaction, flush opens its own, with its transaction events, as always. In the
  // caller's, a savepoint lets a failed copyFlush leave that transaction as it was.
  if (em.isInTransaction()) await inTransaction(em, flush);
  else await flush();
  return result;
}

/** One column of a staging table: where its value comes from and how it is written. */
interface StagedColumn {
  /** The target table's column (quoted). */
  field: string;
  /** The staging table's column (quoted). */
  as: string;
  /** The payload key the value is read from. */
  key: string;
  traits: ReturnType<typeof columnTraits>;
}

/** The writes of one copyFlush: each diverted batch through COPY, or back to MikroORM. */
class CopyWrites implements FlushScope {
  plainBatches = false;
  readonly #em: SqlEntityManager;
  readonly #threshold: number;
  readonly #result: CopyFlushResult;

  constructor(em: SqlEntityManager, threshold: number, result: CopyFlushResult) {
    this.#em = em;
    this.#threshold = threshold;
    this.#result = result;
  }

  async insertMany(entityName: unknown, data: Dictionary[], options: Dictionary): Promise<NativeResult | undefined> {
    const meta = this.#rootMeta(entityName);
    if (!meta || data.length < this.#threshold || options.processCollections !== false || !copyable(meta)) return undefined;
    // flush writes a missing value as DEFAULT, which COPY cannot: one INSERT per run of rows with
    // the same columns, in the input's order, so the keys come from the sequence in flush's order
    const runs = runsByKeys(data);
    const platform = this.#em.getPlatform();
    const encoded: { columns: StagedColumn[]; csv: string; returning: EntityProperty[]; rows: number }[] = [];
    for (const run of runs) {
      const columns = this.#columns(meta, run.keys, 'c');
      const csv = columns && encodeRows(platform, run.rows.length, columns, (r, c) => run.rows[r][columns[c].key], true);
      if (!columns || csv === undefined) return undefined;
      encoded.push({ columns, csv, returning: insertReturning(meta, run.rows[0]), rows: run.rows.length });
    }
    const table = this.#em.getDriver().getTableName(meta, options);
    const q = (id: string) => this.#quote(id);
    const out: NativeResult = { affectedRows: 0, rows: [] };
    await this.#onConnection(async (run, copy) => {
      for (const part of encoded) {
        const stage = await createStage(platform, table, part.columns, run, 'first');
        const staging = stage.table;
        const fields = part.columns.map(c => c.field);
        await copy(`copy ${staging} (${stage.columns.join(', ')}) from stdin with (format csv)`, part.csv);
        const returning = part.returning.flatMap(prop => prop.fieldNames.map(q));
        const res = await run(
          `insert into ${table} (${fields.join(', ')}) select ${part.columns.map(c => c.as).join(', ')} from ${staging} order by ${ORDINAL_COLUMN}` +
            (returning.length ? ` returning ${returning.join(', ')}` : ''),
        );
        await run(`drop table ${staging}`);
        out.affectedRows += res.rowCount;
        if (returning.length) for (const row of res.rows) out.rows!.push(row);
        else for (let i = 0; i < part.rows; i++) out.rows!.push({});
      }
    });
    out.row = out.rows![0];
    const pk = meta.primaryKeys[0];
    out.insertId = out.row?.[pk];
    this.#result.copied.inserted += out.affectedRows;
    return out;
  }

  async updateMany(entityName: unknown, where: Dictionary[], data: Dictionary[], options: Dictionary): Promise<NativeResult | undefined> {
    const meta = this.#metaOf(entityName);
    if (!meta || data.length < this.#threshold || options.processCollections !== false || !copyable(meta) || !copyable(meta.root)) return undefined;
    if (!where.every(cond => Utils.isPlainObject(cond))) return undefined;
    const keyNames = Object.keys(where[0]);
    const keys = this.#columns(meta, keyNames, 'k');
    if (!keys || !where.every(cond => sameKeys(cond, keyNames) && keyNames.every(k => isPlainKeyValue(cond[k])))) return undefined;
    // one UPDATE per column set: a row's missing property keeps its value, as flush's `else` does
    const groups = groupByKeys(data);
    const platform = this.#em.getPlatform();
    const encoded: { columns: StagedColumn[]; csv: string }[] = [];
    for (const group of groups) {
      const columns = this.#columns(meta, group.keys, 'v');
      if (!columns) return undefined;
      const rows = group.indexes;
      const csv = encodeRows(platform, rows.length, [...keys, ...columns], (r, c) =>
        c < keys.length ? where[rows[r]][keys[c].key] : data[rows[r]][columns[c - keys.length].key],
      );
      if (csv === undefined) return undefined;
      encoded.push({ columns, csv });
    }
    const table = this.#em.getDriver().getTableName(meta, options);
    const q = (id: string) => this.#quote(id);
    const returned = mikroOrm.updateReturning(this.#em.getDriver(), meta, data, q);
    // flush only maps returned rows onto the entities; the keys alone would change nothing
    const pkFields = new Set(meta.getPrimaryProps().flatMap(prop => prop.fieldNames.map(q)));
    const returning = returned.every(r => pkFields.has(r)) ? [] : returned;
    let bump = '';
    if (mikroOrm.ownsVersionProperty(meta)) {
      const prop = meta.properties[meta.versionProperty as keyof typeof meta.properties] as EntityProperty;
      const field = q(prop.fieldNames[0]);
      bump = `, ${versionBump(platform, prop, field)}`;
    }
    const out: NativeResult = { affectedRows: 0, rows: [] };
    await this.#onConnection(async (run, copy) => {
      for (const part of encoded) {
        const staging = await stageOf(platform, table, [...keys, ...part.columns], part.csv, run, copy);
        const set = part.columns.map(c => `${c.field} = s.${c.as}`).join(', ');
        const match = keys.map(c => `t.${c.field} = s.${c.as}`).join(' and ');
        const res = await run(
          `update ${table} as t set ${set}${bump} from ${staging} as s where ${match}` + (returning.length ? ` returning ${returning.map(r => `t.${r}`).join(', ')}` : ''),
        );
        await run(`drop table ${staging}`);
        out.affectedRows += res.rowCount;
        if (returning.length) for (const row of res.rows) out.rows!.push(row);
      }
    });
    if (!returning.length) delete out.rows;
    out.row = out.rows?.[0];
    this.#result.copied.updated += out.affectedRows;
    return out;
  }

  async delete(entityName: unknown, where: Dictionary, options: Dictionary): Promise<NativeResult | undefined> {
    const meta = this.#rootMeta(entityName);
    const list = inList(where);
    if (!meta || !list || list.values.length < this.#threshold || meta.primaryKeys.length !== 1 || list.key !== meta.primaryKeys[0] || !copyable(meta)) return undefined;
    if (!list.values.every(isPlainKeyValue)) return undefined;
    const keys = this.#columns(meta, [list.key], 'k');
    const platform = this.#em.getPlatform();
    const csv = keys && encodeRows(platform, list.values.length, keys, r => list.values[r]);
    if (!keys || csv === undefined) return undefined;
    const table = this.#em.getDriver().getTableName(meta, options);
    let affectedRows = 0;
    await this.#onConnection(async (run, copy) => {
      const staging = await stageOf(platform, table, keys, csv, run, copy);
      affectedRows = (await run(`delete from ${table} as t using ${staging} as s where t.${keys[0].field} = s.${keys[0].as}`)).rowCount;
      await run(`drop table ${staging}`);
    });
    this.#result.copied.deleted += affectedRows;
    return { affectedRows, rows: [] };
  }

  /** The transaction flush writes in: its own, set on the EntityManager while it runs, or the caller's. */
  get trx(): unknown {
    return this.#em.getTransactionContext();
  }

  /** The driver is called with the entity class on MikroORM 7 and its name on 6. */
  #metaOf(entityName: unknown): EntityMetadata | undefined {
    return this.#em.getMetadata().find(entityName as EntityName<object>) as EntityMetadata | undefined;
  }

  #rootMeta(entityName: unknown): EntityMetadata | undefined {
    const meta = this.#metaOf(entityName);
    return meta && (mikroOrm.isTablePerType(meta) ? undefined : meta.root);
  }

  #quote(id: string): string {
    return this.#em.getPlatform().quoteIdentifier(id);
  }

  /**
   * The staging columns of payload keys `names`, prefixed `prefix0`, `prefix1`, ...; undefined
   * when a property needs more than one column, SQL around its value, or MikroORM's own mapping.
   */
  #columns(meta: EntityMetadata, names: readonly string[], prefix: string): StagedColumn[] | undefined {
    const columns: StagedColumn[] = [];
    for (const [i, name] of names.entries()) {
      const prop = (meta.properties[name as keyof typeof meta.properties] ?? meta.root.properties[name as keyof typeof meta.root.properties]) as EntityProperty | undefined;
      if (!prop || prop.fieldNames?.length !== 1 || prop.stiFieldNames || mikroOrm.isPolymorphic(prop)) return undefined;
      if (prop.kind === ReferenceKind.EMBEDDED && prop.object) return undefined;
      // flush wraps such a value in SQL; JSON's wrapper is a no-op cast on PostgreSQL's json columns
      const wrapper = prop.customType && 'convertToDatabaseValueSQL' in prop.customType ? prop.customType.convertToDatabaseValueSQL?.('?', this.#em.getPlatform()) : '?';
      if (wrapper !== '?') return undefined;
      columns.push({ field: this.#quote(prop.fieldNames[0]), as: this.#quote(`${prefix}${i}`), key: name, traits: columnTraits(prop.columnTypes?.[0]) });
    }
    return columns;
  }

  /** Runs `work` holding the transaction's connection: statements and COPYs of ready CSV text. */
  async #onConnection(work: (run: (sql: string) => Promise<WireResult>, copy: (sql: string, csv: string) => Promise<number>) => Promise<void>): Promise<void> {
    const driver = this.#em.getDriver();
    const logger = this.#em.config.getLogger();
    await withTransactionConnection(this.trx, async (submit: (query: Submittable) => void) => {
      const run = async (sql: string) => {
        const started = performance.now();
        try {
          const res = await runQuery(sql, submit);
          logger.logQuery({ query: sql, took: Math.round(performance.now() - started), affected: res.rowCount, level: 'info' });
          return res;
        } catch (e) {
          throw driver.convertException(e as Error);
        }
      };
      const copy = async (sql: string, csv: string) => {
        const started = performance.now();
        const stream = CopyIn.start(sql, submit);
        try {
          await stream.write(Buffer.from(csv, 'utf8'));
          const rows = await stream.end();
          logger.logQuery({ query: sql, took: Math.round(performance.now() - started), affected: rows, level: 'info' });
          return rows;
        } catch (e) {
          await stream.abort(e as Error);
          throw driver.convertException(e as Error);
        }
      };
      await work(run, copy);
    });
  }
}

/** Tables COPY can write here: not table-per-type, not a virtual entity. */
function copyable(meta: EntityMetadata): boolean {
  return !mikroOrm.isTablePerType(meta) && !meta.virtual && !meta.expression;
}

/** Keys and values as flush's statements would bind them, with `undefined` left out. */
function definedKeys(row: Dictionary): string[] {
  return Object.keys(row).filter(k => row[k] !== undefined);
}

function runsByKeys(data: Dictionary[]): { keys: string[]; rows: Dictionary[] }[] {
  const runs: { keys: string[]; id: string; rows: Dictionary[] }[] = [];
  for (const row of data) {
    const keys = definedKeys(row);
    const id = keys.join('\0');
    const last = runs[runs.length - 1];
    if (last && last.id === id) last.rows.push(row);
    else runs.push({ keys, id, rows: [row] });
  }
  return runs;
}

function groupByKeys(data: Dictionary[]): { keys: string[]; indexes: number[] }[] {
  const groups = new Map<string, { keys: string[]; indexes: number[] }>();
  data.forEach((row, i) => {
    const keys = Object.keys(row);
    const id = keys.join('\0');
    let group = groups.get(id);
    if (!group) groups.set(id, (group = { keys, indexes: [] }));
    group.indexes.push(i);
  });
  return [...groups.values()];
}

function sameKeys(cond: Dictionary, keys: readonly string[]): boolean {
  return Utils.getObjectKeysSize(cond) === keys.length && keys.every(k => k in cond);
}

/** Key values written as text exactly as bound (custom-typed objects are left to MikroORM). */
function isPlainKeyValue(value: unknown): boolean {
  return typeof value === 'string' || typeof value === 'number' || typeof value === 'bigint' || value instanceof Date;
}

/**
 * `count` rows as CSV, `valueAt(row, column)` giving each payload value, each line opened by the
 * row's number when `ordinal`; undefined when a value has no exact text form (raw SQL, NaN, ...):
 * then MikroORM writes the batch and reports what it reports.
 */
/** A staging table of `columns`, filled from `csv` (no input positions: updates and deletes match by key). */
async function stageOf(
  platform: Platform,
  table: string,
  columns: readonly StagedColumn[],
  csv: string,
  run: (sql: string) => Promise<WireResult>,
  copy: (sql: string, csv: string) => Promise<number>,
): Promise<string> {
  const stage = await createStage(platform, table, columns, run);
  await copy(`copy ${stage.table} (${columns.map(c => c.as).join(', ')}) from stdin with (format csv)`, csv);
  return stage.table;
}

function encodeRows(platform: Platform, count: number, columns: readonly StagedColumn[], valueAt: (row: number, column: number) => unknown, ordinal = false): string | undefined {
  const lines: string[] = new Array(count);
  try {
    for (let i = 0; i < count; i++) {
      let line = ordinal ? String(i) : '';
      for (let c = 0; c < columns.length; c++) {
        const value = valueAt(i, c);
        if (isRawSql(value)) return undefined;
        line += (ordinal || c > 0 ? ',' : '') + csvField(toPgText(value === undefined ? null : value, platform, columns[c].traits));
      }
      lines[i] = line;
    }
  } catch (e) {
    if (e instanceof ValueError) return undefined;
    throw e;
  }
  return lines.join('\n') + '\n';
}
