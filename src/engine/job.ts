// A copy's options, read once into what the loop (engine/run.ts) needs: the input's batches and
// chunks, the destination (the entity's table, or an upsert's staging table), key reservation,
// lifecycle hooks, read-back, progress, cancellation, the transaction, and what the unit of work
// holds afterwards. The loop never tests an option; a new option is a change here.
import type { AnyEntity, EntityClass, EntityProperty } from '@mikro-orm/core';
import type { SqlEntityManager } from '@mikro-orm/postgresql';
import { withTransactionConnection } from '../orm/index.js';
import { inTransaction, newSavepoint } from '../orm/transaction.js';
import { CopySession, type AtOnce, type InsertForm } from '../copy/copy-session.js';
import { CopyFormats } from '../copy/copy-format.js';
import type { Segment, SegmentBuilder } from '../copy/segment.js';
import { aborted, checkedCount, rowCountMismatch } from '../errors.js';
import type { CopyPersistOptions, CopyPersistResult, CopyProgress } from '../api/options.js';
import type { CopySource } from '../input/read-chunks.js';
import { applyInitializers } from '../plan/insert-payload.js';
import { orderForWrite, type WriteOrder } from '../plan/write-order.js';
import { KeyAssigner, generatedKeyOf, setGeneratedKey } from './assign-keys.js';
import { batchesOf, chunksOf, type Batch, type Chunk } from './batches.js';
import { setDeferredReferences } from './deferred-references.js';
import { ItemReader } from './item-reader.js';
import { LifecycleHooks } from './lifecycle-hooks.js';
import { DatabaseFilledValues } from './read-back.js';
import { oneStatementForm } from './one-statement.js';
import { ScheduledInserts, manage, snapshotCollections } from './unit-of-work.js';
import { UpsertDestination } from './upsert.js';

/** What lives as long as the call's connection: the COPY session and the key reservation on it. */
export interface Connected {
  session: CopySession;
  keys: KeyAssigner | undefined;
}

const DEFAULT_CHUNK_SIZE = 2000;
// A streamed chunk's entities stay alive while it is encoded and sent; at 2000 they outlive V8's
// young-generation collections and fill the old generation with garbage: 5M Book entities from an
// async generator peaked at 230 MB RSS, at 500 per chunk about 150 MB at the same speed.
const DEFAULT_STREAM_CHUNK_SIZE = 500;
// A stream at the default size starts with chunks this small, each twice the one before up to
// DEFAULT_STREAM_CHUNK_SIZE. Starting at 500, 5M Book entities from an async generator ran in one
// of two states, settled in the first second: ~50 bytes a row reaching the old generation (peak
// RSS 151–166 MB), or 280–1,230 (201–220 MB; every run of the bench's child). Most likely V8's
// allocation-site pretenuring (with it turned off, two runs of two stayed low): it decides early,
// while its young generation is still small, which sites make long-lived objects, and a first
// chunk of 500 entities outlives those first young collections. Starting at 8, the bench's child
// in turns with the code before: 183, 154, 156 MB against 213, 209, 216 MB (starting at 128: one
// run of three high). The price is paid by short streams, cut into more chunks that each reserve
// keys: 100 rows from a generator 3.5–5.0 → 4.9–6.4 ms (see the README's stream section).
const FIRST_STREAM_CHUNK_SIZE = 8;

/**
 * One call of the engine, built before anything is read or written. Options are validated here,
 * not in api/options.ts: that file holds the public declarations only (the engine imports its
 * types, never code from the layer above), and a default such as the chunk size depends on the
 * input, which only the job sees.
 */
