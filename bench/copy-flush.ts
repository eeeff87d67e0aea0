// copyFlush against flush on the 8-column Book table: N managed books of which 3 of 8 columns
// change (title, price, active), written by em.flush() or em.copyFlush(); and N managed books
// removed. Each path runs in a child process of its own (peak RSS is its own), paths interleaved
// (flush, copyFlush, flush, copyFlush, ...) so the ratios come from runs made side by side on a
// shared, noisy machine. Timed: the flush call only (loading the entities and changing them are
// not). After each update path the table is hashed: flush and copyFlush must leave the same rows.
// A script, not a test.
//
//   npm run build:test && DATABASE_URL=postgres://... ./node_modules/.bin/node build/bench/copy-flush.js
//   ... --sizes=100k            change-set sizes (default 100k)
//   ... --rounds=2              interleaved rounds per size and operation (default 2)
//   ... --ops=update,delete     operations (default both)
//   ... --threshold=N           copyFlush's threshold (default: the library's)
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { MikroORM } from '@mikro-orm/postgresql';
import type { CopyEntityManager } from '../src/index.js';
import { BOOK, Book } from './support/data.js';
import { SCHEMA, createBenchSchema, initBenchOrm } from './support/orm.js';
import { redact, repoRoot, startPostgres } from './support/postgres.js';
import { childMain, fmtInt, fmtSize, load, parseFlags, parseSize, peakRssMb, printTable, runChild, startProfiler } from './support/runner.js';

type Path = 'flush' | 'copyFlush';
type Op = 'update' | 'delete';

interface Spec {
  url: string;
  path: Path;
  op: Op;
  rows: number;
  threshold?: number;
  /** Write a CPU profile of the timed part to this file. */
  profile?: string;
}

interface ChildResult {
  ms: number;
  loadMs: number;
  peakRssMb: number;
  hash: string | null;
  copied: unknown;
}

const TABLE = `"${SCHEMA}"."book"`;

async function seed(orm: MikroORM, rows: number): Promise<void> {
  await orm.em.getConnection().execute(`truncate ${TABLE} restart identity`);
  const em = orm.em.fork() as CopyEntityManager;
  await em.copyPersist(Book, Array.from({ length: rows }, (_, i) => BOOK.row(i)) as never, { assignKeys: false });
  await orm.em.getConnection().execute(`vacuum analyze ${TABLE}`);
}

async function child(spec: Spec): Promise<ChildResult> {
  const orm = await initBenchOrm(spec.url);
  try {
    await seed(orm, spec.rows);
    const em = orm.em.fork() as CopyEntityManager;
    const l0 = performance.now();
    const books = await em.find(Book, {}, { orderBy: { id: 'asc' } });
    for (const [i, book] of books.entries()) {
      if (spec.op === 'delete') {
        em.remove(book);
        continue;
      }
      book.title = `${book.title} (2nd ed. ${i % 7})`;
      book.price = book.price === null || book.price === undefined ? '1.00' : null;
      book.active = !book.active;
    }
    const loadMs = performance.now() - l0;
    const profiler = spec.profile ? await startProfiler() : undefined;
    const t0 = performance.now();
    let copied: unknown = null;
    if (spec.path === 'flush') await em.flush();
    else copied = (await em.copyFlush(spec.threshold ? { threshold: spec.threshold } : undefined)).copied;
    const ms = performance.now() - t0;
    await profiler?.stop(spec.profile!);
    const [row] = await orm.em.getConnection().execute<{ n: string; h: string | null }[]>(
      `select count(*) as n, md5(string_agg(b::text, '|' order by id)) as h from ${TABLE} b`,
    );
    return { ms, loadMs, peakRssMb: peakRssMb(), hash: `${row.n}:${row.h}`, copied };
  } finally {
    await orm.close(true);
  }
}

async function main(): Promise<void> {
  const flags = parseFlags(process.argv.slice(2), ['sizes', 'rounds', 'ops', 'threshold', 'out']);
  const sizes = (flags.get('sizes') ?? '100k').split(',').map(parseSize);
  const rounds = Number(flags.get('rounds') ?? '2');
  const ops = (flags.get('ops') ?? 'update,delete').split(',') as Op[];
  const threshold = flags.has('threshold') ? Number(flags.get('threshold')) : undefined;
  const pg = await startPostgres();
  console.error(`PostgreSQL: ${redact(pg.url)}`);
  const script = fileURLToPath(import.meta.url);
  const body: string[][] = [];
  const results: unknown[] = [];
  try {
    const orm = await initBenchOrm(pg.url);
    await createBenchSchema(orm);
    await orm.close(true);
    for (const rows of sizes) {
      for (const op of ops) {
        const times: Record<Path, number[]> = { flush: [], copyFlush: [] };
        const rss: Record<Path, number[]> = { flush: [], copyFlush: [] };
        const hashes = new Set<string | null>();
        for (let r = 0; r < rounds; r++) {
          for (const path of ['flush', 'copyFlush'] as const) {
            const res = await runChild<ChildResult>(script, { url: pg.url, path, op, rows, threshold } satisfies Spec, ['--max-old-space-size=6000']);
            times[path].push(res.ms);
            rss[path].push(res.peakRssMb);
            hashes.add(res.hash);
            results.push({ rows, op, path, round: r, ...res, load: load() });
            console.error(`${fmtSize(rows)} ${op} ${path}: ${fmtInt(res.ms)} ms, peak RSS ${res.peakRssMb} MB, load ${load().join(' ')}`);
          }
        }
        if (hashes.size !== 1) throw new Error(`${op} of ${rows}: flush and copyFlush left different tables: ${[...hashes].join(', ')}`);
        const ratios = times.flush.map((f, i) => f / times.copyFlush[i]);
        body.push([
          fmtSize(rows),
          op,
          times.flush.map(fmtInt).join(' / '),
          times.copyFlush.map(fmtInt).join(' / '),
          ratios.map(x => `${x.toFixed(1)}×`).join(' / '),
          rss.flush.join(' / '),
          rss.copyFlush.join(' / '),
        ]);
      }
    }
  } finally {
    await pg.stop();
  }
  printTable(['rows', 'op', 'flush ms', 'copyFlush ms', 'flush / copyFlush (per round)', 'flush peak RSS MB', 'copyFlush peak RSS MB'], body, new Set([2, 3, 4, 5, 6]));
  const out = flags.get('out') ?? join(repoRoot(), 'bench', 'results', 'copy-flush.json');
  writeFileSync(out, JSON.stringify({ date: new Date().toISOString(), results }, null, 2));
  console.error(`results: ${out}`);
}

if (!childMain(child)) await main();
