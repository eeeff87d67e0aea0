// Issue 13, item "try binary COPY": would COPY's `FORMAT binary` make the package faster? Two
// measurements on the bench's Book rows, on the server of DATABASE_URL or an embedded one:
//
//   1. `psql \copy` of the same rows from a CSV file and from a binary file, taking turns.
//   2. A throwaway binary encoder for Book (here, not in src/), fed the same MikroORM entities as
//      `copyPersist(entities)`, end to end (keys reserved from the sequence, COPY, commit), beside
//      `copyPersist(entities)` and a CSV encoder of the same shape (same loop, same buffers), so
//      the format's share can be told apart from the encoder's.
//
// Every run's table is hashed and compared with what `psql` wrote from the CSV file.
//
//   npm run build:test && node --max-old-space-size=8000 build/bench/binary-trial.js [--rows=1m] [--rounds=3]
//       [--parts=psql,encoders] [--out=bench/results/binary-trial-NAME.json]
//
// The prototype is deliberately narrow: Book's eight column types, no checks (copyPersist runs
// flush's), bench-shaped values. What it says is how fast each format can be, not how to ship one.
import { once } from 'node:events';
import { rmSync, writeFileSync } from 'node:fs';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import type { EntityClass } from '@mikro-orm/core';
import type { MikroORM } from '@mikro-orm/postgresql';
import pg from 'pg';
import { from as copyFrom } from 'pg-copy-streams';
import type { CopyEntityManager } from '../src/index.js';
import { BOOK, writeCsv } from './support/data.js';
import { createBenchSchema, initBenchOrm, tableInfo, type TableInfo } from './support/orm.js';
import { redact, startPostgres } from './support/postgres.js';
import { parseFlags, parseSize, runPsql } from './support/runner.js';

/** Book's properties in the order of the COPY's column list (the key first). */
const PROPS = ['id', 'title', 'isbn', 'price', 'publishedAt', 'tags', 'meta', 'active', 'authorId'] as const;
const CHUNK_ROWS = 2000;
/** 2000-01-01T00:00:00Z, PostgreSQL's epoch for binary timestamps. */
const PG_EPOCH_MS = 946_684_800_000;
const TEXT_OID = 25;

type Values = Record<Exclude<(typeof PROPS)[number], 'id'>, unknown>;

/** A growing byte buffer; a full chunk is handed to the stream and a new one started (never reused while the socket may hold it). */
class Bytes {
  buf = Buffer.allocUnsafe(1 << 20);
  pos = 0;

  ensure(n: number): void {
    if (this.pos + n <= this.buf.length) return;
    const bigger = Buffer.allocUnsafe(Math.max(this.buf.length * 2, this.pos + n));
    this.buf.copy(bigger, 0, 0, this.pos);
    this.buf = bigger;
  }

  take(): Buffer {
    const chunk = this.buf.subarray(0, this.pos);
    this.buf = Buffer.allocUnsafe(this.buf.length);
    this.pos = 0;
    return chunk;
  }

  int16(v: number): void {
    this.ensure(2);
    this.pos = this.buf.writeInt16BE(v, this.pos);
  }

  int32(v: number): void {
    this.ensure(4);
    this.pos = this.buf.writeInt32BE(v, this.pos);
  }

  /** Writes `text` as UTF-8 (room for the worst case is made first). */
  utf8(text: string): number {
    this.ensure(text.length * 3);
    const n = this.buf.write(text, this.pos, 'utf8');
    this.pos += n;
    return n;
  }

  byte(b: number): void {
    this.ensure(1);
    this.buf[this.pos++] = b;
  }

  ascii(text: string): void {
    this.ensure(text.length);
    this.pos += this.buf.write(text, this.pos, 'latin1');
  }
}

// --- FORMAT binary ----------------------------------------------------------------------------

const SIGNATURE = Buffer.from('PGCOPY\n\xff\r\n\0', 'latin1');

class BinaryBook {
  readonly out = new Bytes();

  header(): void {
    this.out.ensure(SIGNATURE.length + 8);
    this.out.pos += SIGNATURE.copy(this.out.buf, this.out.pos);
    this.out.int32(0); // flags
    this.out.int32(0); // header extension length
  }

  trailer(): void {
    this.out.int16(-1);
  }

