// PostgreSQL's binary COPY form of a column's value, beside pg-text.ts's text form. Binary input is
// typed by the column, not parsed, so each writer here is told the column's real type (its OID in
// the catalog) and must store what the server's text input function would store for the text the
// CSV path writes. Where that is not certain (a text form the server might read differently, a
// float that sits on a rounding tie, a type not listed here) a writer returns false and the row
// goes as CSV instead, so that the server's own text parser decides, as it does today.
import { int16At, type ChunkWriter } from './chunk-writer.js';

/** Column types written in binary; every other type keeps its table on CSV. */
export type BinaryKind = 'int2' | 'int4' | 'int8' | 'float4' | 'float8' | 'bool' | 'text' | 'json' | 'jsonb' | 'uuid' | 'numeric' | 'timestamptz' | 'timestamp' | 'date' | 'bytea';

/** How one column of a COPY is written in binary. */
export interface BinaryColumn {
  kind: BinaryKind;
  /** For an array column: the element type's OID (array_recv checks it); the kind is the element's. */
  elementOid?: number;
}

/** Scalar types by OID (pg_type.oid, fixed for built-in types). char(n) and varchar(n) take text's bytes: their receive functions apply the length as their input functions do. */
const SCALAR_KINDS = new Map<number, BinaryKind>([
  [21, 'int2'], [23, 'int4'], [20, 'int8'], [700, 'float4'], [701, 'float8'], [16, 'bool'],
  [25, 'text'], [1043, 'text'], [1042, 'text'], [114, 'json'], [3802, 'jsonb'], [2950, 'uuid'],
  [1700, 'numeric'], [1184, 'timestamptz'], [1114, 'timestamp'], [1082, 'date'], [17, 'bytea'],
]);

/** One-dimensional arrays written in binary: array OID → element OID. */
const ARRAY_ELEMENTS = new Map<number, number>([
  [1009, 25], [1015, 1043], [1014, 1042], [1005, 21], [1007, 23], [1016, 20], [1021, 700], [1022, 701], [1000, 16], [2951, 2950], [1231, 1700],
]);

/** The binary writer of a column of type `oid`, or undefined when the column has none (the table stays CSV). */
export function binaryColumnOf(oid: number): BinaryColumn | undefined {
  const kind = SCALAR_KINDS.get(oid);
  if (kind) return { kind };
  const element = ARRAY_ELEMENTS.get(oid);
  return element === undefined ? undefined : { kind: SCALAR_KINDS.get(element)!, elementOid: element };
}

/** The 19 bytes before the first tuple: signature, flags, header extension length. */
export const BINARY_HEADER = Buffer.concat([Buffer.from('PGCOPY\n\xff\r\n\0', 'latin1'), Buffer.alloc(8)]);
/** The file trailer: a tuple of -1 fields. */
export const BINARY_TRAILER = Buffer.from([0xff, 0xff]);

const INT_RANGE: Record<'int2' | 'int4', [number, number]> = { int2: [-32768, 32767], int4: [-2147483648, 2147483647] };
const INT8_MAX = 9223372036854775807n;
const INT8_MIN = -9223372036854775808n;
const INTEGER_TEXT = /^-?\d{1,19}$/;
const MINUS = 0x2d;
const ZERO = 0x30;
/** numeric's sign word of a negative value. */
const NUMERIC_NEG = 0x4000;
const NO_DIGITS: readonly number[] = [];
const FLOAT_TEXT = /^-?(\d+)(?:\.(\d+))?(?:[eE][-+]?\d+)?$/;
const NUMERIC_TEXT = /^(-?)(\d+)(?:\.(\d+))?(?:[eE]([-+]?\d+))?$/;
const BYTEA_HEX = /^\\x(?:[0-9a-fA-F]{2})*$/;
/** ISO 8601 as `toISOString` and MikroORM's `formatDate` write it: the date, the time, a fraction, a zone. */
const TIMESTAMP_TEXT = /^(\d{4})-(\d\d)-(\d\d)(?:[T ](\d\d):(\d\d):(\d\d)(?:\.(\d{1,6}))?(Z|[+-]\d\d:\d\d)?)?$/;
const SMALLEST_NORMAL_FLOAT4 = 1.1754943508222875e-38;
const SMALLEST_NORMAL_FLOAT8 = 2.2250738585072014e-308;
/** 2000-01-01, PostgreSQL's epoch for dates and timestamps. */
export const PG_EPOCH_MS = 946_684_800_000;
const DAY_MS = 86_400_000;

