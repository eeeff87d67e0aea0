// `npm run bench -- --targets`: every target of issue 13 measured in one run and printed as one
// table — target, measured ratio (or MB, ms, %), the anchor's figure, met or not — so the issue's
// "done when" can be read off one command instead of eight scripts. The measuring itself is the
// existing scripts': each path runs in a child process of its own (bench.js, graph.js, upsert.js
// spawned with --child=JSON, or this script for the small writes, the file loads, parallel
// streams), so its peak RSS is its own; within a target the anchor and the paths take turns,
// round after round, and the ratio is the median of the rounds' ratios (each round's paths
// against that round's anchor). Every table written is hashed against the anchor's.
//
//   npm run bench -- --targets                       full sizes (Book 1M, ...), 3 rounds
//   npm run bench -- --targets --quick               sizes ÷ 10 (or so): the whole table in minutes
//   npm run bench -- --targets --rounds=N            rounds (default 3; 1 with --quick)
//   npm run bench -- --targets --servers=both        PostgreSQL 15 (--pg15) and embedded, one after the other
//                          (default: DATABASE_URL, else embedded; also --servers=pg15 or =embedded)
//   npm run bench -- --targets --pg15=postgres://postgres@127.0.0.1:5432 --pg15-db=NAME
//                          the server and the database created for the run and dropped after it
//                          (default postgres://postgres@127.0.0.1:5432, mikro_orm_pg_copy_targets)
//   npm run bench -- --targets --only=book,upsert    some measurements (ids: see GROUPS)
//   npm run bench -- --targets --out=FILE            results (default bench/results/targets-{full,quick}.json)
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, loadavg, tmpdir, totalmem } from 'node:os';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import pg from 'pg';
import { copyParallel } from '../src/index.js';
import type { ChildResult as FlatResult, ChildSpec as FlatSpec, PathName as FlatPath } from './support/child-spec.js';
import type { ChildResult as GraphResult, ChildSpec as GraphSpec } from './graph.js';
import type { ChildResult as UpsertResult, ChildSpec as UpsertSpec } from './upsert.js';
import { BOOK, WIDE, writeCsv, type BenchEntity } from './support/data.js';
import { BOOKS_PER_AUTHOR, GRAPH_SCHEMA, UPSERT_SCHEMA, createSchema, graphDigest, graphSchemas, initOrm, truncateGraph, upsertSchemas, writeGraphCsv, writeUpsertCsv } from './support/graph-data.js';
import { createLoadSchema, initLoadOrm, loadOnce, writeLoadFiles, type LoadFormat } from './support/load-files.js';
import { createBenchSchema, initBenchOrm, tableDigest, truncateBench } from './support/orm.js';
import { redact, repoRoot, startPostgres, type Postgres } from './support/postgres.js';
import { childMain, fmtInt, fmtSize, mb, parseFlags, parseSize, peakRssMb, printTable, runChild } from './support/runner.js';
import { timeSmallWrites } from './support/small-writes.js';
import { resetUpsertTable, seedUpsertTable, upsertCount, upsertDigest } from './support/upsert-table.js';
import { summariseProfile } from './profile-summary.js';

const script = (name: string) => fileURLToPath(new URL(`./${name}.js`, import.meta.url));
/** A larger V8 heap for children that hold about a million entities or rows, as bench.ts, graph.ts and upsert.ts give theirs. */
const heap = (big: boolean) => (big ? ['--max-old-space-size=12000'] : []);

// ---------------------------------------------------------------------------------------------
// what one path of one round gives
// ---------------------------------------------------------------------------------------------

interface PathRun {
  /** rows/s, or for the small writes milliseconds per call. */
  figure: number;
  peakRssMb: number | null;
  /** `rows ok`, `same as psql`, or what is wrong (DIFFERS, ROWS, FAILED ...). */
  check: string;
  /** 1-minute load average right after the path. */
  load: number;
  /** Share of garbage collection in the CPU profile, for the profiled path. */
  gcShare?: number;
}
type Round = Record<string, PathRun>;

interface Context {
  url: string;
  quick: boolean;
  dir: string;
}

const load1 = () => Math.round(loadavg()[0] * 100) / 100;
const failedRun = (err: unknown): PathRun => ({ figure: NaN, peakRssMb: null, check: `FAILED ${(err instanceof Error ? err.message : String(err)).split('\n')[0]}`, load: load1() });
const isBad = (check: string) => /^(DIFFERS|ROWS|FAILED|INSERTED)/.test(check);

