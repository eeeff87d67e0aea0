// Bulk update, delete and sync through COPY, beside flush and beside the same work by hand in one
// psql session. A script, not a test.
//
//   npm run build:test && DATABASE_URL=... ./node_modules/.bin/node build/bench/bulk.js
//   ... build/bench/bulk.js --rows=100k --sync-rows=1m --paths=psql,copy,flush --ops=update,delete,sync
//
// Table: the bench's Book (8 columns + id), reset before every path from a seed table of `rows`
// rows (truncate, insert ... select, vacuum analyze). Each path runs in a child process of its own
// (peak RSS is its own); timed: the write only, its input built before timing.
//   update — 3 of the 8 columns (title, price, active) of every row, by id:
//     psql:  one psql session: create temp table, `\copy` of (id, title, price, active) from a CSV
//            written before timing, `update book t set ... from s where t.id = s.id`
//     copy:  em.copyUpdate(Book, rows) of plain rows { id, title, price, active }
//     flush: the rows loaded before timing (em.find); timed: the 3 assignments + em.flush()
//   delete — every row by id: psql (`\copy` of the ids + `delete ... using`), em.copyDelete(Book,
//            ids), em.remove() of the loaded entities + em.flush()
//   sync   — `sync-rows` rows; the input has 95% of them (every 20th gone), 10% of those changed
//            (title, price, active): em.copySync(Book, rows, { where: {} })
// After each update path the table is hashed: every path must leave the same table.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { MikroORM } from '@mikro-orm/postgresql';
import type { CopyEntityManager } from '../src/index.js';
import { BOOK, Book } from './support/data.js';
import { SCHEMA, createBenchSchema, initBenchOrm } from './support/orm.js';
import { childMain, fmtInt, fmtSize, load, parseFlags, parseSize, peakRssMb, printTable, runChild, runPsql } from './support/runner.js';

const TABLE = `"${SCHEMA}"."book"`;
const SEED = `"${SCHEMA}"."bulk_seed"`;

interface Spec {
  op: 'update' | 'delete' | 'sync';
  path: 'copy' | 'flush';
  rows: number;
  url: string;
}
interface Result {
  ms: number;
  peakRssMb: number | null;
  counts: string;
}

/** The changed columns of row i: different from the seed's values for every row. */
function change(i: number): { title: string; price: string; active: boolean } {
  return { title: `changed "${i}", again`, price: `${i % 100_000}.${String(i % 100).padStart(2, '0')}`, active: i % 3 === 0 };
}

async function child(spec: Spec): Promise<Result> {
  const orm = await initBenchOrm(spec.url);
  try {
    const em = orm.em.fork() as CopyEntityManager;
    let run: () => Promise<string>;
    if (spec.op === 'update' && spec.path === 'copy') {
      const rows = Array.from({ length: spec.rows }, (_, i) => ({ id: BigInt(i + 1), ...change(i) }));
      run = async () => JSON.stringify(await em.copyUpdate(Book, rows as never));
    } else if (spec.op === 'update') {
      const books = await em.find(Book, {}, { orderBy: { id: 'asc' } });
      run = async () => {
        books.forEach((b, i) => Object.assign(b, change(i)));
        await em.flush();
        return `${books.length} flushed`;
      };
    } else if (spec.op === 'delete' && spec.path === 'copy') {
      const ids = Array.from({ length: spec.rows }, (_, i) => BigInt(i + 1));
      run = async () => JSON.stringify(await em.copyDelete(Book, ids as never));
    } else if (spec.op === 'delete') {
      const books = await em.find(Book, {});
      run = async () => {
        em.remove(books);
        await em.flush();
        return `${books.length} removed`;
      };
    } else {
      const rows: Record<string, unknown>[] = [];
      for (let i = 0; i < spec.rows; i++) {
        if (i % 20 === 7) continue;
        const row = { id: BigInt(i + 1), ...BOOK.row(i) };
        rows.push(i % 10 === 3 ? { ...row, ...change(i) } : row);
      }
      run = async () => JSON.stringify(await em.copySync(Book, rows as never, { where: {} }));
    }
    const t0 = performance.now();
    const counts = await run();
    return { ms: performance.now() - t0, peakRssMb: peakRssMb(), counts };
  } finally {
    await orm.close(true);
  }
}

async function reset(orm: MikroORM): Promise<void> {
  const conn = orm.em.getConnection();
  await conn.execute(`truncate ${TABLE}`);
  await conn.execute(`insert into ${TABLE} select * from ${SEED}`);
  await conn.execute(`vacuum analyze ${TABLE}`);
}

async function seed(orm: MikroORM, rows: number): Promise<void> {
  await createBenchSchema(orm);
  const em = orm.em.fork() as CopyEntityManager;
  const batch = 100_000;
  for (let first = 0; first < rows; first += batch) {
    await em.copyPersist(Book, Array.from({ length: Math.min(batch, rows - first) }, (_, k) => BOOK.row(first + k)) as never);
  }
  await orm.em.getConnection().execute(`create table ${SEED} as select * from ${TABLE}`);
}