const f32 = new Float32Array(1);
const u32 = new Uint32Array(f32.buffer);

/**
 * `n` as the real (float4) the server reads from `String(n)`, or undefined where that is not
 * certain. `strtof` rounds the decimal text once; `Math.fround` rounds the double that text
 * stands for. The two agree unless the double is exactly halfway between two floats (the text may
 * lie on either side of it), or the value underflows or overflows, where the server raises an error.
 */
export function float4Of(n: number): number | undefined {
  const f = Math.fround(n);
  if (f === n) return f;
  if (!Number.isFinite(f) || Math.abs(f) < SMALLEST_NORMAL_FLOAT4) return undefined;
  f32[0] = f;
  // the float on the other side of n: one step away from f, toward n
  u32[0] += Math.abs(n) > Math.abs(f) ? 1 : -1;
  const other = f32[0];
  if (!Number.isFinite(other) || (f + other) / 2 === n) return undefined;
  return f;
}

/** Is `n` a float8 the server reads back as itself from `String(n)`? (Subnormals: the server may call them out of range.) */
export function isExactFloat8(n: number): boolean {
  return Number.isFinite(n) && (n === 0 || Math.abs(n) >= SMALLEST_NORMAL_FLOAT8);
}

/**
 * Writes the field of `text` — what the CSV path would send — for a column of `kind`, as the
 * column's input function would read it. Returns false, having written nothing, when the text is
 * not in a form this function is sure to read as the server does.
 */
export function writeTextAs(kind: BinaryKind, text: string, out: ChunkWriter): boolean {
  switch (kind) {
    case 'text':
    case 'json':
      out.textField(text);
      return true;
    case 'jsonb':
      out.textField(text, 1);
      return true;
    case 'int2':
    case 'int4': {
      if (!INTEGER_TEXT.test(text)) return false;
      const n = Number(text);
      const [min, max] = INT_RANGE[kind];
      if (n < min || n > max) return false;
      if (kind === 'int2') out.int2Field(n);
      else out.int4Field(n);
      return true;
    }
    case 'int8':
      return int8FromText(text, out);
    case 'float4':
    case 'float8':
      return floatFromText(kind, text, out);
    case 'bool':
      if (text === 'true' || text === 't') out.boolField(true);
      else if (text === 'false' || text === 'f') out.boolField(false);
      else return false;
      return true;
    case 'uuid':
      return uuidFromText(text, out);
    case 'bytea':
      if (!BYTEA_HEX.test(text)) return false;
      out.hexField(text, 2);
      return true;
    case 'numeric':
      return numericFromText(text, out);
    case 'timestamptz':
    case 'timestamp':
      return timeFromText(kind, text, out);
    case 'date':
      return dateFromText(text, out);
  }
}

/**
 * int8 from its decimal text (`-?` and 1 to 19 digits, as `BigIntType` writes it), read as
 * `int8in` reads it: the digits summed in a double while that is exact (up to 2^53), else one
 * BigInt. False for any other form or a value out of range.
 */
export function int8FromText(text: string, out: ChunkWriter): boolean {
  const length = text.length;
  const start = length > 0 && text.charCodeAt(0) === MINUS ? 1 : 0;
  if (length - start < 1 || length - start > 19) return false;
  let n = 0;
  for (let i = start; i < length; i++) {
    const digit = text.charCodeAt(i) - ZERO;
    if (digit < 0 || digit > 9) return false;
    n = n * 10 + digit;
  }
  // past 2^53 the sum has rounded, but stays past it: never mistaken for a safe integer
  if (Number.isSafeInteger(n)) {
    out.int8Field(start === 1 ? -n : n);
    return true;
  }
  return int8FromBigInt(BigInt(text), out);
}

