// A small write whose keys the database generates, in one round trip: the encoded rows go as the
// parameters of `INSERT … VALUES (…), (…) RETURNING key`, as flush and insertMany write them, all
// statements in one pipelined extended-protocol message ending in one Sync. PostgreSQL runs the
// messages up to a Sync as one implicit transaction, so the write is all or nothing, and a
// multi-row VALUES returns its rows in VALUES order (insertMany relies on it too).
//
// The rows are not re-encoded: a CSV field is the type's text input form, which is what a text
// parameter is, and a binary COPY tuple's fields are each a length and the type's binary form,
// which is what a binary parameter is. The parameters' types are left to the server, which takes
// them from the INSERT's target columns, as it does for COPY.
import type { Submittable } from '../orm/index.js';

/** Rows of one table as COPY bytes, with their columns and input positions. */
export interface CopyRows {
  columns: readonly string[];
  /** CSV lines, or binary tuples without header and trailer. */
  rows: Buffer;
  binary: boolean;
  /** Input positions of the rows, as runs: [firstPosition, length, ...]. */
  positions: readonly number[];
}

/** One table's INSERT: its rows, of one or more column sets, go as one statement in input order. */
export interface InsertStatement {
  /** The table's platform-quoted name. */
  table: string;
  /** The platform-quoted key column to return, if any. */
  returning: string | undefined;
  parts: readonly CopyRows[];
}

/** Why the write failed: the server's (or the connection's) error, and the statement it hit. */
export interface InsertAtOnceFailure {
  error: Error;
  statement: number;
}

/** What each statement wrote: its SQL, row count, and the input positions and returned values of its rows, in order. */
export interface InsertedRows {
  sql: string;
  count: number;
  positions: number[];
  returned: (string | null)[][];
}

interface WireConnection {
  stream: { write(bytes: Buffer): boolean };
}

class InsertAtOnceQuery implements Submittable {
  readonly #message: Buffer;
  readonly result: InsertedRows[];
  #completed = 0;
  readonly #settle: (failure?: InsertAtOnceFailure) => void;

  constructor(message: Buffer, result: InsertedRows[], settle: (failure?: InsertAtOnceFailure) => void) {
    this.#message = message;
    this.result = result;
    this.#settle = settle;
  }

