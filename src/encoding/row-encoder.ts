// One payload → one row of a COPY: a line of COPY's CSV format, or, for a table whose columns all
// have a binary form (`withBinary`), a binary tuple holding what the CSV line would, each value in
// its column's binary form (pg-binary.ts). In CSV, text is always quoted, because an unquoted empty
// field is NULL and a quoted one is the empty string; NULL is an empty field.
import { Utils, type AnyEntity, type Dictionary, type EntityProperty, type Platform } from '@mikro-orm/core';
import type { SqlEntityManager } from '@mikro-orm/postgresql';
import { ValueError, valueErrorAt, valueErrors } from '../errors.js';
import type { ColumnGroup, EntityPlan } from '../plan/entity-plan.js';
import type { ChunkWriter } from './chunk-writer.js';
import { compileRowWriter, type RowSink, type RowWriter } from './compiled-row.js';
import { columnTraits, toPgText, type ColumnTraits } from './pg-text.js';
import { writeTextAs, type BinaryColumn } from './pg-binary.js';
import { NUMERIC_SHAPE_GROUPS, type RowShape } from './row-shape.js';

export type { RowShape } from './row-shape.js';
export type { RowSink } from './compiled-row.js';



/** Encodes rows of one entity class (its plan) as CSV lines, or as binary tuples (the twin `withBinary` makes). */
export class RowEncoder {
  readonly plan: EntityPlan;
  readonly #platform: Platform;
  readonly #mapDataToFieldNames: (data: Dictionary, stringifyJsonArrays: boolean, properties?: Dictionary, convertCustomTypes?: boolean) => Dictionary;
  readonly #traits: ColumnTraits[][];
  readonly #em: SqlEntityManager;
  #compiled?: RowWriter;
  #binary?: RowWriter;
  #binaryColumns?: BinaryColumn[][];

  constructor(em: SqlEntityManager, plan: EntityPlan) {
    this.plan = plan;
    this.#em = em;
    this.#platform = em.getPlatform();
    const driver = em.getDriver();
    this.#mapDataToFieldNames = driver.mapDataToFieldNames.bind(driver);
    this.#traits = plan.groups.map(g => g.fields.map((_, i) => columnTraits(g.prop.columnTypes?.[i])));
  }

  /**
   * The shape of a payload: flush leaves an `undefined` property out of its INSERT so the
   * database default applies, so COPY must leave that column out too.
   */
  shapeOf(data: Dictionary): RowShape {
    const groups = this.plan.groups;
    if (groups.length <= NUMERIC_SHAPE_GROUPS) {
      let mask = 0;
      for (let i = 0; i < groups.length; i++) {
        if (data[groups[i].prop.name] !== undefined) mask += 2 ** i;
      }
      return mask;
    }
    let key = '';
    for (const group of groups) key += data[group.prop.name] !== undefined ? '1' : '0';
    return key;
  }

  /** Quoted column list of a shape, for the COPY statement. */
  columnsOf(shape: RowShape): string[] {
    return this.plan.groups.filter((_, i) => isInShape(shape, i)).flatMap(g => g.quotedFields);
  }

  /**
   * Writes the CSV line of `data` in `shape` into `out`; `ordinal`, when given, is written as one
   * more column (the staging table of an upsert keeps each row's input position).
   */
  encode(data: Dictionary, shape: RowShape, position: number, out: ChunkWriter, ordinal?: number): void {
    const groups = this.plan.groups;
    let first = true;
    for (let i = 0; i < groups.length; i++) {
      if (isInShape(shape, i)) first = this.writeGroup(i, data, position, out, first);
    }
    if (ordinal !== undefined) {
      out.comma();
      out.plain(String(ordinal));
    }
    out.newline();
  }

