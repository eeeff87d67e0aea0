// copyFlush lets MikroORM's own flush compute, order and post-process everything, and swaps only
// its batch writes. Flush reaches the database through three driver methods (nativeInsertMany,
// nativeUpdateMany, nativeDelete) and reads `batchSize` from the configuration; both are shared
// by every EntityManager of the ORM. So the swap is scoped by an AsyncLocalStorage: only calls made
// inside a copyFlush, on the transaction its flush writes in, are diverted; everything else reaches
// MikroORM untouched. What differs between MikroORM 6 and 7 in those methods is asked of index.ts.
import { AsyncLocalStorage } from 'node:async_hooks';
import { Utils, type Dictionary, type EntityMetadata, type EntityProperty } from '@mikro-orm/core';
import type { SqlEntityManager } from '@mikro-orm/postgresql';
import { mikroOrm } from './index.js';

/** The result object the SQL drivers' native methods return (both majors). */
export interface NativeResult {
  affectedRows: number;
  insertId?: unknown;
  row?: Dictionary;
  rows?: Dictionary[];
}

/** The driver methods flush writes through, as copyFlush calls them. */
export interface FlushWrites {
  nativeInsertMany(entityName: unknown, data: Dictionary[], options?: Dictionary, transform?: unknown): Promise<NativeResult>;
  nativeUpdateMany(entityName: unknown, where: Dictionary[], data: Dictionary[], options?: Dictionary, transform?: unknown): Promise<NativeResult>;
  nativeDelete(entityName: unknown, where: Dictionary, options?: Dictionary): Promise<NativeResult>;
  find(entityName: unknown, where: Dictionary, options?: Dictionary): Promise<Dictionary[]>;
  syncCollections(collections: unknown, options?: Dictionary): Promise<void>;
}

/** What a diverted call gets to decide how to write. */
export interface FlushScope {
  /** The transaction of the flush: calls on any other context (or none) go to MikroORM. */
  readonly trx: unknown;
  /** While true (pivot writes, fallbacks), `batchSize` is the configured one. */
  plainBatches: boolean;
  /** Writes a batch through COPY; returns undefined to let MikroORM write it. */
  insertMany(entityName: unknown, data: Dictionary[], options: Dictionary): Promise<NativeResult | undefined>;
  updateMany(entityName: unknown, where: Dictionary[], data: Dictionary[], options: Dictionary): Promise<NativeResult | undefined>;
  delete(entityName: unknown, where: Dictionary, options: Dictionary): Promise<NativeResult | undefined>;
}

const scopes = new AsyncLocalStorage<FlushScope>();
const patched = new WeakSet<object>();

/**
 * Inside a copyFlush, flush must hand each entity class's change sets over in one call, not in
 * `batchSize` slices: one COPY per table and column set is the point. The calls that still go to
 * MikroORM's own SQL are cut back into `batchSize` slices by `inSlices`.
 */
const UNSLICED = Number.MAX_SAFE_INTEGER;

/** Runs `work` (a flush) with the scope's diverted writes. */
export function runInFlushScope<T>(scope: FlushScope, work: () => Promise<T>): Promise<T> {
  return scopes.run(scope, work);
}

/** The part of MikroORM's `Configuration` copyFlush adjusts. */
export interface ConfigLike {
  get(key: string, defaultValue?: unknown): unknown;
}

/** The configured batch size, whatever a copyFlush in progress makes flush see. */
export function configuredBatchSize(config: ConfigLike): number {
  return (originalGet.get(config) ?? config.get).call(config, 'batchSize') as number;
}

const originalGet = new WeakMap<ConfigLike, ConfigLike['get']>();