function progress(group: string, round: number, path: string, r: PathRun, unit = 'rows/s'): void {
  const figure = Number.isFinite(r.figure) ? (unit === 'rows/s' ? fmtInt(r.figure) : r.figure.toFixed(2)) : '—';
  console.error(`  ${group} round ${round + 1}, ${path}: ${figure} ${unit}, peak RSS ${r.peakRssMb ?? '—'} MB, ${r.check}, load ${r.load}`);
}

// ---------------------------------------------------------------------------------------------
// measurements: each runs its paths in turns for `rounds` rounds
// ---------------------------------------------------------------------------------------------

/** What one path's child gave, and the table it left. */
interface Step {
  figure: number;
  peakRssMb: number | null;
  /** `rows ok`, or what is wrong with the row count. */
  rows: string;
  /** A hash of the table after the path; the first path's is the round's reference. */
  hash?: string;
  gcShare?: number;
}

/**
 * `rounds` rounds of the paths in turn, the first path being the anchor: each path's table is
 * compared with the anchor's of the same round.
 */
async function takeTurns(id: string, paths: readonly string[], rounds: number, step: (path: string, round: number) => Promise<Step>): Promise<Round[]> {
  const out: Round[] = [];
  for (let round = 0; round < rounds; round++) {
    const runs: Round = {};
    let reference: string | undefined;
    for (const path of paths) {
      let run: PathRun;
      try {
        const s = await step(path, round);
        let check = s.rows;
        if (path === paths[0]) reference = s.hash;
        else if (reference !== undefined && s.hash !== undefined && check === 'rows ok') check = s.hash === reference ? `same as ${paths[0]}` : `DIFFERS from ${paths[0]}`;
        run = { figure: s.figure, peakRssMb: s.peakRssMb, check, load: load1(), gcShare: s.gcShare };
      } catch (err) {
        run = failedRun(err);
      }
      runs[path] = run;
      progress(id, round, path, run);
    }
    out.push(runs);
  }
  return out;
}

/** bench.ts's paths on one entity and size: psql \copy of a CSV file first, then the others. */
async function flatRounds(ctx: Context, id: string, e: BenchEntity, size: number, paths: FlatPath[], rounds: number, profile = false): Promise<Round[]> {
  const orm = await initBenchOrm(ctx.url);
  const csv = join(ctx.dir, `${e.key}-${size}.csv`);
  try {
    await createBenchSchema(orm);
    if (paths.includes('psql')) await writeCsv(e, size, csv);
    const out = await takeTurns(id, paths, rounds, async (path, round) => {
      await truncateBench(orm, e);
      const spec: FlatSpec = { path: path as FlatPath, entity: e.key, size, url: ctx.url, csv: paths.includes('psql') ? csv : undefined };
      if (profile) spec.profile = join(ctx.dir, `${id}-${round}.cpuprofile`);
      const big = size >= 1_000_000 && path !== 'psql' && !path.includes('stream');
      const r = await runChild<FlatResult>(script('bench'), spec, heap(big));
      const digest = await tableDigest(orm, e);
      let gcShare: number | undefined;
      if (spec.profile) {
        const summary = summariseProfile(spec.profile);
        gcShare = (summary.byCategory.get('GC') ?? 0) / summary.totalUs;
        rmSync(spec.profile, { force: true });
      }
      // a generator walked with no copy writes nothing: its row count is the rows it made
      const rows = path.startsWith('generate') ? (r.rows === size ? 'generated, not written' : `ROWS ${r.rows}≠${size}`) : digest.n === size ? 'rows ok' : `ROWS ${digest.n}≠${size}`;
      return { figure: r.rows / (r.writeMs / 1000), peakRssMb: r.peakRssMb, rows, hash: path.startsWith('generate') ? undefined : digest.hash, gcShare };
    });
    await truncateBench(orm, e);
    return out;
  } finally {
    rmSync(csv, { force: true });
    await orm.close(true);
  }
}

