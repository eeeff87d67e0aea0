// Loading a CSV or NDJSON file into one entity: the file is streamed, each record is checked and
// converted to the property types (src/loaders), and the rows go to copyPersist in batches, each
// under a savepoint of one transaction. When PostgreSQL rejects a batch, the batch is split until
// the failing rows are found (as pgloader does), so every error names its file line; with a reject
// file those rows are set aside and the rest is loaded, without one the load stops and writes nothing.
import { createReadStream, createWriteStream, statSync, type WriteStream } from 'node:fs';
import { once } from 'node:events';
import type { Readable } from 'node:stream';
import type { EntityMetadata, EntityName } from '@mikro-orm/core';
import type { SqlEntityManager } from '@mikro-orm/postgresql';
import { copyPersist } from '../api/copy-persist.js';
import { CopyPersistError, badHeader, badRow, badRowInParallel, fileNotReadable, loadFileNotACount, loadFileWithoutSource, missingTable, unknownEntity } from '../errors.js';
import { CopyParallelError } from './parallel.js';
import type { CopyPersistOptions, CopyPersistResult } from '../api/options.js';
import { csvRecords } from './csv-records.js';
import { LoadFileError } from './load-file-error.js';
import { ndjsonLines } from './ndjson-lines.js';
import { RowConverter } from './row-converter.js';
import { entityByName } from './fixtures.js';

export { LoadFileError, type LoadFileErrorCode } from './load-file-error.js';

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
   * Take a quote inside an unquoted CSV field, or text after a closing quote, literally (as
   * PostgreSQL's own CSV reader does). Default `false`: such a record is a bad row.
   */
  relaxQuotes?: boolean;
  /**
   * Write bad rows here (in the input's format; a CSV reject file starts with the header) and go
   * on: rows the loader refuses and rows PostgreSQL rejects (a unique, foreign key or check
   * violation, a value out of range). Without it, the first bad row stops the load with a
   * `LoadFileError` naming its line, and nothing is written.
   */
  rejectFile?: string;
  /** Called with each rejected row, e.g. to print the reason. */
  onReject?: (reject: LoadFileReject) => void;
  /** Called as rows are written. */
  onProgress?: (progress: LoadFileProgress) => void;
  /**
   * Rows per savepoint (default 2000). A batch PostgreSQL rejects is split in halves until the
   * bad rows are found, so smaller batches cost less when rows are rejected and more when none are.
   */
  batchSize?: number;
  /**
   * Passed to copyPersist (`chunkSize`, `signal`, `assignKeys`, upsert options, `parallel` ...).
   * With `parallel` each batch commits on its own, and a row PostgreSQL rejects stops the load
   * (earlier batches stay; the error names the row's line and the committed lines) instead of
   * going to the reject file.
   */
  copy?: Omit<CopyPersistOptions, 'onProgress'>;
}

/** What `onProgress` receives. */
export interface LoadFileProgress {
  /** Rows sent to PostgreSQL so far. */
  rows: number;
  /** Rows rejected so far. */
  rejected: number;
  /** Bytes of the file up to the last row sent: the part of the file done. */
  bytes: number;
  /** Size of the file, when known. */
  totalBytes?: number;
}

/** A rejected row: where, why, and its text. */
export interface LoadFileReject {
  /** Line of the file the record starts on (1-based; a CSV record may span lines). */
  line: number;
  reason: string;
  raw: string;
}

/** What `loadFile` returns. */
export interface LoadFileResult {
  /** Rows written (with upsert options: inserted or updated). */
  rows: number;
  /** Rows rejected (written to the reject file). */
  rejected: number;
  /** Lines of the file read, the CSV header and blank lines included. */
  lines: number;
  /** With upsert options: rows inserted, updated and skipped. */
  upserted?: { inserted: number; updated: number; skipped: number };
}

const DEFAULT_BATCH_SIZE = 2000;