  row(id: string, v: Values): void {
    const o = this.out;
    o.int16(PROPS.length);
    this.int8(Number(id));
    this.text(v.title as string);
    this.text(v.isbn as string);
    if (v.price == null) o.int32(-1);
    else this.numeric(v.price as string);
    this.timestamptz(v.publishedAt as Date);
    if (v.tags == null) o.int32(-1);
    else this.textArray(v.tags as string[]);
    if (v.meta == null) o.int32(-1);
    else this.jsonb(v.meta);
    o.int32(1);
    o.ensure(1);
    o.buf[o.pos++] = v.active ? 1 : 0;
    o.int32(4);
    o.int32(v.authorId as number);
  }

  text(value: string): void {
    const o = this.out;
    o.ensure(4);
    const at = o.pos;
    o.pos += 4;
    o.buf.writeInt32BE(o.utf8(value), at);
  }

  /** A key below 2^53 (what the sequence hands out here), as two 32-bit halves. */
  int8(n: number): void {
    const o = this.out;
    o.int32(8);
    o.int32(Math.floor(n / 2 ** 32));
    o.ensure(4);
    o.pos = o.buf.writeUInt32BE(n >>> 0, o.pos);
  }

  /** Microseconds since 2000-01-01 UTC; a JavaScript Date has milliseconds, so the product is exact. */
  timestamptz(d: Date): void {
    const o = this.out;
    const us = (d.getTime() - PG_EPOCH_MS) * 1000;
    const hi = Math.floor(us / 2 ** 32);
    o.int32(8);
    o.int32(hi);
    o.ensure(4);
    o.pos = o.buf.writeUInt32BE(us - hi * 2 ** 32, o.pos);
  }

  /** numeric's wire form: base-10000 digits with weight, sign and display scale, from decimal text. */
  numeric(text: string): void {
    const o = this.out;
    let s = text;
    const negative = s.charCodeAt(0) === 45;
    if (negative || s.charCodeAt(0) === 43) s = s.slice(1);
    const dot = s.indexOf('.');
    let int = dot === -1 ? s : s.slice(0, dot);
    const frac = dot === -1 ? '' : s.slice(dot + 1);
    let lead = 0;
    while (lead < int.length && int.charCodeAt(lead) === 48) lead++;
    int = int.slice(lead);
    const intGroups = Math.ceil(int.length / 4);
    const padded = '0'.repeat(intGroups * 4 - int.length) + int + frac + '0'.repeat((4 - (frac.length % 4)) % 4);
    const digits: number[] = [];
    for (let i = 0; i < padded.length; i += 4) digits.push(Number(padded.slice(i, i + 4)));
    let weight = intGroups - 1;
    while (digits.length && digits[digits.length - 1] === 0) digits.pop();
    while (digits.length && digits[0] === 0) {
      digits.shift();
      weight--;
    }
    if (!digits.length) weight = 0;
    o.int32(8 + 2 * digits.length);
    o.int16(digits.length);
    o.int16(weight);
    o.int16(negative && digits.length ? 0x4000 : 0);
    o.int16(frac.length);
    for (const d of digits) o.int16(d);
  }

  /** text[] of one dimension; the byte length is written once the elements are. */
  textArray(items: string[]): void {
    const o = this.out;
    o.ensure(4);
    const at = o.pos;
    o.pos += 4;
    const start = o.pos;
    o.int32(items.length ? 1 : 0);
    o.int32(items.some(item => item == null) ? 1 : 0);
    o.int32(TEXT_OID);
    if (items.length) {
      o.int32(items.length);
      o.int32(1);
      for (const item of items) {
        if (item == null) o.int32(-1);
        else this.text(item);
      }
    }
    o.buf.writeInt32BE(o.pos - start, at);
  }

  /** jsonb's binary form is a version byte (1) and the JSON text; MikroORM's conversion is JSON.stringify. */
  jsonb(value: unknown): void {
    const o = this.out;
    o.ensure(5);
    const at = o.pos;
    o.pos += 4;
    o.buf[o.pos++] = 1;
    o.buf.writeInt32BE(1 + o.utf8(JSON.stringify(value)), at);
  }
}

// --- FORMAT csv, the same shape ------------------------------------------------------------------

class CsvBook {
  readonly out = new Bytes();

  header(): void {}

  trailer(): void {}

