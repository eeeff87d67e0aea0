// CSV text → records with the file line each starts on, its raw text (for the reject file) and the
// bytes consumed up to its end (for progress). Written for the loader instead of csv-parse: a line
// without quotes (most lines of most files) is one `split`, and a malformed record is reported with
// its line and skipped instead of ending the parse.
import { StringDecoder } from 'node:string_decoder';
import { badDelimiter } from '../errors.js';

/** One CSV record, or the reason it is malformed. */
export interface CsvRecord {
  /** Fields; an unquoted empty field is `null` (NULL in PostgreSQL's CSV), a quoted `""` the empty string. */
  fields: (string | null)[];
  /** When malformed: why. `fields` is then empty. */
  error?: string;
  /** File line the record starts on (1-based). */
  line: number;
  /** File line the record ends on (a quoted field may hold line breaks). */
  lastLine: number;
  /** The record's text, ending with its line break. */
  raw: string;
  /** Bytes of the file up to the end of this record (exact for ASCII, proportional within a read otherwise). */
  bytes: number;
}

export interface CsvOptions {
  delimiter?: string;
  /**
   * Accept a quote inside an unquoted field, and text after a closing quote, as literal characters
   * (PostgreSQL's own CSV reader does). Default false: such a record is malformed.
   */
  relaxQuotes?: boolean;
}

const QUOTE = 34;
const LF = 10;
const CR = 13;

/** Parses CSV from a byte stream. Blank lines are skipped (they still count as lines). */
export async function* csvRecords(input: AsyncIterable<Buffer | string>, options: CsvOptions = {}): AsyncGenerator<CsvRecord> {
  const delimiter = options.delimiter ?? ',';
  if (delimiter.length !== 1 || delimiter === '"' || delimiter === '\n' || delimiter === '\r') throw badDelimiter(delimiter);
  const parser = new Parser(delimiter.charCodeAt(0), delimiter, options.relaxQuotes ?? false);
  const decoder = new StringDecoder('utf8');
  let first = true;
  let bytes = 0;
  let chars = 0;
  for await (const chunk of input) {
    const buffer = typeof chunk === 'string' ? Buffer.from(chunk) : chunk;
    let text = decoder.write(buffer);
    if (first && text.length) {
      if (text.charCodeAt(0) === 0xfeff) text = text.slice(1);
      first = false;
    }
    bytes += buffer.length;
    chars += text.length;
    yield* parser.feed(text, false, bytes / Math.max(chars, 1));
  }
  const rest = decoder.end();
  chars += rest.length;
  yield* parser.feed(rest, true, bytes / Math.max(chars, 1));
}

class Parser {
  /** Unparsed text: the start of a record that did not end in the text read so far. */
  #text = '';
  /** Characters of the file before `#text`. */
  #offset = 0;
  #line = 1;

  constructor(
    readonly delimiter: number,
    readonly delimiterChar: string,
    readonly relaxed: boolean,
  ) {}