/**
 * Loads a CSV or NDJSON file into an entity's table through `copyPersist`, streaming: memory stays
 * bounded by the batch size whatever the file's size. Headers (CSV) or keys (NDJSON) name
 * properties (or their columns), or are mapped to properties with `map`. Text values are converted
 * to the property's type and checked (type, integer range, numeric digits, varchar length, enum,
 * NUL characters) before they reach copyPersist; rows PostgreSQL rejects are found by splitting the
 * batch that failed. Every error names the file line.
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
  const meta = entityOf(em, options.entity);
  if (!options.path && !options.stream) throw loadFileWithoutSource();
  const format = options.format ?? (options.path?.toLowerCase().endsWith('.csv') ? 'csv' : 'ndjson');
  const batchSize = options.batchSize ?? DEFAULT_BATCH_SIZE;
  if (!Number.isInteger(batchSize) || batchSize < 1) throw loadFileNotACount('batchSize', batchSize);
  let totalBytes = options.size;
  if (options.path && !options.stream) {
    try {
      totalBytes = statSync(options.path).size;
    } catch (e) {
      throw fileNotReadable(options.path, e);
    }
  }
  const input = (options.stream ?? createReadStream(options.path!, { highWaterMark: 256 * 1024 })) as AsyncIterable<Buffer | string>;
  const converter = new RowConverter(em, meta, options.map ?? {}, format === 'csv');
  const rejects = new Rejects(options.rejectFile, options.onReject);
  const counts = { lines: 0, rows: 0, shown: 0 };
  const progress = (rows: number, bytes: number) => {
    // a retried batch reports rows again: show only progress beyond what was shown
    if (rows <= counts.shown) return;
    counts.shown = rows;
    options.onProgress?.({ rows, rejected: rejects.count, bytes, totalBytes });
  };
  const rows = format === 'csv' ? csvRows(input, converter, rejects, counts, options) : ndjsonRows(input, converter, rejects, counts);
  try {
    let result: Pick<CopyPersistResult, 'rows' | 'upserted'>;
    if (options.copy?.parallel) {
      result = await loadParallel(em, meta, rows, options.copy, progress);
    } else {
      const loader = new BatchLoader(meta, rejects, options.copy ?? {}, progress);
      result = await em.transactional(async trx => {
        const iterator = rows[Symbol.asyncIterator]();
        const read = async () => {
          const batch: Pending[] = [];
          while (batch.length < batchSize) {
            const step = await iterator.next();
            if (step.done) break;
            batch.push(step.value);
          }
          return batch;
        };
        // the next batch is read and converted while PostgreSQL works on this one; its errors wait
        // until it is its turn (they are rethrown by the await), so the first bad row stays the first
        let next = read();
        next.catch(() => undefined);
        for (let batch = await next; batch.length; batch = await next) {
          next = read();
          next.catch(() => undefined);
          await loader.send(trx as SqlEntityManager, batch);
        }
        return loader.result;
      });
    }
    return { rows: result.rows, rejected: rejects.count, lines: counts.lines, ...(result.upserted && { upserted: result.upserted }) };
  } catch (e) {
    // copyPersist wraps what its input throws (SOURCE_FAILED); a bad row is the file's error, not the input's
    const cause = (e as { cause?: unknown }).cause;
    if (cause instanceof LoadFileError) throw cause;
    // undefined_table, invalid_schema_name
    if ((e as { code?: unknown }).code === '42P01' || (e as { code?: unknown }).code === '3F000') {
      throw missingTable(meta.className, e as Error);
    }
    throw e;
  } finally {
    await rejects.close();
    (input as Partial<Readable>).destroy?.();
  }
}

function entityOf(em: SqlEntityManager, entity: LoadFileOptions['entity']): EntityMetadata {
  try {
    const meta = typeof entity === 'string' ? entityByName(em, entity) : (em.getMetadata().find(entity) as EntityMetadata | undefined);
    if (meta) return meta;
  } catch (e) {
    if (e instanceof CopyPersistError) throw unknownEntity(entity, e);
    throw e;
  }
  throw unknownEntity(entity);
}

/** A row ready for copyPersist, with where it came from. */
interface Pending {
  row: Record<string, unknown>;
  line: number;
  raw: string;
  /** Bytes of the file up to the end of the row. */
  bytes: number;
}

/**
 * Sends batches, each a copyPersist call (so a savepoint of the load's transaction). A batch that
 * fails on a row is retried without it: the row PostgreSQL or copyPersist named, or, when the error
 * names none (foreign keys are checked after the last row), each half of the batch in turn.
 */
class BatchLoader {
  readonly result: { rows: number; upserted?: { inserted: number; updated: number; skipped: number } } = { rows: 0 };