  row(id: string, v: Values): void {
    const o = this.out;
    o.ascii(id);
    o.byte(COMMA);
    this.quoted(v.title as string);
    o.byte(COMMA);
    this.quoted(v.isbn as string);
    o.byte(COMMA);
    if (v.price != null) o.ascii(v.price as string);
    o.byte(COMMA);
    o.ascii((v.publishedAt as Date).toISOString());
    o.byte(COMMA);
    if (v.tags != null) {
      // an array literal inside a quoted CSV field: element quotes are "" there
      const tags = v.tags as string[];
      o.ascii('"{');
      for (let i = 0; i < tags.length; i++) {
        o.ascii(i ? ',""' : '""');
        const tag = tags[i];
        o.utf8(/["\\]/.test(tag) ? tag.replaceAll('\\', '\\\\').replaceAll('"', '\\""') : tag);
        o.ascii('""');
      }
      o.ascii('}"');
    }
    o.byte(COMMA);
    if (v.meta != null) this.quoted(JSON.stringify(v.meta));
    o.ascii(v.active ? ',t,' : ',f,');
    o.ascii(String(v.authorId));
    o.byte(LF);
  }

  quoted(text: string): void {
    const o = this.out;
    o.byte(QUOTE);
    o.utf8(text.includes('"') ? text.replaceAll('"', '""') : text);
    o.byte(QUOTE);
  }
}

const COMMA = 44;
const QUOTE = 34;
const LF = 10;

// --- the end-to-end run of a prototype ----------------------------------------------------------

/** MikroORM 7 keeps scalar values in the entity's helper data (its accessors read it); MikroORM 6 on the entity. */
function valuesOf(entity: object): Values {
  const data = (entity as { __helper?: { __data?: Values } }).__helper?.__data;
  return data && 'title' in data ? data : (entity as Values);
}

async function copyWithPrototype(url: string, info: TableInfo, sequence: string, entities: object[], format: 'binary' | 'csv'): Promise<void> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    await client.query('begin');
    // the keys first, as copyPersist reserves them: one round trip, one text value
    const { rows } = await client.query<{ ids: string }>(`select string_agg(nextval('${sequence}')::text, ',') as ids from generate_series(1, ${entities.length})`);
    const ids = rows[0].ids.split(',');
    const columns = ['"id"', ...info.columns].join(', ');
    const stream = client.query(copyFrom(`copy ${info.table} (${columns}) from stdin with (format ${format})`));
    const done = new Promise<void>((resolve, reject) => {
      stream.on('finish', resolve);
      stream.on('error', reject);
    });
    const encoder = format === 'binary' ? new BinaryBook() : new CsvBook();
    encoder.header();
    for (let i = 0; i < entities.length; i++) {
      const entity = entities[i] as { id?: string };
      entity.id = ids[i];
      encoder.row(ids[i], valuesOf(entity));
      if ((i + 1) % CHUNK_ROWS === 0 && !stream.write(encoder.out.take())) await once(stream, 'drain');
    }
    encoder.trailer();
    stream.end(encoder.out.take());
    await done;
    await client.query('commit');
  } finally {
    await client.end();
  }
}

// --- the run ----------------------------------------------------------------------------------

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const fmt = (n: number) => Math.round(n).toLocaleString('en-US');

async function digest(orm: MikroORM, info: TableInfo): Promise<string> {
  const [row] = await orm.em.getConnection().execute<{ n: number; hash: string }[]>(
    `select count(*)::int as n, md5(coalesce(string_agg(md5(t::text), '' order by t.k), '')) as hash
       from (select ${info.orderColumn} as k, ${info.columns.join(', ')} from ${info.table}) t`,
  );
  return `${row.n}:${row.hash}`;
}

