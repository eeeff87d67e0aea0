// A file's record (CSV fields or an NDJSON object) → a row keyed by property name, as
// `copyPersist(em, Entity, rows)` takes it, or the reason it cannot be one. Everything that can be
// checked without the database is checked here, so the reason names the property.
import { ReferenceKind, type EntityMetadata, type EntityProperty } from '@mikro-orm/core';
import type { SqlEntityManager } from '@mikro-orm/postgresql';
import { isRequired } from '../plan/entity-plan.js';
import { isOwningToOne } from '../plan/relations.js';
import { missingColumns, unknownColumns } from '../errors.js';
import { propertyNamed } from '../input/row-keys.js';

/**
 * Turns a file's record into a row keyed by property name, as `copyPersist(em, Entity, rows)`
 * takes it, or into the reason it cannot be one. Values copyPersist (through `em.create`) would
 * take as they are pass unchanged; text for a number, boolean, date, JSON or array property is
 * converted here, because `em.create` would keep the string and the COPY would fail (or, for JSON,
 * store a JSON string).
 */
export class RowConverter {
  readonly #meta: EntityMetadata;
  readonly #map: Record<string, string>;
  readonly #fromText: boolean;
  readonly #platform: { unmarshallArray(value: string): string[] };
  readonly #required: EntityProperty[];
  /** Column name → property, so a header may also be the column's name (a CSV exported from the table). */
  readonly #byColumn = new Map<string, EntityProperty>();
  readonly #converters = new Map<EntityProperty, Convert>();

  constructor(em: SqlEntityManager, meta: EntityMetadata, map: Record<string, string>, fromText: boolean) {
    this.#meta = meta;
    this.#map = map;
    this.#fromText = fromText;
    this.#platform = em.getPlatform();
    this.#required = meta.props.filter(prop => mustBeGiven(meta, prop));
    for (const prop of meta.props) if (prop.fieldNames?.length === 1) this.#byColumn.set(prop.fieldNames[0], prop);
  }

  /** CSV: the property of each column; an unknown header is an error of the whole file. */
  header(names: string[], line: number): (EntityProperty | undefined)[] {
    const props = names.map(name => this.#property(name.trim()));
    const unknown = names.filter((_, i) => !props[i]);
    if (unknown.length) {
      throw unknownColumns(line, this.#meta.className, unknown);
    }
    const missing = this.#required.filter(p => !props.includes(p));
    if (missing.length) {
      throw missingColumns(line, missing.map(p => p.name));
    }
    return props;
  }

  convertFields(header: (EntityProperty | undefined)[], fields: (string | null)[]): Record<string, unknown> | string {
    const row: Record<string, unknown> = {};
    for (let i = 0; i < header.length; i++) {
      const value = fields[i];
      if (value === null) continue;
      const prop = header[i]!;
      const converted = this.#converterOf(prop)(value);
      if (converted instanceof Invalid) return `${prop.name}: ${converted.reason}`;
      row[prop.name] = converted;
    }
    return this.#checkRequired(row);
  }

  convert(object: Record<string, unknown>): Record<string, unknown> | string {
    const row: Record<string, unknown> = {};
    for (const key in object) {
      const prop = this.#property(key);
      if (!prop) return `unknown key "${key}" (not a property of ${this.#meta.className})`;
      const value = object[key];
      if (value === null || value === undefined) continue;
      const converted = this.#converterOf(prop)(value);
      if (converted instanceof Invalid) return `${prop.name}: ${converted.reason}`;
      row[prop.name] = converted;
    }
    return this.#checkRequired(row);
  }

  #checkRequired(row: Record<string, unknown>): Record<string, unknown> | string {
    for (const prop of this.#required) {
      if (row[prop.name] === undefined) return `${prop.name}: missing required value`;
    }
    return row;
  }

  #property(key: string): EntityProperty | undefined {
    const name = this.#map[key] ?? key;
    const prop = propertyNamed(this.#meta, name) ?? (this.#map[key] ? undefined : this.#byColumn.get(key));
    if (!prop || prop.persist === false || prop.kind === ReferenceKind.ONE_TO_MANY || prop.kind === ReferenceKind.MANY_TO_MANY) return undefined;
    if (prop.kind === ReferenceKind.ONE_TO_ONE && !isOwningToOne(prop)) return undefined;
    return prop;
  }

  /** The property's conversion, decided once from its metadata rather than per value. */
  #converterOf(prop: EntityProperty): Convert {
    let convert = this.#converters.get(prop);
    if (!convert) this.#converters.set(prop, (convert = this.#compile(prop)));
    return convert;
  }

