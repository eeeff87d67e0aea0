/**
 * Stable codes of {@link CopyPersistError}, safe to match on.
 *
 * - `UNREGISTERED_ENTITY`: an input item is not an instance of an entity class the ORM knows.
 * - `UNKNOWN_PROPERTY`: a plain row has a key that is not a property of its entity.
 * - `UNSUPPORTED_PROPERTY`: the entity uses a mapping that COPY cannot write exactly as flush would.
 * - `MISSING_REFERENCE_KEY`: a to-one reference points to an entity without a primary key.
 * - `REQUIRED_VALUE`: a required property is null or undefined (MikroORM's `validateRequired`).
 * - `NUL_CHARACTER`: a string holds U+0000, which PostgreSQL text cannot store.
 * - `INVALID_VALUE`: a value has no PostgreSQL text form (NaN, an invalid Date, a SQL fragment, ...).
 * - `INVALID_INPUT`: the input is not an array, Iterable or AsyncIterable.
 * - `DUPLICATE_KEY`: an upsert's input holds two rows with the same conflict key.
 * - `SOURCE_FAILED`: the input iterator threw; the cause holds what it threw.
 * - `ABORTED`: the `signal` was aborted.
 * - `IN_TRANSACTION`: `parallel` was asked for inside a transaction (each batch commits on its own).
 * - `PARALLEL_FAILED`: a batch of a parallel load failed; unlike every other code, earlier batches
 *   stay committed: see `CopyParallelError.committed`.
 * - `MISSING_KEY`: copyUpdate or copyDelete met an item without a (complete) primary key.
 * - `NOT_FOUND`: copyUpdate with `onMissing: 'fail'` met a key that no row has.
 * - `INTERNAL`: the library's own consistency check failed (a bug: please report it); nothing was
 *   written.
 * - `DISTRIBUTION_COLUMN`: an upsert's conflict target on a Citus distributed table leaves out its
 *   distribution column.
 */
export type CopyErrorCode =
  | 'UNREGISTERED_ENTITY'
  | 'UNKNOWN_PROPERTY'
  | 'UNSUPPORTED_PROPERTY'
  | 'MISSING_REFERENCE_KEY'
  | 'REQUIRED_VALUE'
  | 'NUL_CHARACTER'
  | 'INVALID_VALUE'
  | 'INVALID_INPUT'
  | 'DUPLICATE_KEY'
  | 'SOURCE_FAILED'
  | 'ABORTED'
  | 'IN_TRANSACTION'
  | 'PARALLEL_FAILED'
  | 'DISTRIBUTION_COLUMN'
  | 'MISSING_KEY'
  | 'NOT_FOUND'
  | 'INTERNAL';

/** Where in the input an error belongs. */
export interface CopyErrorContext {
  /** Entity class name. */
  entity?: string;
  /** Property name (dotted for embedded properties). */
  property?: string;
  /** Zero-based index of the item in the input. */
  position?: number;
}

/**
 * An error raised by this library before or while sending rows. Nothing of the call is written
 * when it is thrown. Database errors are not wrapped: they surface as MikroORM's own exception
 * classes (see {@link annotateDatabaseError}).
 *
 * @example
 * ```ts
 * try {
 *   await em.copyPersist(rows);
 * } catch (e) {
 *   if (e instanceof CopyPersistError && e.code === 'NUL_CHARACTER') {
 *     console.error(`bad text in ${e.entity}.${e.property} at #${e.position}`);
 *   }
 * }
 * ```
 */
export class CopyPersistError extends Error {
  override readonly name = 'CopyPersistError';
  readonly code: CopyErrorCode;
  readonly entity?: string;
  readonly property?: string;
  readonly position?: number;

  constructor(code: CopyErrorCode, message: string, context: CopyErrorContext = {}, options?: { cause?: unknown }) {
    super(`${message}${describeContext(context)}`, options);
    this.code = code;
    this.entity = context.entity;
    this.property = context.property;
    this.position = context.position;
  }
}

function describeContext({ entity, property, position }: CopyErrorContext): string {
  const parts: string[] = [];
  if (entity) parts.push(property ? `${entity}.${property}` : entity);
  else if (property) parts.push(property);
  if (position !== undefined) parts.push(`input position ${position}`);
  return parts.length ? ` (${parts.join(', ')})` : '';
}

/** Fields added to a MikroORM exception raised by the database during a COPY. */
export interface CopyDatabaseErrorContext {
  /** Entity class name of the failing COPY. */
  entity: string;
  /** Zero-based input position of the failing row, when PostgreSQL named a line. */
  position?: number;
  /** The line PostgreSQL reported (1-based, counted within that COPY). */
  line?: number;
}

/**
 * Adds the entity and input position to a database error (already converted to MikroORM's
 * exception class, so `instanceof UniqueConstraintViolationException` keeps working).
 */
export function annotateDatabaseError<E extends Error>(error: E, context: CopyDatabaseErrorContext): E & { copyPersist: CopyDatabaseErrorContext } {
  const annotated = error as E & { copyPersist: CopyDatabaseErrorContext };
  annotated.copyPersist = context;
  const where = context.position !== undefined ? `, input position ${context.position}` : '';
  // PostgreSQL's detail names the offending key, the one clue for errors it raises after the last
  // row (foreign keys are checked at the end of the statement, without a line number)
  const detail = (error as { detail?: unknown }).detail ?? ((error as { cause?: { detail?: unknown } }).cause?.detail);
  const suffix = typeof detail === 'string' && !error.message.includes(detail) ? ` (${detail})` : '';
  annotated.message = `copyPersist into ${context.entity} failed${where}: ${error.message}${suffix}`;
  return annotated;
}

/** PostgreSQL names the failing row of a COPY in the error's `where` field: `COPY book, line 3[, column x]`. */
export function copyLineOf(error: unknown): number | undefined {
  const where = (error as { where?: unknown } | null)?.where;
  if (typeof where !== 'string') return undefined;
  const match = /COPY [^,]+, line (\d+)/.exec(where);
  return match ? Number(match[1]) : undefined;
}
