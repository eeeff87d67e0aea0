// Every error this package throws, and every message it says: one family under `PgCopyError`, each
// with a stable `code` users can match on, each message made by one function below, so that the
// same situation always reads the same and the README's code table has a single source.
// Database errors are not ours: they stay MikroORM's exception classes (annotateDatabaseError).

/**
 * Stable codes of {@link CopyPersistError}, safe to match on.
 *
 * - `UNREGISTERED_ENTITY`: an input item is not an instance of an entity class the ORM knows.
 * - `UNKNOWN_PROPERTY`: a plain row (or an `onConflict*` option) names a property the entity does not have.
 * - `UNKNOWN_CONSTRAINT`: `onConflictFields: { constraint }` names a constraint the table does not have.
 * - `UNSUPPORTED_PROPERTY`: the entity uses a mapping that COPY cannot write exactly as flush would.
 * - `REFERENCE_CYCLE`: new entities reference each other in a cycle of non-nullable foreign keys,
 *   which no order of rows can write.
 * - `MISSING_REFERENCE_KEY`: a to-one reference points to an entity without a primary key.
 * - `REQUIRED_VALUE`: a required property is null or undefined (MikroORM's `validateRequired`).
 * - `NUL_CHARACTER`: a string holds U+0000, which PostgreSQL text cannot store.
 * - `INVALID_VALUE`: a value has no PostgreSQL text form (NaN, an invalid Date, a SQL fragment, ...).
 * - `INVALID_INPUT`: the input is not an array, Iterable or AsyncIterable.
 * - `INVALID_OPTION`: an option has a value it cannot take, or options that cannot go together;
 *   `option` names it.
 * - `DUPLICATE_KEY`: an upsert's input holds two rows with the same conflict key.
 * - `SOURCE_FAILED`: the input iterator threw; the cause holds what it threw.
 * - `ABORTED`: the `signal` was aborted.
 * - `IN_TRANSACTION`: the call cannot run inside the transaction that is open: `parallel` inside a
 *   transaction (each batch commits on its own), or a second test transaction of one ORM.
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
  | 'UNKNOWN_CONSTRAINT'
  | 'UNSUPPORTED_PROPERTY'
  | 'REFERENCE_CYCLE'
  | 'MISSING_REFERENCE_KEY'
  | 'REQUIRED_VALUE'
  | 'NUL_CHARACTER'
  | 'INVALID_VALUE'
  | 'INVALID_INPUT'
  | 'INVALID_OPTION'
  | 'DUPLICATE_KEY'
  | 'SOURCE_FAILED'
  | 'ABORTED'
  | 'IN_TRANSACTION'
  | 'PARALLEL_FAILED'
  | 'DISTRIBUTION_COLUMN'
  | 'MISSING_KEY'
  | 'NOT_FOUND'
  | 'INTERNAL';

/**
 * Stable codes of {@link LoadFileError}:
 *
 * - `BAD_ROW`: a record that cannot be loaded (malformed, a value of the wrong type or range, or
 *   rejected by PostgreSQL); `line` names it. With a reject file such rows are written there instead.
 * - `BAD_HEADER`: the CSV header names an unknown column or leaves out a required one.
 * - `FILE_NOT_FOUND`: the file does not exist or cannot be read.
 * - `UNKNOWN_ENTITY`: no entity of that name is registered with the ORM.
 * - `MISSING_TABLE`: the entity's table does not exist in the database.
 * - `INVALID_OPTION`: an option of `loadFile` has a value it cannot take; `option` names it.
 */
export type LoadFileErrorCode = 'BAD_ROW' | 'BAD_HEADER' | 'FILE_NOT_FOUND' | 'UNKNOWN_ENTITY' | 'MISSING_TABLE' | 'INVALID_OPTION';

/** Every code an error of this package can carry. */
export type PgCopyErrorCode = CopyErrorCode | LoadFileErrorCode;

/**
 * The base of every error this package throws itself: {@link CopyPersistError} (and its
 * `CopyParallelError`) and {@link LoadFileError}. Match on `code`; `option` names the option of an
 * `INVALID_OPTION`.
 *
 * @example
 * ```ts
 * try {
 *   await loadFile(em, { path: 'books.csv', entity: 'Book', batchSize: 0 });
 * } catch (e) {
 *   if (e instanceof PgCopyError && e.code === 'INVALID_OPTION') console.error(`fix the option ${e.option}`);
 * }
 * ```
 */
