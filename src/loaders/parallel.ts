// Parallel streams: the input is cut into numbered batches that N workers take in turn, each batch
// one ordinary `copyPersist` on a fork of its own, in a transaction of its own. Nothing here talks
// to the COPY machinery directly: every guarantee of a single copyPersist (all or nothing, pool
// left healthy, errors converted) holds per batch, and this file only adds the scheduling, the
// shared abort, the account of what was committed and, with `loadId`, the bookkeeping that lets a
// re-run skip what an earlier run committed.
import type { EntityClass } from '@mikro-orm/core';
import type { SqlEntityManager } from '@mikro-orm/postgresql';
import { mikroOrm } from '../orm/index.js';
import { runCopy } from '../engine/run.js';
import { CopyParallelError, CopyPersistError, aborted, checkedCount, emptyLoadId, loadIdBatchSizeChanged, parallelInTransaction, parallelWithManage, type InputRange } from '../errors.js';
import { readCopyCall } from '../input/entity-class.js';
import { readChunks, type CopySource } from '../input/read-chunks.js';
import type { CopyPersistOptions, CopyPersistResult } from '../api/options.js';

/** Rows per batch when `batchSize` is not given: big enough that a commit per batch costs little. */
export const DEFAULT_BATCH_SIZE = 50_000;

/** Default name of the bookkeeping table of `loadId`. */
export const DEFAULT_LOAD_TABLE = 'mikro_orm_pg_copy_loads';

/**
 * Options of {@link copyParallel}: those of `copyPersist`, applied to every batch, plus these.
 *
 * @example
 * ```ts
 * const options: CopyParallelOptions = { parallel: 4, batchSize: 100_000, loadId: 'books-2026-11-26' };
 * await copyPersist(em, readBooks('books.ndjson'), options);
 * ```
 */
/** Options of {@link copyParallel}: those of `copyPersist`, where `parallel`, `batchSize`, `loadId` and `loadTable` apply. */
export type CopyParallelOptions = CopyPersistOptions;

/** What {@link copyParallel} returns. */
export interface CopyParallelResult extends CopyPersistResult {
  /** Batches committed by this call. */
  batches: number;
  /** With `loadId`: batches skipped because an earlier run had committed them. */
  skippedBatches: number;
}

// the error of a parallel load lives with every other error (errors.ts); re-exported where it was
export { CopyParallelError, type InputRange } from '../errors.js';

/**
 * Loads the input through several pooled connections at once. The input is cut into batches of
 * `batchSize` rows; each of `parallel` streams takes the next batch and copies it with
 * `copyPersist` on an `em.fork()`, in a transaction of its own. Only outside a transaction.
 *
 * - Memory: at most `parallel + 1` batches are held; the input is never read further ahead.
 * - Order: rows of different batches reach the table in no promised order.
 * - Failure: the first error stops every stream (the others are aborted and roll back their
 *   batch) and a {@link CopyParallelError} says which input ranges were committed.
 * - With `loadId`, a re-run with the same id and input writes only the batches not yet committed.
 * - `onProgress` is called as each batch commits, with the totals committed by this call;
 *   `signal` stops every stream (rejecting with code `ABORTED` and the committed ranges).
 * - Keys: each batch reserves its own block of the sequence, so keys interleave across batches.
 *
 * `copyPersist(em, rows, { parallel: n })` calls this.
 *
 * @example
 * ```ts
 * import { copyParallel } from 'mikro-orm-pg-copy';
 *
 * const { rows, batches } = await copyParallel(em, readBooks(), { parallel: 4, batchSize: 100_000, loadId: 'books-v1' });
 * // plain rows of one class
 * await copyParallel(em, Book, rows, { parallel: 2 });
 * ```
 */
export function copyParallel(em: SqlEntityManager, entities: CopySource<object>, options?: CopyParallelOptions): Promise<CopyParallelResult>;
export function copyParallel<T extends object>(em: SqlEntityManager, entityClass: EntityClass<T>, rows: CopySource<Partial<T> | Record<string, unknown>>, options?: CopyParallelOptions): Promise<CopyParallelResult>;
export function copyParallel(
  em: SqlEntityManager,
  a: CopySource<object> | EntityClass<object>,
  b?: CopySource<object> | CopyParallelOptions,
  c?: CopyParallelOptions,
): Promise<CopyParallelResult> {
  const { entityClass, source, options } = readCopyCall<CopyParallelOptions>(em, a, b, c);
  return runParallel(em, entityClass, source, options);
}

interface Batch {
  /** Zero-based, by input order: the same input cut the same way numbers its batches the same. */
  index: number;
  from: number;
  items: object[];
}

