// One `COPY ... FROM STDIN` on one connection: write chunks with backpressure, finish with the
// server's row count, or abort so that the server rolls the COPY back and the connection is free.
import { once } from 'node:events';
import { from as copyFrom } from 'pg-copy-streams';
import type { Submittable } from '../orm/index.js';

type CopyStream = ReturnType<typeof copyFrom>;

/** COPY in progress on a connection. */
export class CopyIn {
  readonly #stream: CopyStream;
  #error: Error | undefined;
  /** Resolves at 'finish' (the server stored the rows and is ready) or at the first 'error'. */
  readonly #settled: Promise<void>;
  #done = false;

  private constructor(stream: CopyStream) {
    this.#stream = stream;
    this.#settled = new Promise<void>(resolve => {
      stream.once('finish', resolve);
      // pg-copy-streams may emit several errors while it unwinds; the first one is the cause
      stream.on('error', (e: Error) => {
        this.#error ??= e;
        resolve();
      });
    }).then(() => {
      this.#done = true;
    });
  }

  /** Queues `sql` (a `COPY ... FROM STDIN` statement) on the connection behind `submit`. */
  static start(sql: string, submit: (query: Submittable) => void): CopyIn {
    const stream = copyFrom(sql);
    const copy = new CopyIn(stream);
    submit(stream as unknown as Submittable);
    return copy;
  }

  /** The error the server or the stream reported, if any. */
  get error(): Error | undefined {
    return this.#error;
  }

  /** Writes one chunk; waits while the socket's buffer is full. */
  async write(chunk: Buffer): Promise<void> {
    this.#throwIfFailed();
    if (!this.#stream.write(chunk)) {
      await Promise.race([once(this.#stream, 'drain'), this.#settled]);
      this.#throwIfFailed();
    }
  }

  /** Ends the COPY; resolves with the number of rows PostgreSQL stored once it is ready for the next query. */
  async end(): Promise<number> {
    this.#throwIfFailed();
    this.#stream.end();
    await this.#settled;
    this.#throwIfFailed();
    return this.#stream.rowCount;
  }

  /**
   * Cancels the COPY (pg-copy-streams sends CopyFail) and waits until the server has answered,
   * so the connection can take the rollback next.
   */
  async abort(reason: Error): Promise<void> {
    // after an error from the server the COPY is over already: nothing to cancel
    if (this.#done) return;
    const closed = once(this.#stream, 'close').catch(() => undefined);
    this.#stream.destroy(reason);
    await closed;
  }

  #throwIfFailed(): void {
    if (this.#error) throw this.#error;
  }
}
