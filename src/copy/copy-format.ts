// Which tables a copy writes as binary COPY tuples and which as CSV, decided per table once per
// call from the table's real column types in the catalog (not from MikroORM's `columnTypes`,
// which a hand-written migration may contradict: a binary field of the wrong width or type is an
// error or, worse, another value). A table goes binary when every column it is copied into has a
// binary form (pg-binary.ts); the one catalog query costs a round trip, so `'auto'` asks it only
// for a table that has enough rows in one chunk to repay it.
import type { EntityProperty } from '@mikro-orm/core';
import type { RowEncoder } from '../encoding/row-encoder.js';
import { NUMERIC_SHAPE_GROUPS } from '../encoding/row-shape.js';
import { writesArraysInPlace } from '../encoding/column-types.js';
import { binaryColumnOf, type BinaryColumn } from '../encoding/pg-binary.js';
import { notBinaryColumn, unknownFormat } from '../errors.js';
import type { WireResult } from './wire-query.js';

/** `'auto'`: binary where every column has an exact binary form, else CSV; `'csv'`, `'binary'`: that format (`'binary'` fails on a table that cannot take it). */
export type CopyFormat = 'auto' | 'csv' | 'binary';

/**
 * Rows of one table in one chunk from which `'auto'` looks the table's types up. Below it the
 * round trip costs more than binary saves (a few microseconds a row).
 */
const AUTO_MIN_ROWS = 200;

/**
 * The defaults of every call: the test suite sets them from `PG_COPY_FORMAT` (to run the
 * differential suites in each format), the bench from its own flag. Not part of the public API.
 */
export const formatDefaults: { format: CopyFormat; autoMinRows: number } = { format: 'auto', autoMinRows: AUTO_MIN_ROWS };

/** Decides each encoder's format before its first row of a call is written. */
export class CopyFormats {
  readonly #format: CopyFormat;
  readonly #minRows: number;
  /** Encoders decided in this call, with their binary twin (undefined: CSV). */
  readonly #decided = new Map<RowEncoder, RowEncoder | undefined>();

  /** Checks the option at once, before anything is read or written. */
  constructor(format: CopyFormat | undefined) {
    if (format !== undefined && format !== 'auto' && format !== 'csv' && format !== 'binary') throw unknownFormat(format);
    this.#format = format ?? formatDefaults.format;
    this.#minRows = this.#format === 'binary' ? 1 : formatDefaults.autoMinRows;
  }

  /**
   * Before a chunk of rows is encoded: replaces each row's encoder (`encoders`, one per row) whose
   * table takes binary in this call with the binary encoder of its table, deciding at the first
   * chunk that holds enough of its rows and reading the column types through `query` (the call's
   * connection).
   */
  async prepare(encoders: RowEncoder[], query: (sql: string) => Promise<WireResult>): Promise<void> {
    if (this.#format === 'csv') return;
    let counts: Map<RowEncoder, number> | undefined;
    // indexed loops: a for-of here made an object per row
    for (let i = 0; i < encoders.length; i++) {
      const encoder = encoders[i];
      if (this.#decided.has(encoder)) continue;
      counts ??= new Map();
      counts.set(encoder, (counts.get(encoder) ?? 0) + 1);
    }
    for (const [encoder, rows] of counts ?? []) {
      if (rows < this.#minRows) continue;
      const columns = await this.#binaryColumns(encoder, query);
      this.#decided.set(encoder, columns && encoder.withBinary(columns));
    }
    for (let i = 0; i < encoders.length; i++) {
      const binary = this.#decided.get(encoders[i]);
      if (binary) encoders[i] = binary;
    }
  }

  /** The binary form of each column of the encoder's groups, or undefined when one has none. */
  async #binaryColumns(encoder: RowEncoder, query: (sql: string) => Promise<WireResult>): Promise<BinaryColumn[][] | undefined> {
    const plan = encoder.plan;
    const refuse = (prop: EntityProperty, column: string, type: string) => {
      if (this.#format === 'binary') throw notBinaryColumn(plan.entityName, prop.name, column, type);
      return undefined;
    };
    // such wide tables take the snapshot path, written as CSV
    if (plan.groups.length > NUMERIC_SHAPE_GROUPS) return refuse(plan.groups[0].prop, plan.groups[0].fields[0], `(a table of more than ${NUMERIC_SHAPE_GROUPS} properties)`);
    const literal = plan.table.replaceAll("'", "''");
    const { rows } = await query(
      `select a.attname as name, a.atttypid::bigint::text as oid, format_type(a.atttypid, a.atttypmod) as type from pg_attribute a where a.attrelid = to_regclass('${literal}') and a.attnum > 0 and not a.attisdropped`,
    );
    // no such table (or column): the COPY reports it, in CSV as always
    const types = new Map(rows.map(r => [r.name as string, { oid: Number(r.oid), type: r.type as string }]));
    const columns: BinaryColumn[][] = [];
    for (const group of plan.groups) {
      const own: BinaryColumn[] = [];
      for (const field of group.fields) {
        const found = types.get(field);
        if (!found) return undefined;
        const column = binaryColumnOf(found.oid);
        if (!column) return refuse(group.prop, field, found.type);
        // an array written by MikroORM's `marshallArray` reaches the encoder as literal text, which only the server parses
        if (column.elementOid !== undefined && !(group.kind === 'single' && writesArraysInPlace(group.prop))) return refuse(group.prop, field, `${found.type} (of a property whose type is not MikroORM's ArrayType)`);
        own.push(column);
      }
      columns.push(own);
    }
    return columns;
  }
}
