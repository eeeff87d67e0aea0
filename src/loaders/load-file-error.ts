/**
 * Stable codes of {@link LoadFileError}:
 *
 * - `BAD_ROW`: a record that cannot be loaded (malformed, a value of the wrong type or range, or
 *   rejected by PostgreSQL); `line` names it. With a reject file such rows are written there instead.
 * - `BAD_HEADER`: the CSV header names an unknown column or leaves out a required one.
 * - `FILE_NOT_FOUND`: the file does not exist or cannot be read.
 * - `UNKNOWN_ENTITY`: no entity of that name is registered with the ORM.
 * - `MISSING_TABLE`: the entity's table does not exist in the database.
 */
export type LoadFileErrorCode = 'BAD_ROW' | 'BAD_HEADER' | 'FILE_NOT_FOUND' | 'UNKNOWN_ENTITY' | 'MISSING_TABLE';

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
export class LoadFileError extends Error {
  override readonly name = 'LoadFileError';

  constructor(
    readonly code: LoadFileErrorCode,
    message: string,
    /** Line of the file (1-based), when the error is about one. */
    readonly line?: number,
    /** What is wrong with it. */
    readonly reason?: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}