async function graphRounds(ctx: Context, authors: number, rounds: number): Promise<Round[]> {
  const orm = await initOrm(ctx.url, GRAPH_SCHEMA, graphSchemas);
  const authorsCsv = join(ctx.dir, `authors-${authors}.csv`);
  const booksCsv = join(ctx.dir, `books-${authors}.csv`);
  try {
    await createSchema(orm, GRAPH_SCHEMA);
    await writeGraphCsv(authors, authorsCsv, booksCsv);
    const out = await takeTurns('graph', ['psql', 'copy'], rounds, async path => {
      await truncateGraph(orm);
      await orm.em.getConnection().execute('checkpoint');
      const spec: GraphSpec = { path: path as GraphSpec['path'], authors, url: ctx.url, authorsCsv, booksCsv };
      const r = await runChild<GraphResult>(script('graph'), spec, heap(path !== 'psql' && authors >= 50_000));
      const d = await graphDigest(orm);
      const rows = d.authors === authors && d.books === authors * BOOKS_PER_AUTHOR ? 'rows ok' : `ROWS ${d.authors}+${d.books}`;
      return { figure: r.rows / (r.writeMs / 1000), peakRssMb: r.peakRssMb, rows, hash: d.hash };
    });
    await truncateGraph(orm);
    return out;
  } finally {
    rmSync(authorsCsv, { force: true });
    rmSync(booksCsv, { force: true });
    await orm.close(true);
  }
}

/** Input keys 0..n-1 (version 2) against a table seeded with the even ones: half exist. */
async function upsertRounds(ctx: Context, n: number, rounds: number): Promise<Round[]> {
  const orm = await initOrm(ctx.url, UPSERT_SCHEMA, upsertSchemas);
  const csv = join(ctx.dir, `upsert-${n}.csv`);
  const seed = Math.floor(n / 2);
  try {
    await createSchema(orm, UPSERT_SCHEMA);
    await seedUpsertTable(orm, ctx.url, seed, ctx.dir);
    await writeUpsertCsv(n, i => i, 2, csv);
    const out = await takeTurns('upsert', ['by-hand', 'copy'], rounds, async path => {
      await resetUpsertTable(orm, false);
      const before = await upsertCount(orm);
      const spec: UpsertSpec = { path: path as UpsertSpec['path'], rows: n, url: ctx.url, csv };
      const r = await runChild<UpsertResult>(script('upsert'), spec, heap(path !== 'by-hand' && n >= 500_000));
      const d = await upsertDigest(orm);
      // the seed's keys are all among the input's: the table ends with n rows
      let rows = d.n === n ? 'rows ok' : `ROWS ${d.n}≠${n}`;
      if (r.inserted != null && r.inserted !== d.n - before) rows = `INSERTED ${r.inserted}≠${d.n - before}`;
      return { figure: r.rows / (r.writeMs / 1000), peakRssMb: r.peakRssMb, rows, hash: d.hash };
    });
    await resetUpsertTable(orm, true);
    return out;
  } finally {
    rmSync(csv, { force: true });
    await orm.close(true);
  }
}

interface SmallSpec { kind: 'small'; url: string; rows: number; calls: number }
interface LoadSpec { kind: 'load'; url: string; file: string; lines: number }
interface ParallelSpec { kind: 'parallel'; url: string; rows: number; streams: number }
type OwnSpec = SmallSpec | LoadSpec | ParallelSpec;

async function smallRounds(ctx: Context, rows: number, calls: number, rounds: number): Promise<Round[]> {
  const orm = await initBenchOrm(ctx.url);
  try {
    await createBenchSchema(orm);
    const out: Round[] = [];
    for (let round = 0; round < rounds; round++) {
      const runs: Round = {};
      try {
        // the paths take turns call by call inside the child: one child per round
        const medians = await runChild<Record<string, number>>(script('targets'), { kind: 'small', url: ctx.url, rows, calls } satisfies SmallSpec);
        for (const [path, ms] of Object.entries(medians)) runs[path] = { figure: ms, peakRssMb: null, check: 'rows ok', load: load1() };
      } catch (err) {
        runs.insertMany = runs['copyPersist(entities)'] = failedRun(err);
      }
      for (const [path, r] of Object.entries(runs)) progress('small', round, path, r, 'ms/call');
      out.push(runs);
    }
    await truncateBench(orm, BOOK);
    return out;
  } finally {
    await orm.close(true);
  }
}

async function loadRounds(ctx: Context, lines: number, rounds: number): Promise<Round[]> {
  const orm = await initLoadOrm(ctx.url);
  const dir = mkdtempSync(join(ctx.dir, 'load-'));
  try {
    await createLoadSchema(orm);
    const files = await writeLoadFiles(dir, lines);
    return await takeTurns('load', ['ndjson', 'csv'], rounds, async format => {
      const r = await runChild<{ rows: number; ms: number; peakRssMb: number }>(script('targets'), { kind: 'load', url: ctx.url, file: files[format as LoadFormat], lines } satisfies LoadSpec);
      return { figure: r.rows / (r.ms / 1000), peakRssMb: r.peakRssMb, rows: r.rows === lines ? 'rows ok' : `ROWS ${r.rows}≠${lines}` };
    });
  } finally {
    rmSync(dir, { recursive: true, force: true });
    await orm.close(true);
  }
}

