// PostgreSQL's binary COPY form of a column's value, beside pg-text.ts's text form. Binary input is
// typed by the column, not parsed, so each writer here is told the column's real type (its OID in
// the catalog) and must store what the server's text input function would store for the text the
// CSV path writes. Where that is not certain (a text form the server might read differently, a
// float that sits on a rounding tie, a type not listed here) a writer returns false and the row
// goes as CSV instead, so that the server's own text parser decides, as it does today.
import type { ChunkWriter } from './chunk-writer.js';

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
const FLOAT_TEXT = /^-?(\d+)(?:\.(\d+))?(?:[eE][-+]?\d+)?$/;
const NUMERIC_TEXT = /^(-?)(\d+)(?:\.(\d+))?(?:[eE]([-+]?\d+))?$/;
const UUID_TEXT = /^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$/;
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
    case 'int8': {
      if (!INTEGER_TEXT.test(text)) return false;
      const n = Number(text);
      if (Number.isSafeInteger(n)) {
        out.int8Field(n);
        return true;
      }
      const big = BigInt(text);
      if (big > INT8_MAX || big < INT8_MIN) return false;
      out.int8BigField(big);
      return true;
    }
    case 'float4':
    case 'float8':
      return floatFromText(kind, text, out);
    case 'bool':
      if (text === 'true' || text === 't') out.boolField(true);
      else if (text === 'false' || text === 'f') out.boolField(false);
      else return false;
      return true;
    case 'uuid':
      if (!UUID_TEXT.test(text)) return false;
      out.hexField(text.replaceAll('-', ''), 0);
      return true;
    case 'bytea':
      if (!BYTEA_HEX.test(text)) return false;
      out.hexField(text, 2);
      return true;
    case 'numeric':
      return numericFromText(text, out);
    case 'timestamptz':
    case 'timestamp':
    case 'date':
      return timeFromText(kind, text, out);
  }
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
function numericFromText(text: string, out: ChunkWriter): boolean {
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
  out.numericField(groups, weight, minus ? 0x4000 : 0, scale);
  return true;
}

const POWERS_OF_TEN = [1, 10, 100, 1000];

/**
 * The common form of numeric text (`-12.50`, no exponent: what the CSV path writes for most
 * decimals) scanned by hand, without the regular expression and the strings of the general case.
 * False, having written nothing, for any other form.
 */
function plainDecimal(text: string, out: ChunkWriter): boolean {
  const length = text.length;
  const start = text.charCodeAt(0) === 0x2d ? 1 : 0;
  if (length - start > 1000) return false;
  let point = -1;
  for (let j = start; j < length; j++) {
    const c = text.charCodeAt(j);
    if (c === 0x2e && point === -1) point = j;
    else if (c < 0x30 || c > 0x39) return false;
  }
  if (point === -1) point = length;
  // digits on both sides of a point, as the general form wants
  if (point === start || point === length - 1) return false;
  const scale = point === length ? 0 : length - point - 1;
  /** The decimal exponent of the digit at `j`. */
  const exponent = (j: number) => (j < point ? point - 1 - j : point - j);
  let first = start;
  while (first < length && (first === point || text.charCodeAt(first) === 0x30)) first++;
  if (first === length) {
    out.numericField([], 0, 0, scale);
    return true;
  }
  let last = length - 1;
  while (last === point || text.charCodeAt(last) === 0x30) last--;
  const weight = Math.floor(exponent(first) / 4);
  const groups: number[] = new Array(weight - Math.floor(exponent(last) / 4) + 1).fill(0);
  for (let j = first; j <= last; j++) {
    if (j === point) continue;
    const e = exponent(j);
    const group = Math.floor(e / 4);
    groups[weight - group] += (text.charCodeAt(j) - 0x30) * POWERS_OF_TEN[e - group * 4];
  }
  out.numericField(groups, weight, start === 1 ? 0x4000 : 0, scale);
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
const DATE_TEXT = /^\d{4}-\d\d-\d\d$/;

/** `YYYY-MM-DD` (what MikroORM's DateType writes) as days since 2000-01-01, without a Date; false for a day the calendar lacks. */
function plainDate(text: string, out: ChunkWriter): boolean {
  const year = Number(text.slice(0, 4));
  const month = Number(text.slice(5, 7));
  const day = Number(text.slice(8, 10));
  const leap = year % 4 === 0 && (year % 100 !== 0 || year % 400 === 0);
  if (year < 1 || month < 1 || month > 12 || day < 1 || day > DAYS_IN_MONTH[month - 1] || (month === 2 && day === 29 && !leap)) return false;
  out.int4Field(daysFromCivil(year, month, day) - 10957);
  return true;
}

/**
 * timestamptz: microseconds since 2000-01-01 UTC, from text with a zone (text without one would be
 * read in the session's time zone); timestamp: the wall-clock time written, any zone ignored, as
 * `timestamp_in` does; date: days since 2000-01-01, time and zone ignored, as `date_in` does.
 */
function timeFromText(kind: 'timestamptz' | 'timestamp' | 'date', text: string, out: ChunkWriter): boolean {
  if (kind === 'date' && text.length === 10 && DATE_TEXT.test(text)) return plainDate(text, out);
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
