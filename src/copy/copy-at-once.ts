// A whole small write in one round trip: every COPY of the call in one simple-query message, each
// followed at once by its rows and CopyDone, all in one socket write. PostgreSQL runs the
// statements of one simple query as one implicit transaction, so the write is all or nothing
// without a BEGIN and a COMMIT of its own; and it reads the rows that follow each COPY as soon as
// that COPY asks for them, so the client need not wait for CopyInResponse. Should a statement
// fail, the server skips the rest of the query and ignores the CopyData and CopyDone still queued
// (the protocol says so: they may arrive after a failed COPY), then reports ready as usual.
import type { Submittable } from '../orm/index.js';

/** One COPY ... FROM STDIN and its rows. */
export interface CopyStatement {
  sql: string;
  bytes: Buffer;
}

/** Why the write failed: the server's (or the connection's) error, and the statement it hit. */
export interface CopyAtOnceFailure {
  error: Error;
  /** Index of the failing statement (the one after the last completed). */
  statement: number;
}

/** The parts of `pg`'s Connection used here. */
interface WireConnection {
  stream: { write(bytes: Buffer): boolean };
}

/** pg's active-query protocol: `pg` calls these as the server answers. */
class CopyAtOnceQuery implements Submittable {
  readonly #message: Buffer;
  readonly counts: number[] = [];
  #error: Error | undefined;
  readonly #settle: (failure?: CopyAtOnceFailure) => void;

  constructor(message: Buffer, settle: (failure?: CopyAtOnceFailure) => void) {
    this.#message = message;
    this.#settle = settle;
  }

  submit(connection: unknown): void {
    (connection as WireConnection).stream.write(this.#message);
  }

  handleCopyInResponse(): void {
    // the rows were sent with the statement
  }

  handleCommandComplete(message: { text?: string }): void {
    // BEGIN, COMMIT and ROLLBACK complete too; only the COPYs are counted
    const copied = /^COPY (\d+)/.exec(message.text ?? '');
    if (copied) this.counts.push(Number(copied[1]));
  }

  handleError(error: Error): void {
    // pg drops a query at its first error, so this is the last call: the connection is ready again
    // once the server says so, and pg queues the next query until then
    this.#error ??= error;
    this.#settle({ error: this.#error, statement: this.counts.length });
  }

  handleReadyForQuery(): void {
    this.#settle();
  }

  handleRowDescription(): void {}
  handleDataRow(): void {}
  handleEmptyQuery(): void {}
  handleCopyData(): void {}
  handlePortalSuspended(): void {}
}

/**
 * Runs `statements` as one query on the connection behind `submit`, between `before` and `after`
 * (statements without rows: the BEGIN and the COMMIT or ROLLBACK of a transaction); resolves with
 * each COPY's row count, or rejects with a `CopyAtOnceFailure`.
 */
export function copyAtOnce(statements: readonly CopyStatement[], submit: (query: Submittable) => void, after?: string, before?: string): Promise<number[]> {
  return new Promise((resolve, reject) => {
    const query = new CopyAtOnceQuery(messageOf(statements, after, before), failure => (failure ? reject(failure) : resolve(query.counts)));
    submit(query);
  });
}

/** Query('copy ...; copy ...'), then per statement CopyData and CopyDone, as one buffer. */
function messageOf(statements: readonly CopyStatement[], after: string | undefined, before: string | undefined): Buffer {
  const sql = statements.map(s => s.sql);
  if (after) sql.push(after);
  if (before) sql.unshift(before);
  const text = Buffer.from(sql.join('; '), 'utf8');
  let size = 1 + 4 + text.length + 1;
  for (const { bytes } of statements) size += (bytes.length ? 1 + 4 + bytes.length : 0) + 1 + 4;
  const out = Buffer.allocUnsafe(size);
  let at = out.writeUInt8(0x51, 0); // Q
  at = out.writeInt32BE(4 + text.length + 1, at);
  at += text.copy(out, at);
  at = out.writeUInt8(0, at);
  for (const { bytes } of statements) {
    if (bytes.length) {
      at = out.writeUInt8(0x64, at); // d: CopyData
      at = out.writeInt32BE(4 + bytes.length, at);
      at += bytes.copy(out, at);
    }
    at = out.writeUInt8(0x63, at); // c: CopyDone
    at = out.writeInt32BE(4, at);
  }
  return out;
}