  /**
   * Checks, snapshots and writes one entity into the writer of its shape, as `insertPayload`,
   * `shapeOf` and `encode` together would, through a function compiled for this entity class.
   * `deferred` relations are written as NULL; `ordinal`, when given, is one more column.
   */
  writeEntity(entity: AnyEntity, position: number, deferred: readonly EntityProperty[] | undefined, sink: RowSink, ordinal?: number): void {
    if (this.#binary) return this.#binary(entity, position, deferred, sink, ordinal);
    this.#compiled ??= compileRowWriter(this.#em, this);
    this.#compiled(entity, position, deferred, sink, ordinal);
  }

  /** The binary form of each group's columns, once the table is written in binary. */
  get binaryColumns(): readonly (readonly BinaryColumn[])[] | undefined {
    return this.#binaryColumns;
  }

  /**
   * An encoder of the same plan that writes binary tuples, with `columns` (one per field of each
   * group); see copy/copy-format.ts. A new one rather than a switch: an encoder may be shared by
   * calls (kept per ORM), and the format is one call's choice, read from that call's catalog.
   */
  withBinary(columns: BinaryColumn[][]): RowEncoder {
    const twin = new RowEncoder(this.#em, this.plan);
    twin.#binaryColumns = columns;
    twin.#binary = compileRowWriter(this.#em, twin, true);
    return twin;
  }

  /** A row whose values do not all have an exact binary form: taken back, then written as CSV, which the server parses as ever. */
  fallBackToCsv(entity: AnyEntity, position: number, deferred: readonly EntityProperty[] | undefined, sink: RowSink, ordinal: number | undefined, out: ChunkWriter, mark: number): void {
    out.rewind(mark);
    sink.unplace!();
    this.#compiled ??= compileRowWriter(this.#em, this);
    this.#compiled(entity, position, deferred, sink, ordinal);
  }

  /** `writeGroup` in binary: false, with part of the row written, when a value has no exact binary form. */
  writeGroupBinary(index: number, data: Dictionary, position: number, out: ChunkWriter): boolean {
    const group = this.plan.groups[index];
    try {
      const values = group.kind === 'single' ? [singleValue(group, data[group.prop.name])] : this.#columnValues(group, data[group.prop.name]);
      for (let c = 0; c < values.length; c++) {
        if (!this.#binaryField(out, values[c], this.#traits[index][c], this.#binaryColumns![index][c])) return false;
      }
      return true;
    } catch (e) {
      throw this.#describe(e, group, position);
    }
  }

  /** `writeValue` in binary: false when the value has no exact binary form. */
  writeValueBinary(index: number, value: unknown, position: number, out: ChunkWriter): boolean {
    const group = this.plan.groups[index];
    try {
      return this.#binaryField(out, singleValue(group, value), this.#traits[index][0], this.#binaryColumns![index][0]);
    } catch (e) {
      throw this.#describe(e, group, position);
    }
  }

  /** The text `#field` would write, in the column's binary form; the same errors for values without text. */
  #binaryField(out: ChunkWriter, value: unknown, traits: ColumnTraits, column: BinaryColumn): boolean {
    const text = toPgText(value, this.#platform, traits);
    if (text === null) {
      out.nullField();
      return true;
    }
    // an array column's text is an array literal, which only the server parses
    if (column.elementOid !== undefined) return false;
    if (column.kind === 'bytea' && ArrayBuffer.isView(value)) {
      out.bytesField(value);
      return true;
    }
    // a key's number, the common case of a relation, without its text
    if (typeof value === 'number' && Number.isSafeInteger(value)) {
      if (column.kind === 'int8') {
        out.int8Field(value);
        return true;
      }
      if (column.kind === 'int4' && value >= -2147483648 && value <= 2147483647) {
        out.int4Field(value);
        return true;
      }
    }
    return writeTextAs(column.kind, text, out);
  }

  /** Writes group `index` of the payload `data` (its separator first unless `first`); returns the next `first`. */
  writeGroup(index: number, data: Dictionary, position: number, out: ChunkWriter, first: boolean): boolean {
    const group = this.plan.groups[index];
    try {
      if (group.kind === 'single') {
        if (!first) out.comma();
        this.#field(out, singleValue(group, data[group.prop.name]), this.#traits[index][0]);
        return false;
      }
      const values = this.#columnValues(group, data[group.prop.name]);
      for (let c = 0; c < values.length; c++) {
        if (!first) out.comma();
        first = false;
        this.#field(out, values[c], this.#traits[index][c]);
      }
      return first;
    } catch (e) {
      throw this.#describe(e, group, position);
    }
  }

  /** Writes the snapshot value of a single-column group `index` (no separator): the path for any value a compiled fast path does not take. */
  writeValue(index: number, value: unknown, position: number, out: ChunkWriter): void {
    const group = this.plan.groups[index];
    try {
      this.#field(out, singleValue(group, value), this.#traits[index][0]);
    } catch (e) {
      throw this.#describe(e, group, position);
    }
  }

  /** One field: NULL is empty; strings and JSON are quoted; numbers, booleans, dates and bytea need no quotes. */
  #field(out: ChunkWriter, value: unknown, traits: ColumnTraits): void {
    const text = toPgText(value, this.#platform, traits);
    if (text === null) return;
    const type = typeof value;
    if (type === 'string' || (type === 'object' && !(value instanceof Date) && !ArrayBuffer.isView(value))) out.quoted(text);
    else out.plain(text);
  }

  /** The value(s) flush's `nativeInsertMany` binds for one property of the payload. */
  #columnValues(group: ColumnGroup, raw: unknown): unknown[] {
    const prop = group.prop;
    const value = singleValue(group, raw);
    switch (group.kind) {
      case 'single':
        return [value];
      case 'composite': {
        if (value == null) return group.fields.map(() => null);
        let parts = Utils.asArray(value) as unknown[];
        if (parts.length !== group.fields.length && parts.some(Array.isArray)) parts = Utils.flatten(parts as unknown[][], true);
        if (parts.length !== group.fields.length) {
          throw valueErrors.compositeKeyArity(parts.length, group.fields.length);
        }
        return parts;
      }
      case 'embedded-object': {
        if (value == null) return [value];
        const embeddedProps = prop.embeddedProps as Dictionary;
        if (prop.array && Array.isArray(value)) {
          const items = value.map(item => this.#mapDataToFieldNames(item as Dictionary, false, embeddedProps, false));
          return [JSON.stringify(items)];
        }
        return [JSON.stringify(this.#mapDataToFieldNames(value as Dictionary, false, embeddedProps, false))];
      }
    }
  }

  #describe(error: unknown, group: ColumnGroup, position: number): unknown {
    if (!(error instanceof ValueError)) return error;
    return valueErrorAt(error, this.plan.entityName, group.label, position);
  }
}

/** nativeInsertMany binds `rowValue ?? prop.default` unless the property is nullable. */
function singleValue(group: ColumnGroup, raw: unknown): unknown {
  const prop = group.prop;
  return raw === null && !prop.nullable && prop.default != null ? prop.default : raw;
}

function isInShape(shape: RowShape, index: number): boolean {
  if (typeof shape === 'string') return shape[index] === '1';
  return index < 30 ? (shape & (1 << index)) !== 0 : Math.floor(shape / 2 ** index) % 2 === 1;
}

/** A CSV field: NULL is empty, everything else is quoted with inner quotes doubled. */
export function csvField(text: string | null): string {
  if (text === null) return '';
  return text.indexOf('"') === -1 ? `"${text}"` : `"${text.replaceAll('"', '""')}"`;
}
