// The bytes of one chunk, CSV or binary COPY tuples, written straight into a Buffer. Building a
// string per field and per row, then converting the chunk, made garbage collection and the final
// UTF-8 conversion the two largest costs of a copy (see the README's profile); writing bytes in
// place avoids both. The binary primitives are here, with the buffer; pg-binary.ts knows the types.

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

/**
 * A 32-bit word big-endian at `at` (two's complement when negative; an unsigned one as is), by
 * byte stores: Buffer's `writeInt32BE` checks range and offset on every call, about three times
 * the cost, and a binary tuple writes one or two of these per field.
 */
function int32At(buffer: Buffer, at: number, value: number): void {
  buffer[at] = value >>> 24;
  buffer[at + 1] = value >>> 16;
  buffer[at + 2] = value >>> 8;
  buffer[at + 3] = value;
}

/** `u` and four lowercase hexadecimal digits of `code` at `at` (after a backslash); returns the offset after them. */
function hexEscape(buffer: Buffer, at: number, code: number): number {
  buffer[at] = 0x75; // u
  buffer[at + 1] = HEX.charCodeAt(code >> 12);
  buffer[at + 2] = HEX.charCodeAt((code >> 8) & 0xf);
  buffer[at + 3] = HEX.charCodeAt((code >> 4) & 0xf);
  buffer[at + 4] = HEX.charCodeAt(code & 0xf);
  return at + 5;
}

/** A 16-bit word big-endian, as `int32At` (also for pg-binary.ts's writers that fill a field in place). */
export function int16At(buffer: Buffer, at: number, value: number): void {
  buffer[at] = value >>> 8;
  buffer[at + 1] = value;
}

/** Nesting past which JSON goes through `JSON.stringify` after all (which also reports a cycle). */
const MAX_JSON_DEPTH = 64;
const BACKSLASH = 0x5c;
const HEX = '0123456789abcdef';
/** JSON.stringify's short escapes of control characters, by code (0 where it writes `\u00XX`). */
const JSON_ESCAPES = new Uint8Array(0x20);
JSON_ESCAPES[0x08] = 0x62; // \b
JSON_ESCAPES[0x09] = 0x74; // \t
JSON_ESCAPES[0x0a] = 0x6e; // \n
JSON_ESCAPES[0x0c] = 0x66; // \f
JSON_ESCAPES[0x0d] = 0x72; // \r