async function parallelRounds(ctx: Context, rows: number, rounds: number): Promise<Round[]> {
  const orm = await initBenchOrm(ctx.url);
  try {
    await createBenchSchema(orm);
    const out = await takeTurns('parallel', ['1', '2'], rounds, async streams => {
      await truncateBench(orm, BOOK);
      await orm.em.getConnection().execute('checkpoint');
      const r = await runChild<{ rows: number; ms: number; peakRssMb: number }>(script('targets'), { kind: 'parallel', url: ctx.url, rows, streams: Number(streams) } satisfies ParallelSpec);
      const digest = await tableDigest(orm, BOOK);
      return { figure: r.rows / (r.ms / 1000), peakRssMb: r.peakRssMb, rows: digest.n === rows ? 'rows ok' : `ROWS ${digest.n}≠${rows}`, hash: digest.hash };
    });
    await truncateBench(orm, BOOK);
    return out;
  } finally {
    await orm.close(true);
  }
}

/** This script's own children: what no other script runs as a child. */
async function ownChild(spec: OwnSpec): Promise<unknown> {
  if (spec.kind === 'small') {
    const orm = await initBenchOrm(spec.url);
    try {
      await truncateBench(orm, BOOK);
      return await timeSmallWrites(orm, spec.rows, spec.calls);
    } finally {
      await orm.close(true);
    }
  }
  if (spec.kind === 'load') {
    const orm = await initLoadOrm(spec.url);
    try {
      const r = await loadOnce(orm, spec.file, false);
      return { rows: r.rows, ms: r.ms, peakRssMb: peakRssMb() };
    } finally {
      await orm.close(true);
    }
  }
  // one connection per stream, and one spare
  const orm = await initBenchOrm(spec.url, spec.streams + 1);
  try {
    function* rows(n: number): Generator<Record<string, unknown>> {
      for (let i = 0; i < n; i++) yield BOOK.row(i);
    }
    const started = performance.now();
    const result = await copyParallel(orm.em.fork(), BOOK.cls, rows(spec.rows), { parallel: spec.streams, batchSize: Math.max(1000, Math.ceil(spec.rows / 20)) });
    return { rows: result.rows, ms: performance.now() - started, peakRssMb: peakRssMb() };
  } finally {
    await orm.close(true);
  }
}

// ---------------------------------------------------------------------------------------------
// the targets
// ---------------------------------------------------------------------------------------------

type Unit = '×' | 'MB' | '%' | '× time';

interface Goal {
  op: '≥' | '≤' | '<';
  value: number;
}

interface TargetDef {
  label: string;
  goal?: Goal;
  unit: Unit;
  /** The value of one round; NaN where a path failed. */
  value(round: Round): number;
  subject: { path: string; name: string };
  anchor?: { path: string; name: string };
  /** rows/s (default) or ms/call, for the figures of the subject and the anchor. */
  figure?: 'rows/s' | 'ms/call';
}

interface Group {
  id: string;
  /** The size of the full run and of --quick. */
  sizes: [number, number];
  describe(size: number): string;
  run(ctx: Context, size: number, rounds: number): Promise<Round[]>;
  targets: TargetDef[];
}

const ratio = (a: string, b: string) => (round: Round) => (round[a]?.figure ?? NaN) / (round[b]?.figure ?? NaN);
const psqlAnchor = { path: 'psql', name: 'psql \\copy' };
const vsPsql = (label: string, path: FlatPath, goal: number): TargetDef => ({ label, goal: { op: '≥', value: goal }, unit: '×', value: ratio(path, 'psql'), subject: { path, name: 'copyPersist' }, anchor: psqlAnchor });

/** copyPersist of built entities and of plain rows against psql \copy of the same rows. */
function entitiesAndRows(id: string, e: BenchEntity, sizes: [number, number], entitiesGoal: number, rowsGoal: number): Group {
  const name = e.cls.name;
  return {
    id,
    sizes,
    describe: n => `${name} ${fmtSize(n)}`,
    run: (ctx, n, rounds) => flatRounds(ctx, id, e, n, ['psql', 'copy-entities', 'copy-rows'], rounds),
    targets: [vsPsql('copyPersist(entities)', 'copy-entities', entitiesGoal), vsPsql(`copyPersist(${name}, rows)`, 'copy-rows', rowsGoal)],
  };
}