  *feed(more: string, final: boolean, bytesPerChar: number): Generator<CsvRecord> {
    const text = this.#text ? this.#text + more : more;
    const length = text.length;
    let at = 0;
    while (at < length) {
      const lf = text.indexOf('\n', at);
      if (lf === -1 && !final) break;
      const lineEnd = lf === -1 ? length : lf;
      const contentEnd = lineEnd > at && text.charCodeAt(lineEnd - 1) === CR ? lineEnd - 1 : lineEnd;
      const next = lf === -1 ? length : lf + 1;
      if (contentEnd === at) {
        // a blank line
        this.#line++;
        at = next;
        continue;
      }
      const line = text.slice(at, contentEnd);
      let record: CsvRecord | undefined;
      let end: number;
      const quoted = line.includes('"');
      if (!quoted) {
        // the fast path: no quotes, one line
        const fields: (string | null)[] = line.split(this.delimiterChar);
        for (let i = 0; i < fields.length; i++) if (fields[i] === '') fields[i] = null;
        end = next;
        record = { fields, line: this.#line, lastLine: 0, raw: '', bytes: 0 };
      } else {
        const parsed = this.#quoted(text, at, final);
        if (!parsed) break; // a quoted field goes on in text not yet read
        ({ record, end } = parsed);
      }
      record.raw = text.slice(at, end);
      if (!record.raw.endsWith('\n')) record.raw += '\n';
      record.bytes = Math.round((this.#offset + end) * bytesPerChar);
      // a record without quotes is one line; only quoted fields hold line breaks
      this.#line += quoted ? countBreaks(record.raw, 0, record.raw.length) : 1;
      record.lastLine = this.#line - 1;
      at = end;
      yield record;
    }
    this.#offset += at;
    this.#text = text.slice(at);
  }

  /** A record holding quotes, from `start`; undefined when it needs text not yet read. */
  #quoted(text: string, start: number, final: boolean): { record: CsvRecord; end: number } | undefined {
    const line = this.#line;
    const fields: (string | null)[] = [];
    const length = text.length;
    const bad = (error: string, from: number) => {
      // skip to the end of the physical line the problem is on
      const lf = text.indexOf('\n', from);
      if (lf === -1 && !final) return undefined;
      return { record: { fields: [], error, line, lastLine: 0, raw: '', bytes: 0 }, end: lf === -1 ? length : lf + 1 };
    };
    let at = start;
    for (;;) {
      let value: string | null;
      if (text.charCodeAt(at) === QUOTE) {
        const opened = this.#line + countBreaks(text, start, at);
        let from = at + 1;
        // most quoted fields hold no "": one slice, no concatenation
        let parts: string | undefined;
        for (;;) {
          const q = text.indexOf('"', from);
          if (q === -1) {
            if (!final) return undefined;
            return { record: { fields: [], error: `the quoted field opened on line ${opened} is never closed`, line, lastLine: 0, raw: '', bytes: 0 }, end: length };
          }
          parts = parts === undefined ? text.slice(from, q) : parts + text.slice(from, q);
          if (q + 1 === length && !final) return undefined; // is it "" or the end of the field?
          if (text.charCodeAt(q + 1) === QUOTE) {
            parts += '"';
            from = q + 2;
            continue;
          }
          at = q + 1;
          break;
        }
        value = parts;
        const c = text.charCodeAt(at);
        if (at < length && c !== this.delimiter && c !== LF && !(c === CR && (at + 1 === length || text.charCodeAt(at + 1) === LF))) {
          if (!this.relaxed) return bad(`text after the closing quote of field ${fields.length + 1} (a quote inside a field is written "")`, at);
          const stop = this.#fieldEnd(text, at);
          value += text.slice(at, stop);
          at = stop;
        }
      } else {
        const stop = this.#fieldEnd(text, at);
        value = text.slice(at, stop);
        if (!this.relaxed && value.includes('"')) return bad(`a quote inside unquoted field ${fields.length + 1} (quote the field and write the quote as "")`, at);
        if (value.endsWith('\r') && (stop === length || text.charCodeAt(stop) === LF)) value = value.slice(0, -1);
        if (value === '') value = null;
        at = stop;
      }
      fields.push(value);
      if (at >= length) {
        if (!final) return undefined;
        return { record: { fields, line, lastLine: 0, raw: '', bytes: 0 }, end: length };
      }
      const c = text.charCodeAt(at);
      if (c === this.delimiter) {
        at++;
        continue;
      }
      if (c === CR) at++;
      if (at >= length) {
        if (!final) return undefined;
        return { record: { fields, line, lastLine: 0, raw: '', bytes: 0 }, end: length };
      }
      // a line feed ends the record
      return { record: { fields, line, lastLine: 0, raw: '', bytes: 0 }, end: at + 1 };
    }
  }

  /** Where an unquoted field that starts at `at` ends: at the delimiter or the line feed. */
  #fieldEnd(text: string, at: number): number {
    const length = text.length;
    for (let i = at; i < length; i++) {
      const c = text.charCodeAt(i);
      if (c === this.delimiter || c === LF) return i;
    }
    return length;
  }
}

/** Line feeds in `text` from `from` up to (not including) `to`. */
export function countBreaks(text: string, from: number, to: number): number {
  let n = 0;
  for (let i = text.indexOf('\n', from); i !== -1 && i < to; i = text.indexOf('\n', i + 1)) n++;
  return n;
}