export class CopyJob {
  readonly #em: SqlEntityManager;
  readonly #source: CopySource<object>;
  readonly chunkSize: number;
  /** A stream's first chunk (the later ones doubling up to `chunkSize`): small unless `chunkSize` was given. */
  readonly #firstChunkSize: number;
  readonly abort: Cancellation;
  readonly progress: Progress;
  readonly #cascade: boolean;
  readonly #hooks: LifecycleHooks | undefined;
  readonly #items: ItemReader;
  readonly #upsert: UpsertDestination | undefined;
  readonly #reserveKeys: boolean;
  /** The whole write is one query with nothing after it (one-statement.ts): as INSERTs or as COPYs. */
  readonly #oneStatement: AtOnce;
  /** Entities by input position, whose keys the INSERTs return. */
  readonly #awaitingKeys: Map<number, AnyEntity> | undefined;
  /** Which tables go as binary COPY: decided per encoder at its first chunk. */
  readonly #formats: CopyFormats;
  /** Input entities by position, for an upsert that learns their keys after its merge. */
  readonly #kept: Map<number, AnyEntity> | undefined;
  readonly #filled: DatabaseFilledValues | undefined;
  readonly #scheduled: ScheduledInserts;
  readonly #managed: AnyEntity[] | undefined;
  readonly #deferred = new Map<AnyEntity, EntityProperty[]>();
  readonly #pivotCollections = new Map<AnyEntity, EntityProperty[]>();
  #encoded = 0;

  /**
   * `source`: entities, or plain rows of `rowClass`. `destination`: an upsert destination built by
   * the caller (a sync's), for upsert options.
   */
  constructor(em: SqlEntityManager, rowClass: EntityClass<object> | undefined, source: CopySource<object>, options: CopyPersistOptions, destination?: UpsertDestination) {
    this.#em = em;
    this.#source = source;
    this.chunkSize = checkedCount('copyPersist', 'chunkSize', options.chunkSize ?? (Array.isArray(source) ? DEFAULT_CHUNK_SIZE : DEFAULT_STREAM_CHUNK_SIZE));
    this.#firstChunkSize = options.chunkSize ?? FIRST_STREAM_CHUNK_SIZE;
    this.abort = new Cancellation(options.signal);
    this.abort.check();
    this.progress = new Progress(options.onProgress);
    this.#formats = new CopyFormats(options.format);

    this.#cascade = options.cascade === true;
    this.#hooks = options.hooks === false ? undefined : new LifecycleHooks(em);
    // plain rows may skip em.create (row-view.ts) unless entities are wanted afterwards (manage) or
    // handed to lifecycle hooks; with cascade only rows of keys, which reach nothing to cascade to
    const hooks = this.#hooks;
    this.#items = new ItemReader(em, rowClass, options.manage ? undefined : { allowed: meta => !hooks?.has(meta), keysOnly: this.#cascade });
    // entities made with `em.create()` sit in their EntityManager's persist stack: unscheduled after the copy
    this.#scheduled = new ScheduledInserts(em);
    this.#managed = options.manage ? [] : undefined;

    const upsert = options.onConflictAction !== undefined || options.onConflictFields !== undefined;
    // an upsert on another key than the primary key reads the keys back after its merge instead of
    // reserving them; that needs the entities, unless they were made here from plain rows
    const keysAfterMerge = upsert && !conflictsOnPrimaryKey(em, rowClass, options);
    const kept = keysAfterMerge && options.assignKeys !== false && !rowClass ? new Map<number, AnyEntity>() : undefined;
    this.#kept = kept;
    this.#upsert = upsert ? destination ?? new UpsertDestination(em, options, kept && (p => kept.get(p))) : undefined;
    this.#reserveKeys = options.assignKeys !== false && !keysAfterMerge;
    // what the database filled in goes back onto entities the caller holds (not ones made from plain rows)
    this.#filled = options.readBack !== false && !upsert && (!rowClass || options.manage) ? new DatabaseFilledValues(em) : undefined;
    // a call that is one statement needs no transaction of its own, and sends its rows at once
    this.#oneStatement = oneStatementForm(em, { rowMeta: this.#items.rowMeta, source, options, chunkSize: this.chunkSize, upsert, hooks, readBack: !!this.#filled, assignKeys: this.#reserveKeys });
    this.#awaitingKeys = this.#oneStatement === 'insert' ? new Map() : undefined;
  }