/** A bigint as int8 (what `'' + value` reads as); false out of int8's range, where the server reports the error. */
export function int8FromBigInt(value: bigint, out: ChunkWriter): boolean {
  // most fit a double: its two 32-bit halves are cheaper to write than the BigInt's
  const n = Number(value);
  if (Number.isSafeInteger(n)) {
    out.int8Field(n);
    return true;
  }
  if (value > INT8_MAX || value < INT8_MIN) return false;
  out.int8BigField(value);
  return true;
}

/** A hexadecimal digit's value, or -1. */
function hexValue(c: number): number {
  if (c >= ZERO && c <= ZERO + 9) return c - ZERO;
  const lower = c | 0x20;
  return lower >= 0x61 && lower <= 0x66 ? lower - 0x57 : -1;
}

/**
 * uuid from its canonical text (8-4-4-4-12 hexadecimal digits, either case: what MikroORM and
 * `crypto.randomUUID` write), hex pairs straight to its 16 bytes. False for the other forms
 * `uuid_in` accepts (braces, no hyphens), which go as CSV for the server to read.
 */
export function uuidFromText(text: string, out: ChunkWriter): boolean {
  if (text.length !== 36) return false;
  const at = out.openField(16);
  const bytes = out.target;
  let i = 0;
  for (let b = 0; b < 16; b++) {
    if (i === 8 || i === 13 || i === 18 || i === 23) {
      if (text.charCodeAt(i) !== MINUS) return rewound(out, at);
      i++;
    }
    const high = hexValue(text.charCodeAt(i));
    const low = hexValue(text.charCodeAt(i + 1));
    if (high < 0 || low < 0) return rewound(out, at);
    bytes[at + b] = (high << 4) | low;
    i += 2;
  }
  return true;
}

/** Takes back the field `openField` opened at `at`; false, for the caller to return. */
function rewound(out: ChunkWriter, at: number): false {
  out.rewind(at - 4);
  return false;
}

/** Base-10000 digits of a safe integer, least significant first (at most 4: 2^53 < 10^16). */
const intGroups = [0, 0, 0, 0];

/**
 * numeric from a JavaScript number, as `numeric_in` reads `String(n)`: a safe integer straight
 * to its base-10000 digits (its text has no point and no exponent), anything else through its
 * text. False where that text has no exact form (see `numericFromText`).
 */
export function numericFromNumber(n: number, out: ChunkWriter): boolean {
  if (!Number.isSafeInteger(n)) return numericFromText(String(n), out);
  let rest = n < 0 ? -n : n;
  let count = 0;
  while (rest > 0) {
    const group = rest % 10000;
    intGroups[count++] = group;
    rest = (rest - group) / 10000;
  }
  // the trailing zero digits numeric_in strips (`100000000` is 1 at weight 2)
  let lowest = 0;
  while (lowest < count && intGroups[lowest] === 0) lowest++;
  const digits = count - lowest;
  const at = out.openField(8 + 2 * digits);
  const bytes = out.target;
  int16At(bytes, at, digits);
  int16At(bytes, at + 2, count === 0 ? 0 : count - 1);
  int16At(bytes, at + 4, n < 0 ? NUMERIC_NEG : 0);
  int16At(bytes, at + 6, 0);
  for (let g = count - 1, o = at + 8; g >= lowest; g--, o += 2) int16At(bytes, o, intGroups[g]);
  return true;
}

function floatFromText(kind: 'float4' | 'float8', text: string, out: ChunkWriter): boolean {
  if (text === 'NaN' || text === 'Infinity' || text === '-Infinity') {
    const n = Number(text);
    if (kind === 'float4') out.float4Field(n);
    else out.float8Field(n);
    return true;
  }
  const match = FLOAT_TEXT.exec(text);
  if (!match) return false;
  const n = Number(text);
  // 0 from digits that are not all zeros is an underflow, which the server reports
  if (n === 0 && /[1-9]/.test(match[1] + (match[2] ?? ''))) return false;
  if (kind === 'float8') {
    if (!isExactFloat8(n)) return false;
    out.float8Field(n);
    return true;
  }
  const f = float4Of(n);
  if (f === undefined) return false;
  out.float4Field(f);
  return true;
}

