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
