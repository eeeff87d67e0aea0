// Loading a CSV or NDJSON file into one entity: the file is streamed (an async generator feeds
// copyPersist a chunk at a time), each row is validated and converted from text to the property's
// runtime type before it reaches copyPersist, and bad rows either stop the load or go to a reject
// file. One transaction: a failed load writes nothing.
import { createReadStream, createWriteStream, statSync, type WriteStream } from 'node:fs';
import { once } from 'node:events';
import { Readable, pipeline } from 'node:stream';
import { StringDecoder } from 'node:string_decoder';
import { ReferenceKind, type EntityMetadata, type EntityName, type EntityProperty } from '@mikro-orm/core';
import type { SqlEntityManager } from '@mikro-orm/postgresql';
import { parse as parseCsv, type Info } from 'csv-parse';
import { copyPersist } from '../copy-persist.js';
import type { CopyPersistOptions } from '../options.js';
import { entityByName } from './fixtures.js';

/** Options of {@link loadFile}. */
export interface LoadFileOptions {
  /** The file to read. Give `path` or `stream`. */
  path?: string;
  /** A byte stream to read instead of `path`. */
  stream?: NodeJS.ReadableStream;
  /** Size of `stream` in bytes, for `totalBytes` in progress (known by itself for `path`). */
  size?: number;
  /** The entity the rows are of: a class, or its name. */
  entity: EntityName<object> | string;
  /** `csv` (a header row, then records) or `ndjson` (one JSON object per line). Default: from the file extension (`.csv` → csv, else ndjson). */
  format?: 'csv' | 'ndjson';
  /** CSV header / NDJSON key → property name, for the columns whose name is not the property's. */
  map?: Record<string, string>;
  /** CSV field delimiter (default `,`). */
  delimiter?: string;
  /**
   * Write bad lines here (in the input's format; a CSV reject file starts with the header) and go
   * on. Without it, the first bad line stops the load with a `LoadFileError` and nothing is written.
   */
  rejectFile?: string;
  /** Called with each rejected line, e.g. to print the reason. */
  onReject?: (reject: LoadFileReject) => void;
  /** Called after each chunk of rows has been sent to PostgreSQL. */
  onProgress?: (progress: LoadFileProgress) => void;
  /** Passed to copyPersist (`chunkSize`, `signal`, `assignKeys`, upsert options ...). */
  copy?: Omit<CopyPersistOptions, 'onProgress' | 'parallel'>;
}

/** What `onProgress` receives. */
export interface LoadFileProgress {
  /** Rows sent to PostgreSQL so far. */
  rows: number;
  /** Lines rejected so far. */
  rejected: number;
  /** Lines of the file read so far. */
  lines: number;
  /** Bytes of the file read so far. */
  bytes: number;
  /** Size of the file, when known. */
  totalBytes?: number;
}

/** A rejected line: where, why, and its text. */
export interface LoadFileReject {
  /** Line of the file the record starts on (1-based; a CSV record may span lines). */
  line: number;
  reason: string;
  raw: string;
}

/** What `loadFile` returns. */
export interface LoadFileResult {
  /** Rows written. */
  rows: number;
  /** Lines rejected (written to the reject file). */
  rejected: number;
  /** Lines of the file read, the CSV header and blank lines included. */
  lines: number;
}

/** A bad line without a reject file, or a file that cannot be loaded at all (e.g. an unknown CSV header). */
export class LoadFileError extends Error {
  constructor(
    message: string,
    /** Line of the file (1-based), when the error is about one. */
    readonly line?: number,
    /** What is wrong with it. */
    readonly reason?: string,
  ) {
    super(message);
    this.name = 'LoadFileError';
  }
}

/**
 * Loads a CSV or NDJSON file into an entity's table through `copyPersist`, streaming: memory stays
 * bounded by the chunk size whatever the file's size. Headers (CSV) or keys (NDJSON) name
 * properties (or their columns), or are mapped to properties with `map`. Text values are converted to the property's type
 * (numbers, booleans, dates, JSON, arrays) and checked before they reach copyPersist; a row
 * PostgreSQL itself rejects (a unique or foreign key violation) still aborts the whole load.
 *
 * @example
 * ```ts
 * import { loadFile } from 'mikro-orm-pg-copy';
 *
 * const { rows, rejected } = await loadFile(em, {
 *   path: 'books.csv',
 *   entity: Book,
 *   map: { 'Published at': 'publishedAt', author_id: 'author' },
 *   rejectFile: 'books.rejected.csv',
 *   onReject: r => console.error(`line ${r.line}: ${r.reason}`),
 * });
 * ```
 */
