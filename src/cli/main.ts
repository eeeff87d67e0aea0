#!/usr/bin/env node
// `mikro-orm-pg-copy load <file> --entity Book ...`: loads a CSV or NDJSON file through loadFile,
// with the project's MikroORM config loaded by MikroORM itself.
import { existsSync, readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { MikroORM, PostgreSqlDriver, type Options, type SqlEntityManager } from '@mikro-orm/postgresql';
import { loadFile, LoadFileError, type LoadFileOptions, type LoadFileResult } from '../loaders/load-file.js';
import { PgCopyError } from '../errors.js';
import { ConfigLoaderMissing, loadMikroOrmConfig } from './config.js';
import { progressView } from './progress.js';

const USAGE = `Usage: mikro-orm-pg-copy load <file> --entity <Entity> [options]

Loads a CSV (header row) or NDJSON file into an entity's table through COPY. Without
--reject-file the load is one transaction: the first bad row stops it, names its line, and
nothing is written.

Options:
  --entity <name>              entity class name (required)
  --format csv|ndjson          default: from the file extension (.csv, else ndjson)
  --map <header=property>      a CSV header / NDJSON key that is not the property's name (repeatable)
  --reject-file <path>         write bad rows there (with the CSV header) and load the rest;
                               rows the database rejects are found by splitting the batch
  --relax-quotes               CSV: take a stray quote literally, as PostgreSQL does (default: a bad row)
  --delimiter <char>           CSV delimiter (default ,)
  --on-conflict <fields>       upsert on these properties (comma-separated; "pk" for the primary key)
  --on-conflict-action <a>     merge (default) or ignore
  --parallel <n>               load through n connections, each batch committing on its own
  --batch-size <n>             rows per savepoint, or per transaction with --parallel
  --load-id <id>               with --parallel: a re-run skips the batches this id already committed
  --schema <name>              the schema of the table (the ORM's \`schema\` option)
  --config <path>              MikroORM config (default: found as \`npx mikro-orm\` finds it)
  --context <name>             contextName of the config to use (default: MIKRO_ORM_CONTEXT_NAME or default)
  --no-progress                no progress bar
  --quiet                      print nothing but errors
  --verbose                    print stack traces of errors
  --version                    print the version
  -h, --help                   print this help

Exit codes:
  0  every row loaded
  1  the load failed; nothing was written (with --parallel, batches already committed stay)
  2  wrong usage
  3  loaded, but rows were rejected (see --reject-file)

Examples:
  mikro-orm-pg-copy load books.csv --entity Book --map "Published at=publishedAt"
  mikro-orm-pg-copy load books.ndjson --entity Book --reject-file rejected.ndjson --on-conflict isbn
`;

class UsageError extends Error {}

/** Errors whose message is the whole story: printed as one line, without a stack. */
class CliError extends Error {}

async function main(argv: string[]): Promise<number> {
  const { values, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: {
      entity: { type: 'string' },
      format: { type: 'string' },
      map: { type: 'string', multiple: true },
      'reject-file': { type: 'string' },
      'relax-quotes': { type: 'boolean' },
      delimiter: { type: 'string' },
      'on-conflict': { type: 'string' },
      'on-conflict-action': { type: 'string' },
      parallel: { type: 'string' },
      'batch-size': { type: 'string' },
      'load-id': { type: 'string' },
      schema: { type: 'string' },
      config: { type: 'string' },
      context: { type: 'string' },
      'no-progress': { type: 'boolean' },
      quiet: { type: 'boolean', short: 'q' },
      verbose: { type: 'boolean' },
      version: { type: 'boolean' },
      help: { type: 'boolean', short: 'h' },
    },
  });
  verbose = values.verbose ?? false;
  if (values.help) {
    process.stdout.write(USAGE);
    return 0;
  }
  if (values.version) {
    process.stdout.write(`${packageVersion()}\n`);
    return 0;
  }
  const [command, file, ...extra] = positionals;
  if (command !== 'load') throw new UsageError(command ? `unknown command "${command}"` : 'no command given');
  if (!file || extra.length) throw new UsageError('load takes exactly one file');
  if (!values.entity) throw new UsageError('--entity is required');
  if (values.format !== undefined && values.format !== 'csv' && values.format !== 'ndjson') throw new UsageError('--format is csv or ndjson');
  const map: Record<string, string> = {};
  for (const pair of values.map ?? []) {
    const at = pair.lastIndexOf('=');
    if (at <= 0 || at === pair.length - 1) throw new UsageError(`--map takes header=property, got "${pair}"`);
    map[pair.slice(0, at)] = pair.slice(at + 1);
  }
  const parallel = positiveInteger(values.parallel, '--parallel');
  const batchSize = positiveInteger(values['batch-size'], '--batch-size');
  const action = values['on-conflict-action'];
  if (action !== undefined && action !== 'merge' && action !== 'ignore') throw new UsageError('--on-conflict-action is merge or ignore');
  if (action && !values['on-conflict']) throw new UsageError('--on-conflict-action needs --on-conflict');
  if (values['load-id'] && !parallel) throw new UsageError('--load-id needs --parallel');
  if (!existsSync(file)) throw new CliError(`cannot read ${file}: no such file`);

  const quiet = values.quiet ?? false;
  const copy: LoadFileOptions['copy'] = {};
  if (values['on-conflict']) {
    const fields = values['on-conflict'].split(',').map(f => f.trim()).filter(Boolean);
    if (!(fields.length === 1 && fields[0] === 'pk')) copy.onConflictFields = fields;
    copy.onConflictAction = (action as 'merge' | 'ignore' | undefined) ?? 'merge';
  }
  if (parallel) {
    parallelLoad = true;
    copy.parallel = parallel;
    if (batchSize) copy.batchSize = batchSize;
    if (values['load-id']) copy.loadId = values['load-id'];
  }

  const orm = await openOrm(values.config, values.context, values.schema);
  const view = progressView(process.stderr, !quiet && !values['no-progress']);
  const started = performance.now();
  let result: LoadFileResult;
  try {
    result = await loadFile(orm.em.fork() as SqlEntityManager, {
      path: file,
      entity: values.entity,
      format: values.format as 'csv' | 'ndjson' | undefined,
      map,
      delimiter: values.delimiter,
      relaxQuotes: values['relax-quotes'],
      rejectFile: values['reject-file'],
      batchSize: parallel ? undefined : batchSize,
      copy,
      onReject: quiet ? undefined : r => view.log(`line ${r.line}: ${r.reason}`),
      onProgress: p => view.update(p),
    });
  } finally {
    view.stop();
    await orm.close(true);
  }
  const seconds = (performance.now() - started) / 1000;
  if (!quiet) {
    const upserted = result.upserted ? ` (${result.upserted.inserted} inserted, ${result.upserted.updated} updated, ${result.upserted.skipped} skipped)` : '';
    const rejected = result.rejected ? `${result.rejected} rejected (${values['reject-file']})` : '0 rejected';
    process.stdout.write(`${result.rows} rows loaded into ${values.entity}${upserted}, ${rejected}, ${result.lines} lines read in ${seconds.toFixed(1)} s\n`);
  }
  return result.rejected ? 3 : 0;
}