/** The parallel load, its arguments read; `copyPersist` calls it for `{ parallel }`. */
export async function runParallel(em: SqlEntityManager, rowClass: EntityClass<object> | undefined, source: CopySource<object>, options: CopyParallelOptions): Promise<CopyParallelResult> {
  const { parallel = 2, batchSize = DEFAULT_BATCH_SIZE, loadId, loadTable, signal, onProgress, ...perBatch } = options;
  checkedCount('copyParallel', 'parallel', parallel);
  checkedCount('copyParallel', 'batchSize', batchSize);
  if (loadId !== undefined && (typeof loadId !== 'string' || loadId === '')) throw emptyLoadId();
  if (em.isInTransaction()) {
    // each batch commits on its own connection: inside the caller's transaction that would either
    // break its atomicity or (on the caller's one connection) not be parallel at all
    throw parallelInTransaction();
  }
  if (perBatch.manage) throw parallelWithManage();
  if (signal?.aborted) throw aborted(signal.reason);

  const book = loadId === undefined ? undefined : await LoadBook.open(em, loadTable, loadId, batchSize);

  // one controller stops every stream: the caller's signal, or the first failure
  const stop = new AbortController();
  const onCallerAbort = () => stop.abort(signal?.reason);
  signal?.addEventListener('abort', onCallerAbort, { once: true });

  const batches = new BatchReader(source, batchSize);
  const committed: InputRange[] = [];
  const byEntity: Record<string, number> = {};
  let rows = 0;
  let batchCount = 0;
  let skipped = 0;
  let failure: { error: unknown; batch: Batch | undefined } | undefined;

  const fail = (error: unknown, batch: Batch | undefined) => {
    // the first error is the cause; the aborts it triggers in the other streams are its echoes
    if (!failure) failure = { error, batch };
    stop.abort(error);
  };

  const worker = async () => {
    while (!stop.signal.aborted) {
      let batch: Batch | undefined;
      try {
        batch = await batches.next();
      } catch (e) {
        fail(e, undefined);
        return;
      }
      if (!batch || stop.signal.aborted) return;
      try {
        const result = await copyBatch(em, rowClass, batch, { ...perBatch, signal: stop.signal }, book);
        if (!result) {
          skipped++;
          continue;
        }
        committed.push([batch.from, batch.from + batch.items.length]);
        batchCount++;
        rows += result.rows;
        for (const [name, n] of Object.entries(result.byEntity)) byEntity[name] = (byEntity[name] ?? 0) + n;
        for (const name of Object.keys(result.byEntity)) onProgress?.({ entity: name, entityRows: byEntity[name], rows });
      } catch (e) {
        fail(e, batch);
        return;
      }
    }
  };

  try {
    await Promise.all(Array.from({ length: parallel }, worker));
  } finally {
    signal?.removeEventListener('abort', onCallerAbort);
    // closes the caller's iterator when we stopped early, and drops the batch read ahead
    await batches.close();
  }

  if (failure || signal?.aborted) {
    const error = failure?.error ?? aborted(signal?.reason, false);
    const failed: InputRange | undefined = failure?.batch ? [failure.batch.from, failure.batch.from + failure.batch.items.length] : undefined;
    const local = positionOf(error);
    const position = local === undefined ? undefined : failure?.batch ? failure.batch.from + local : local;
    throw new CopyParallelError(error, mergeRanges(committed), failed, position, signal?.aborted ? 'ABORTED' : 'PARALLEL_FAILED');
  }
  return { rows, byEntity, batches: batchCount, skippedBatches: skipped };
}

/** One batch in one transaction on a fork; undefined when `loadId` finds it already committed. */
async function copyBatch(
  em: SqlEntityManager,
  rowClass: EntityClass<object> | undefined,
  batch: Batch,
  options: CopyPersistOptions,
  book: LoadBook | undefined,
): Promise<CopyPersistResult | undefined> {
  const fork = em.fork({ clear: true, useContext: false }) as SqlEntityManager;
  const copy = (target: SqlEntityManager) => runCopy(target, rowClass, batch.items, options);
  if (!book) return copy(fork); // copyPersist opens and commits a transaction of its own
  if (book.done.has(batch.index)) return undefined;
  let result: CopyPersistResult | undefined;
  const pool = await mikroOrm.watchPool(fork.getConnection('write'));
  let trxContext: unknown;
  try {
    await fork.transactional(async tem => {
      const trx = tem as SqlEntityManager;
      trxContext = trx.getTransactionContext();
      // the bookkeeping row first: its primary key makes a concurrent run with the same loadId wait
      // here and then skip the batch, instead of writing it twice
      if (!(await book.claim(trx, batch))) return;
      result = await copy(trx); // inside transactional(): a savepoint of this same transaction
    });
  } catch (e) {
    // a killed connection can neither commit nor roll back, and MikroORM 7 (Kysely) then keeps its
    // pool slot; copyPersist frees it for transactions it opens, this transaction is ours
    mikroOrm.discardIfStranded(pool, trxContext, e instanceof Error ? e : new Error(String(e)));
    throw e;
  }
  return result;
}

