// Why the library writes its own CSV instead of using csv-stringify: the CSV step alone, on the
// same rows of field texts (what the encoder has after turning values into PostgreSQL text),
// through csv-stringify's synchronous API once per 2000-row chunk (the fastest way to use it,
// see ../shared/NOTES.md) versus the library's ChunkWriter. Run: npm run build:test && node build/bench/csv-encoders.js
import { stringify } from 'csv-stringify/sync';
import { ChunkWriter } from '../src/encoding/chunk-writer.js';

const ROWS = Number(process.argv[2] ?? 500_000);
const CHUNK = 2000;

type Field = { text: string; quote: boolean } | null;

/** Rows like the benchmark's Book: text with quotes, commas and newlines; numbers; dates; arrays; JSON; booleans. */
function makeRows(n: number): Field[][] {
  const rows: Field[][] = [];
  for (let i = 0; i < n; i++) {
    rows.push([
      { text: `Title "${i}", part ${i % 7}\nsecond line`, quote: true },
      { text: `978-${String(i).padStart(10, '0')}`, quote: true },
      { text: `${(i % 10_000) / 100}`, quote: false },
      { text: new Date(1_600_000_000_000 + i * 1000).toISOString(), quote: false },
      { text: `{a,"b c","d\\"e"}`, quote: true },
      { text: JSON.stringify({ n: i, tags: ['x', 'y'], note: 'he said "hi"' }), quote: true },
      i % 3 === 0 ? null : { text: i % 2 ? 'true' : 'false', quote: false },
      { text: String(i % 1000), quote: false },
    ]);
  }
  return rows;
}

function viaCsvStringify(rows: Field[][]): number {
  let bytes = 0;
  for (let i = 0; i < rows.length; i += CHUNK) {
    const records = rows.slice(i, i + CHUNK).map(r => r.map(f => (f === null ? null : f.text)));
    // quoted_string: text always quoted so '' stays distinct from NULL (an empty unquoted field)
    const csv = stringify(records, { quoted_string: true, cast: { boolean: b => (b ? 't' : 'f') } });
    bytes += Buffer.from(csv, 'utf8').length;
  }
  return bytes;
}

function viaChunkWriter(rows: Field[][]): number {
  const writer = new ChunkWriter();
  let bytes = 0;
  for (let i = 0; i < rows.length; i++) {
    const row = rows[i];
    for (let f = 0; f < row.length; f++) {
      if (f) writer.comma();
      const field = row[f];
      if (field === null) continue;
      if (field.quote) writer.quoted(field.text);
      else writer.plain(field.text);
    }
    writer.newline();
    if ((i + 1) % CHUNK === 0 || i === rows.length - 1) bytes += writer.take().length;
  }
  return bytes;
}

function time(label: string, run: () => number): number {
  run(); // warm up
  const start = performance.now();
  const bytes = run();
  const ms = performance.now() - start;
  const rate = (ROWS / ms) * 1000;
  console.log(`${label.padEnd(34)} ${Math.round(rate).toLocaleString('en').padStart(12)} rows/s   ${(bytes / 1e6).toFixed(1)} MB`);
  return rate;
}

const rows = makeRows(ROWS);
console.log(`CSV step only, ${ROWS.toLocaleString('en')} rows of 8 fields, chunks of ${CHUNK}:`);
const a = time('csv-stringify/sync per chunk', () => viaCsvStringify(rows));
const b = time('ChunkWriter (the library)', () => viaChunkWriter(rows));
console.log(`ChunkWriter / csv-stringify: ${(b / a).toFixed(2)}×`);
