// CSV bytes of one chunk, written straight into a Buffer. Building a string per field and per
// row, then converting the chunk, made garbage collection and the final UTF-8 conversion the two
// largest costs of a copy (see the README's profile); writing bytes in place avoids both.

const QUOTE = 0x22;
const COMMA = 0x2c;
const NEWLINE = 0x0a;
const MINUS = 0x2d;
const COLON = 0x3a;
const DIGIT_0 = 0x30;
/** Up to this length a field is copied by hand; longer ones go to the UTF-8 encoder at once. */
const SHORT_TEXT = 256;
const BRACE_OPEN = 0x7b;
const BRACE_CLOSE = 0x7d;
/** Array elements MikroORM's `marshallArray` writes as JSON text (besides the empty one). */
/** Characters an element of a quoted array literal escapes with a backslash. */
const ARRAY_ESCAPE = /["\\]/;
const ARRAY_ESCAPES = /["\\]/g;

/** `value` as `width` zero-padded decimal digits at `at`. */
function digits(buffer: Buffer, at: number, value: number, width: number): void {
  for (let i = width - 1; i >= 0; i--) {
    buffer[at + i] = DIGIT_0 + (value % 10);
    value = (value - (value % 10)) / 10;
  }
}

const EMPTY = Buffer.alloc(0);
/** The first buffer of a writer: big enough for a small call's rows, grown (doubling) for a large one. */
const FIRST_CAPACITY = 4 * 1024;

export class ChunkWriter {
  // allocated at the first write, at the size the last chunk reached: a 10-row call then allocates
  // a few KB, not 64 KB twice (outside V8's heap, such buffers bring on full collections)
  #buffer: Buffer = EMPTY;
  #capacity: number;
  #length = 0;

  constructor(capacity = FIRST_CAPACITY) {
    this.#capacity = capacity;
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
    this.#reserve(2);
    this.#buffer[this.#length++] = QUOTE;
    this.#body(text);
    this.#reserve(1);
    this.#buffer[this.#length++] = QUOTE;
  }

  /**
   * A PostgreSQL array literal in a quoted CSV field, element by element: every element quoted,
   * `\` and `"` escaped, a null element NULL. So the array holds what the entity holds — `'NULL'`,
   * spaces around an element, control characters — where MikroORM's `marshallArray` (flush)
   * leaves `NULL` and spaces unquoted, for PostgreSQL to read as NULL and to trim. Writes nothing
   * and returns false when an element holds a NUL, which the generic path reports.
   */
  quotedArray(values: readonly unknown[], toDb: (value: unknown) => unknown): boolean {
    const start = this.#length;
    this.#reserve(2);
    this.#buffer[this.#length++] = QUOTE;
    this.#buffer[this.#length++] = BRACE_OPEN;
    for (let i = 0; i < values.length; i++) {
      if (i > 0) this.comma();
      const converted = toDb(values[i]);
      if (converted == null) {
        this.ascii('NULL');
        continue;
      }
      const element = '' + (converted as string);
      if (element.indexOf('\0') !== -1) {
        this.#length = start;
        return false;
      }
      // the element's own quotes, doubled for the CSV field around the literal: `""`
      this.#reserve(2);
      this.#buffer[this.#length++] = QUOTE;
      this.#buffer[this.#length++] = QUOTE;
      this.#body(ARRAY_ESCAPE.test(element) ? element.replace(ARRAY_ESCAPES, '\\$&') : element);
      this.#reserve(2);
      this.#buffer[this.#length++] = QUOTE;
      this.#buffer[this.#length++] = QUOTE;
    }
    this.#reserve(2);
    this.#buffer[this.#length++] = BRACE_CLOSE;
    this.#buffer[this.#length++] = QUOTE;
    return true;
  }

  /**
   * The inside of a quoted field: quotes doubled. Short text is copied a character at a time
   * while it is ASCII: cheaper than a call into the UTF-8 encoder per field; the first other
   * character hands the rest to that encoder.
   */
  #body(text: string): void {
    const length = text.length;
    if (length > SHORT_TEXT) {
      const escaped = text.indexOf('"') === -1 ? text : text.replaceAll('"', '""');
      this.#reserve(escaped.length * 3);
      this.#length += this.#buffer.write(escaped, this.#length, 'utf8');
      return;
    }
    this.#reserve(length * 3);
    const buffer = this.#buffer;
    let at = this.#length;
    for (let i = 0; i < length; i++) {
      const c = text.charCodeAt(i);
      if (c >= 0x80) {
        const rest = text.slice(i);
        at += buffer.write(rest.indexOf('"') === -1 ? rest : rest.replaceAll('"', '""'), at, 'utf8');
        break;
      }
      buffer[at++] = c;
      if (c === QUOTE) buffer[at++] = QUOTE;
    }
    this.#length = at;
  }

  /** Text known to be ASCII (numbers, booleans, ISO dates), without a call into the UTF-8 encoder. */
  ascii(text: string): void {
    const length = text.length;
    this.#reserve(length);
    const buffer = this.#buffer;
    let at = this.#length;
    for (let i = 0; i < length; i++) buffer[at++] = text.charCodeAt(i);
    this.#length = at;
  }

  /** A safe integer's decimal digits, without making its string. */
  integer(value: number): void {
    this.#reserve(17);
    const buffer = this.#buffer;
    let at = this.#length;
    if (value < 0) {
      buffer[at++] = MINUS;
      value = -value;
    }
    let digits = 1;
    for (let rest = value; rest >= 10; rest = Math.floor(rest / 10)) digits++;
    at += digits;
    for (let i = 1; i <= digits; i++) {
      buffer[at - i] = DIGIT_0 + (value % 10);
      value = Math.floor(value / 10);
    }
    this.#length = at;
  }

  /** `Date.prototype.toISOString` of a date between the years 1 and 9999, written in place. */
  isoDate(date: Date): void {
    this.#reserve(24);
    const buffer = this.#buffer;
    const at = this.#length;
    digits(buffer, at, date.getUTCFullYear(), 4);
    buffer[at + 4] = MINUS;
    digits(buffer, at + 5, date.getUTCMonth() + 1, 2);
    buffer[at + 7] = MINUS;
    digits(buffer, at + 8, date.getUTCDate(), 2);
    buffer[at + 10] = 0x54; // T
    digits(buffer, at + 11, date.getUTCHours(), 2);
    buffer[at + 13] = COLON;
    digits(buffer, at + 14, date.getUTCMinutes(), 2);
    buffer[at + 16] = COLON;
    digits(buffer, at + 17, date.getUTCSeconds(), 2);
    buffer[at + 19] = 0x2e; // .
    digits(buffer, at + 20, date.getUTCMilliseconds(), 3);
    buffer[at + 23] = 0x5a; // Z
    this.#length = at + 24;
  }

  /**
   * Hands over the bytes written so far and starts a new buffer: the COPY stream may hold on to
   * a written buffer until the socket has sent it, so a buffer is never reused.
   */
  take(): Buffer {
    const bytes = this.#buffer.subarray(0, this.#length);
    this.#capacity = Math.max(this.#buffer.length, this.#capacity);
    this.#buffer = EMPTY;
    this.#length = 0;
    return bytes;
  }

  #reserve(bytes: number): void {
    const needed = this.#length + bytes;
    if (needed <= this.#buffer.length) return;
    const grown = Buffer.allocUnsafe(Math.max(needed, this.#buffer.length * 2, this.#capacity));
    this.#buffer.copy(grown, 0, 0, this.#length);
    this.#buffer = grown;
  }
}