const GROUPS: Group[] = [
  entitiesAndRows('book', BOOK, [1_000_000, 100_000], 0.85, 0.75),
  entitiesAndRows('wide', WIDE, [100_000, 10_000], 0.7, 0.7),
  {
    id: 'wide-stream',
    sizes: [1_000_000, 100_000],
    describe: n => `Wide ${fmtSize(n)}`,
    run: (ctx, n, rounds) => flatRounds(ctx, 'wide-stream', WIDE, n, ['psql', 'copy-rows-stream', 'copy-stream', 'generate-rows-stream', 'generate-stream'], rounds),
    targets: [
      // the generator yields plain rows: copyPersist(Wide, gen)
      vsPsql('copyPersist(Wide, async generator of rows)', 'copy-rows-stream', 0.7),
      // the generator makes each entity with em.create, inside the timed call: MikroORM's work too
      vsPsql('copyPersist(async generator of entities)', 'copy-stream', 0.7),
      // no goal: the same generators read to their end with no copy, on the one JavaScript thread
      // the copy shares with them; at 1× psql a generator alone leaves a copy nothing to reach 0.7×
      { label: 'the generator of rows alone (no copy) ÷ psql', unit: '×', value: ratio('generate-rows-stream', 'psql'), subject: { path: 'generate-rows-stream', name: 'generator' }, anchor: psqlAnchor },
      { label: 'the generator of em.create alone (no copy) ÷ psql', unit: '×', value: ratio('generate-stream', 'psql'), subject: { path: 'generate-stream', name: 'generator' }, anchor: psqlAnchor },
    ],
  },
  {
    id: 'graph',
    sizes: [100_000, 10_000],
    describe: n => `${fmtSize(n)} authors × ${BOOKS_PER_AUTHOR} books`,
    run: graphRounds,
    targets: [
      { label: 'copyPersist(authors, { cascade })', goal: { op: '≥', value: 0.75 }, unit: '×', value: ratio('copy', 'psql'), subject: { path: 'copy', name: 'copyPersist' }, anchor: { path: 'psql', name: 'psql \\copy ×2' } },
    ],
  },
  {
    id: 'upsert',
    sizes: [1_000_000, 100_000],
    describe: n => `${fmtSize(n)} in, half exist`,
    run: upsertRounds,
    targets: [
      { label: 'upsert (merge on isbn)', goal: { op: '≥', value: 0.8 }, unit: '×', value: ratio('copy', 'by-hand'), subject: { path: 'copy', name: 'copyPersist' }, anchor: { path: 'by-hand', name: 'by hand in psql' } },
    ],
  },
  {
    id: 'orm',
    sizes: [100_000, 10_000],
    describe: n => `Book ${fmtSize(n)}`,
    run: (ctx, n, rounds) => flatRounds(ctx, 'orm', BOOK, n, ['psql', 'copy-entities', 'insertMany', 'flush'], rounds),
    targets: [
      { label: 'copyPersist ÷ insertMany', goal: { op: '≥', value: 10 }, unit: '×', value: ratio('copy-entities', 'insertMany'), subject: { path: 'copy-entities', name: 'copyPersist' }, anchor: { path: 'insertMany', name: 'insertMany' } },
      { label: 'copyPersist ÷ persist + flush', goal: { op: '≥', value: 12 }, unit: '×', value: ratio('copy-entities', 'flush'), subject: { path: 'copy-entities', name: 'copyPersist' }, anchor: { path: 'flush', name: 'flush' } },
      { label: 'psql \\copy ÷ insertMany (the ceiling)', unit: '×', value: ratio('psql', 'insertMany'), subject: { path: 'psql', name: 'psql' }, anchor: { path: 'insertMany', name: 'insertMany' } },
    ],
  },
  {
    id: 'small',
    sizes: [10, 10],
    describe: n => `${n} Book rows, warm`,
    run: (ctx, n, rounds) => smallRounds(ctx, n, ctx.quick ? 50 : 200, rounds),
    targets: [
      // insertMany's time over copyPersist's: ≥ 1 is "no slower"
      { label: 'copyPersist(entities) speed ÷ insertMany', goal: { op: '≥', value: 1 }, unit: '×', figure: 'ms/call', value: ratio('insertMany', 'copyPersist(entities)'), subject: { path: 'copyPersist(entities)', name: 'copyPersist' }, anchor: { path: 'insertMany', name: 'insertMany' } },
    ],
  },
  {
    id: 'stream-memory',
    sizes: [5_000_000, 500_000],
    describe: n => `Book ${fmtSize(n)}, AsyncIterable`,
    run: (ctx, n, rounds) => flatRounds(ctx, 'stream-memory', BOOK, n, ['copy-stream'], rounds),
    targets: [
      { label: 'copyPersist(async generator) peak RSS', goal: { op: '≤', value: 200 }, unit: 'MB', value: round => round['copy-stream']?.peakRssMb ?? NaN, subject: { path: 'copy-stream', name: 'copyPersist' } },
    ],
  },
  {
    id: 'load',
    sizes: [1_000_000, 100_000],
    describe: n => `${fmtSize(n)} lines`,
    run: loadRounds,
    targets: [
      // CSV's time over NDJSON's = NDJSON's rows/s over CSV's
      { label: 'loadFile CSV time ÷ NDJSON time', goal: { op: '≤', value: 1.3 }, unit: '× time', value: ratio('ndjson', 'csv'), subject: { path: 'csv', name: 'CSV' }, anchor: { path: 'ndjson', name: 'NDJSON' } },
    ],
  },
  {
    id: 'gc',
    sizes: [200_000, 20_000],
    describe: n => `Book ${fmtSize(n)}, CPU profile`,
    run: (ctx, n, rounds) => flatRounds(ctx, 'gc', BOOK, n, ['copy-entities'], rounds, true),
    targets: [
      { label: 'GC share of the copyPersist(entities) window', goal: { op: '<', value: 10 }, unit: '%', value: round => (round['copy-entities']?.gcShare ?? NaN) * 100, subject: { path: 'copy-entities', name: 'copyPersist (profiled)' } },
    ],
  },
  {
    id: 'parallel',
    sizes: [1_000_000, 100_000],
    describe: n => `Book ${fmtSize(n)} rows, 2 cores`,
    run: parallelRounds,
    targets: [
      { label: 'copyParallel 2 streams ÷ 1 stream', goal: { op: '≥', value: 1 }, unit: '×', value: ratio('2', '1'), subject: { path: '2', name: '2 streams' }, anchor: { path: '1', name: '1 stream' } },
    ],
  },
];