let verbose = false;
/** With --parallel a failure leaves the batches committed before it: the message says which. */
let parallelLoad = false;

/** The ORM on the config's database: never creates it (a typo in its name is an error, not a new database). */
async function openOrm(configPath: string | undefined, context: string | undefined, schema: string | undefined): Promise<MikroORM> {
  // the loader is for PostgreSQL only: a config without a driver (a plain object, as the README's
  // and the smoke apps' are) gets PostgreSQL's, as `MikroORM.init` from @mikro-orm/postgresql does
  const overrides: Partial<Options> = { driver: PostgreSqlDriver, ensureDatabase: false, allowGlobalContext: true };
  if (schema) overrides.schema = schema;
  let config: Options;
  try {
    config = await loadMikroOrmConfig(configPath, context, overrides);
  } catch (e) {
    if (e instanceof ConfigLoaderMissing) throw new CliError(e.message);
    throw new CliError(`cannot load the MikroORM config: ${(e as Error).message}`, { cause: e });
  }
  const orm = await MikroORM.init({ ...config, ...overrides } as Options);
  // MikroORM 6 connects in init, 7 on first use: connect now, to fail here with a clear message
  const check = (await orm.isConnected()) ? { ok: true as const } : await orm.connect().then(() => orm.checkConnection());
  if (!check.ok) {
    await orm.close(true);
    throw new CliError(`cannot connect to the database: ${check.reason}`, { cause: check.error });
  }
  return orm;
}

function positiveInteger(text: string | undefined, name: string): number | undefined {
  if (text === undefined) return undefined;
  const n = Number(text);
  if (!Number.isInteger(n) || n < 1) throw new UsageError(`${name} takes a positive integer, got "${text}"`);
  return n;
}

/** The version in this package's package.json, found upwards from this file (dist/cli or a build directory). */
function packageVersion(): string {
  for (let dir = new URL('.', import.meta.url); ; dir = new URL('..', dir)) {
    const path = new URL('package.json', dir);
    if (existsSync(path)) {
      const pkg = JSON.parse(readFileSync(path, 'utf8')) as { name?: string; version: string };
      if (pkg.name === 'mikro-orm-pg-copy') return pkg.version;
    }
    if (dir.pathname === '/') throw new Error('package.json of mikro-orm-pg-copy not found');
  }
}

/** One line: the error's own message, the database's detail when it adds one. */
function describe(e: unknown): string {
  if (e instanceof LoadFileError && e.code === 'BAD_HEADER' && e.reason === 'unknown column') return `${e.message}; on the command line: --map header=property`;
  if (e instanceof PgCopyError || e instanceof CliError) return e.message;
  const error = e as Error & { detail?: string };
  const detail = error.detail && !error.message.includes(error.detail) ? ` (${error.detail})` : '';
  return `${error.message ?? String(e)}${detail}`.replace(/\s*\n\s*/g, ' ');
}

main(process.argv.slice(2)).then(
  code => process.exit(code),
  (e: unknown) => {
    if (e instanceof UsageError || (e as { code?: string }).code?.startsWith('ERR_PARSE_ARGS')) {
      process.stderr.write(`mikro-orm-pg-copy: ${(e as Error).message}\n\n${USAGE}`);
      process.exit(2);
    }
    process.stderr.write(`mikro-orm-pg-copy: ${describe(e)}\n`);
    if (verbose) {
      for (let cause: unknown = e; cause instanceof Error; cause = cause.cause) process.stderr.write(`${cause.stack}\n`);
    } else if (!parallelLoad) {
      process.stderr.write('nothing was written (--verbose shows where the error came from)\n');
    }
    process.exit(1);
  },
);