async function tableHash(orm: MikroORM): Promise<string> {
  const [row] = await orm.em.getConnection().execute<{ h: string }[]>(`select md5(string_agg(b::text, '|' order by id)) as h from ${TABLE} as b`);
  return row.h;
}

async function main(): Promise<void> {
  const flags = parseFlags(process.argv.slice(2), ['rows', 'sync-rows', 'paths', 'ops']);
  const url = process.env.DATABASE_URL;
  if (!url) throw new Error('set DATABASE_URL to a database of your own (the bench drops and creates the bench schema)');
  const rows = parseSize(flags.get('rows') ?? '100k');
  const syncRows = parseSize(flags.get('sync-rows') ?? '1m');
  const paths = (flags.get('paths') ?? 'psql,copy,flush').split(',');
  const ops = (flags.get('ops') ?? 'update,delete,sync').split(',');
  const script = fileURLToPath(import.meta.url);
  const dir = mkdtempSync(join(tmpdir(), 'bulk-bench-'));
  const orm = await initBenchOrm(url);
  const body: string[][] = [];
  const ms: Record<string, number> = {};
  const line = (op: string, path: string, n: number, r: { ms: number; peakRssMb: number | null }, note: string) => {
    ms[`${op}/${path}`] = r.ms;
    body.push([op, path, fmtSize(n), fmtInt(r.ms), fmtInt((n / r.ms) * 1000), r.peakRssMb == null ? '—' : String(r.peakRssMb), note, load().join(' ')]);
    console.error(body.at(-1)!.join('  '));
  };
  try {
    if (ops.includes('update') || ops.includes('delete')) {
      await seed(orm, rows);
      const hashes = new Map<string, string>();
      for (const op of (['update', 'delete'] as const).filter(o => ops.includes(o))) {
        for (const path of paths as ('psql' | Spec['path'])[]) {
          await reset(orm);
          if (path === 'psql') {
            const csv = join(dir, `${op}.csv`);
            const lines: string[] = [];
            for (let i = 0; i < rows; i++) {
              const c = change(i);
              lines.push(op === 'update' ? `${i + 1},"${c.title.replaceAll('"', '""')}",${c.price},${c.active}` : String(i + 1));
            }
            writeFileSync(csv, lines.join('\n') + '\n');
            const commands =
              op === 'update'
                ? [
                    'create temp table s (id bigint, title text, price numeric(10,2), active boolean)',
                    `\\copy s from '${csv}' with (format csv)`,
                    `update ${TABLE} as t set title = s.title, price = s.price, active = s.active from s where t.id = s.id`,
                  ]
                : ['create temp table s (id bigint)', `\\copy s from '${csv}' with (format csv)`, `delete from ${TABLE} as t using s where t.id = s.id`];
            // one psql process, one session: the temp table and the statements share it
            const r = await runPsql(url, commands);
            line(op, 'psql', rows, r, '');
          } else {
            const r = await runChild<Result>(script, { op, path, rows, url } satisfies Spec);
            line(op, path, rows, r, r.counts.slice(0, 60));
          }
          const hash = await tableHash(orm);
          hashes.set(`${op}/${path}`, hash);
        }
        const distinct = new Set(paths.map(p => hashes.get(`${op}/${p}`)));
        console.error(`${op}: ${distinct.size === 1 ? 'every path left the same table' : 'TABLES DIFFER between paths'}`);
        if (distinct.size !== 1) process.exitCode = 1;
      }
    }
    if (ops.includes('sync')) {
      await seed(orm, syncRows);
      await reset(orm);
      const r = await runChild<Result>(script, { op: 'sync', path: 'copy', rows: syncRows, url } satisfies Spec, ['--max-old-space-size=8000']);
      line('sync', 'copy', syncRows, r, r.counts);
    }
    printTable(['op', 'path', 'rows', 'ms', 'rows/s', 'peak RSS MB', 'result', 'load'], body, new Set([2, 3, 4, 5]));
    for (const op of ['update', 'delete']) {
      const psql = ms[`${op}/psql`];
      for (const path of ['copy', 'flush']) {
        const t = ms[`${op}/${path}`];
        if (psql && t) console.log(`${op}: ${path} = ${(psql / t).toFixed(2)}× the speed of psql`);
      }
      if (ms[`${op}/copy`] && ms[`${op}/flush`]) console.log(`${op}: copy = ${(ms[`${op}/flush`] / ms[`${op}/copy`]).toFixed(1)}× the speed of flush`);
    }
  } finally {
    await orm.close(true);
    rmSync(dir, { recursive: true, force: true });
  }
}

if (!childMain<Spec, Result>(child)) await main();