// ---------------------------------------------------------------------------------------------
// the servers
// ---------------------------------------------------------------------------------------------

interface Server extends Postgres {
  name: string;
  version: string;
}

async function serverVersion(url: string): Promise<string> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    return (await client.query<{ v: string }>("select current_setting('server_version') as v")).rows[0].v;
  } finally {
    await client.end();
  }
}

/** A database of its own on an existing server, created now and dropped by stop(). */
async function ownDatabase(adminUrl: string, database: string): Promise<Postgres> {
  const admin = new URL(adminUrl);
  admin.pathname = '/postgres';
  const quoted = `"${database.replaceAll('"', '""')}"`;
  const run = async (sql: string) => {
    const client = new pg.Client({ connectionString: admin.toString() });
    await client.connect();
    try {
      await client.query(sql);
    } finally {
      await client.end();
    }
  };
  await run(`drop database if exists ${quoted} with (force)`);
  await run(`create database ${quoted}`);
  const url = new URL(admin.toString());
  url.pathname = `/${database}`;
  return { url: url.toString(), embedded: false, stop: () => run(`drop database if exists ${quoted} with (force)`) };
}

async function embedded(): Promise<Postgres> {
  // startPostgres takes DATABASE_URL when it is set; here the embedded server is asked for
  const saved = process.env.DATABASE_URL;
  delete process.env.DATABASE_URL;
  try {
    return await startPostgres();
  } finally {
    if (saved !== undefined) process.env.DATABASE_URL = saved;
  }
}

async function openServer(which: string, flags: Map<string, string>): Promise<Server> {
  let server: Postgres;
  let name: string;
  if (which === 'pg15') {
    server = await ownDatabase(flags.get('pg15') || 'postgres://postgres@127.0.0.1:5432', flags.get('pg15-db') || 'mikro_orm_pg_copy_targets');
    name = 'PostgreSQL';
  } else if (which === 'embedded') {
    server = await embedded();
    name = 'embedded PostgreSQL';
  } else {
    server = await startPostgres();
    name = server.embedded ? 'embedded PostgreSQL' : 'PostgreSQL (DATABASE_URL)';
  }
  try {
    const version = await serverVersion(server.url);
    return { ...server, name: `${name} ${version.split(' ')[0]}`, version };
  } catch (err) {
    await server.stop();
    throw err;
  }
}