  constructor(
    readonly meta: EntityMetadata,
    readonly rejects: Rejects,
    readonly copy: Omit<CopyPersistOptions, 'onProgress'>,
    readonly progress: (rows: number, bytes: number) => void,
  ) {}

  async send(em: SqlEntityManager, batch: Pending[]): Promise<void> {
    if (!batch.length) return;
    const before = this.result.rows;
    let copied: CopyPersistResult;
    try {
      copied = await copyPersist(em, this.meta.class, batch.map(p => p.row), {
        ...this.copy,
        onProgress: p => this.progress(before + p.rows, batch[Math.min(p.rows, batch.length) - 1].bytes),
      });
    } catch (e) {
      if (!isRowError(e)) throw e;
      if (batch.length === 1) return this.rejects.add(batch[0].line, reasonOf(e), batch[0].raw, e);
      const position = positionOf(e);
      if (position !== undefined && position < batch.length) {
        await this.send(em, batch.slice(0, position));
        await this.rejects.add(batch[position].line, reasonOf(e), batch[position].raw, e);
        return this.send(em, batch.slice(position + 1));
      }
      const half = batch.length >> 1;
      await this.send(em, batch.slice(0, half));
      return this.send(em, batch.slice(half));
    }
    this.result.rows += copied.rows;
    if (copied.upserted) {
      const total = (this.result.upserted ??= { inserted: 0, updated: 0, skipped: 0 });
      total.inserted += copied.upserted.inserted;
      total.updated += copied.upserted.updated;
      total.skipped += copied.upserted.skipped;
    }
    this.progress(this.result.rows, batch[batch.length - 1].bytes);
  }
}

/**
 * `parallel`: copyParallel's own batches and transactions; the rows stream straight through. An
 * error names input positions, turned back into file lines here.
 */
async function loadParallel(em: SqlEntityManager, meta: EntityMetadata, rows: AsyncIterable<Pending>, copy: Omit<CopyPersistOptions, 'onProgress'>, progress: (rows: number, bytes: number) => void) {
  let bytes = 0;
  const lines = new LineIndex();
  async function* plain() {
    for await (const p of rows) {
      bytes = p.bytes;
      lines.add(p.line);
      yield p.row;
    }
  }
  try {
    // bytes read ahead of the batches in flight: the end of the file is reached before the last batch commits
    return await copyPersist(em, meta.class, plain(), { ...copy, onProgress: p => progress(p.rows, bytes) });
  } catch (e) {
    if (!(e instanceof CopyParallelError) || e.code !== 'PARALLEL_FAILED' || !isRowError(e.cause)) throw e;
    const committed = e.committed.length ? `rows of lines ${e.committed.map(([from, to]) => `${lines.of(from)}..${lines.of(to - 1)}`).join(', ')} stay committed` : 'no batch was committed';
    const reason = reasonOf(e.cause);
    if (e.position !== undefined) {
      const line = lines.of(e.position);
      throw badRowInParallel({ line }, reason, committed, e);
    }
    const failed = e.failed ? `the batch of lines ${lines.of(e.failed[0])}..${lines.of(e.failed[1] - 1)}` : 'a batch';
    throw badRowInParallel({ batch: failed }, reason, committed, e);
  }
}

/**
 * Input position → file line, for rows sent without their line. Lines mostly follow positions one
 * to one, so only the positions where they stop doing so (after a blank line, a rejected row or a
 * record spanning lines) are kept.
 */
class LineIndex {
  readonly #positions: number[] = [];
  readonly #lines: number[] = [];
  #count = 0;
  #expected = -1;

  add(line: number): void {
    if (line !== this.#expected) {
      this.#positions.push(this.#count);
      this.#lines.push(line);
    }
    this.#expected = line + 1;
    this.#count++;
  }