/**
 * numeric's binary form: base-10000 digits, the weight of the first, the sign, and the display
 * scale `numeric_in` gives the text (digits after the point, less the exponent). The server
 * applies the column's precision and scale to it as it does to parsed text.
 */
export function numericFromText(text: string, out: ChunkWriter): boolean {
  if (text === 'NaN') {
    out.numericField([], 0, 0xc000, 0);
    return true;
  }
  if (plainDecimal(text, out)) return true;
  const match = NUMERIC_TEXT.exec(text);
  if (!match) return false;
  const [, minus, whole, fraction = '', exponentText] = match;
  const exponent = exponentText === undefined ? 0 : Number(exponentText);
  // the server's own limits on exponent and scale differ by version: leave such text to it
  if (Math.abs(exponent) > 1000 || whole.length + fraction.length > 1000) return false;
  const scale = Math.max(0, fraction.length - exponent);
  let digits = whole + fraction;
  /** Digits before the decimal point. */
  let point = whole.length + exponent;
  let start = 0;
  while (start < digits.length && digits.charCodeAt(start) === 0x30) start++;
  let end = digits.length;
  while (end > start && digits.charCodeAt(end - 1) === 0x30) end--;
  if (start === end) {
    out.numericField([], 0, 0, scale);
    return true;
  }
  point -= start;
  digits = digits.slice(start, end);
  const weight = Math.floor((point - 1) / 4);
  const padded = '0'.repeat(4 * weight + 4 - point) + digits;
  const groups: number[] = [];
  for (let i = 0; i < padded.length; i += 4) groups.push(Number(padded.slice(i, i + 4).padEnd(4, '0')));
  out.numericField(groups, weight, minus ? NUMERIC_NEG : 0, scale);
  return true;
}

/**
 * The common form of numeric text (`-12.50`, no exponent: what the CSV path writes for most
 * decimals) scanned by hand and written into the field in place, without the regular expression,
 * strings and digit array of the general case. False, having written nothing, for any other form.
 */
function plainDecimal(text: string, out: ChunkWriter): boolean {
  const length = text.length;
  const start = length > 0 && text.charCodeAt(0) === MINUS ? 1 : 0;
  if (length - start > 1000) return false;
  let point = -1;
  /** The first and last digit that is not 0. */
  let first = -1;
  let last = -1;
  for (let j = start; j < length; j++) {
    const c = text.charCodeAt(j);
    if (c === 0x2e && point === -1) point = j;
    else if (c < ZERO || c > ZERO + 9) return false;
    else if (c !== ZERO) {
      if (first === -1) first = j;
      last = j;
    }
  }
  if (point === -1) point = length;
  // digits on both sides of a point, as the general form wants
  if (point === start || point === length - 1) return false;
  const scale = point === length ? 0 : length - point - 1;
  if (first === -1) {
    out.numericField(NO_DIGITS, 0, 0, scale);
    return true;
  }
  // the decimal exponent of the digit at j is point - 1 - j before the point, point - j after it
  const weight = Math.floor((first < point ? point - 1 - first : point - first) / 4);
  const lowest = Math.floor((last < point ? point - 1 - last : point - last) / 4);
  const digits = weight - lowest + 1;
  const at = out.openField(8 + 2 * digits);
  const bytes = out.target;
  int16At(bytes, at, digits);
  int16At(bytes, at + 2, weight);
  int16At(bytes, at + 4, start === 1 ? NUMERIC_NEG : 0);
  int16At(bytes, at + 6, scale);
  let o = at + 8;
  for (let g = weight; g >= lowest; g--, o += 2) {
    let group = 0;
    for (let e = 4 * g + 3; e >= 4 * g; e--) {
      const j = e >= 0 ? point - 1 - e : point - e;
      group = group * 10 + (j >= start && j < length ? text.charCodeAt(j) - ZERO : 0);
    }
    int16At(bytes, o, group);
  }
  return true;
}

