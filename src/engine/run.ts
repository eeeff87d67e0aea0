// The engine of copyPersist, top to bottom: read the input (a whole array, or a stream a chunk at a
// time) → the write order (plan/write-order.ts) → hooks and keys per chunk → each row encoded by its
// class's compiled encoder into segments → COPY on the transaction's connection → afterwards the
// deferred keys, afterCreate hooks, and the unit of work as flush leaves it. Entry points
// (copyPersist, copyParallel, loaders) sit above and call `runCopy`; nothing here calls them.
import type { AnyEntity, EntityClass, EntityProperty } from '@mikro-orm/core';
import type { SqlEntityManager } from '@mikro-orm/postgresql';
import { withTransactionConnection } from '../orm/mikro-orm.js';
import { inTransaction } from '../orm/transaction.js';
import { CopySession } from '../copy/copy-session.js';
import { SegmentBuilder } from '../copy/segment.js';
import type { CsvRowEncoder } from '../encoding/csv-row.js';
import { aborted, notACount, rowCountMismatch, type CopyPersistError } from '../errors.js';
import { KeyAssigner } from './assign-keys.js';
import { UpsertDestination } from './upsert.js';
import { LifecycleHooks } from './lifecycle-hooks.js';
import { setDeferredReferences } from './deferred-references.js';
import { DatabaseFilledValues } from './read-back.js';
import { ItemReader } from './item-reader.js';
import { writesInOneStatement } from './one-statement.js';
import { ScheduledInserts, manage, snapshotCollections } from './unit-of-work.js';
import { readChunks, type CopySource } from '../input/read-chunks.js';
import type { CopyPersistOptions, CopyPersistResult } from '../api/options.js';
import { applyInitializers } from '../plan/insert-payload.js';
import { isRowView } from '../plan/row-view.js';
import { isIsolatedClass, needsNoOrdering, orderForWrite } from '../plan/write-order.js';

const DEFAULT_CHUNK_SIZE = 2000;
// A streamed chunk's entities stay alive while it is encoded and sent; at 2000 they outlive V8's
// young-generation collections and fill the old generation with garbage: 5M Book entities from an
// async generator peaked at 230 MB RSS, at 500 per chunk about 150 MB at the same speed.
const DEFAULT_STREAM_CHUNK_SIZE = 500;

/**
 * Writes `source` (entities, or plain rows of `rowClass`) in one transaction: the caller's or its
 * own. `destination`: an upsert destination built by the caller (a sync's), for upsert options.
 */
