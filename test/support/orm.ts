// Shared by every integration test: an ORM on the test database, in a schema of the test's own,
// built from `EntitySchema` definitions so the same file runs on MikroORM 6 and 7.
import assert from 'node:assert/strict';
import { MikroORM, type Options } from '@mikro-orm/postgresql';
import { CopyEntityManager } from '../../src/index.js';
import { mikroOrm } from '../../src/orm/index.js';
import { formatDefaults } from '../../src/copy/copy-format.js';

// `PG_COPY_FORMAT=binary npm test` runs every suite with binary COPY for each table that can take
// it, from its first row; `csv` with CSV only. Unset: the default, 'auto'.
if (process.env.PG_COPY_FORMAT === 'binary') Object.assign(formatDefaults, { format: 'auto', autoMinRows: 1 });
else if (process.env.PG_COPY_FORMAT === 'csv') formatDefaults.format = 'csv';

/** The MikroORM major version this run of the suite uses (set by scripts/test.mjs). */
export const MIKRO_ORM_VERSION = Number(process.env.MIKRO_ORM_VERSION ?? '7');

export function databaseUrl(): string {
  const url = process.env.DATABASE_URL;
  if (!url) throw new Error('DATABASE_URL is not set: run the tests through `npm test`');
  return url;
}

export type TestOrmOptions = Partial<Options> & {
  /** Default schema of the ORM; dropped and created anew. */
  schema: string;
  /** Extra schemas to drop and create (for entities that name their own schema). */
  extraSchemas?: string[];
  /** Create the tables (default true). */
  createSchema?: boolean;
};

/**
 * An ORM that never connects, for the tests without a database (test/unit/): metadata, the
 * platform and the comparator are all they use.
 */
export function initOrmWithoutDatabase(options: Partial<Options>): Promise<MikroORM> {
  return MikroORM.init({ clientUrl: 'postgres://nobody@127.0.0.1:1/none', connect: false, allowGlobalContext: true, ...options } as Options);
}

/** Starts an ORM whose EntityManager is a CopyEntityManager, on a fresh schema. */
export async function initTestOrm(options: TestOrmOptions): Promise<MikroORM> {
  const { schema, extraSchemas = [], createSchema = true, ...rest } = options;
  const orm = await MikroORM.init({
    clientUrl: databaseUrl(),
    schema,
    entityManager: CopyEntityManager,
    allowGlobalContext: true,
    debug: process.env.MIKRO_ORM_DEBUG === '1',
    pool: { min: 0, max: 4 },
    ...rest,
  } as Options);
  const conn = orm.em.getConnection();
  for (const name of [schema, ...extraSchemas]) {
    const quoted = `"${name.replaceAll('"', '""')}"`;
    await conn.execute(`drop schema if exists ${quoted} cascade`);
    await conn.execute(`create schema ${quoted}`);
  }
  if (createSchema) {
    await createTables(orm);
  }
  return orm;
}

/** Rows of a table as JSON text, for comparisons that print well when they fail. */
export async function tableRows(orm: MikroORM, qualifiedTable: string, orderBy = '1'): Promise<unknown[]> {
  return orm.em.getConnection().execute(`select * from ${qualifiedTable} order by ${orderBy}`);
}

/** Sessions of the pool that are left in an aborted or open transaction: must always be empty. */
export async function unhealthySessions(orm: MikroORM): Promise<unknown[]> {
  return orm.em.getConnection().execute(
    `select pid, state, query from pg_stat_activity
      where datname = current_database() and pid <> pg_backend_pid()
        and state in ('idle in transaction', 'idle in transaction (aborted)', 'active')
        and backend_type = 'client backend'`,
  );
}

/** Creates the tables of the ORM's entities, with the schema generator of the installed major. */
export async function createTables(orm: MikroORM): Promise<void> {
  await mikroOrm.createSchema(orm);
}

/** Connections checked out of the ORM's pool right now: 0 whenever no query runs. */
export async function connectionsInUse(orm: MikroORM): Promise<number> {
  const connection = orm.em.getConnection() as unknown as {
    getNativeClient?: () => Promise<{ totalCount: number; idleCount: number }>;
    getKnex?: () => { client: { pool?: { numUsed(): number } } };
  };
  if (connection.getKnex) return connection.getKnex().client.pool?.numUsed() ?? 0; // MikroORM 6: knex's tarn pool
  const pool = await connection.getNativeClient!(); // MikroORM 7: the `pg` Pool
  return pool.totalCount - pool.idleCount;
}

/**
 * Asserts that the pool is as healthy as before a failed call: no connection held, no session
 * left in a transaction, and a fresh fork can query.
 */
export async function assertPoolHealthy(orm: MikroORM): Promise<void> {
  assert.equal(await connectionsInUse(orm), 0, 'a connection is still checked out of the pool');
  assert.deepEqual(await unhealthySessions(orm), [], 'a session is left in a transaction');
  const [row] = await orm.em.fork().getConnection().execute<{ ok: number }[]>('select 1 as ok');
  assert.equal(row.ok, 1);
}

/** Row count of a table, on a connection of its own. */
export async function countRows(orm: MikroORM, qualifiedTable: string): Promise<number> {
  const [row] = await orm.em.fork().getConnection().execute<{ n: string }[]>(`select count(*) as n from ${qualifiedTable}`);
  return Number(row.n);
}