/** A plain object or array whose JSON text `ChunkWriter` writes itself: no `toJSON`, no class but Object or Array. */
export function isPlainJson(value: unknown): value is object {
  if (value === null || typeof value !== 'object') return false;
  const proto = Object.getPrototypeOf(value) as unknown;
  return (proto === Object.prototype || proto === null || (proto === Array.prototype && Array.isArray(value))) && typeof (value as { toJSON?: unknown }).toJSON !== 'function';
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
   * `JSON.stringify(value)` of a plain object or array (`isPlainJson`) as a quoted CSV field, its
   * quotes doubled, written in place without the string. False, having written nothing, where it
   * might differ from JSON.stringify's text, or that text holds a NUL (see `#json`).
   */
  quotedJson(value: object): boolean {
    const start = this.#length;
    this.#reserve(1);
    this.#buffer[this.#length++] = QUOTE;
    if (!this.#json(value, 0, true)) {
      this.#length = start;
      return false;
    }
    this.#reserve(1);
    this.#buffer[this.#length++] = QUOTE;
    return true;
  }

  /** `quotedJson` as a binary field: json's text, or jsonb's (after its `version` byte). */
  jsonField(value: object, version?: number): boolean {
    const start = this.#length;
    this.#reserve(5);
    this.#length += 4;
    if (version !== undefined) this.#buffer[this.#length++] = version;
    if (!this.#json(value, 0, false)) {
      this.#length = start;
      return false;
    }
    int32At(this.#buffer, start, this.#length - start - 4);
    return true;
  }

  /**
   * JSON text as JSON.stringify writes it, for the values it writes the same way for certain:
   * null, booleans, numbers, strings, plain objects and arrays. False for anything else at any
   * depth (a `toJSON`, a class instance, a bigint, nesting past MAX_JSON_DEPTH), and for a NUL in a
   * string, which the string path reports as it always has. `csv`: quotes doubled.
   */
  #json(value: unknown, depth: number, csv: boolean): boolean {
    switch (typeof value) {
      case 'string':
        return this.#jsonString(value, csv);
      case 'number':
        if (!Number.isFinite(value)) this.ascii('null');
        // String(-0) is '0'
        else if (Number.isSafeInteger(value)) this.integer(value === 0 ? 0 : value);
        else this.ascii(String(value));
        return true;
      case 'boolean':
        this.ascii(value ? 'true' : 'false');
        return true;
      case 'object':
        break;
      default:
        return false;
    }
    if (value === null) {
      this.ascii('null');
      return true;
    }
    if (depth >= MAX_JSON_DEPTH || !isPlainJson(value)) return false;
    if (Array.isArray(value)) {
      this.#byte(0x5b);
      for (let i = 0; i < value.length; i++) {
        if (i > 0) this.#byte(COMMA);
        const item: unknown = value[i];
        // as JSON.stringify: what has no JSON form is null in an array
        if (item === undefined || typeof item === 'function' || typeof item === 'symbol') this.ascii('null');
        else if (!this.#json(item, depth + 1, csv)) return false;
      }
      this.#byte(0x5d);
      return true;
    }
    this.#byte(BRACE_OPEN);
    let first = true;
    const object = value as Record<string, unknown>;
    // for-in rather than Object.keys: no array per object; the same order for own keys
    for (const key in object) {
      if (!Object.hasOwn(object, key)) continue;
      const item = object[key];
      // as JSON.stringify: a property without a JSON form is left out
      if (item === undefined || typeof item === 'function' || typeof item === 'symbol') continue;
      if (first) first = false;
      else this.#byte(COMMA);
      if (!this.#jsonString(key, csv)) return false;
      this.#byte(COLON);
      if (!this.#json(item, depth + 1, csv)) return false;
    }
    this.#byte(BRACE_CLOSE);
    return true;
  }

  /** A JSON string literal as JSON.stringify escapes it (lone surrogates as `\uXXXX`), UTF-8; false on a NUL. */
  #jsonString(text: string, csv: boolean): boolean {
    const length = text.length;
    // at most 6 bytes per code unit (`\u001f`), 2 more per quote in CSV
    this.#reserve(6 * length + 4);
    const buffer = this.#buffer;
    let at = this.#length;
    buffer[at++] = QUOTE;
    if (csv) buffer[at++] = QUOTE;
    for (let i = 0; i < length; i++) {
      const c = text.charCodeAt(i);
      if (c >= 0x20 && c < 0x80) {
        if (c === QUOTE) {
          buffer[at++] = BACKSLASH;
          buffer[at++] = QUOTE;
          if (csv) buffer[at++] = QUOTE;
        } else {
          if (c === BACKSLASH) buffer[at++] = BACKSLASH;
          buffer[at++] = c;
        }
      } else if (c < 0x20) {
        if (c === 0) return false;
        buffer[at++] = BACKSLASH;
        const short = JSON_ESCAPES[c];
        if (short) buffer[at++] = short;
        else at = hexEscape(buffer, at, c);
      } else if (c < 0x800) {
        buffer[at++] = 0xc0 | (c >> 6);
        buffer[at++] = 0x80 | (c & 0x3f);
      } else if (c >= 0xd800 && c <= 0xdfff) {
        const next = i + 1 < length ? text.charCodeAt(i + 1) : 0;
        if (c <= 0xdbff && next >= 0xdc00 && next <= 0xdfff) {
          const point = 0x10000 + ((c - 0xd800) << 10) + (next - 0xdc00);
          buffer[at++] = 0xf0 | (point >> 18);
          buffer[at++] = 0x80 | ((point >> 12) & 0x3f);
          buffer[at++] = 0x80 | ((point >> 6) & 0x3f);
          buffer[at++] = 0x80 | (point & 0x3f);
          i++;
        } else {
          buffer[at++] = BACKSLASH;
          at = hexEscape(buffer, at, c);
        }
      } else {
        buffer[at++] = 0xe0 | (c >> 12);
        buffer[at++] = 0x80 | ((c >> 6) & 0x3f);
        buffer[at++] = 0x80 | (c & 0x3f);
      }
    }
    buffer[at++] = QUOTE;
    if (csv) buffer[at++] = QUOTE;
    this.#length = at;
    return true;
  }

  #byte(byte: number): void {
    this.#reserve(1);
    this.#buffer[this.#length++] = byte;
  }

  // --- binary COPY (pg-binary.ts): each field is its byte length, then its bytes; -1 is NULL ---

  /** A tuple's first two bytes: how many fields follow. */
  tuple(fields: number): void {
    this.#reserve(2);
    int16At(this.#buffer, this.#length, fields);
    this.#length += 2;
  }

  nullField(): void {
    this.#reserve(4);
    int32At(this.#buffer, this.#length, -1);
    this.#length += 4;
  }

  int2Field(value: number): void {
    this.#reserve(6);
    const at = this.#length;
    int32At(this.#buffer, at, 2);
    int16At(this.#buffer, at + 4, value);
    this.#length = at + 6;
  }

  int4Field(value: number): void {
    this.#reserve(8);
    const at = this.#length;
    int32At(this.#buffer, at, 4);
    int32At(this.#buffer, at + 4, value);
    this.#length = at + 8;
  }

  /** A safe integer as int8, without a BigInt. */
  int8Field(value: number): void {
    const high = Math.floor(value / 4294967296);
    this.#int8(high, value - high * 4294967296);
  }

  int8BigField(value: bigint): void {
    this.#reserve(12);
    int32At(this.#buffer, this.#length, 8);
    this.#buffer.writeBigInt64BE(value, this.#length + 4);
    this.#length += 12;
  }

  /**
   * A timestamp: microseconds since 2000-01-01 of `ms` (a whole number of milliseconds since
   * 1970) plus `micros` (under a second), as int8. Past 2^53 microseconds a double is not exact,
   * so the product is made of 32-bit halves.
   */
  timestampField(ms: number, micros: number): void {
    const since = ms - 946_684_800_000;
    const high = Math.floor(since / 4294967296);
    const low = (since - high * 4294967296) * 1000 + micros;
    const carry = Math.floor(low / 4294967296);
    this.#int8(high * 1000 + carry, low - carry * 4294967296);
  }

  #int8(high: number, low: number): void {
    this.#reserve(12);
    const at = this.#length;
    int32At(this.#buffer, at, 8);
    int32At(this.#buffer, at + 4, high);
    int32At(this.#buffer, at + 8, low);
    this.#length = at + 12;
  }

  float4Field(value: number): void {
    this.#reserve(8);
    int32At(this.#buffer, this.#length, 4);
    this.#buffer.writeFloatBE(value, this.#length + 4);
    this.#length += 8;
  }

  float8Field(value: number): void {
    this.#reserve(12);
    int32At(this.#buffer, this.#length, 8);
    this.#buffer.writeDoubleBE(value, this.#length + 4);
    this.#length += 12;
  }

  boolField(value: boolean): void {
    this.#reserve(5);
    int32At(this.#buffer, this.#length, 1);
    this.#buffer[this.#length + 4] = value ? 1 : 0;
    this.#length += 5;
  }

  /** UTF-8 text, after a `version` byte when given (jsonb's format version). */
  textField(text: string, version?: number): void {
    const length = text.length;
    this.#reserve(5 + length * 3);
    const buffer = this.#buffer;
    const start = this.#length;
    let at = start + 4;
    if (version !== undefined) buffer[at++] = version;
    let i = 0;
    // ASCII by hand up to the first other character: cheaper than a call into the encoder
    if (length <= SHORT_TEXT) {
      for (; i < length; i++) {
        const c = text.charCodeAt(i);
        if (c >= 0x80) break;
        buffer[at++] = c;
      }
    }
    if (i < length) at += buffer.write(i === 0 ? text : text.slice(i), at, 'utf8');
    int32At(buffer, start, at - start - 4);
    this.#length = at;
  }

  bytesField(bytes: ArrayBufferView): void {
    const view = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    this.#reserve(4 + view.length);
    int32At(this.#buffer, this.#length, view.length);
    view.copy(this.#buffer, this.#length + 4);
    this.#length += 4 + view.length;
  }

  /** The bytes of hexadecimal digits (known to be valid), from `from` on: uuid and bytea's `\\x` form. */
  hexField(hex: string, from: number): void {
    const bytes = (hex.length - from) / 2;
    this.#reserve(4 + bytes);
    int32At(this.#buffer, this.#length, bytes);
    this.#buffer.write(from === 0 ? hex : hex.slice(from), this.#length + 4, 'hex');
    this.#length += 4 + bytes;
  }

  /** numeric: base-10000 `digits`, the weight of the first, sign and display scale. */
  numericField(digits: readonly number[], weight: number, sign: number, scale: number): void {
    const bytes = 8 + 2 * digits.length;
    this.#reserve(4 + bytes);
    const buffer = this.#buffer;
    let at = this.#length;
    int32At(buffer, at, bytes);
    int16At(buffer, at + 4, digits.length);
    int16At(buffer, at + 6, weight);
    int16At(buffer, at + 8, sign);
    int16At(buffer, at + 10, scale);
    at += 12;
    for (const digit of digits) {
      int16At(buffer, at, digit);
      at += 2;
    }
    this.#length = at;
  }

  /**
   * Opens a one-dimensional array field of `count` elements of type `elementOid` (the elements
   * follow as fields); returns where to mark it as holding NULLs, for `endArray`.
   */
  beginArray(count: number, elementOid: number): number {
    this.#reserve(24);
    const buffer = this.#buffer;
    const at = this.#length;
    int32At(buffer, at + 4, count === 0 ? 0 : 1);
    int32At(buffer, at + 8, 0);
    int32At(buffer, at + 12, elementOid);
    if (count === 0) {
      this.#length = at + 16;
      return at;
    }
    int32At(buffer, at + 16, count);
    int32At(buffer, at + 20, 1);
    this.#length = at + 24;
    return at;
  }

  /** Closes the array field opened at `start`: its length, and whether an element was NULL. */
  endArray(start: number, hasNull: boolean): void {
    int32At(this.#buffer, start, this.#length - start - 4);
    if (hasNull) int32At(this.#buffer, start + 8, 1);
  }

  /**
   * Opens a field of `bytes` bytes that a writer of pg-binary.ts fills in place, at the returned
   * offset of `target`: uuid, numeric and int8 text go to their bytes without an intermediate
   * string, array or BigInt. `rewind(offset - 4)` takes the field back.
   */
  openField(bytes: number): number {
    this.#reserve(4 + bytes);
    const at = this.#length;
    int32At(this.#buffer, at, bytes);
    this.#length = at + 4 + bytes;
    return at + 4;
  }

  /** The buffer `openField`'s offset points into; valid until the next write. */
  get target(): Buffer {
    return this.#buffer;
  }

  /** Drops what was written after `length` (a row that goes as CSV after all). */
  rewind(length: number): void {
    this.#length = length;
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