export async function loadFile(em: SqlEntityManager, options: LoadFileOptions): Promise<LoadFileResult> {
  const meta = typeof options.entity === 'string' ? entityByName(em, options.entity) : em.getMetadata().find(options.entity);
  if (!meta) throw new LoadFileError(`not an entity registered with this ORM: ${String(options.entity)}`);
  if (!options.path && !options.stream) throw new TypeError('loadFile: give path or stream');
  const format = options.format ?? (options.path?.toLowerCase().endsWith('.csv') ? 'csv' : 'ndjson');
  const totalBytes = options.size ?? (options.path ? statSync(options.path).size : undefined);
  const input = options.stream ?? createReadStream(options.path!, { highWaterMark: 256 * 1024 });
  const rows = new RowConverter(em, meta as EntityMetadata, options.map ?? {}, format === 'csv');

  const state = { lines: 0, bytes: 0, rejected: 0 };
  let rejects: WriteStream | undefined;
  const reject = async (line: number, reason: string, raw: string, header?: string) => {
    if (!options.rejectFile) throw new LoadFileError(`line ${line}: ${reason}`, line, reason);
    state.rejected++;
    options.onReject?.({ line, reason, raw });
    if (!rejects) {
      rejects = createWriteStream(options.rejectFile);
      if (header !== undefined) rejects.write(header);
    }
    if (!rejects.write(raw.endsWith('\n') ? raw : `${raw}\n`)) await once(rejects, 'drain');
  };

  async function* counted(): AsyncGenerator<Buffer> {
    for await (const chunk of input as AsyncIterable<Buffer | string>) {
      const buffer = typeof chunk === 'string' ? Buffer.from(chunk) : chunk;
      state.bytes += buffer.length;
      // CSV lines are counted here: csv-parse's count is off with CRLF in quoted fields; NDJSON counts its own
      if (format === 'csv' && buffer.length) {
        for (let i = buffer.indexOf(10); i !== -1; i = buffer.indexOf(10, i + 1)) csvBreaks++;
        csvTrailing = buffer[buffer.length - 1] !== 10;
        state.lines = csvBreaks;
      }
      yield buffer;
    }
    if (format === 'csv') state.lines = csvBreaks + (csvTrailing ? 1 : 0);
  }
  let csvBreaks = 0;
  let csvTrailing = false;
  const source = format === 'csv' ? csvRows(counted(), rows, reject, options.delimiter) : ndjsonRows(counted(), rows, state, reject);
  try {
    const result = await copyPersist(em, meta.class, source, {
      ...options.copy,
      onProgress: p => options.onProgress?.({ rows: p.rows, rejected: state.rejected, lines: state.lines, bytes: state.bytes, totalBytes }),
    });
    return { rows: result.rows, rejected: state.rejected, lines: state.lines };
  } catch (e) {
    // copyPersist wraps what its input throws (SOURCE_FAILED); a bad line is the file's error, not the input's
    const cause = (e as { cause?: unknown }).cause;
    throw cause instanceof LoadFileError ? cause : e;
  } finally {
    if (rejects) {
      const closed = rejects as WriteStream;
      await new Promise<void>(resolve => closed.end(resolve));
    }
    (input as Partial<Readable>).destroy?.();
  }
}

type Reject = (line: number, reason: string, raw: string, header?: string) => Promise<void>;
type State = { lines: number; bytes: number; rejected: number };

/** NDJSON: split the bytes into lines ourselves (pull-based, so reading waits for the COPY). */
async function* ndjsonRows(bytes: AsyncIterable<Buffer>, rows: RowConverter, state: State, reject: Reject): AsyncGenerator<Record<string, unknown>> {
  const decoder = new StringDecoder('utf8');
  let rest = '';
  const one = async function* (text: string) {
    const line = ++state.lines;
    // a UTF-8 BOM before the first line, and the \r of CRLF line ends
    if (line === 1 && text.charCodeAt(0) === 0xfeff) text = text.slice(1);
    if (text.endsWith('\r')) text = text.slice(0, -1);
    if (!text.trim()) return;
    let value: unknown;
    try {
      value = JSON.parse(text);
    } catch (e) {
      return void (await reject(line, `not JSON: ${(e as Error).message}`, text));
    }
    if (value === null || typeof value !== 'object' || Array.isArray(value)) return void (await reject(line, 'not a JSON object', text));
    const row = rows.convert(value as Record<string, unknown>);
    if (typeof row === 'string') return void (await reject(line, row, text));
    yield row;
  };
  for await (const chunk of bytes) {
    const text = rest + decoder.write(chunk);
    let start = 0;
    for (let end = text.indexOf('\n'); end !== -1; end = text.indexOf('\n', start)) {
      yield* one(text.slice(start, end));
      start = end + 1;
    }
    rest = text.slice(start);
  }
  rest += decoder.end();
  if (rest) yield* one(rest);
}