  submit(connection: unknown): void {
    (connection as WireConnection).stream.write(this.#message);
  }

  handleDataRow(message: { fields: (string | null)[] }): void {
    this.result[this.#completed].returned.push(message.fields);
  }

  handleCommandComplete(message: { text?: string }): void {
    // a savepoint and its release complete too; only the INSERTs are counted
    const inserted = /^INSERT \d+ (\d+)/.exec(message.text ?? '');
    if (inserted) this.result[this.#completed++].count = Number(inserted[1]);
  }

  handleError(error: Error): void {
    // pg drops the query at its error; the server skips to the Sync, rolling the statements back
    this.#settle({ error, statement: this.#completed });
  }

  handleReadyForQuery(): void {
    this.#settle();
  }

  handleRowDescription(): void {}
  handleEmptyQuery(): void {}
  handleCopyInResponse(): void {}
  handleCopyData(): void {}
  handlePortalSuspended(): void {}
}

/**
 * Runs `statements` in one implicit transaction, or within a caller's transaction between
 * `savepoint` (platform-quoted) and its release; rejects with an `InsertAtOnceFailure`, after
 * which a caller's transaction is aborted until rolled back to the savepoint.
 */
export function insertAtOnce(statements: readonly InsertStatement[], submit: (query: Submittable) => void, savepoint?: string): Promise<InsertedRows[]> {
  return new Promise((resolve, reject) => {
    const parts: Buffer[] = [];
    if (savepoint) parts.push(parseOf(`savepoint ${savepoint}`), bindOf([]), EXECUTE);
    const result = statements.map(statement => {
      const { sql, bind, positions } = insertOf(statement);
      parts.push(parseOf(sql), bind, EXECUTE);
      return { sql, count: NaN, positions, returned: [] };
    });
    if (savepoint) parts.push(parseOf(`release savepoint ${savepoint}`), bindOf([]), EXECUTE);
    parts.push(SYNC);
    const query = new InsertAtOnceQuery(Buffer.concat(parts), result, failure => (failure ? reject(failure) : resolve(result)));
    submit(query);
  });
}

/** A field of a COPY row: where its bytes are, and how they go as a parameter. */
interface Field {
  bytes: Buffer;
  start: number;
  end: number;
  /** 'binary': a length and the value, as is; 'quoted': CSV text with doubled quotes; 'null'. */
  form: 'binary' | 'text' | 'quoted' | 'null';
}

interface Row {
  position: number;
  columns: readonly string[];
  fields: Field[];
}

/**
 * The statement's SQL and its Bind message. Rows take input order again (the COPY rows came
 * grouped by column set); a column a row leaves out is DEFAULT in its VALUES, as in flush's INSERT.
 */
function insertOf({ table, returning, parts }: InsertStatement): { sql: string; bind: Buffer; positions: number[] } {
  const rows: Row[] = [];
  const columns: string[] = [];
  for (const part of parts) {
    for (const column of part.columns) if (!columns.includes(column)) columns.push(column);
    const positions = positionsOf(part.positions);
    const fields = part.columns.length ? fieldsOf(part.rows, part.binary) : [];
    const width = part.columns.length;
    if (fields.length !== positions.length * width) throw new Error(`${positions.length} rows of ${width} columns came as ${fields.length} fields`);
    positions.forEach((position, r) => rows.push({ position, columns: part.columns, fields: fields.slice(r * width, (r + 1) * width) }));
  }
  rows.sort((a, b) => a.position - b.position);
  const tail = returning ? ` returning ${returning}` : '';
  // rows of defaults only: zero columns selected once per row
  if (!columns.length) return { sql: `insert into ${table} select from generate_series(1, ${rows.length})${tail}`, bind: bindOf([]), positions: rows.map(r => r.position) };
  const params: Field[] = [];
  const values = rows.map(row => {
    const at = columns.map(column => {
      const index = row.columns.indexOf(column);
      if (index === -1) return 'default';
      params.push(row.fields[index]);
      return `$${params.length}`;
    });
    return `(${at.join(', ')})`;
  });
  const sql = `insert into ${table} (${columns.join(', ')}) values ${values.join(', ')}${tail}`;
  return { sql, bind: bindOf(params), positions: rows.map(r => r.position) };
}

function positionsOf(runs: readonly number[]): number[] {
  const positions: number[] = [];
  for (let i = 0; i < runs.length; i += 2) for (let p = runs[i]; p < runs[i] + runs[i + 1]; p++) positions.push(p);
  return positions;
}

/** Parse: the unnamed statement, no parameter types given. */
function parseOf(sql: string): Buffer {
  const text = Buffer.from(sql, 'utf8');
  const parse = Buffer.allocUnsafe(1 + 4 + 1 + text.length + 1 + 2);
  let at = parse.writeUInt8(0x50, 0);
  at = parse.writeInt32BE(parse.length - 1, at);
  at = parse.writeUInt8(0, at);
  at += text.copy(parse, at);
  at = parse.writeUInt8(0, at);
  parse.writeInt16BE(0, at);
  return parse;
}

// Execute the unnamed portal, all rows; Sync
const EXECUTE = Buffer.from([0x45, 0, 0, 0, 9, 0, 0, 0, 0, 0]);
const SYNC = Buffer.from([0x53, 0, 0, 0, 4]);

/** Bind: the unnamed portal of the unnamed statement, each parameter in its own format, results as text. */
function bindOf(params: readonly Field[]): Buffer {
  let size = 1 + 4 + 2 + 2 + 2 * params.length + 2 + 2;
  // a CSV field gains a length and may lose quotes; a binary one is length and value already
  for (const f of params) size += f.form === 'binary' ? f.end - f.start : 4 + f.end - f.start;
  const out = Buffer.allocUnsafe(size);
  let at = out.writeUInt8(0x42, 0);
  at += 4;
  at = out.writeInt16BE(0, at); // portal "" and statement "": two empty strings
  // the server reads both counts as unsigned: up to 65535 parameters
  at = out.writeUInt16BE(params.length, at);
  for (const f of params) at = out.writeInt16BE(f.form === 'binary' ? 1 : 0, at);
  at = out.writeUInt16BE(params.length, at);
  for (const { bytes, start, end, form } of params) {
    if (form === 'binary') at += bytes.copy(out, at, start, end);
    else if (form === 'null') at = out.writeInt32BE(-1, at);
    else {
      const lengthAt = at;
      at += 4;
      if (form === 'text') at += bytes.copy(out, at, start, end);
      else {
        // inside quotes, a doubled quote stands for one
        for (let i = start; i < end; i++) {
          out[at++] = bytes[i];
          if (bytes[i] === QUOTE) i++;
        }
      }
      out.writeInt32BE(at - lengthAt - 4, lengthAt);
    }
  }
  at = out.writeInt16BE(0, at); // result formats: all text
  out.writeInt32BE(at - 1, 1);
  return out.subarray(0, at);
}

const QUOTE = 0x22;
const COMMA = 0x2c;
const NEWLINE = 0x0a;

/** The fields of COPY rows, row after row. */
function fieldsOf(bytes: Buffer, binary: boolean): Field[] {
  const fields: Field[] = [];
  if (binary) {
    // a tuple: its field count, then per field a length (-1: NULL) and the value
    let at = 0;
    while (at < bytes.length) {
      const count = bytes.readInt16BE(at);
      at += 2;
      for (let f = 0; f < count; f++) {
        const length = bytes.readInt32BE(at);
        const end = at + 4 + (length > 0 ? length : 0);
        fields.push({ bytes, start: at, end, form: 'binary' });
        at = end;
      }
    }
    return fields;
  }
  // CSV as COPY reads it: an unquoted empty field is NULL, a quoted one the empty string
  let i = 0;
  while (i < bytes.length) {
    if (bytes[i] === QUOTE) {
      const start = ++i;
      while (i < bytes.length && !(bytes[i] === QUOTE && bytes[i + 1] !== QUOTE)) i += bytes[i] === QUOTE ? 2 : 1;
      fields.push({ bytes, start, end: i, form: 'quoted' });
      i++;
    } else {
      const start = i;
      while (i < bytes.length && bytes[i] !== COMMA && bytes[i] !== NEWLINE) i++;
      fields.push({ bytes, start, end: i, form: start === i ? 'null' : 'text' });
    }
    // past the comma or the line's end
    i++;
  }
  return fields;
}