// ---------------------------------------------------------------------------------------------
// the table
// ---------------------------------------------------------------------------------------------

interface TargetResult {
  server: string;
  group: string;
  size: number;
  target: string;
  goal: string;
  unit: Unit;
  figure: 'rows/s' | 'ms/call';
  perRound: number[];
  median: number;
  met: boolean | null;
  subject: string;
  subjectFigures: number[];
  anchor: string | null;
  anchorFigures: number[];
  peakRssMb: (number | null)[];
  checks: string[];
  loads: number[];
}

function median(xs: number[]): number {
  const ok = xs.filter(Number.isFinite).sort((a, b) => a - b);
  if (!ok.length) return NaN;
  const mid = Math.floor(ok.length / 2);
  return ok.length % 2 ? ok[mid] : (ok[mid - 1] + ok[mid]) / 2;
}

function fmtValue(v: number, unit: Unit): string {
  if (!Number.isFinite(v)) return '—';
  if (unit === 'MB') return `${v.toFixed(0)} MB`;
  if (unit === '%') return `${v.toFixed(1)}%`;
  return `${v.toFixed(2)}×`;
}

function fmtFigure(v: number, figure: 'rows/s' | 'ms/call'): string {
  if (!Number.isFinite(v)) return '—';
  return figure === 'rows/s' ? `${fmtInt(v)} rows/s` : `${v.toFixed(2)} ms/call`;
}

function evaluate(server: string, group: Group, size: number, def: TargetDef, rounds: Round[]): TargetResult {
  const perRound = rounds.map(r => def.value(r));
  const m = median(perRound);
  const checks = rounds.flatMap(r => [def.subject.path, ...(def.anchor ? [def.anchor.path] : [])].map(p => r[p]?.check ?? 'FAILED missing'));
  const goal = def.goal;
  let met: boolean | null = null;
  if (goal && Number.isFinite(m)) met = goal.op === '≥' ? m >= goal.value : goal.op === '≤' ? m <= goal.value : m < goal.value;
  if (checks.some(isBad)) met = false;
  return {
    server,
    group: group.id,
    size,
    target: `${def.label}, ${group.describe(size)}`,
    goal: goal ? `${goal.op} ${fmtValue(goal.value, def.unit)}` : '(information)',
    unit: def.unit,
    figure: def.figure ?? 'rows/s',
    perRound,
    median: m,
    met,
    subject: def.subject.name,
    subjectFigures: rounds.map(r => r[def.subject.path]?.figure ?? NaN),
    anchor: def.anchor?.name ?? null,
    anchorFigures: def.anchor ? rounds.map(r => r[def.anchor!.path]?.figure ?? NaN) : [],
    peakRssMb: rounds.map(r => r[def.subject.path]?.peakRssMb ?? null),
    checks,
    loads: rounds.flatMap(r => Object.values(r).map(p => p.load)),
  };
}

function printResults(results: TargetResult[]): void {
  const head = ['server', 'target', 'measured', 'rounds', 'path', 'anchor', 'goal', 'verdict', 'load'];
  const body = results.map(r => {
    const figure = r.figure;
    const bad = r.checks.find(isBad);
    const loads = r.loads.filter(Number.isFinite);
    return [
      r.server,
      r.target,
      fmtValue(r.median, r.unit),
      r.perRound.map(v => (Number.isFinite(v) ? (r.unit === 'MB' || r.unit === '%' ? v.toFixed(r.unit === '%' ? 1 : 0) : v.toFixed(2)) : '—')).join(' '),
      `${r.subject} ${fmtFigure(median(r.subjectFigures), figure)}`,
      r.anchor ? `${r.anchor} ${fmtFigure(median(r.anchorFigures), figure)}` : '—',
      r.goal,
      bad ? `NOT MET: ${bad.slice(0, 40)}` : r.met == null ? '—' : r.met ? 'met' : 'NOT MET',
      loads.length ? `${Math.min(...loads).toFixed(1)}–${Math.max(...loads).toFixed(1)}` : '—',
    ];
  });
  printTable(head, body, new Set([2]));
}

// ---------------------------------------------------------------------------------------------
// main
// ---------------------------------------------------------------------------------------------