/**
 * CSV through csv-parse: quoted fields with delimiters, quotes and newlines, a BOM, CRLF. A quote
 * inside an unquoted field is literal (`relax_quotes`), as in PostgreSQL's CSV. A structural error
 * csv-parse cannot recover from (an unclosed quote) stops the load even with a reject file: where
 * the records after it begin is unknown.
 */
async function* csvRows(bytes: AsyncIterable<Buffer>, rows: RowConverter, reject: Reject, delimiter?: string): AsyncGenerator<Record<string, unknown>> {
  const parser = parseCsv({
    bom: true,
    delimiter,
    raw: true,
    info: true,
    relax_quotes: true,
    relax_column_count: true, // a record with too few or too many fields is rejected below, with its line
    skip_empty_lines: true,
    // an unquoted empty field is "no value" (NULL), a quoted "" the empty string, as in PostgreSQL's CSV
    cast: (value, context) => (value === '' && !context.quoting ? null : value),
  });
  const records = pipeline(Readable.from(bytes), parser, () => {}) as AsyncIterable<{ record: (string | null)[]; raw: string; info: Info }>;
  let header: (EntityProperty | undefined)[] | undefined;
  let headerRaw = '';
  // csv-parse's own line count also counts the \r of a CRLF inside quoted fields, so count ourselves
  let nextLine = 1;
  let lastEmpty = 0;
  try {
    for await (const { record, raw, info } of records) {
      const line = nextLine + (info.empty_lines - lastEmpty);
      lastEmpty = info.empty_lines;
      // the record's own line breaks are those inside its (quoted) fields
      let breaks = 0;
      for (const field of record) {
        if (field) for (let i = field.indexOf('\n'); i !== -1; i = field.indexOf('\n', i + 1)) breaks++;
      }
      nextLine = line + breaks + 1;
      // raw may begin with the line ends of skipped blank lines, and end before the \n of a CRLF
      const stripped = raw.replace(/^[\r\n]+/, '');
      const text = stripped.endsWith('\n') ? stripped : `${stripped}\n`;
      if (!header) {
        header = rows.header(record.map(String), line);
        headerRaw = text;
        continue;
      }
      if (record.length !== header.length) {
        await reject(line, `${record.length} fields where the header has ${header.length}`, text, headerRaw);
        continue;
      }
      const row = rows.convertFields(header, record);
      if (typeof row === 'string') await reject(line, row, text, headerRaw);
      else yield row;
    }
  } catch (e) {
    if (e instanceof LoadFileError) throw e;
    const err = e as Error & { code?: string; lines?: number };
    if (err.code?.startsWith('CSV_')) throw new LoadFileError(`line ${err.lines ?? '?'} or before: ${err.message}`, err.lines, err.message);
    throw e;
  }
}

/**
 * Turns a file's record into a row keyed by property name, as `copyPersist(em, Entity, rows)`
 * takes it, or into the reason it cannot be one. Values copyPersist (through `em.create`) would
 * take as they are pass unchanged; text for a number, boolean, date, JSON or array property is
 * converted here, because `em.create` would keep the string and the COPY would fail (or, for JSON,
 * store a JSON string).
 */
class RowConverter {
  readonly #meta: EntityMetadata;
  readonly #map: Record<string, string>;
  readonly #fromText: boolean;
  readonly #platform: { unmarshallArray(value: string): string[] };
  readonly #required: EntityProperty[];
  /** Column name → property, so a header may also be the column's name (a CSV exported from the table). */
  readonly #byColumn = new Map<string, EntityProperty>();

  constructor(em: SqlEntityManager, meta: EntityMetadata, map: Record<string, string>, fromText: boolean) {
    this.#meta = meta;
    this.#map = map;
    this.#fromText = fromText;
    this.#platform = em.getPlatform();
    this.#required = meta.props.filter(isRequired);
    for (const prop of meta.props) if (prop.fieldNames?.length === 1) this.#byColumn.set(prop.fieldNames[0], prop);
  }

