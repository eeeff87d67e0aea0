// CSV bytes of one chunk, written straight into a Buffer. Building a string per field and per
// row, then converting the chunk, made garbage collection and the final UTF-8 conversion the two
// largest costs of a copy (see the README's profile); writing bytes in place avoids both.

const QUOTE = 0x22;
const COMMA = 0x2c;
const NEWLINE = 0x0a;

export class ChunkWriter {
  #buffer: Buffer;
  #length = 0;

  constructor(capacity = 64 * 1024) {
    this.#buffer = Buffer.allocUnsafe(capacity);
  }

  get length(): number {
    return this.#length;
  }

  comma(): void {
    this.#reserve(1);
    this.#buffer[this.#length++] = COMMA;
  }

  newline(): void {
    this.#reserve(1);
    this.#buffer[this.#length++] = NEWLINE;
  }

  /** Text that needs no quoting: numbers, booleans, dates, bytea hex, the input position. */
  plain(text: string): void {
    this.#reserve(text.length * 3);
    this.#length += this.#buffer.write(text, this.#length, 'utf8');
  }

  /** A quoted CSV field, inner quotes doubled: the empty string stays distinct from NULL. */
  quoted(text: string): void {
    const escaped = text.indexOf('"') === -1 ? text : text.replaceAll('"', '""');
    this.#reserve(escaped.length * 3 + 2);
    const buffer = this.#buffer;
    buffer[this.#length++] = QUOTE;
    this.#length += buffer.write(escaped, this.#length, 'utf8');
    buffer[this.#length++] = QUOTE;
  }

  /**
   * Hands over the bytes written so far and starts a new buffer: the COPY stream may hold on to
   * a written buffer until the socket has sent it, so a buffer is never reused.
   */
  take(): Buffer {
    const bytes = this.#buffer.subarray(0, this.#length);
    this.#buffer = Buffer.allocUnsafe(Math.max(this.#buffer.length, 64 * 1024));
    this.#length = 0;
    return bytes;
  }

  #reserve(bytes: number): void {
    const needed = this.#length + bytes;
    if (needed <= this.#buffer.length) return;
    const grown = Buffer.allocUnsafe(Math.max(needed, this.#buffer.length * 2));
    this.#buffer.copy(grown, 0, 0, this.#length);
    this.#buffer = grown;
  }
}
