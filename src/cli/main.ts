#!/usr/bin/env node
// `mikro-orm-pg-copy load <file> --entity Book ...`: loads a CSV or NDJSON file through loadFile,
// with the project's MikroORM config found the way the MikroORM CLI finds it.
import { existsSync, readFileSync } from 'node:fs';
import { isAbsolute, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import { MikroORM, type Options, type SqlEntityManager } from '@mikro-orm/postgresql';
import { loadFile, LoadFileError, type LoadFileProgress } from '../features/load-file.js';

const USAGE = `Usage: mikro-orm-pg-copy load <file> --entity <Entity> [options]

Loads a CSV (header row) or NDJSON file into an entity's table through COPY, in one transaction.

Options:
  --entity <name>          entity class name (required)
  --format csv|ndjson      default: from the file extension (.csv, else ndjson)
  --map <header=property>  a CSV header / NDJSON key that is not the property's name (repeatable)
  --reject-file <path>     write bad lines there and go on (default: stop at the first, write nothing)
  --delimiter <char>       CSV delimiter (default ,)
  --chunk-size <n>         rows per COPY write (default 2000)
  --config <path>          MikroORM config (default: as the MikroORM CLI finds it)
`;

class UsageError extends Error {}

async function main(argv: string[]): Promise<number> {
  const { values, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: {
      entity: { type: 'string' },
      format: { type: 'string' },
      map: { type: 'string', multiple: true },
      'reject-file': { type: 'string' },
      delimiter: { type: 'string' },
      'chunk-size': { type: 'string' },
      config: { type: 'string' },
      help: { type: 'boolean', short: 'h' },
    },
  });
  if (values.help) {
    process.stdout.write(USAGE);
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
  const chunkSize = values['chunk-size'] === undefined ? undefined : Number(values['chunk-size']);

  const config = await loadConfig(values.config);
  const orm = await MikroORM.init(config);
  try {
    const progress = new ProgressLine(process.stderr);
    const rejectFile = values['reject-file'];
    const result = await loadFile(orm.em.fork() as SqlEntityManager, {
      path: file,
      entity: values.entity,
      format: values.format as 'csv' | 'ndjson' | undefined,
      map,
      delimiter: values.delimiter,
      rejectFile,
      copy: chunkSize === undefined ? undefined : { chunkSize },
      onReject: r => progress.log(`line ${r.line}: ${r.reason}`),
      onProgress: p => progress.update(p),
    });
    progress.done();
    process.stdout.write(`${result.rows} rows loaded into ${values.entity}, ${result.rejected} rejected${result.rejected ? ` (${rejectFile})` : ''}, ${result.lines} lines read in ${progress.seconds().toFixed(1)} s\n`);
    return 0;
  } finally {
    await orm.close(true);
  }
}

/**
 * The MikroORM config, found as MikroORM's CLI finds it (ConfigurationLoader.getConfigPaths):
 * `--config`, `MIKRO_ORM_CLI_CONFIG`, package.json `mikro-orm.configPaths`, then
 * `./src/mikro-orm.config.ts`, `./mikro-orm.config.ts`, `./{dist|build|src}/mikro-orm.config.js`,
 * `./mikro-orm.config.js`. A `.ts` config is imported only where Node strips types (22.18+).
 */
async function loadConfig(explicit: string | undefined): Promise<Options> {
  const cwd = process.cwd();
  const candidates: string[] = [];
  if (explicit) candidates.push(explicit);
  else {
    if (process.env.MIKRO_ORM_CLI_CONFIG) candidates.push(process.env.MIKRO_ORM_CLI_CONFIG);
    const pkgPath = resolve(cwd, 'package.json');
    if (existsSync(pkgPath)) {
      const pkg = JSON.parse(readFileSync(pkgPath, 'utf8')) as { 'mikro-orm'?: { configPaths?: string[] } };
      candidates.push(...(pkg['mikro-orm']?.configPaths ?? []));
    }
    candidates.push('./src/mikro-orm.config.ts', './mikro-orm.config.ts');
    const outDir = existsSync(resolve(cwd, 'dist')) ? 'dist' : existsSync(resolve(cwd, 'build')) ? 'build' : 'src';
    candidates.push(`./${outDir}/mikro-orm.config.js`, './mikro-orm.config.js');
  }
  const path = candidates.map(c => (isAbsolute(c) ? c : resolve(cwd, c))).find(p => existsSync(p));
  if (!path) throw new UsageError(`MikroORM config not found in ${candidates.join(', ')} (give --config)`);
  let module: { default?: unknown };
  try {
    module = (await import(pathToFileURL(path).href)) as { default?: unknown };
  } catch (e) {
    const code = (e as { code?: string }).code;
    if (path.endsWith('.ts') && (code === 'ERR_UNKNOWN_FILE_EXTENSION' || code === 'ERR_UNSUPPORTED_NODE_MODULES_TYPE_STRIPPING')) {
      throw new UsageError(`cannot import ${path}: this Node (${process.version}) does not strip TypeScript types; use Node 22.18+ or point --config at the compiled .js config`);
    }
    throw e;
  }
  let config: unknown = module.default ?? module;
  // a config may be a (async) factory, or an array of contexts as the MikroORM CLI allows
  if (typeof config === 'function') config = await (config as () => unknown)();
  config = await config;
  if (Array.isArray(config)) {
    const contexts = config as (Options & { contextName?: string })[];
    config = contexts.find(c => (c.contextName ?? 'default') === (process.env.MIKRO_ORM_CONTEXT_NAME ?? 'default')) ?? contexts[0];
  }
  return config as Options;
}

/** A progress bar with rows/s and ETA (by bytes read of the file size) on a TTY; a line every 5 s otherwise. */
class ProgressLine {
  readonly #out: NodeJS.WriteStream;
  readonly #started = performance.now();
  #lastPlain = 0;
  #drawn = false;

  constructor(out: NodeJS.WriteStream) {
    this.#out = out;
  }

  seconds(): number {
    return (performance.now() - this.#started) / 1000;
  }

  update(p: LoadFileProgress): void {
    const elapsed = this.seconds();
    const rate = elapsed > 0 ? p.rows / elapsed : 0;
    const fraction = p.totalBytes ? Math.min(1, p.bytes / p.totalBytes) : undefined;
    const eta = fraction && fraction > 0 ? elapsed / fraction - elapsed : undefined;
    const text = `${p.rows} rows, ${Math.round(rate)} rows/s${p.rejected ? `, ${p.rejected} rejected` : ''}${eta !== undefined ? `, ETA ${formatSeconds(eta)}` : ''}`;
    if (this.#out.isTTY) {
      const width = 30;
      const bar = fraction === undefined ? '' : `[${'#'.repeat(Math.round(fraction * width)).padEnd(width, '.')}] ${(fraction * 100).toFixed(0).padStart(3)}% `;
      this.#out.write(`\r${bar}${text}\x1b[K`);
      this.#drawn = true;
    } else if (elapsed - this.#lastPlain >= 5) {
      this.#lastPlain = elapsed;
      this.#out.write(`${fraction !== undefined ? `${(fraction * 100).toFixed(0)}% ` : ''}${text}\n`);
    }
  }

  /** A message above the bar. */
  log(message: string): void {
    this.#out.write(`${this.#drawn ? '\r\x1b[K' : ''}${message}\n`);
  }

  done(): void {
    if (this.#drawn) this.#out.write('\n');
    this.#drawn = false;
  }
}

function formatSeconds(s: number): string {
  if (s < 60) return `${Math.ceil(s)}s`;
  const m = Math.floor(s / 60);
  return m < 60 ? `${m}m${String(Math.round(s % 60)).padStart(2, '0')}s` : `${Math.floor(m / 60)}h${String(m % 60).padStart(2, '0')}m`;
}

main(process.argv.slice(2)).then(
  code => process.exit(code),
  (e: unknown) => {
    if (e instanceof UsageError || (e as { code?: string }).code?.startsWith('ERR_PARSE_ARGS')) {
      process.stderr.write(`mikro-orm-pg-copy: ${(e as Error).message}\n\n${USAGE}`);
      process.exit(2);
    }
    process.stderr.write(`\nmikro-orm-pg-copy: ${e instanceof LoadFileError ? e.message : e instanceof Error ? (e.stack ?? e.message) : String(e)}\nnothing was written\n`);
    process.exit(1);
  },
);