  /** CSV: the property of each column; an unknown header is an error of the whole file. */
  header(names: string[], line: number): (EntityProperty | undefined)[] {
    const props = names.map(name => this.#property(name.trim()));
    const unknown = names.filter((_, i) => !props[i]);
    if (unknown.length) {
      throw new LoadFileError(`line ${line}: unknown column${unknown.length > 1 ? 's' : ''} ${unknown.map(u => `"${u}"`).join(', ')} (not a property of ${this.#meta.className}; map it with --map header=property)`, line, 'unknown column');
    }
    const missing = this.#required.filter(p => !props.includes(p));
    if (missing.length) {
      throw new LoadFileError(`line ${line}: no column for required propert${missing.length > 1 ? 'ies' : 'y'} ${missing.map(p => p.name).join(', ')}`, line, 'missing column');
    }
    return props;
  }

  convertFields(header: (EntityProperty | undefined)[], fields: (string | null)[]): Record<string, unknown> | string {
    const row: Record<string, unknown> = {};
    for (let i = 0; i < header.length; i++) {
      const prop = header[i]!;
      const value = fields[i];
      if (value === null) continue;
      const converted = this.#value(prop, value);
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
      const converted = this.#value(prop, value);
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
    const prop = (this.#meta.properties[name] as EntityProperty | undefined) ?? (this.#map[key] ? undefined : this.#byColumn.get(key));
    if (!prop || prop.persist === false || prop.kind === ReferenceKind.ONE_TO_MANY || prop.kind === ReferenceKind.MANY_TO_MANY) return undefined;
    if (prop.kind === ReferenceKind.ONE_TO_ONE && !prop.owner) return undefined;
    return prop;
  }

  #value(prop: EntityProperty, value: unknown): unknown {
    // a to-one relation is given as the target's primary key
    if (prop.kind === ReferenceKind.MANY_TO_ONE || prop.kind === ReferenceKind.ONE_TO_ONE) {
      const targetPk = prop.targetMeta?.getPrimaryProps()[0];
      if (!targetPk || (prop.targetMeta?.primaryKeys.length ?? 0) > 1) return new Invalid('composite foreign keys are not supported by the file loader');
      return this.#value(targetPk, value);
    }
    if (prop.kind === ReferenceKind.EMBEDDED) return this.#fromText && typeof value === 'string' ? parseJson(value) : value;
    const column = (prop.columnTypes?.[0] ?? '').toLowerCase();
    const typeName = prop.customType?.constructor.name;
    const runtime = prop.runtimeType as string | undefined;
    if (typeName === 'JsonType' || column === 'json' || column === 'jsonb') {
      // in NDJSON the value is already JSON; in CSV it is JSON text
      return this.#fromText && typeof value === 'string' ? parseJson(value) : value;
    }
    if (typeName === 'ArrayType' || runtime?.endsWith('[]') || column.endsWith('[]')) {
      if (typeof value !== 'string') return Array.isArray(value) ? value : new Invalid(`expected an array, got ${typeof value}`);
      const text = value.trim();
      const items = text.startsWith('[') ? parseJson(text) : text.startsWith('{') ? this.#platform.unmarshallArray(text) : new Invalid('expected a JSON array ["a","b"] or an array literal {a,b}');
      if (items instanceof Invalid || !Array.isArray(items)) return items instanceof Invalid ? items : new Invalid('expected a JSON array');
      return /^(number|int|integer|smallint|float|double|real)\[\]$/i.test(String(prop.type)) ? items.map(Number) : items;
    }
    if (typeof value !== 'string') return value; // NDJSON numbers, booleans, arrays ... as they are
    switch (runtime) {
      case 'number': {
        const n = value.trim() === '' ? NaN : Number(value);
        return Number.isNaN(n) ? new Invalid(`not a number: ${JSON.stringify(clip(value))}`) : n;
      }
      case 'bigint':
        return /^\s*-?\d+\s*$/.test(value) ? BigInt(value.trim()) : new Invalid(`not an integer: ${JSON.stringify(clip(value))}`);
      case 'boolean': {
        const b = BOOLEANS.get(value.trim().toLowerCase());
        return b ?? new Invalid(`not a boolean: ${JSON.stringify(clip(value))} (true/false, t/f, 1/0, yes/no)`);
      }
      case 'Date': {
        const d = new Date(value);
        return Number.isNaN(d.getTime()) ? new Invalid(`not a date: ${JSON.stringify(clip(value))}`) : d;
      }
      case 'Buffer':
        return /^\\x([0-9a-f]{2})*$/i.test(value) ? Buffer.from(value.slice(2), 'hex') : new Invalid('binary values are written as \\x followed by hex digits');
    }
    if (/^(numeric|decimal)/.test(column) && !/^\s*[-+]?(\d+\.?\d*|\.\d+)(e[-+]?\d+)?\s*$/i.test(value)) return new Invalid(`not a number: ${JSON.stringify(clip(value))}`);
    if (prop.enum && prop.items?.length && !prop.items.map(String).includes(value)) return new Invalid(`not one of ${prop.items.join(', ')}: ${JSON.stringify(clip(value))}`);
    return value;
  }
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

/** A value the row must give: not nullable, no default of any kind, not generated. */
function isRequired(prop: EntityProperty): boolean {
  if (prop.nullable || prop.persist === false || prop.version || prop.onCreate || prop.embedded) return false;
  if (prop.default !== undefined || prop.defaultRaw !== undefined) return false;
  if (prop.primary && (prop.autoincrement || prop.generated)) return false;
  if (prop.generated) return false;
  return prop.kind === ReferenceKind.SCALAR || prop.kind === ReferenceKind.MANY_TO_ONE || (prop.kind === ReferenceKind.ONE_TO_ONE && !!prop.owner);
}
