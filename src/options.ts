/**
 * Options of {@link copyPersist} and `CopyEntityManager.copyPersist`.
 *
 * @example
 * ```ts
 * const controller = new AbortController();
 * await em.copyPersist(books, {
 *   chunkSize: 5000,
 *   signal: controller.signal,
 *   onProgress: p => console.log(`${p.entity}: ${p.rows} rows`),
 * });
 * ```
 */
export interface CopyPersistOptions {
  /**
   * Rows encoded together and sent to PostgreSQL in one write (default 2000). Larger chunks mean
   * fewer, bigger writes; the input is read at most this many rows ahead of the database.
   */
  chunkSize?: number;
  /** Called after each chunk has been handed to the connection. */
  onProgress?: (progress: CopyProgress) => void;
  /**
   * Cancels the call: the COPY is aborted, nothing of this call is written, and the promise
   * rejects with a `CopyPersistError` whose code is `ABORTED`.
   */
  signal?: AbortSignal;
  /**
   * Give entities without a primary key the key the database would generate, as flush does
   * (default `true`). Serial, bigserial and identity keys are reserved from the column's sequence,
   * one round trip per chunk, and sent in the COPY. With `false` the keys stay unset on the
   * entities and the database assigns them: a little faster.
   */
  assignKeys?: boolean;
  /**
   * After the copy, put the entities into the EntityManager's identity map as if loaded (default
   * `false`): later changes to them become UPDATEs on the next flush, and `em.find()` returns the
   * same instances. This keeps every copied entity in memory, which skipping the unit of work
   * otherwise avoids.
   */
  manage?: boolean;
}

/** What `onProgress` receives. */
export interface CopyProgress {
  /** Class name of the entity whose rows were just sent. */
  entity: string;
  /** Rows of that entity sent so far in this call. */
  entityRows: number;
  /** Rows of all entities sent so far in this call. */
  rows: number;
}

/** What a successful `copyPersist` returns. */
export interface CopyPersistResult {
  /** Rows written, as counted by PostgreSQL. */
  rows: number;
  /** Rows written per entity class name. */
  byEntity: Record<string, number>;
}