async function main(): Promise<void> {
  const flags = parseFlags(process.argv.slice(2), ['rows', 'rounds', 'parts', 'out']);
  const n = parseSize(flags.get('rows') ?? '1m');
  const rounds = Number(flags.get('rounds') ?? 3);
  const parts = (flags.get('parts') ?? 'psql,encoders').split(',');
  const server = await startPostgres();
  const orm = await initBenchOrm(server.url);
  const csvFile = join(tmpdir(), `binary-trial-${process.pid}.csv`);
  const binFile = join(tmpdir(), `binary-trial-${process.pid}.bin`);
  const times: Record<string, number[]> = {};
  const time = (name: string, ms: number) => (times[name] ??= []).push(ms);
  try {
    await createBenchSchema(orm);
    const [{ version }] = await orm.em.getConnection().execute<{ version: string }[]>('select version()');
    console.log(`PostgreSQL: ${server.embedded ? 'embedded' : redact(server.url)} — ${version.split(',')[0]}; ${fmt(n)} Book rows, ${rounds} rounds; ${cpus().length} cores`);
    const info = tableInfo(orm, BOOK);
    const [{ seq }] = await orm.em.getConnection().execute<{ seq: string }[]>(`select pg_get_serial_sequence('${info.table.replaceAll("'", "''")}', 'id') as seq`);
    const truncate = () => orm.em.getConnection().execute(`truncate ${info.table} restart identity`);
    const copyList = `${info.table} (${info.columns.join(', ')})`;

    // the reference: psql from the CSV file; its table's hash is what every other run must match
    await writeCsv(BOOK, n, csvFile);
    await truncate();
    await runPsql(server.url, [`\\copy ${copyList} from '${csvFile}' with (format csv)`]);
    const reference = await digest(orm, info);
    await runPsql(server.url, [`\\copy (select ${info.columns.join(', ')} from ${info.table} order by id) to '${binFile}' with (format binary)`]);
    const check = async (name: string) => {
      const got = await digest(orm, info);
      if (got !== reference) throw new Error(`${name} wrote a different table (${got}) from psql's CSV (${reference})`);
    };

    for (let round = 0; round < rounds; round++) {
      if (parts.includes('psql')) {
        for (const format of ['csv', 'binary'] as const) {
          await truncate();
          await orm.em.getConnection().execute('checkpoint');
          const { ms } = await runPsql(server.url, [`\\copy ${copyList} from '${format === 'csv' ? csvFile : binFile}' with (format ${format})`]);
          await check(`psql ${format}`);
          time(`psql \\copy, FORMAT ${format}`, ms);
          console.error(`round ${round + 1} psql ${format}: ${fmt(n / (ms / 1000))} rows/s, load ${loadavg()[0].toFixed(1)}`);
        }
      }
      if (parts.includes('encoders')) {
        for (const path of ['copyPersist(entities)', 'prototype csv', 'prototype binary']) {
          await truncate();
          await orm.em.getConnection().execute('checkpoint');
          const em = orm.em.fork() as CopyEntityManager;
          let entities: object[] = Array.from({ length: n }, (_, i) => em.create(BOOK.cls as EntityClass<object>, BOOK.row(i) as never, { persist: false }));
          global.gc?.();
          const cpuBefore = process.cpuUsage();
          const started = performance.now();
          if (path === 'copyPersist(entities)') await em.copyPersist(entities);
          else await copyWithPrototype(server.url, info, seq, entities, path.endsWith('binary') ? 'binary' : 'csv');
          const ms = performance.now() - started;
          const cpu = process.cpuUsage(cpuBefore);
          time(`${path}: client CPU`, (cpu.user + cpu.system) / 1000);
          entities = [];
          await check(path);
          time(path, ms);
          console.error(`round ${round + 1} ${path}: ${fmt(n / (ms / 1000))} rows/s, load ${loadavg()[0].toFixed(1)}`);
        }
      }
    }

    const base = times['psql \\copy, FORMAT csv'] ?? times['copyPersist(entities)'];
    console.log(`\n| path | rows/s (median of ${rounds}) | × ${times['psql \\copy, FORMAT csv'] ? 'psql CSV' : 'copyPersist'} per round | median |`);
    console.log('|---|--:|---|--:|');
    const summary: Record<string, unknown> = {};
    for (const [name, ms] of Object.entries(times)) {
      if (name.endsWith('client CPU')) {
        summary[name] = { ms };
        console.log(`| ${name} (this process) | — | ${ms.map(t => `${(t / 1000).toFixed(1)} s`).join(', ')} | ${(median(ms) / 1000).toFixed(1)} s |`);
        continue;
      }
      const ratios = ms.map((t, i) => base[i] / t);
      summary[name] = { ms, rowsPerSec: n / (median(ms) / 1000), ratios };
      console.log(`| ${name} | ${fmt(n / (median(ms) / 1000))} | ${ratios.map(r => r.toFixed(2)).join(', ')} | ${median(ratios).toFixed(2)} |`);
    }
    if (times['prototype binary'] && times['prototype csv']) {
      const r = times['prototype csv'].map((t, i) => t / times['prototype binary'][i]);
      console.log(`\nprototype binary ÷ prototype csv, rows/s per round: ${r.map(x => x.toFixed(2)).join(', ')} (median ${median(r).toFixed(2)})`);
    }
    console.log(`load average after: ${loadavg().map(l => l.toFixed(2)).join(' ')}`);
    if (flags.get('out')) writeFileSync(flags.get('out')!, `${JSON.stringify({ when: new Date().toISOString(), server: version, rows: n, rounds, load: loadavg(), results: summary }, null, 2)}\n`);
  } finally {
    rmSync(csvFile, { force: true });
    rmSync(binFile, { force: true });
    await orm.close(true);
    await server.stop();
  }
}

await main();