export async function runCopy(
  em: SqlEntityManager,
  rowClass: EntityClass<object> | undefined,
  source: CopySource<object>,
  options: CopyPersistOptions,
  destination?: UpsertDestination,
): Promise<CopyPersistResult> {
  const chunkSize = options.chunkSize ?? (Array.isArray(source) ? DEFAULT_CHUNK_SIZE : DEFAULT_STREAM_CHUNK_SIZE);
  if (!Number.isInteger(chunkSize) || chunkSize < 1) throw notACount('copyPersist', 'chunkSize', chunkSize);
  const { signal, onProgress } = options;
  throwIfAborted(signal);

  const cascade = options.cascade === true;
  const hooks = options.hooks === false ? undefined : new LifecycleHooks(em);
  // plain rows may skip em.create (row-view.ts) unless entities are wanted afterwards (manage) or
  // handed to lifecycle hooks; with cascade only rows of keys, which reach nothing to cascade to
  const items = new ItemReader(em, rowClass, options.manage ? undefined : { allowed: meta => !hooks?.has(meta), keysOnly: cascade });
  // entities made with `em.create()` sit in their EntityManager's persist stack: unscheduled after the copy
  const scheduled = new ScheduledInserts(em);
  const written: AnyEntity[] | undefined = options.manage ? [] : undefined;
  const pivotCollections = new Map<AnyEntity, EntityProperty[]>();
  const upsert = options.onConflictAction !== undefined || options.onConflictFields !== undefined;
  // an upsert on another key than the primary key reads the keys back after its merge instead of
  // reserving them; that needs the entities, unless they were made here from plain rows
  const keysAfterMerge = upsert && !conflictsOnPrimaryKey(em, rowClass, options);
  const kept = keysAfterMerge && options.assignKeys !== false && !rowClass ? new Map<number, AnyEntity>() : undefined;
  const upsertDestination = upsert ? destination ?? new UpsertDestination(em, options, kept && (p => kept.get(p))) : undefined;
  // what the database filled in goes back onto entities the caller holds (not ones made from plain rows)
  const filled = options.readBack !== false && !upsert && (!rowClass || options.manage) ? new DatabaseFilledValues(em) : undefined;
  // a call that is one statement needs no transaction of its own, and sends its rows at once
  const oneStatement = writesInOneStatement(em, { rowMeta: items.rowMeta, source, options, chunkSize, upsert, hooks, readBack: !!filled });
  const result = await inTransaction(em, trx =>
    withTransactionConnection(trx, async submit => {
      const session = new CopySession(em, submit, upsertDestination, undefined, oneStatement);
      const keys = options.assignKeys === false || keysAfterMerge ? undefined : new KeyAssigner(em, session, oneStatement);
      const onAbort = () => void session.abort(abortError(signal));
      signal?.addEventListener('abort', onAbort, { once: true });
      try {
        const builder = new SegmentBuilder();
        const deferred = new Map<AnyEntity, EntityProperty[]>();
        const sent: Record<string, number> = {};
        let total = 0;
        let encoded = 0;
        for await (const batch of batchesOf(em, source, rowClass, items, chunkSize, cascade)) {
          throwIfAborted(signal);
          const order = batch.ordered ? orderForWrite(em, batch.entities, cascade) : undefined;
          const entities = order?.entities ?? batch.entities;
          const positionOf = (entity: AnyEntity, i: number) => {
            // pivot rows made from plain rows' keys follow the input items and have their row's position
            if (!order) return i < batch.inputs ? batch.first + i : batch.positions!.get(entity)!;
            return batch.positions!.get(entity) ?? batch.positions!.get(order.reachedFrom.get(entity)!) ?? batch.first;
          };
          for (const [entity, props] of order?.deferred ?? []) deferred.set(entity, props);
          for (const [owner, props] of order?.pivotCollections ?? []) pivotCollections.set(owner, props);
          builder.follow(order?.sameTable);
          for (let start = 0; start < entities.length; start += chunkSize) {
            throwIfAborted(signal);
            const entries = entities.slice(start, start + chunkSize).map((entity, i) => {
              const encoder = items.encoderOf(entity, positionOf(entity, start + i));
              return { entity, encoder, plan: encoder.plan };
            });
            if (hooks) await runBeforeCreate(em, hooks, entries);
            await keys?.assign(entries, Array.isArray(source) && !order ? source.length - batch.first - start : undefined);
            for (let i = 0; i < entries.length; i++) {
              const { entity, encoder } = entries[i];
              const position = positionOf(entity, start + i);
              builder.row = entity;
              // the staging table of an upsert has one more column: the row's input position
              encoder.writeEntity(entity, position, deferred.get(entity), builder, upsert ? position : undefined);
              written?.push(entity);
              filled?.note(entity, encoder.plan);
              scheduled.note(entity);
              kept?.set(position, entity);
            }
            encoded += entries.length;
            for (const segment of builder.take()) {
              await session.send(segment);
              throwIfAborted(signal);
              const name = segment.encoder.plan.entityName;
              sent[name] = (sent[name] ?? 0) + segment.rows;
              total += segment.rows;
              onProgress?.({ entity: name, entityRows: sent[name], rows: total });
            }
          }
        }
        await session.finish();
        // flush's order: the INSERT's RETURNING, afterCreate, then the UPDATEs that close cycles
        await filled?.readBack(session);
        await hooks?.afterCreate();
        if (deferred.size) await setDeferredReferences(em, session, deferred, entity => items.encoderOf(entity, 0).plan, hooks);
        throwIfAborted(signal);
        const byEntity = session.byEntity;
        const result: CopyPersistResult = { rows: Object.values(byEntity).reduce((sum, n) => sum + n, 0), byEntity };
        if (!upsertDestination && result.rows !== encoded) {
          // never report success for rows that did not arrive
          throw rowCountMismatch(encoded, result.rows);
        }
        if (upsertDestination) {
          result.upserted = { inserted: 0, updated: 0, skipped: 0 };
          for (const counts of Object.values(upsertDestination.counts)) {
            result.upserted.inserted += counts.inserted;
            result.upserted.updated += counts.updated;
            result.upserted.skipped += counts.skipped;
          }
        }
        return result;
      } catch (e) {
        await session.abort(e instanceof Error ? e : new Error(String(e)));
        throw signal?.aborted ? abortError(signal) : e;
      } finally {
        signal?.removeEventListener('abort', onAbort);
      }
    }),
  oneStatement);
  scheduled.settle(em);
  if (written) manage(em, written);
  snapshotCollections(pivotCollections, options.manage === true);
  return result;
}