export abstract class PgCopyError<Code extends PgCopyErrorCode = PgCopyErrorCode> extends Error {
  abstract override readonly name: string;
  readonly code: Code;
  /** The option an `INVALID_OPTION` is about. */
  readonly option?: string;

  protected constructor(code: Code, message: string, options?: { cause?: unknown; option?: string }) {
    super(message, options?.cause === undefined ? undefined : { cause: options.cause });
    this.code = code;
    if (options?.option !== undefined) this.option = options.option;
  }
}

/** Where in the input an error belongs. */
export interface CopyErrorContext {
  /** Entity class name. */
  entity?: string;
  /** Property name (dotted for embedded properties). */
  property?: string;
  /** Zero-based index of the item in the input. */
  position?: number;
  /** The option an `INVALID_OPTION` is about. */
  option?: string;
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
export class CopyPersistError extends PgCopyError<CopyErrorCode> {
  override readonly name = 'CopyPersistError';
  readonly entity?: string;
  readonly property?: string;
  readonly position?: number;

  constructor(code: CopyErrorCode, message: string, context: CopyErrorContext = {}, options?: { cause?: unknown }) {
    super(code, `${message}${describeContext(context)}`, { cause: options?.cause, option: context.option });
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

/** A range of input positions, as `input.slice(from, to)`: `from` included, `to` excluded. */
export type InputRange = [from: number, to: number];

/**
 * Thrown when a batch of `copyParallel` fails (code `PARALLEL_FAILED`): every stream has
 * stopped, the failed batch and every batch still in flight were rolled back, and `committed`
 * lists the input ranges that stay written. `cause` is the failed batch's own error (a MikroORM
 * exception or a `CopyPersistError`); `position`, when known, is the failing row's input position.
 *
 * @example
 * ```ts
 * try {
 *   await copyPersist(em, books, { parallel: 4 });
 * } catch (e) {
 *   if (e instanceof CopyParallelError) console.error(e.committed, e.failed, e.cause);
 * }
 * ```
 */
export class CopyParallelError extends CopyPersistError {
  /** Input ranges committed before every stream stopped, merged and sorted. */
  readonly committed: InputRange[];
  /** Input range of the batch whose error stopped the load. */
  readonly failed: InputRange | undefined;

  constructor(cause: unknown, committed: InputRange[], failed: InputRange | undefined, position: number | undefined, code: 'PARALLEL_FAILED' | 'ABORTED' = 'PARALLEL_FAILED') {
    const reason = cause instanceof Error ? cause.message : String(cause);
    const where = failed ? `the batch of input positions ${failed[0]}..${failed[1] - 1} failed` : 'the load failed';
    const kept = committed.length ? committed.map(([from, to]) => `${from}..${to - 1}`).join(', ') : 'none';
    super(code, `copyParallel stopped: ${where}: ${reason}; committed input positions: ${kept}`, { position }, { cause });
    this.committed = committed;
    this.failed = failed;
  }
}

/**
 * Why `loadFile` stopped. Nothing of the load is written when it is thrown.
 *
 * @example
 * ```ts
 * try {
 *   await loadFile(em, { path: 'books.csv', entity: 'Book' });
 * } catch (e) {
 *   if (e instanceof LoadFileError && e.code === 'BAD_ROW') console.error(`fix line ${e.line}: ${e.reason}`);
 * }
 * ```
 */
export class LoadFileError extends PgCopyError<LoadFileErrorCode> {
  override readonly name = 'LoadFileError';

  constructor(
    code: LoadFileErrorCode,
    message: string,
    /** Line of the file (1-based), when the error is about one. */
    readonly line?: number,
    /** What is wrong with it. */
    readonly reason?: string,
    options?: { cause?: unknown; option?: string },
  ) {
    super(code, message, options);
  }
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
/** `operation`: the call that failed (copyPersist, copyUpdate, copyDelete), as the message names it. */
export function annotateDatabaseError<E extends Error>(error: E, context: CopyDatabaseErrorContext, operation = 'copyPersist'): E & { copyPersist: CopyDatabaseErrorContext } {
  const annotated = error as E & { copyPersist: CopyDatabaseErrorContext };
  annotated.copyPersist = context;
  const where = context.position !== undefined ? `, input position ${context.position}` : '';
  // PostgreSQL's detail names the offending key, the one clue for errors it raises after the last
  // row (foreign keys are checked at the end of the statement, without a line number)
  const detail = (error as { detail?: unknown }).detail ?? ((error as { cause?: { detail?: unknown } }).cause?.detail);
  const suffix = typeof detail === 'string' && !error.message.includes(detail) ? ` (${detail})` : '';
  const reason = lostConnection(error) ? `the connection to PostgreSQL was lost (${error.message})` : error.message;
  annotated.message = `${operation} into ${context.entity} failed${where}: ${reason}${suffix}`;
  return annotated;
}

/**
 * Node's codes for a socket that failed under a write or a read. When the server goes away in the
 * middle of a COPY (a killed backend, a restart, the network), the client often learns it from
 * the socket before any message from the server, and `write EPIPE` alone does not say what happened.
 */
const LOST_CONNECTION = new Set(['EPIPE', 'ECONNRESET', 'ETIMEDOUT']);

function lostConnection(error: Error): boolean {
  const code = (error as { code?: unknown }).code ?? (error as { cause?: { code?: unknown } }).cause?.code;
  return typeof code === 'string' && LOST_CONNECTION.has(code);
}

/** PostgreSQL names the failing row of a COPY in the error's `where` field: `COPY book, line 3[, column x]`. */
export function copyLineOf(error: unknown): number | undefined {
  const where = (error as { where?: unknown } | null)?.where;
  if (typeof where !== 'string') return undefined;
  const match = /COPY [^,]+, line (\d+)/.exec(where);
  return match ? Number(match[1]) : undefined;
}

// ---------------------------------------------------------------------------------------------
// The messages. Each situation has one function here; throw sites call it with what they know.

/** The public functions whose options are checked, as their messages name them. */
type OptionOwner = 'copyPersist' | 'copyParallel' | 'loadFixtures' | 'copyFlush';

/** `value`, when it is a whole number of at least `min` (1 unless told); else `INVALID_OPTION` naming the option. */
export function checkedCount(owner: OptionOwner, option: string, value: number, min: 0 | 1 = 1): number {
  if (Number.isInteger(value) && value >= min) return value;
  const what = min === 1 ? 'a positive integer' : 'a non-negative integer';
  throw new CopyPersistError('INVALID_OPTION', `${owner}: ${option} must be ${what}, got ${String(value)}`, { option });
}

/** `INVALID_OPTION`: a `format` other than the three. */
export function unknownFormat(value: unknown): CopyPersistError {
  return new CopyPersistError('INVALID_OPTION', `copyPersist: format must be 'auto', 'csv' or 'binary', got ${String(value)}`, { option: 'format' });
}

/** `INVALID_OPTION`: `format: 'binary'` for a table with a column this package writes only as CSV. */
export function notBinaryColumn(entity: string, property: string, column: string, type: string): CopyPersistError {
  return new CopyPersistError(
    'INVALID_OPTION',
    `copyPersist: format 'binary' cannot write column "${column}" of type ${type}, which has no exact binary form here; use format 'auto' (binary where exact) or 'csv'`,
    { entity, property, option: 'format' },
  );
}

export function emptyLoadId(): CopyPersistError {
  return new CopyPersistError('INVALID_OPTION', 'copyParallel: loadId must be a non-empty string', { option: 'loadId' });
}

export function parallelWithManage(): CopyPersistError {
  // every batch runs on a fork, so the copies would land in the forks' identity maps, not the caller's
  return new CopyPersistError('INVALID_OPTION', 'copyPersist with `parallel` cannot `manage` the copied entities; load them with em.find() afterwards', { option: 'manage' });
}

export function loadIdBatchSizeChanged(loadId: string, recorded: unknown, given: number): CopyPersistError {
  return new CopyPersistError(
    'INVALID_OPTION',
    `loadId ${JSON.stringify(loadId)} was started with batchSize ${String(recorded)}; re-run it with the same batchSize (got ${given}) and the same input`,
    { option: 'batchSize' },
  );
}

export function parallelInTransaction(): CopyPersistError {
  return new CopyPersistError(
    'IN_TRANSACTION',
    'copyPersist with `parallel` commits each batch in a transaction of its own and cannot run inside a transaction; call it outside, or drop `parallel` to copy within this transaction',
  );
}

export function notTestEntityManager(): CopyPersistError {
  return new CopyPersistError(
    'INVALID_OPTION',
    'beginTestTransaction: register the ORM with `entityManager: TestEntityManager` so that forks can join the test transaction',
    { option: 'entityManager' },
  );
}

export function testTransactionOpen(): CopyPersistError {
  return new CopyPersistError('IN_TRANSACTION', 'beginTestTransaction: the previous test transaction of this ORM was not rolled back');
}

export function loadFileWithoutSource(): LoadFileError {
  return new LoadFileError('INVALID_OPTION', 'loadFile: give path or stream', undefined, undefined, { option: 'path' });
}

export function loadFileNotACount(option: string, value: unknown): LoadFileError {
  return new LoadFileError('INVALID_OPTION', `loadFile: ${option} must be a positive integer, got ${String(value)}`, undefined, undefined, { option });
}

export function badDelimiter(delimiter: string): LoadFileError {
  return new LoadFileError(
    'INVALID_OPTION',
    `loadFile: the CSV delimiter must be one character other than a quote or line break, got ${JSON.stringify(delimiter)}`,
    undefined,
    undefined,
    { option: 'delimiter' },
  );
}

/**
 * `ABORTED`. `nothingWritten` is false where batches already committed stay (a parallel load,
 * whose `CopyParallelError` then lists them).
 */
export function aborted(reason: unknown, nothingWritten = true): CopyPersistError {
  return new CopyPersistError('ABORTED', nothingWritten ? 'copyPersist was aborted; nothing was written' : 'copyPersist was aborted', {}, { cause: reason });
}

// --- the input ---

export function notIterable(): CopyPersistError {
  return new CopyPersistError('INVALID_INPUT', 'copyPersist expects an array, an Iterable or an AsyncIterable of entities');
}

export function sourceFailed(cause: unknown, position: number): CopyPersistError {
  return new CopyPersistError('SOURCE_FAILED', `the input threw: ${cause instanceof Error ? cause.message : String(cause)}`, { position }, { cause });
}

export function notAnItem(item: unknown, position: number): CopyPersistError {
  return new CopyPersistError('UNREGISTERED_ENTITY', `expected an entity or a row object, got ${item === null ? 'null' : typeof item}`, { position });
}

/** An item (or the class given for plain rows) that is no entity of the ORM; `plainObject`: it is an `Object`. */
export function notAnEntity(entity: string, position: number, plainObject: boolean): CopyPersistError {
  const hint = plainObject ? ': a plain object; pass the entity class first to copy plain rows (copyPersist(Book, rows))' : ' registered with this ORM';
  return new CopyPersistError('UNREGISTERED_ENTITY', `not an entity${hint}`, { entity, position });
}

export function notRegistered(entity: string): CopyPersistError {
  return new CopyPersistError('UNREGISTERED_ENTITY', 'not an entity registered with this ORM', { entity });
}

export function unregisteredSchema(entity: string): CopyPersistError {
  return new CopyPersistError('UNREGISTERED_ENTITY', 'an EntitySchema that is not registered with this ORM', { entity });
}

export function noEntityNamed(name: string, known: readonly string[]): CopyPersistError {
  return new CopyPersistError('UNREGISTERED_ENTITY', `no entity named "${name}" in this ORM (known: ${known.join(', ')})`, { entity: name });
}

export function notTableBacked(entity: string): CopyPersistError {
  return new CopyPersistError('UNREGISTERED_ENTITY', 'not a table-backed entity (embeddable or virtual)', { entity });
}

export function unknownRowKey(entity: string, key: string, position: number): CopyPersistError {
  return new CopyPersistError('UNKNOWN_PROPERTY', 'the row has a key that is not a property of the entity', { entity, property: key, position });
}

// --- mappings and the object graph ---

/** `why` completes "copyPersist cannot write ...". */
export function unsupportedMapping(entity: string, property: string | undefined, why: string): CopyPersistError {
  return new CopyPersistError('UNSUPPORTED_PROPERTY', `copyPersist cannot write ${why}`, { entity, property });
}

export function unsupportedPivot(entity: string, property: string): CopyPersistError {
  return new CopyPersistError('UNSUPPORTED_PROPERTY', 'a many-to-many property whose pivot entity has no plain foreign keys to both sides', { entity, property });
}

/** A cycle between tables; `path` reads `A.b → B.a`, and `entity.property` is its first step. */
export function tableCycle(path: string, entity: string, property: string | undefined): CopyPersistError {
  return new CopyPersistError(
    'REFERENCE_CYCLE',
    `a cycle of new entities through non-nullable foreign keys (${path}); make one of them nullable or copy in two calls`,
    { entity, property },
  );
}

/** A cycle between rows of one table. */
export function rowCycle(entity: string, property: string): CopyPersistError {
  return new CopyPersistError(
    'REFERENCE_CYCLE',
    `new ${entity} rows reference each other in a cycle through the non-nullable ${property}; make it nullable or copy in two calls`,
    { entity, property },
  );
}

/** A collection or inverse one-to-one holds a new `other` this call does not write; `cascade`: the call cascades, the relation does not. */
export function unwrittenRelated(entity: string, property: string, other: string, cascade: boolean): CopyPersistError {
  const hint = cascade ? `its relation has no persist cascade; copy the ${other} too` : `pass cascade: true, or copy the ${other} in the same call or first`;
  return new CopyPersistError('MISSING_REFERENCE_KEY', `holds a new ${other} that this call would not write (${hint})`, { entity, property });
}

export function referenceWithoutKey(entity: string, property: string, target: string, position: number): CopyPersistError {
  return new CopyPersistError(
    'MISSING_REFERENCE_KEY',
    `the referenced ${target} has no primary key; copy it in the same call, copy it first, or pass cascade: true`,
    { entity, property, position },
  );
}

// --- values ---

export function requiredValue(entity: string, property: string, position: number): CopyPersistError {
  return new CopyPersistError('REQUIRED_VALUE', 'a required property is null or undefined', { entity, property, position });
}

export function notEnumValue(entity: string, property: string, value: unknown, position: number): CopyPersistError {
  return new CopyPersistError('INVALID_VALUE', `${JSON.stringify(value)} is not one of the enum's values`, { entity, property, position });
}

export function wrongRuntimeType(entity: string, property: string, expected: string, given: string, position: number): CopyPersistError {
  return new CopyPersistError('INVALID_VALUE', `expected a ${expected}, got a ${given}`, { entity, property, position });
}

/**
 * A value without an exact text form, thrown by the encoders, which do not know the row: the
 * caller turns it into a {@link CopyPersistError} with entity, property and position ({@link valueErrorAt}).
 */
export class ValueError extends Error {
  constructor(
    readonly code: 'NUL_CHARACTER' | 'INVALID_VALUE' | 'UNSUPPORTED_PROPERTY',
    message: string,
  ) {
    super(message);
  }
}

/** The encoders' errors, one function per kind of value. */
export const valueErrors = {
  nulInText: () => new ValueError('NUL_CHARACTER', 'text holds a NUL character (U+0000), which PostgreSQL cannot store'),
  nulInJson: () => new ValueError('NUL_CHARACTER', 'JSON holds a NUL character (\\u0000), which jsonb cannot store'),
  nulInArray: () =>
    new ValueError('NUL_CHARACTER', 'an array element holds a NUL character (U+0000), which PostgreSQL cannot store (flush would store it as the text "u0000")'),
  notFinite: (value: number, integer: boolean) => new ValueError('INVALID_VALUE', `${value} has no ${integer ? 'integer' : 'SQL'} value; flush cannot write it either`),
  notAnInteger: (value: number) => new ValueError('INVALID_VALUE', `${value} is not an integer, but the column is`),
  noPgForm: (type: string) => new ValueError('INVALID_VALUE', `a ${type} has no PostgreSQL form`),
  invalidDate: () => new ValueError('INVALID_VALUE', 'invalid Date'),
  rawSql: () => new ValueError('UNSUPPORTED_PROPERTY', 'the value is a raw SQL fragment, which COPY cannot evaluate'),
  bareArray: () => new ValueError('UNSUPPORTED_PROPERTY', 'a bare array value; map the property with an array or json type'),
  compositeKeyArity: (values: number, columns: number) => new ValueError('UNSUPPORTED_PROPERTY', `a composite key of ${values} values for ${columns} columns`),
};

export function valueErrorAt(error: ValueError, entity: string, property: string, position: number): CopyPersistError {
  return new CopyPersistError(error.code, error.message, { entity, property, position });
}

// --- upsert ---

export function mergeFieldNotSet(entity: string, column: string): CopyPersistError {
  return new CopyPersistError('UNKNOWN_PROPERTY', `onConflictMergeFields names ${column}, which these rows do not set`, { entity, option: 'onConflictMergeFields' });
}

export function unknownConflictProperty(entity: string, property: string): CopyPersistError {
  return new CopyPersistError('UNKNOWN_PROPERTY', 'an onConflict option names a property the entity does not have', { entity, property });
}

export function unknownConstraint(entity: string, constraint: string, table: string): CopyPersistError {
  return new CopyPersistError('UNKNOWN_CONSTRAINT', `no constraint ${constraint} on ${table}`, { entity, option: 'onConflictFields' });
}

export function duplicateConflictKey(entity: string, positions: readonly number[]): CopyPersistError {
  return new CopyPersistError(
    'DUPLICATE_KEY',
    `input positions ${positions.join(' and ')} have the same conflict key; pass onConflictDuplicates: 'last-wins' to keep the last`,
    { entity, position: positions[1] },
  );
}

export function distributionColumn(entity: string, table: string, column: string, keyColumns: readonly string[]): CopyPersistError {
  return new CopyPersistError(
    'DISTRIBUTION_COLUMN',
    `${table} is a Citus distributed table on ${column}, and Citus can only enforce unique keys that include the distribution column; ` +
      `the conflict target (${keyColumns.join(', ')}) does not, so no unique index can arbitrate it. Add the distribution column to onConflictFields (and to the unique constraint)`,
    { entity },
  );
}

// --- the library's own checks ---

// --- bulk update, delete and sync ---

/** `operation`: copyUpdate, copyDelete or copySync. */
export function missingKey(operation: string, entity: string, position: number): CopyPersistError {
  return new CopyPersistError('MISSING_KEY', `${operation} needs the primary key of every item`, { entity, position });
}

export function keyWidthMismatch(entity: string, given: number, width: number, position: number): CopyPersistError {
  return new CopyPersistError('MISSING_KEY', `copyDelete: a key of ${given} value(s) for a primary key of ${width}`, { entity, position });
}

export function keysNotFound(entity: string, notFound: number, position: number): CopyPersistError {
  return new CopyPersistError('NOT_FOUND', `copyUpdate: ${notFound} key(s) match no row; the first`, { entity, position });
}

export function duplicatePrimaryKey(operation: string, entity: string, positions: readonly number[]): CopyPersistError {
  return new CopyPersistError('DUPLICATE_KEY', `${operation}: input positions ${positions.join(' and ')} have the same primary key`, { entity, position: positions[1] });
}

/** `why` completes "copyUpdate: `fields` names ...". */
export function notUpdatable(entity: string, property: string, why: 'unknown' | 'primary' | 'no-column'): CopyPersistError {
  if (why === 'unknown') return new CopyPersistError('UNKNOWN_PROPERTY', 'copyUpdate: `fields` names a property the entity does not have', { entity, property });
  if (why === 'primary') return new CopyPersistError('UNSUPPORTED_PROPERTY', 'copyUpdate: the primary key finds the row and cannot be updated', { entity, property });
  return new CopyPersistError('UNSUPPORTED_PROPERTY', 'copyUpdate: `fields` names a property without a column of its own (a collection, formula or inverse side)', { entity, property });
}

export function syncWithoutScope(entity: string): CopyPersistError {
  return new CopyPersistError('INVALID_INPUT', 'copySync needs a `where` scope (`{}` for the whole table)', { entity });
}

/** `committed`: a one-statement write, whose query committed with its rows before the count was seen. */
export function rowCountMismatch(encoded: number, counted: number, written: 'rolled-back' | 'committed' | 'in-caller-transaction' = 'rolled-back'): CopyPersistError {
  const outcome =
    written === 'committed' ? 'the rows PostgreSQL counted were committed'
    : written === 'in-caller-transaction' ? "the rows PostgreSQL counted are in the caller's transaction, which decides whether they commit"
    : 'nothing was written';
  return new CopyPersistError('INTERNAL', `${encoded} rows were encoded but PostgreSQL counted ${counted}; ${outcome}`);
}

export function statementAfterHeldCopy(): CopyPersistError {
  return new CopyPersistError('INTERNAL', 'copyPersist: a statement after rows held to be written at once, outside a transaction; nothing was written');
}

export function unknownTransactionContext(): CopyPersistError {
  return new CopyPersistError('INTERNAL', 'copyPersist: unrecognised transaction context; expected a MikroORM 6 (knex) or 7 (Kysely) transaction');
}

export function unsupportedMikroOrm(version: string): CopyPersistError {
  return new CopyPersistError('INTERNAL', `mikro-orm-pg-copy: the installed MikroORM (${version}) is neither MikroORM 6 (knex) nor 7 (Kysely)`);
}

// --- loadFile ---

export function fileNotReadable(path: string, cause: unknown): LoadFileError {
  const why = (cause as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such file' : (cause as Error).message;
  return new LoadFileError('FILE_NOT_FOUND', `cannot read ${path}: ${why}`, undefined, undefined, { cause });
}

/** `cause`: the database's error, annotated by {@link annotateDatabaseError}. */
export function missingTable(entity: string, cause: Error): LoadFileError {
  const reason = cause.message.replace(/^\w+ into \S+ failed[^:]*: /, '');
  return new LoadFileError('MISSING_TABLE', `the table of ${entity} does not exist (${reason}): create the schema or run the migrations first`, undefined, undefined, { cause });
}

/** `cause`: the lookup's own {@link CopyPersistError}, whose message (without its context) says why. */
export function unknownEntity(entity: unknown, cause?: CopyPersistError): LoadFileError {
  const message = cause ? cause.message.replace(/ \([^()]*\)$/, '') : `not an entity registered with this ORM: ${String(entity)}`;
  return new LoadFileError('UNKNOWN_ENTITY', message, undefined, undefined, cause && { cause });
}

export function badRow(line: number, reason: string, cause?: unknown): LoadFileError {
  return new LoadFileError('BAD_ROW', `line ${line}: ${reason}`, line, reason, cause === undefined ? undefined : { cause });
}

/**
 * A bad row that stopped a parallel load: `line` when known, else `batch` names the failed batch;
 * `committed` says which lines stay.
 */
export function badRowInParallel(where: { line: number } | { batch: string }, reason: string, committed: string, cause: unknown): LoadFileError {
  if ('line' in where) return new LoadFileError('BAD_ROW', `line ${where.line}: ${reason}; ${committed}`, where.line, reason, { cause });
  return new LoadFileError('BAD_ROW', `${where.batch}: ${reason}; ${committed}`, undefined, reason, { cause });
}

/** A header line the CSV reader could not read. */
export function badHeader(line: number, reason: string): LoadFileError {
  return new LoadFileError('BAD_HEADER', `line ${line}: ${reason}`, line, reason);
}

/** Header names that are no property; the CLI adds how its `--map` flag maps them. */
export function unknownColumns(line: number, entity: string, names: readonly string[]): LoadFileError {
  const list = names.map(u => `"${u}"`).join(', ');
  return new LoadFileError(
    'BAD_HEADER',
    `line ${line}: unknown column${names.length > 1 ? 's' : ''} ${list} (not a property of ${entity}; map it with the option map: { header: 'property' })`,
    line,
    'unknown column',
  );
}

export function missingColumns(line: number, properties: readonly string[]): LoadFileError {
  return new LoadFileError('BAD_HEADER', `line ${line}: no column for required propert${properties.length > 1 ? 'ies' : 'y'} ${properties.join(', ')}`, line, 'missing column');
}
