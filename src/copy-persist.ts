// copyPersist, top to bottom: read the input a chunk at a time → for each item, the payload flush
// would insert → a CSV line per row, grouped by table and columns → COPY on the transaction's
// connection → MikroORM's exceptions, naming the failing input position.
import { Utils, helper, type AnyEntity, type EntityClass, type EntityMetadata } from '@mikro-orm/core';
import type { SqlEntityManager } from '@mikro-orm/postgresql';
import { withTransactionConnection } from './adapters/mikro-orm.js';
import { inTransaction } from './adapters/transaction.js';
import { CopySession } from './copy/copy-session.js';
import { SegmentBuilder } from './copy/segment.js';
import { CsvRowEncoder } from './encoding/csv-row.js';
import { CopyPersistError } from './errors.js';
import { KeyAssigner } from './features/assign-keys.js';
import { copyParallelIfAsked } from './features/parallel.js';
import { UpsertDestination } from './features/upsert.js';
import { orderGraph, type GraphOrder } from './features/cascade.js';
import { setDeferredReferences } from './features/deferred-references.js';
import { readChunks, type CopySource } from './input/read-chunks.js';
import type { CopyPersistOptions, CopyPersistResult } from './options.js';
import { planFor, type EntityPlan } from './plan/entity-plan.js';
import { rowViewFactory } from './plan/row-view.js';

const DEFAULT_CHUNK_SIZE = 2000;

/**
 * Writes entities with `COPY ... FROM STDIN`: the same rows `em.persist()` + `em.flush()` would
 * insert, without the unit of work. Use it with any PostgreSQL EntityManager; with
 * `CopyEntityManager` the same is `em.copyPersist(...)`.
 *
 * @example
 * ```ts
 * import { copyPersist } from 'mikro-orm-pg-copy';
 *
 * const books = titles.map(title => em.create(Book, { title, author }));
 * const { rows } = await copyPersist(em, books);
 *
 * // plain objects keyed by property name, from any (async) iterable
 * await copyPersist(em, Book, readRows('books.ndjson'));
 * ```
 */
export function copyPersist(em: SqlEntityManager, entities: CopySource<object>, options?: CopyPersistOptions): Promise<CopyPersistResult>;
export function copyPersist<T extends object>(em: SqlEntityManager, entityClass: EntityClass<T>, rows: CopySource<Partial<T> | Record<string, unknown>>, options?: CopyPersistOptions): Promise<CopyPersistResult>;
export function copyPersist(
  em: SqlEntityManager,
  a: CopySource<object> | EntityClass<object>,
  b?: CopySource<object> | CopyPersistOptions,
  c?: CopyPersistOptions,
): Promise<CopyPersistResult> {
  // `parallel`: batches on several connections, each batch a call of this function (features/parallel)
  const parallel = copyParallelIfAsked(em, a, b, c);
  if (parallel) return parallel;
  if (typeof a === 'function') return run(em, a as EntityClass<object>, b as CopySource<object>, c ?? {});
  return run(em, undefined, a, (b as CopyPersistOptions | undefined) ?? {});
}