  #compile(prop: EntityProperty): Convert {
    // a to-one relation is given as the target's primary key
    if (prop.kind === ReferenceKind.MANY_TO_ONE || prop.kind === ReferenceKind.ONE_TO_ONE) {
      const targetPk = prop.targetMeta?.getPrimaryProps()[0];
      if (!targetPk || (prop.targetMeta?.primaryKeys.length ?? 0) > 1) return () => new Invalid('composite foreign keys are not supported by the file loader');
      return this.#compile(targetPk);
    }
    const fromText = this.#fromText;
    const json: Convert = value => (fromText && typeof value === 'string' ? parseJson(value) : value);
    if (prop.kind === ReferenceKind.EMBEDDED) return json;
    const column = (prop.columnTypes?.[0] ?? '').toLowerCase();
    const typeName = prop.customType?.constructor.name;
    const runtime = prop.runtimeType as string | undefined;
    // in NDJSON a JSON value is already JSON; in CSV it is JSON text
    if (typeName === 'JsonType' || column === 'json' || column === 'jsonb') return json;
    if (typeName === 'ArrayType' || runtime?.endsWith('[]') || column.endsWith('[]')) {
      const numbers = /^(number|int|integer|smallint|float|double|real)\[\]$/i.test(String(prop.type));
      return value => {
        if (typeof value !== 'string') return Array.isArray(value) ? value : new Invalid(`expected an array, got ${typeof value}`);
        const text = value.trim();
        const items = text.startsWith('[') ? parseJson(text) : text.startsWith('{') ? this.#platform.unmarshallArray(text) : new Invalid('expected a JSON array ["a","b"] or an array literal {a,b}');
        if (items instanceof Invalid) return items;
        if (!Array.isArray(items)) return new Invalid('expected a JSON array');
        if (items.some(item => typeof item === 'string' && item.includes('\0'))) return new Invalid(NUL);
        return numbers ? items.map(Number) : items;
      };
    }
    const range = integerRange(column);
    switch (runtime) {
      case 'number':
        return value => {
          const n = typeof value === 'number' ? value : typeof value === 'string' && value.trim() !== '' ? Number(value) : NaN;
          if (Number.isNaN(n)) return new Invalid(`not a number: ${show(value)}`);
          if (range && !Number.isInteger(n)) return new Invalid(`not an integer: ${show(value)}`);
          if (range && (n < range[0] || n > range[1])) return new Invalid(`out of range for ${column} (${range[0]} to ${range[1]}): ${show(value)}`);
          return n;
        };
      case 'bigint':
        return value => {
          const text = typeof value === 'string' ? value.trim() : typeof value === 'number' || typeof value === 'bigint' ? String(value) : '';
          if (!/^[-+]?\d+$/.test(text)) return new Invalid(`not an integer: ${show(value)}`);
          const n = BigInt(text);
          return range && (n < range[0] || n > range[1]) ? new Invalid(`out of range for ${column}: ${show(value)}`) : n;
        };
      case 'boolean':
        return value => {
          if (typeof value === 'boolean') return value;
          const b = typeof value === 'string' ? BOOLEANS.get(value.trim().toLowerCase()) : undefined;
          return b ?? new Invalid(`not a boolean: ${show(value)} (true/false, t/f, 1/0, yes/no)`);
        };
      case 'Date':
        return value => {
          if (typeof value !== 'string') return new Invalid(`not a date: ${show(value)}`);
          const d = new Date(value);
          return Number.isNaN(d.getTime()) ? new Invalid(`not a date: ${show(value)}`) : d;
        };
      case 'Buffer':
        return value => (typeof value === 'string' && /^\\x([0-9a-f]{2})*$/i.test(value) ? Buffer.from(value.slice(2), 'hex') : new Invalid('binary values are written as \\x followed by hex digits'));
    }
    const checks: ((text: string) => Invalid | undefined)[] = [text => (text.includes('\0') ? new Invalid(NUL) : undefined)];
    if (range) {
      // an integer column kept as a string (MikroORM 6 maps bigint to string)
      checks.push(text => {
        if (!/^\s*[-+]?\d+\s*$/.test(text)) return new Invalid(`not an integer: ${show(text)}`);
        const n = BigInt(text.trim());
        return n < range[0] || n > range[1] ? new Invalid(`out of range for ${column}: ${show(text)}`) : undefined;
      });
    }
    const numeric = /^(?:numeric|decimal)(?:\((\d+)(?:,\s*(\d+))?\))?/.exec(column);
    if (numeric) {
      // PostgreSQL rounds extra decimals but refuses more integer digits than precision - scale
      const integerDigits = numeric[1] === undefined ? undefined : Number(numeric[1]) - Number(numeric[2] ?? 0);
      checks.push(text => {
        const match = /^\s*[-+]?0*(\d*)(\.\d*)?(e[-+]?\d+)?\s*$/i.exec(text);
        if (!match || !/\d/.test(text)) return new Invalid(`not a number: ${show(text)}`);
        if (integerDigits !== undefined && !match[3] && match[1].length > integerDigits) return new Invalid(`more than ${integerDigits} digits before the decimal point for ${column}: ${show(text)}`);
        return undefined;
      });
    }
    const length = /^(?:varchar|character varying|char|character|bpchar)\((\d+)\)/.exec(column);
    if (length) {
      const max = Number(length[1]);
      // a UTF-16 length within the limit is a code point count within it; count code points only beyond
      checks.push(text => (text.length > max && [...text].length > max ? new Invalid(`longer than ${max} characters for ${column}`) : undefined));
    }
    if (prop.enum && prop.items?.length) {
      const items = new Set(prop.items.map(String));
      checks.push(text => (items.has(text) ? undefined : new Invalid(`not one of ${prop.items!.join(', ')}: ${show(text)}`)));
    }
    return value => {
      // NDJSON numbers, booleans ... of other types go to MikroORM as they are
      if (typeof value !== 'string') return value;
      for (const check of checks) {
        const invalid = check(value);
        if (invalid) return invalid;
      }
      return value;
    };
  }
}