  of(position: number): number {
    let low = 0;
    let high = this.#positions.length - 1;
    while (low < high) {
      const mid = (low + high + 1) >> 1;
      if (this.#positions[mid] <= position) low = mid;
      else high = mid - 1;
    }
    return this.#lines[low] + (position - this.#positions[low]);
  }
}

/** Client-side (copyPersist's checks) or server-side errors that belong to one row, not to the load. */
function isRowError(e: unknown): boolean {
  if (e instanceof CopyPersistError) return e.position !== undefined && ROW_CODES.has(e.code);
  const state = (e as { code?: unknown }).code;
  // SQLSTATE classes 22 (data exception) and 23 (integrity constraint violation), P0001 (a trigger's RAISE)
  return typeof state === 'string' && (state.startsWith('22') || state.startsWith('23') || state === 'P0001');
}

const ROW_CODES = new Set(['UNKNOWN_PROPERTY', 'MISSING_REFERENCE_KEY', 'REQUIRED_VALUE', 'NUL_CHARACTER', 'INVALID_VALUE', 'DUPLICATE_KEY']);

function positionOf(e: unknown): number | undefined {
  if (e instanceof CopyPersistError) return e.position;
  return (e as { copyPersist?: { position?: number } }).copyPersist?.position;
}

/** One line: PostgreSQL's message, the column it names and its detail, without our own prefix. */
function reasonOf(e: unknown): string {
  if (e instanceof CopyPersistError) return e.message.replace(/ \([^()]*\)$/, '') + (e.property ? ` (${e.property})` : '');
  const error = e as Error & { column?: string; detail?: string };
  let reason = error.message.replace(/^copyPersist into \S+ failed[^:]*: /, '');
  if (error.column && !reason.includes(error.column)) reason += ` (column ${error.column})`;
  if (error.detail && !reason.includes(error.detail)) reason += ` (${error.detail})`;
  return reason.replace(/\s*\n\s*/g, ' ');
}

/** The reject file, opened on the first reject; without one, a reject is the load's error. */
class Rejects {
  count = 0;
  /** CSV: the header line, written first. */
  header: string | undefined;
  #out: WriteStream | undefined;

  constructor(
    readonly path: string | undefined,
    readonly onReject: ((reject: LoadFileReject) => void) | undefined,
  ) {}

  async add(line: number, reason: string, raw: string, cause?: unknown): Promise<void> {
    if (!this.path) throw badRow(line, reason, cause);
    this.count++;
    this.onReject?.({ line, reason, raw });
    if (!this.#out) {
      this.#out = createWriteStream(this.path);
      if (this.header !== undefined) this.#out.write(this.header);
    }
    if (!this.#out.write(raw.endsWith('\n') ? raw : `${raw}\n`)) await once(this.#out, 'drain');
  }

  async close(): Promise<void> {
    const out = this.#out;
    if (out) await new Promise<void>(resolve => out.end(resolve));
  }
}

async function* ndjsonRows(input: AsyncIterable<Buffer | string>, converter: RowConverter, rejects: Rejects, counts: { lines: number }): AsyncGenerator<Pending> {
  for await (const { line, text, bytes } of ndjsonLines(input)) {
    counts.lines = line;
    if (!text.trim()) continue;
    let value: unknown;
    try {
      value = JSON.parse(text);
    } catch (e) {
      await rejects.add(line, `not JSON: ${(e as Error).message}`, text);
      continue;
    }
    if (value === null || typeof value !== 'object' || Array.isArray(value)) {
      await rejects.add(line, 'not a JSON object', text);
      continue;
    }
    const row = converter.convert(value as Record<string, unknown>);
    if (typeof row === 'string') await rejects.add(line, row, text);
    // the text is kept only while a reject file may need it
    else yield { row, line, raw: rejects.path ? text : '', bytes };
  }
}

async function* csvRows(input: AsyncIterable<Buffer | string>, converter: RowConverter, rejects: Rejects, counts: { lines: number }, options: LoadFileOptions): AsyncGenerator<Pending> {
  let header: ReturnType<RowConverter['header']> | undefined;
  for await (const record of csvRecords(input, { delimiter: options.delimiter, relaxQuotes: options.relaxQuotes })) {
    const { line, raw, fields } = record;
    counts.lines = record.lastLine;
    if (!header) {
      if (record.error) throw badHeader(line, record.error);
      header = converter.header(fields.map(f => f ?? ''), line);
      rejects.header = raw;
      continue;
    }
    if (record.error) {
      await rejects.add(line, record.error, raw);
      continue;
    }
    if (fields.length !== header.length) {
      await rejects.add(line, `${fields.length} fields where the header has ${header.length}`, raw);
      continue;
    }
    const row = converter.convertFields(header, fields);
    if (typeof row === 'string') await rejects.add(line, row, raw);
    else yield { row, line, raw: rejects.path ? raw : '', bytes: record.bytes };
  }
}