async function run(em: SqlEntityManager, rowClass: EntityClass<object> | undefined, source: CopySource<object>, options: CopyPersistOptions): Promise<CopyPersistResult> {
  const chunkSize = options.chunkSize ?? DEFAULT_CHUNK_SIZE;
  if (!Number.isInteger(chunkSize) || chunkSize < 1) throw new TypeError(`copyPersist: chunkSize must be a positive integer, got ${chunkSize}`);
  const { signal, onProgress } = options;
  throwIfAborted(signal);

  // plain rows may skip em.create unless entities are wanted afterwards (manage) or walked (cascade)
  let items = new ItemReader(em, rowClass, !options.manage && !options.cascade);
  let graph: GraphOrder | undefined;
  if (options.cascade) {
    // the whole graph must be known to order it, so the input is read up front
    const roots: AnyEntity[] = [];
    for await (const chunk of readChunks(source, chunkSize)) {
      for (const item of chunk) roots.push(items.read(item, roots.length).entity);
    }
    graph = orderGraph(em, roots);
    // a table at a time over the whole graph: one COPY per table instead of one per table and chunk
    // (the sort is stable, so rows of one table keep the walk's order: parents before children)
    const tableOrder = graph.tableOrder;
    source = [...graph.entities].sort((a, b) => tableOrder.get(helper(a).__meta.root)! - tableOrder.get(helper(b).__meta.root)!);
    items = new ItemReader(em, undefined);
  }
  const managed: AnyEntity[] = [];
  const upsert = options.onConflictAction !== undefined || options.onConflictFields !== undefined;
  // an upsert on another key than the primary key reads the keys back after its merge instead of
  // reserving them; that needs the entities, unless they were made here from plain rows
  const keysAfterMerge = upsert && !conflictsOnPrimaryKey(em, rowClass, options);
  const kept = keysAfterMerge && options.assignKeys !== false && !rowClass ? new Map<number, AnyEntity>() : undefined;
  const upsertDestination = upsert ? new UpsertDestination(em, options, kept && (p => kept.get(p))) : undefined;
  const result = await inTransaction(em, trx =>
    withTransactionConnection(trx, async submit => {
      const session = new CopySession(em, submit, upsertDestination);
      const keys = options.assignKeys === false || keysAfterMerge ? undefined : new KeyAssigner(em, session);
      const onAbort = () => void session.abort(abortError(signal));
      signal?.addEventListener('abort', onAbort, { once: true });
      try {
        const builder = new SegmentBuilder();
        const sent: Record<string, number> = {};
        let total = 0;
        let position = 0;
        for await (const chunk of readChunks(source, chunkSize)) {
          throwIfAborted(signal);
          const entries = chunk.map((item, i) => items.read(item, position + i));
          await keys?.assign(entries, Array.isArray(source) ? source.length - position : undefined);
          for (const { encoder, entity } of entries) {
            // the staging table of an upsert has one more column: the row's input position
            encoder.writeEntity(entity, position, graph?.deferred.get(entity), builder, upsert ? position : undefined);
            if (options.manage) managed.push(entity);
            kept?.set(position, entity);
            position++;
          }
          for (const segment of builder.take(graph && (plan => graph!.tableOrder.get(plan.meta.root) ?? 0))) {
            await session.send(segment);
            throwIfAborted(signal);
            const name = segment.encoder.plan.entityName;
            sent[name] = (sent[name] ?? 0) + segment.rows;
            total += segment.rows;
            onProgress?.({ entity: name, entityRows: sent[name], rows: total });
          }
        }
        await session.finish();
        if (graph?.deferred.size) await setDeferredReferences(em, session, graph.deferred, meta => items.planOf(meta));
        throwIfAborted(signal);
        const byEntity = session.byEntity;
        const result: CopyPersistResult = { rows: Object.values(byEntity).reduce((sum, n) => sum + n, 0), byEntity };
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
  );
  if (options.manage) manage(em, managed);
  return result;
}

/** Is the upsert's conflict target the primary key (the default), so reserved keys cannot meet existing rows? */
function conflictsOnPrimaryKey(em: SqlEntityManager, rowClass: EntityClass<object> | undefined, options: CopyPersistOptions): boolean {
  const fields = options.onConflictFields;
  if (fields === undefined) return true;
  if (!Array.isArray(fields) || !rowClass) return false;
  const pks: string[] = em.getMetadata().find(rowClass)?.root.primaryKeys ?? [];
  return fields.length === pks.length && fields.every(f => pks.includes(f));
}

/** Puts the copied entities into the identity map as if loaded, so later changes become UPDATEs. */
function manage(em: SqlEntityManager, entities: AnyEntity[]): void {
  const uow = em.getUnitOfWork();
  const comparator = em.getComparator();
  for (const entity of entities) {
    uow.register(entity, comparator.prepareEntity(entity), { refresh: true, loaded: true });
  }
}

/** Turns input items into entity instances of registered classes, with their row encoders. */
class ItemReader {
  readonly #em: SqlEntityManager;
  readonly #rowMeta: EntityMetadata | undefined;
  readonly #plans = new Map<EntityMetadata, EntityPlan>();
  readonly #encoders = new Map<EntityPlan, CsvRowEncoder>();
  /** Makes views of plain rows (false: never; undefined: not asked yet). */
  #views: ReturnType<typeof rowViewFactory> | false;

  constructor(em: SqlEntityManager, rowClass: EntityClass<object> | undefined, views = false) {
    this.#em = em;
    this.#rowMeta = rowClass ? this.#metaOf(rowClass, 0, rowClass.name) : undefined;
    this.#views = views ? undefined : false;
  }

  read(item: unknown, position: number): { encoder: CsvRowEncoder; plan: EntityPlan; entity: AnyEntity } {
    if (item == null || typeof item !== 'object') {
      throw new CopyPersistError('UNREGISTERED_ENTITY', `expected an entity or a row object, got ${item === null ? 'null' : typeof item}`, { position });
    }
    const entity = this.#rowMeta ? this.#fromRow(this.#rowMeta, item as Record<string, unknown>, position) : item as AnyEntity;
    const meta = this.#rowMeta && entity.constructor === this.#rowMeta.class ? this.#rowMeta : this.#metaOf(entity.constructor, position);
    const encoder = this.#encoderOf(meta);
    return { encoder, plan: encoder.plan, entity };
  }

  #metaOf(cls: unknown, position: number, label?: string): EntityMetadata {
    const name = typeof cls === 'function' ? cls.name : String(cls);
    const meta = typeof cls === 'function' && cls !== Object ? this.#em.getMetadata().find(cls as EntityClass<object>) : undefined;
    if (!meta || meta.embeddable) {
      const hint = cls === Object ? ': a plain object; pass the entity class first to copy plain rows (copyPersist(Book, rows))' : ' registered with this ORM';
      throw new CopyPersistError('UNREGISTERED_ENTITY', `not an entity${hint}`, { entity: label ?? name, position });
    }
    return meta;
  }

  planOf(meta: EntityMetadata): EntityPlan {
    return this.#encoderOf(meta).plan;
  }

  #encoderOf(meta: EntityMetadata): CsvRowEncoder {
    const plan = planFor(this.#em, meta, this.#plans);
    let encoder = this.#encoders.get(plan);
    if (!encoder) this.#encoders.set(plan, (encoder = new CsvRowEncoder(this.#em, plan)));
    return encoder;
  }

  /** A plain row keyed by property names → a new, unmanaged entity, as `em.create` builds it. */
  #fromRow(meta: EntityMetadata, row: Record<string, unknown>, position: number): AnyEntity {
    if (Utils.isEntity(row as object)) return row as AnyEntity;
    for (const key in row) {
      if (!(key in meta.properties)) {
        throw new CopyPersistError('UNKNOWN_PROPERTY', 'the row has a key that is not a property of the entity', { entity: meta.className, property: key, position });
      }
    }
    if (this.#views === undefined) this.#views = rowViewFactory(this.#em, this.planOf(meta)) ?? false;
    return (this.#views && this.#views(row)) || (this.#em.create(meta.class, row as never, { persist: false }) as AnyEntity);
  }
}

function throwIfAborted(signal: AbortSignal | undefined): void {
  if (signal?.aborted) throw abortError(signal);
}

function abortError(signal: AbortSignal | undefined): CopyPersistError {
  return new CopyPersistError('ABORTED', 'copyPersist was aborted; nothing was written', {}, { cause: signal?.reason });
}