  /**
   * Runs `work` on the transaction's connection, all or nothing: the one place that decides how a
   * call is made atomic (the caller's transaction, within a savepoint, or one of its own). A failure
   * cancels the COPY in flight; so does the signal, whose abort is what the call then reports.
   */
  async inTransaction<T>(work: (connected: Connected) => Promise<T>): Promise<T> {
    return inTransaction(this.#em, trx =>
      withTransactionConnection(trx, async submit => {
        const session = new CopySession(this.#em, submit, this.#upsert, undefined, this.#oneStatement, this.#insertForm());
        // an INSERT's keys come back with its rows
        const keys = this.#reserveKeys && !this.#awaitingKeys ? new KeyAssigner(this.#em, session, !!this.#oneStatement) : undefined;
        const stopWatching = this.abort.cancels(session);
        try {
          return await work({ session, keys });
        } catch (e) {
          await session.abort(e instanceof Error ? e : new Error(String(e)));
          throw this.abort.errorFor(e);
        } finally {
          stopWatching();
        }
      }),
      !!this.#oneStatement,
      this.#oneStatement === 'insert',
    );
  }

  /** A call written as INSERTs returns the generated key columns, within a caller's transaction in a savepoint. */
  #insertForm(): InsertForm | undefined {
    if (this.#oneStatement !== 'insert') return undefined;
    const platform = this.#em.getPlatform();
    return {
      returning: plan => {
        const key = generatedKeyOf(plan.meta);
        return key && platform.quoteIdentifier(key.fieldNames[0]);
      },
      savepoint: this.#em.isInTransaction() ? newSavepoint(this.#em) : undefined,
    };
  }

  batches(): AsyncGenerator<Batch> {
    return batchesOf(this.#em, this.#source, this.#items, this.chunkSize, this.#cascade, this.#firstChunkSize);
  }

  /** The write order of a batch whose rows may depend on each other; undefined: as given. */
  orderOf(batch: Batch): WriteOrder | undefined {
    if (!batch.ordered) return undefined;
    const order = orderForWrite(this.#em, batch.entities, this.#cascade);
    for (const [entity, props] of order.deferred) this.#deferred.set(entity, props);
    for (const [owner, props] of order.pivotCollections) this.#pivotCollections.set(owner, props);
    return order;
  }

  chunksOf(batch: Batch, order: WriteOrder | undefined): Generator<Chunk> {
    return chunksOf(batch, order, this.#items, this.chunkSize, Array.isArray(this.#source) ? this.#source.length : undefined);
  }

  /** Flush's steps before a row is encoded: initializers and `beforeCreate`, then the primary key; then each new table's COPY format. */
  async beforeWrite(chunk: Chunk, { session, keys }: Connected): Promise<void> {
    const hooks = this.#hooks;
    if (hooks) {
      // indexed loops, here and below: a for-of in these once-per-chunk functions made an object per row
      const { entities, encoders } = chunk;
      for (let i = 0; i < entities.length; i++) {
        const plan = encoders[i].plan;
        if (!hooks.has(plan.meta)) continue;
        applyInitializers(this.#em, plan, entities[i]);
        await hooks.beforeCreate(entities[i], plan.meta);
      }
    }
    await keys?.assign(chunk.entities, chunk.encoders, chunk.remaining);
    await this.#formats.prepare(chunk.encoders, sql => session.query(sql));
  }

  /** Encodes the chunk's rows into `builder`'s segments, noting each entity for after the copy. */
  write(chunk: Chunk, builder: SegmentBuilder): void {
    const upsert = this.#upsert !== undefined;
    const { entities, encoders, positions } = chunk;
    for (let i = 0; i < entities.length; i++) {
      const entity = entities[i];
      const encoder = encoders[i];
      const position = positions[i];
      builder.row = entity;
      // the staging table of an upsert has one more column: the row's input position
      encoder.writeEntity(entity, position, this.#deferred.get(entity), builder, upsert ? position : undefined);
      this.#managed?.push(entity);
      this.#filled?.note(entity, encoder.plan);
      this.#scheduled.note(entity);
      this.#kept?.set(position, entity);
      this.#awaitingKeys?.set(position, entity);
    }
    this.#encoded += entities.length;
  }

  /** Flush's order once every row is in: the INSERT's RETURNING, afterCreate, then the UPDATEs that close cycles. */
  async afterCopy(session: CopySession): Promise<void> {
    if (this.#awaitingKeys) this.#setReturnedKeys(session);
    await this.#filled?.readBack(session);
    await this.#hooks?.afterCreate();
    if (this.#deferred.size) await setDeferredReferences(this.#em, session, this.#deferred, entity => this.#items.encoderOf(entity, 0).plan, this.#hooks);
  }

  /** The keys the INSERTs returned, onto the entities that had none, in the order of their rows. */
  #setReturnedKeys(session: CopySession): void {
    const platform = this.#em.getPlatform();
    for (const { plan, positions, keys } of session.returned) {
      const prop = generatedKeyOf(plan.meta);
      if (!prop) continue;
      positions.forEach((position, row) => {
        const entity = this.#awaitingKeys!.get(position)!;
        const key = keys[row]?.[0];
        if (entity[prop.name] == null && key != null) setGeneratedKey(platform, prop, entity, key);
      });
    }
  }

  /** What PostgreSQL counted; never success for rows that did not arrive. */
  resultOf(session: CopySession): CopyPersistResult {
    const byEntity = session.byEntity;
    const result: CopyPersistResult = { rows: Object.values(byEntity).reduce((sum, n) => sum + n, 0), byEntity };
    if (!this.#upsert) {
      if (result.rows !== this.#encoded) throw rowCountMismatch(this.#encoded, result.rows, !this.#oneStatement ? 'rolled-back' : this.#em.isInTransaction() ? 'in-caller-transaction' : 'committed');
      return result;
    }
    result.upserted = { inserted: 0, updated: 0, skipped: 0 };
    for (const counts of Object.values(this.#upsert.counts)) {
      result.upserted.inserted += counts.inserted;
      result.upserted.updated += counts.updated;
      result.upserted.skipped += counts.skipped;
    }
    return result;
  }

  /** The unit of work as flush leaves it: nothing of this call inserted again by a later flush. */
  settleUnitOfWork(): void {
    this.#scheduled.settle(this.#em);
    if (this.#managed) manage(this.#em, this.#managed);
    snapshotCollections(this.#pivotCollections, this.#managed !== undefined);
  }
}

/** The caller's `signal`: checked between steps, and it cancels a COPY in flight. */
class Cancellation {
  readonly #signal: AbortSignal | undefined;

  constructor(signal: AbortSignal | undefined) {
    this.#signal = signal;
  }

  check(): void {
    if (this.#signal?.aborted) throw aborted(this.#signal.reason);
  }

  /** Aborts the session's COPY when the signal fires; returns how to stop watching. */
  cancels(session: CopySession): () => void {
    const signal = this.#signal;
    if (!signal) return () => undefined;
    const onAbort = () => void session.abort(aborted(signal.reason));
    signal.addEventListener('abort', onAbort, { once: true });
    return () => signal.removeEventListener('abort', onAbort);
  }

  /** The error to report for a failure: the abort, when the signal caused it. */
  errorFor(e: unknown): unknown {
    return this.#signal?.aborted ? aborted(this.#signal.reason) : e;
  }
}

/** Rows sent so far, per entity and in all, told to `onProgress` after each segment. */
class Progress {
  readonly #onProgress: ((progress: CopyProgress) => void) | undefined;
  readonly #sent: Record<string, number> = {};
  #rows = 0;

  constructor(onProgress: ((progress: CopyProgress) => void) | undefined) {
    this.#onProgress = onProgress;
  }

  sent(segment: Segment): void {
    const name = segment.encoder.plan.entityName;
    const entityRows = (this.#sent[name] = (this.#sent[name] ?? 0) + segment.rows);
    this.#rows += segment.rows;
    this.#onProgress?.({ entity: name, entityRows, rows: this.#rows });
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
