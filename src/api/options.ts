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
export interface CopyPersistOptions extends CopyConflictOptions {
  /**
   * Rows encoded together and sent to PostgreSQL in one write (default 2000 for an array, 500 for
   * an Iterable or AsyncIterable, which keeps a stream's memory low). Larger chunks mean fewer,
   * bigger writes; the input is read at most this many rows ahead of the database.
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
  /**
   * Copy what flush's persist cascade would reach from the given entities and is not yet in the
   * database (default `false`): relations whose `cascade` includes persist (the default), and, as
   * flush, every to-one target that is not managed. Managed entities, references and entities
   * whose generated key is set count as existing and are only referenced. Written table by table,
   * referenced tables first, many-to-many pivot rows last, all in the same transaction. A cycle of
   * new entities works where one of its foreign keys is nullable: that key is written as NULL and
   * set once every row is in. An array input is read whole first; a stream's graphs are walked a
   * chunk at a time. Error positions name the input item whose graph holds the failing entity.
   */
  cascade?: boolean;
  /**
   * Run `beforeCreate` and `afterCreate` entity hooks and event subscribers, as flush does
   * (default `true`): `beforeCreate` after property initializers and before the row is encoded,
   * `afterCreate` after every row of the call is in, inside its transaction. Classes without
   * listeners cost nothing; `false` skips them for all. Flush-level events (`beforeFlush`,
   * `onFlush`, `afterFlush`) are not fired: copyPersist is not a flush.
   */
  hooks?: boolean;
  /**
   * Set what the database filled in — the version, `defaultRaw` defaults such as `now()`, generated
   * columns — on the entities passed in, as flush sets it from `INSERT ... RETURNING` (default
   * `true`). A numeric literal costs nothing and `now()` one query, but setting a property on a
   * MikroORM entity costs a few microseconds each, and per-row values (`gen_random_uuid()`,
   * generated columns) are selected back by key: `false` skips it where the entities are not used
   * afterwards. Entities made from plain rows are never read back unless `manage` is on.
   */
  readBack?: boolean;
  /**
   * The COPY format (default `'auto'`). `'auto'` writes a table as binary COPY tuples, which the
   * server reads with less work and the client writes with far less, when every column it is
   * copied into has an exact binary form here (integers, floats, numeric, boolean, text, varchar,
   * char, uuid, timestamptz, timestamp, date, json, jsonb, bytea, and one-dimensional arrays of the
   * scalar ones) and a chunk holds at least 200 of its rows; any other table goes as CSV. The
   * stored values are the same either way: a value without an exact binary form sends its row as
   * CSV. `'binary'` fails with `INVALID_OPTION` on a table with another column type; `'csv'`
   * never writes binary.
   */
  format?: 'auto' | 'csv' | 'binary';
  /**
   * Load through this many pooled connections at once, each batch of `batchSize` rows in a
   * transaction of its own (see `copyParallel`): not all or nothing, and not inside a caller's
   * transaction.
   */
  parallel?: number;
  /** With `parallel`: input rows per batch, one transaction each (default 50 000). */
  batchSize?: number;
  /**
   * With `parallel`: makes re-runs exactly-once. Each committed batch is recorded under this id in
   * the bookkeeping table, in the batch's own transaction, and a later call with the same id and
   * the same input skips the batches recorded. Batches are numbered by input order, so the input
   * must come in the same order with the same `batchSize`.
   */
  loadId?: string;
  /**
   * Bookkeeping table of `loadId`, optionally schema-qualified (`schema.table`); created on first
   * use. Default `mikro_orm_pg_copy_loads` in the ORM's configured schema.
   */
  loadTable?: string;
}

/**
 * Upsert options, in MikroORM's `em.upsert` vocabulary. Give `onConflictAction` or
 * `onConflictFields` to upsert: the rows are copied into a temporary staging table and moved into
 * the entity's table with one `INSERT ... SELECT ... ON CONFLICT`.
 *
 * @example
 * ```ts
 * await em.copyPersist(products, {
 *   onConflictFields: ['sku'],
 *   onConflictAction: 'merge',
 *   onConflictMergeFields: ['price', 'stock'],
 * });
 * ```
 */
export interface CopyConflictOptions {
  /** Properties forming the conflict target (default: the primary key), or a named unique constraint. */
  onConflictFields?: string[] | { constraint: string };
  /** `'merge'` (default) updates rows that exist; `'ignore'` skips them. */
  onConflictAction?: 'ignore' | 'merge';
  /** Properties to update on conflict (default: every column the rows set, except keys). */
  onConflictMergeFields?: string[];
  /** Properties never to update on conflict. */
  onConflictExcludeFields?: string[];
  /**
   * The predicate of a partial unique index to infer as the conflict target
   * (`ON CONFLICT (...) WHERE <this>`). SQL written by you, never data.
   */
  onConflictIndexWhere?: string;
  /**
   * Two input rows with the same conflict key, when merging: `'error'` (default) names both input
   * positions; `'last-wins'` keeps the later one.
   */
  onConflictDuplicates?: 'error' | 'last-wins';
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
  /** With upsert options: rows inserted, updated and skipped (existing with `'ignore'`, or duplicates with `'last-wins'`). */
  upserted?: { inserted: number; updated: number; skipped: number };
  /** With `parallel`: batches committed by this call. */
  batches?: number;
  /** With `parallel` and `loadId`: batches skipped because an earlier run had committed them. */
  skippedBatches?: number;
}