/**
 * Cuts the input into numbered batches and keeps one read ahead, so a stream that finishes finds
 * the next batch ready, while the input is never read more than one batch beyond those in flight.
 */
class BatchReader {
  readonly #chunks: AsyncGenerator<object[]>;
  readonly #size: number;
  #index = 0;
  #from = 0;
  #ahead: Promise<Batch | undefined> | undefined;
  #done = false;

  constructor(source: CopySource<object>, size: number) {
    this.#chunks = readChunks(source, size);
    this.#size = size;
  }

  /** The next batch, or undefined at the end of the input. */
  next(): Promise<Batch | undefined> {
    // claimed synchronously, so two streams asking at once get two different batches
    const current = this.#ahead ?? this.#read();
    const ahead = current.then(batch => (batch ? this.#read() : undefined));
    // a failed read-ahead is reported to whoever takes it next, not as an unhandled rejection now
    ahead.catch(() => undefined);
    this.#ahead = ahead;
    return current;
  }

  #read(): Promise<Batch | undefined> {
    if (this.#done) return Promise.resolve(undefined);
    // async generators queue concurrent next() calls, so batches come out numbered in input order
    return this.#chunks.next().then(step => {
      if (step.done) {
        this.#done = true;
        return undefined;
      }
      const batch: Batch = { index: this.#index++, from: this.#from, items: step.value };
      this.#from += step.value.length;
      if (step.value.length < this.#size) this.#done = true;
      return batch;
    });
  }

  async close(): Promise<void> {
    this.#done = true;
    await this.#ahead?.catch(() => undefined);
    this.#ahead = undefined;
    await this.#chunks.return(undefined).catch(() => undefined);
  }
}

/**
 * The bookkeeping of `loadId`: one row per committed batch, written in the batch's transaction,
 * so a row exists exactly when the batch's rows do.
 */
class LoadBook {
  readonly #table: string;
  readonly #loadId: string;
  readonly #batchSize: number;
  /** Batches an earlier run committed. */
  readonly done: Set<number>;

  private constructor(table: string, loadId: string, batchSize: number, done: Set<number>) {
    this.#table = table;
    this.#loadId = loadId;
    this.#batchSize = batchSize;
    this.done = done;
  }

  static async open(em: SqlEntityManager, loadTable: string | undefined, loadId: string, batchSize: number): Promise<LoadBook> {
    const platform = em.getPlatform();
    const schema = em.config.get('schema');
    const name = loadTable ?? (schema && schema !== platform.getDefaultSchemaName() ? `${schema}.${DEFAULT_LOAD_TABLE}` : DEFAULT_LOAD_TABLE);
    // quoteIdentifier splits `schema.table` at its dot and escapes quotes: never raw text in SQL
    const table = platform.quoteIdentifier(name);
    const connection = em.fork().getConnection('write');
    const create =
      `create table if not exists ${table} (load_id text not null, batch integer not null, first_position bigint not null, ` +
      `row_count integer not null, batch_size integer not null, committed_at timestamptz not null default now(), primary key (load_id, batch))`;
    try {
      await connection.execute(create, [], 'run');
    } catch {
      // two first uses at once: `if not exists` still races on the catalog; the other one won
      await connection.execute(create, [], 'run');
    }
    const recorded = await connection.execute<{ batch: number; batch_size: number }[]>(
      `select batch, batch_size from ${table} where load_id = ?`,
      [loadId],
      'all',
    );
    const other = recorded.find(r => Number(r.batch_size) !== batchSize);
    if (other) {
      // other batch boundaries would make the recorded batch numbers name other rows
      throw loadIdBatchSizeChanged(loadId, other.batch_size, batchSize);
    }
    return new LoadBook(table, loadId, batchSize, new Set(recorded.map(r => Number(r.batch))));
  }

  /** Records the batch in the transaction of `em`; false when another run recorded it first. */
  async claim(em: SqlEntityManager, batch: Batch): Promise<boolean> {
    const result = await em.getConnection('write').execute<{ affectedRows: number }>(
      `insert into ${this.#table} (load_id, batch, first_position, row_count, batch_size) values (?, ?, ?, ?, ?) on conflict (load_id, batch) do nothing`,
      [this.#loadId, batch.index, batch.from, batch.items.length, this.#batchSize],
      'run',
      em.getTransactionContext(),
    );
    return result.affectedRows > 0;
  }
}

/** Input position a batch's error names, relative to the batch. */
function positionOf(error: unknown): number | undefined {
  if (error instanceof CopyPersistError) return error.position;
  return (error as { copyPersist?: { position?: number } } | null)?.copyPersist?.position;
}

function mergeRanges(ranges: InputRange[]): InputRange[] {
  const sorted = [...ranges].sort((x, y) => x[0] - y[0]);
  const merged: InputRange[] = [];
  for (const [from, to] of sorted) {
    const last = merged.at(-1);
    if (last && last[1] === from) last[1] = to;
    else merged.push([from, to]);
  }
  return merged;
}
