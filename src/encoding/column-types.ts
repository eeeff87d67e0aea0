// The one registry of column type families: for a property, what JavaScript value flush's snapshot
// holds after MikroORM's conversion (so the compiled encoder tests for it first), which checks that
// value needs (integer columns, NUL escapes in json and array text) and how it is written. Anything
// a family does not expect takes the generic path (`toPgText`), which knows every value's text.
import { ArrayType, JsonType, Platform as BasePlatform, type EntityProperty, type Platform } from '@mikro-orm/core';

const INTEGER_COLUMN = /^(smallint|integer|int|bigint|int2|int4|int8|smallserial|serial|bigserial)\b/i;
const FLOAT_COLUMN = /^(real|float4|float8|double precision|float)\b/i;
const NUMERIC_COLUMN = /^(numeric|decimal)\b/i;
const BOOLEAN_COLUMN = /^(boolean|bool)\b/i;
const TIMESTAMP_COLUMN = /^(timestamptz|timestamp|date|time)\b/i;
const JSONB_COLUMN = /^jsonb\b/i;
const ARRAY_COLUMN = /\[\d*\]\s*$/;

/** The JavaScript type a family's values have once converted, tested first when encoding. */
export type ExpectedValue = 'string' | 'number' | 'boolean' | 'Date';

/** Column facts the conversion depends on, read once from the property. */
export interface ColumnTraits {
  integer: boolean;
  jsonb: boolean;
  /** A PostgreSQL array column (`text[]`, `int[]`, ...). */
  array: boolean;
  /** A float or numeric column, which stores `NaN` and `±Infinity` (flush cannot write them). */
  nonFinite: boolean;
}

/** One column type family. */
export interface ColumnFamily {
  name: 'integer' | 'float' | 'boolean' | 'timestamp' | 'text';
  expects: ExpectedValue;
  matches(columnType: string): boolean;
}

/**
 * The families, most specific first; `text` takes the rest, since text, varchar, uuid, enums,
 * numeric, bigint (a string after MikroORM's `BigIntType`), json and array literals all reach the
 * encoder as strings.
 */
export const COLUMN_FAMILIES: readonly ColumnFamily[] = [
  { name: 'integer', expects: 'number', matches: t => INTEGER_COLUMN.test(t) && !/^bigint|^int8|^bigserial/i.test(t) },
  { name: 'float', expects: 'number', matches: t => FLOAT_COLUMN.test(t) },
  { name: 'boolean', expects: 'boolean', matches: t => BOOLEAN_COLUMN.test(t) },
  { name: 'timestamp', expects: 'Date', matches: t => TIMESTAMP_COLUMN.test(t) && !ARRAY_COLUMN.test(t) },
  { name: 'text', expects: 'string', matches: () => true },
];

export function columnTraits(columnType: string | undefined): ColumnTraits {
  const type = columnType ?? '';
  const scalar = !ARRAY_COLUMN.test(type);
  return {
    integer: INTEGER_COLUMN.test(type),
    jsonb: JSONB_COLUMN.test(type),
    array: !scalar,
    nonFinite: scalar && (FLOAT_COLUMN.test(type) || NUMERIC_COLUMN.test(type)),
  };
}

/** The family of a property's (first) column. */
export function columnFamilyOf(prop: EntityProperty, column = 0): ColumnFamily {
  const type = prop.columnTypes?.[column] ?? '';
  return COLUMN_FAMILIES.find(f => f.matches(type))!;
}

/**
 * Does the platform write dates as `Date.prototype.toISOString` does (MikroORM's `formatDate` with
 * `forceUtcTimezone`)? Asked of the platform itself with probe dates, so a time-zone setting that
 * changes the text sends dates through `formatDate` instead.
 */
export function formatsDatesAsIso(platform: Platform): boolean {
  const format = (platform as Platform & { formatDate?(date: Date): string }).formatDate;
  if (typeof format !== 'function') return false;
  const probes = [new Date(0), new Date(Date.UTC(2024, 1, 29, 23, 59, 58, 7)), new Date(ISO_MIN_TIME), new Date(ISO_MAX_TIME)];
  try {
    return probes.every(d => format.call(platform, d) === d.toISOString());
  } catch {
    return false;
  }
}

/** Earliest and latest instants whose ISO text has a four-digit year (0001 ... 9999), so fixed width. */
// (Date.UTC maps years 0-99 to 1900-1999, hence the literal: 0001-01-01T00:00:00.000Z)
export const ISO_MIN_TIME = -62135596800000;
export const ISO_MAX_TIME = Date.UTC(9999, 11, 31, 23, 59, 59, 999);

/**
 * Is the property an array of MikroORM's own `ArrayType` (`string[]`, `number[]`, enum arrays),
 * which the encoder writes element by element from the entity's array (`ChunkWriter.quotedArray`)
 * instead of through the platform's `marshallArray`? A subclass that converts differently keeps
 * MikroORM's own text.
 */
export function writesArraysInPlace(prop: EntityProperty): prop is EntityProperty & { customType: ArrayType } {
  const type = prop.customType;
  if (!(type instanceof ArrayType) || type.convertToDatabaseValue !== ArrayType.prototype.convertToDatabaseValue) return false;
  return typeof arrayElementConverter(type) === 'function';
}

/**
 * Is the property MikroORM's own `JsonType` on a platform that converts JSON with `JSON.stringify`
 * (`Platform.convertJsonToDatabaseValue`), so that the encoder may write a plain object's or
 * array's JSON text itself (`ChunkWriter.quotedJson`, `jsonField`) instead of making the string?
 */
export function writesJsonInPlace(prop: EntityProperty, platform: Platform): boolean {
  const type = prop.customType;
  return (
    type instanceof JsonType &&
    type.convertToDatabaseValue === JsonType.prototype.convertToDatabaseValue &&
    platform.convertJsonToDatabaseValue === BasePlatform.prototype.convertJsonToDatabaseValue
  );
}

/** `ArrayType`'s per-element conversion (a constructor argument MikroORM keeps private). */
export function arrayElementConverter(type: ArrayType): (value: unknown) => unknown {
  return (type as unknown as { toDbValue: (value: unknown) => unknown }).toDbValue;
}