/** Days from 1970-01-01 of a proleptic Gregorian date (Howard Hinnant's `days_from_civil`). */
function daysFromCivil(year: number, month: number, day: number): number {
  const y = month <= 2 ? year - 1 : year;
  const era = Math.floor(y / 400);
  const yearOfEra = y - era * 400;
  const dayOfYear = Math.floor((153 * (month > 2 ? month - 3 : month + 9) + 2) / 5) + day - 1;
  return era * 146097 + yearOfEra * 365 + Math.floor(yearOfEra / 4) - Math.floor(yearOfEra / 100) + dayOfYear - 719468;
}

const DAYS_IN_MONTH = [31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31];
/** The number written in `text` from `from` to `to` (digits only), or -1. */
function digitsOf(text: string, from: number, to: number): number {
  let n = 0;
  for (let i = from; i < to; i++) {
    const digit = text.charCodeAt(i) - ZERO;
    if (digit < 0 || digit > 9) return -1;
    n = n * 10 + digit;
  }
  return n;
}

/**
 * `YYYY-MM-DD` (what MikroORM's DateType writes) as days since 2000-01-01, read by char code
 * without a Date or a substring; false for another form (the general path reads it) or a day the
 * calendar lacks (the server rejects it).
 */
function plainDate(text: string, out: ChunkWriter): boolean {
  if (text.length !== 10 || text.charCodeAt(4) !== MINUS || text.charCodeAt(7) !== MINUS) return false;
  const year = digitsOf(text, 0, 4);
  const month = digitsOf(text, 5, 7);
  const day = digitsOf(text, 8, 10);
  const leap = year % 4 === 0 && (year % 100 !== 0 || year % 400 === 0);
  if (year < 1 || month < 1 || month > 12 || day < 1 || day > DAYS_IN_MONTH[month - 1] || (month === 2 && day === 29 && !leap)) return false;
  out.int4Field(daysFromCivil(year, month, day) - 10957);
  return true;
}

/** date from its text: `YYYY-MM-DD` by hand, any other form as `timeFromText` reads it. */
export function dateFromText(text: string, out: ChunkWriter): boolean {
  return plainDate(text, out) || timeFromText('date', text, out);
}

/**
 * timestamptz: microseconds since 2000-01-01 UTC, from text with a zone (text without one would be
 * read in the session's time zone); timestamp: the wall-clock time written, any zone ignored, as
 * `timestamp_in` does; date: days since 2000-01-01, time and zone ignored, as `date_in` does.
 */
function timeFromText(kind: 'timestamptz' | 'timestamp' | 'date', text: string, out: ChunkWriter): boolean {
  const match = TIMESTAMP_TEXT.exec(text);
  if (!match) return false;
  const [, y, mo, d, h, mi, s, fraction, zone] = match;
  const year = Number(y);
  const month = Number(mo);
  const day = Number(d);
  if (year < 1) return false;
  const date = new Date(0);
  date.setUTCFullYear(year, month - 1, day);
  // a day the calendar does not have (Feb 30): the server rejects it
  if (date.getUTCFullYear() !== year || date.getUTCMonth() !== month - 1 || date.getUTCDate() !== day) return false;
  if (kind === 'date') {
    out.int4Field(Math.round((date.getTime() - PG_EPOCH_MS) / DAY_MS));
    return true;
  }
  if (h === undefined) return false;
  const hours = Number(h);
  const minutes = Number(mi);
  const seconds = Number(s);
  if (hours > 23 || minutes > 59 || seconds > 59) return false;
  let ms = date.getTime() + ((hours * 60 + minutes) * 60 + seconds) * 1000;
  if (kind === 'timestamptz') {
    if (zone === undefined) return false;
    if (zone !== 'Z') {
      const offset = (Number(zone.slice(1, 3)) * 60 + Number(zone.slice(4, 6))) * 60_000;
      ms -= zone[0] === '-' ? -offset : offset;
    }
  }
  out.timestampField(ms, fraction === undefined ? 0 : Number(fraction.padEnd(6, '0')));
  return true;
}

/** Days since 2000-01-01 of a date's UTC calendar day (the date part of its ISO text). */
export function pgDays(time: number): number {
  return Math.floor((time - PG_EPOCH_MS) / DAY_MS);
}