type Convert = (value: unknown) => unknown;

const NUL = 'holds a NUL character (U+0000), which PostgreSQL text cannot store';

/** The value range of an integer column type, or undefined for other types. */
function integerRange(column: string): [bigint, bigint] | [number, number] | undefined {
  if (/^(smallint|int2|smallserial)\b/.test(column)) return [-32768, 32767];
  if (/^(int|integer|int4|serial)\b/.test(column)) return [-2147483648, 2147483647];
  if (/^(bigint|int8|bigserial)\b/.test(column)) return [-(2n ** 63n), 2n ** 63n - 1n];
  return undefined;
}

function show(value: unknown): string {
  return typeof value === 'string' ? JSON.stringify(clip(value)) : String(value);
}

/** Why a value cannot be converted (a class, so it cannot be mistaken for a converted value). */
class Invalid {
  constructor(readonly reason: string) {}
}

const BOOLEANS = new Map([['true', true], ['t', true], ['1', true], ['yes', true], ['y', true], ['false', false], ['f', false], ['0', false], ['no', false], ['n', false]]);

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch (e) {
    return new Invalid(`not JSON: ${(e as Error).message}`);
  }
}

function clip(text: string): string {
  return text.length > 40 ? `${text.slice(0, 40)}…` : text;
}

/**
 * A column the file must give: what flush requires of a new entity (`isRequired`), of the
 * properties a file can hold (scalars and foreign keys); the version is the database's to fill.
 */
function mustBeGiven(meta: EntityMetadata, prop: EntityProperty): boolean {
  return isRequired(meta, prop) && !prop.version && (prop.kind === ReferenceKind.SCALAR || isOwningToOne(prop));
}