export async function runTargets(argv: string[]): Promise<void> {
  const root = repoRoot();
  const flags = parseFlags(argv, ['quick', 'rounds', 'servers', 'pg15', 'pg15-db', 'only', 'out']);
  const quick = flags.has('quick');
  // --quick is the check that the table runs: one round unless asked
  const rounds = flags.has('rounds') ? parseSize(flags.get('rounds')!) : quick ? 1 : 3;
  if (!(rounds >= 1)) throw new Error('--rounds takes a whole number ≥ 1');
  const serversFlag = flags.get('servers') || 'default';
  const servers = serversFlag === 'both' ? ['pg15', 'embedded'] : serversFlag.split(',');
  for (const s of servers) if (!['pg15', 'embedded', 'default'].includes(s)) throw new Error(`--servers: one of both, pg15, embedded (not ${s})`);
  const only = flags.has('only') ? flags.get('only')!.split(',').map(s => s.trim()) : undefined;
  for (const id of only ?? []) if (!GROUPS.some(g => g.id === id)) throw new Error(`--only: unknown ${id}; one of ${GROUPS.map(g => g.id).join(', ')}`);
  const groups = GROUPS.filter(g => !only || only.includes(g.id));
  const out = flags.get('out') || join(root, 'bench', 'results', `targets-${quick ? 'quick' : 'full'}.json`);

  const results: TargetResult[] = [];
  const serverInfo: { name: string; version: string; url: string; embedded: boolean }[] = [];
  const started = new Date().toISOString();
  const save = (complete: boolean) => {
    const report = {
      complete,
      startedAt: started,
      generatedAt: new Date().toISOString(),
      command: `npm run bench -- --targets${argv.length ? ` ${argv.join(' ')}` : ''}`,
      quick,
      rounds,
      machine: { cpus: cpus().length, cpuModel: cpus()[0]?.model, memoryMb: mb(totalmem()), loadAvgAtEnd: loadavg() },
      node: process.version,
      mikroOrm: (JSON.parse(readFileSync(join(root, 'node_modules/@mikro-orm/core/package.json'), 'utf8')) as { version: string }).version,
      servers: serverInfo,
      results,
    };
    writeFileSync(out, `${JSON.stringify(report, null, 2)}\n`);
  };

  for (const which of servers) {
    const server = await openServer(which, flags);
    const stopOnSignal = () => void server.stop().finally(() => process.exit(130));
    process.once('SIGINT', stopOnSignal);
    process.once('SIGTERM', stopOnSignal);
    const dir = mkdtempSync(join(tmpdir(), 'bench-targets-'));
    try {
      serverInfo.push({ name: server.name, version: server.version, url: redact(server.url), embedded: server.embedded });
      console.error(`\n${server.name}: ${redact(server.url)}; ${quick ? 'quick sizes' : 'full sizes'}, ${rounds} round(s)`);
      const ctx: Context = { url: server.url, quick, dir };
      for (const group of groups) {
        const size = group.sizes[quick ? 1 : 0];
        let runs: Round[];
        try {
          runs = await group.run(ctx, size, rounds);
        } catch (err) {
          // a measurement that cannot even be set up fails its targets, not the whole table
          runs = Array.from({ length: rounds }, () => Object.fromEntries(group.targets.flatMap(t => [t.subject.path, ...(t.anchor ? [t.anchor.path] : [])]).map(p => [p, failedRun(err)])));
        }
        for (const def of group.targets) results.push(evaluate(server.name, group, size, def, runs));
        save(false);
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
      await server.stop();
      process.off('SIGINT', stopOnSignal);
      process.off('SIGTERM', stopOnSignal);
    }
  }

  console.log(`\nIssue 13's targets, ${quick ? 'quick sizes (÷ 10 or so: the verdicts are against the full-size goals)' : 'full sizes'}, median of ${rounds} round(s); each round's`);
  console.log('paths against the same round\'s anchor; each path in a child process of its own; "load": the 1-minute load average');
  console.log(`after each path of the measurement (${cpus().length} cores). "rounds": the ratio (or value) of each round.\n`);
  printResults(results);
  save(true);
  console.log(`\nwrote ${relative(process.cwd(), out) || out}`);
  if (results.some(r => r.checks.some(isBad))) process.exitCode = 1;
}

const ownChildRun = childMain(ownChild);
if (!ownChildRun && process.argv[1] === fileURLToPath(import.meta.url)) {
  runTargets(process.argv.slice(2)).catch(e => {
    console.error(e);
    process.exit(1);
  });
}