/** Installs the scoped swap on the EntityManager's driver and configuration, once per instance. */
export function installFlushScope(em: SqlEntityManager): void {
  // typed structurally, on both majors: the patch replaces methods that MikroORM declares generic
  // over the entity (and `get` over the option's key), which it neither needs nor could keep
  const driver = em.getDriver() as unknown as FlushWrites;
  const config = em.config as unknown as ConfigLike;
  if (!patched.has(config)) {
    patched.add(config);
    const get = config.get;
    originalGet.set(config, get);
    config.get = function (this: ConfigLike, key: string, defaultValue?: unknown) {
      if (key === 'batchSize') {
        const scope = scopes.getStore();
        if (scope && !scope.plainBatches) return UNSLICED;
      }
      return get.call(this, key, defaultValue);
    };
  }
  if (patched.has(driver)) return;
  patched.add(driver);
  const original = {
    nativeInsertMany: driver.nativeInsertMany,
    nativeUpdateMany: driver.nativeUpdateMany,
    nativeDelete: driver.nativeDelete,
    find: driver.find,
    syncCollections: driver.syncCollections,
  };
  const ours = (options: Dictionary | undefined): FlushScope | undefined => {
    const scope = scopes.getStore();
    return scope && !scope.plainBatches && options?.ctx != null && options.ctx === scope.trx ? scope : undefined;
  };
  const size = () => configuredBatchSize(config);
  driver.nativeInsertMany = async function (this: FlushWrites, entityName, data, options = {}, transform) {
    const scope = ours(options);
    if (!scope || transform) return original.nativeInsertMany.call(this, entityName, data, options, transform);
    return (
      (await scope.insertMany(entityName, data, options)) ??
      plain(scope, () => inSlices(data.length, size(), (from, to) => original.nativeInsertMany.call(this, entityName, data.slice(from, to), { ...options })))
    );
  };
  driver.nativeUpdateMany = async function (this: FlushWrites, entityName, where, data, options = {}, transform) {
    const scope = ours(options);
    if (!scope || transform || options.upsert) return original.nativeUpdateMany.call(this, entityName, where, data, options, transform);
    return (
      (await scope.updateMany(entityName, where, data, options)) ??
      plain(scope, () => inSlices(data.length, size(), (from, to) => original.nativeUpdateMany.call(this, entityName, where.slice(from, to), data.slice(from, to), { ...options })))
    );
  };
  driver.nativeDelete = async function (this: FlushWrites, entityName, where, options = {}) {
    const scope = ours(options);
    if (!scope) return original.nativeDelete.call(this, entityName, where, options);
    const done = await scope.delete(entityName, where, options);
    if (done) return done;
    const list = inList(where);
    if (!list) return plain(scope, () => original.nativeDelete.call(this, entityName, where, options));
    return plain(scope, () => inSlices(list.values.length, size(), (from, to) => original.nativeDelete.call(this, entityName, { [list.key]: { $in: list.values.slice(from, to) } }, options)));
  };
  // flush's optimistic-lock check reads all versions of a batch with one `$or`, and a batch is a
  // whole class here: read it in slices, or PostgreSQL's parameter limit is hit
  driver.find = async function (this: FlushWrites, entityName, where, options = {}) {
    const scope = ours(options);
    const or = scope && Array.isArray(where?.$or) && Utils.getObjectKeysSize(where) === 1 ? (where.$or as Dictionary[]) : undefined;
    if (!or || or.length <= size()) return original.find.call(this, entityName, where, options);
    const rows: Dictionary[] = [];
    for (let i = 0; i < or.length; i += size()) for (const row of await original.find.call(this, entityName, { $or: or.slice(i, i + size()) }, options)) rows.push(row);
    return rows;
  };
  // pivot rows: MikroORM's own persister, in its own batch size
  driver.syncCollections = async function (this: FlushWrites, collections, options) {
    const scope = ours(options);
    if (!scope) return original.syncCollections.call(this, collections, options);
    return plain(scope, () => original.syncCollections.call(this, collections, options));
  };
}

async function plain<T>(scope: FlushScope, work: () => Promise<T>): Promise<T> {
  scope.plainBatches = true;
  try {
    return await work();
  } finally {
    scope.plainBatches = false;
  }
}

/** Runs a batch through MikroORM's own method in `size` slices and merges the results. */
async function inSlices(length: number, size: number, write: (from: number, to: number) => Promise<NativeResult>): Promise<NativeResult> {
  if (length <= size) return write(0, length);
  const merged: NativeResult = { affectedRows: 0, rows: [] };
  for (let from = 0; from < length; from += size) {
    const res = await write(from, Math.min(length, from + size));
    merged.affectedRows += res.affectedRows ?? 0;
    for (const row of res.rows ?? []) merged.rows!.push(row);
    merged.insertId ??= res.insertId;
    merged.row ??= res.row;
  }
  return merged;
}

/** `{ key: { $in: values } }`, the shape of flush's deletes. */
export function inList(where: Dictionary): { key: string; values: unknown[] } | undefined {
  if (!Utils.isPlainObject(where) || Utils.getObjectKeysSize(where) !== 1) return undefined;
  const key = Object.keys(where)[0];
  const cond = where[key] as Dictionary | undefined;
  if (!Utils.isPlainObject(cond) || Utils.getObjectKeysSize(cond) !== 1 || !Array.isArray(cond.$in)) return undefined;
  return { key, values: cond.$in as unknown[] };
}

/** The columns flush's batch INSERT returns: database-filled ones the payload leaves out. */
export function insertReturning(meta: EntityMetadata, first: Dictionary): EntityProperty[] {
  return meta.props.filter(
    prop =>
      mikroOrm.returnedOnInsert(prop) ||
      (((prop.persist !== false && prop.defaultRaw) || prop.autoincrement || prop.generated) && !(prop.name in first)),
  );
}