/** A run of input to order and write together: a whole array, or a chunk of a stream. */
interface Batch {
  entities: AnyEntity[];
  /** Input position of the first entity. */
  first: number;
  /** Whether rows of this batch may depend on each other (else they are written as given). */
  ordered: boolean;
  /** How many of `entities` are the input items (the rest: pivot rows made from their keys). */
  inputs: number;
  /** Input positions of the entities, when ordered; else of the rows after the input items. */
  positions?: Map<AnyEntity, number>;
}

/**
 * Arrays are in memory, so their rows are ordered across the whole input, in any order flush
 * accepts; a stream is ordered a chunk at a time, so a row must not come in a later chunk than the
 * rows it references. Inputs whose rows cannot depend on each other (one class without
 * self-references or collections, no cascade) are streamed a chunk at a time either way.
 */
async function* batchesOf(
  em: SqlEntityManager,
  source: CopySource<object>,
  rowClass: EntityClass<object> | undefined,
  reader: ItemReader,
  chunkSize: number,
  cascade: boolean,
): AsyncGenerator<Batch> {
  // rows that cannot depend on each other are written as they come, without ordering
  const isolated = (items: readonly object[]) => !cascade && (rowClass ? isIsolatedClass(reader.rowMeta!) : needsNoOrdering(em, items as AnyEntity[]));
  if (Array.isArray(source) && !isolated(source)) {
    yield readBatch(reader, source, 0, true, cascade);
    return;
  }
  let first = 0;
  for await (const chunk of readChunks(source, chunkSize)) {
    yield readBatch(reader, chunk, first, !isolated(chunk), cascade);
    first += chunk.length;
  }
}

/**
 * The entities (or row views) of `items`, then the pivot rows of the views' many-to-many keys.
 * Views reference no row of the call but their own (their keys reference rows written before), so
 * a batch of views alone needs no ordering: its pivot rows come after the rows they link.
 */
function readBatch(reader: ItemReader, items: readonly object[], first: number, ordered: boolean, cascade: boolean): Batch {
  const before = reader.entityCount;
  let entities = items.map((item, i) => reader.toEntity(item, first + i));
  let links = reader.takeLinks();
  if (reader.rowMeta && reader.entityCount === before) ordered = false;
  else if (cascade && entities.some(isRowView)) {
    // cascade walks entities: beside an entity, every row becomes one
    entities = items.map((item, i) => reader.toEntity(item, first + i, false));
    links = reader.takeLinks();
  }
  const linked = links.rows.length > 0;
  const all = linked ? [...entities, ...links.rows] : entities;
  const positions = ordered ? positionsOf(entities, first, linked ? links.positions : undefined) : linked ? links.positions : undefined;
  return { entities: all, inputs: entities.length, first, ordered, positions };
}

function positionsOf(entities: readonly AnyEntity[], first: number, positions = new Map<AnyEntity, number>()): Map<AnyEntity, number> {
  entities.forEach((entity, i) => {
    if (!positions.has(entity)) positions.set(entity, first + i);
  });
  return positions;
}

/** Initializers, then `beforeCreate`, for the entities whose class has listeners (flush's order). */
async function runBeforeCreate(em: SqlEntityManager, hooks: LifecycleHooks, entries: readonly { entity: AnyEntity; encoder: CsvRowEncoder }[]): Promise<void> {
  for (const { entity, encoder } of entries) {
    if (!hooks.has(encoder.plan.meta)) continue;
    applyInitializers(em, encoder.plan, entity);
    await hooks.beforeCreate(entity, encoder.plan.meta);
  }
}

/** Is the upsert's conflict target the primary key (the default), so reserved keys cannot meet existing rows? */
function conflictsOnPrimaryKey(em: SqlEntityManager, rowClass: EntityClass<object> | undefined, options: CopyPersistOptions): boolean {
  const fields = options.onConflictFields;
  if (fields === undefined) return true;
  if (!Array.isArray(fields) || !rowClass) return false;
  const pks: string[] = em.getMetadata().find(rowClass)?.root.primaryKeys ?? [];
  return fields.length === pks.length && fields.every(f => pks.includes(f));
}

function throwIfAborted(signal: AbortSignal | undefined): void {
  if (signal?.aborted) throw abortError(signal);
}

function abortError(signal: AbortSignal | undefined): CopyPersistError {
  return aborted(signal?.reason);
}
