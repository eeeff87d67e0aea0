// A database per test worker, as Django's parallel runner does: fixtures are loaded once into a
// template database, and each worker gets its own clone through CREATE DATABASE ... TEMPLATE.
import { MikroORM, PostgreSqlPlatform, type Options } from '@mikro-orm/postgresql';
import pg from 'pg';
import { mikroOrm } from '../orm/index.js';

/** Connection settings of a test suite's MikroORM configuration, as far as these helpers use them. */
export type TestDatabaseConfig = Pick<Options, 'clientUrl' | 'host' | 'port' | 'user' | 'password' | 'dbName'>;

/** Options of {@link createTemplateDatabase}. */
export interface TemplateDatabaseOptions<C extends TestDatabaseConfig = Options> {
  /** The test suite's MikroORM options (`clientUrl`, or `host`, `port`, `user`, `password`). */
  config: C;
  /** Name of the template database; it is dropped and created anew. */
  template: string;
  /** Creates the tables of the config's entities in the template first (default true). */
  createTables?: boolean;
  /** Fills the template, once: `loadFixtures(orm.em.fork(), ...)`. The ORM is closed afterwards. */
  seed?: (orm: MikroORM) => Promise<void>;
  /** Database to connect to for CREATE and DROP DATABASE (default `postgres`). */
  maintenanceDb?: string;
}

/** Options of {@link cloneTemplateDatabase}. */
export interface CloneDatabaseOptions<C extends TestDatabaseConfig = Options> {
  config: C;
  /** The template made by {@link createTemplateDatabase}. */
  template: string;
  /** Name of the clone, e.g. `app_test_${process.env.VITEST_POOL_ID}`; an older clone of that name is dropped. */
  name: string;
  maintenanceDb?: string;
}

const platform = new PostgreSqlPlatform();

/**
 * Creates a template database, its tables and its fixtures, once per test run (vitest's
 * `globalSetup`, jest's `globalSetup`). Clone it per worker with {@link cloneTemplateDatabase}.
 *
 * @example
 * ```ts
 * import { createTemplateDatabase, loadFixtures } from 'mikro-orm-pg-copy';
 *
 * await createTemplateDatabase({
 *   config,
 *   template: 'app_test_template',
 *   seed: orm => loadFixtures(orm.em.fork(), fixtures).then(() => undefined),
 * });
 * ```
 */
export async function createTemplateDatabase<C extends TestDatabaseConfig>(options: TemplateDatabaseOptions<C>): Promise<void> {
  const { config, template, createTables = true, seed } = options;
  await withMaintenanceClient(config, options.maintenanceDb, async client => {
    await client.query(`drop database if exists ${platform.quoteIdentifier(template)} with (force)`);
    await client.query(`create database ${platform.quoteIdentifier(template)}`);
  });
  const orm = await MikroORM.init({ ...config, ...connectionTo(config, template) } as Options);
  try {
    if (createTables) {
      await mikroOrm.createSchema(orm);
    }
    await seed?.(orm);
  } finally {
    await orm.close(true);
  }
}

/**
 * Creates database `name` as a copy of `template` (dropping an older `name` first) and returns
 * `config` pointed at it: pass that to `MikroORM.init`. A copy is a file copy on the server, far
 * faster than loading the fixtures again; nobody may be connected to the template meanwhile.
 *
 * @example
 * ```ts
 * import { cloneTemplateDatabase } from 'mikro-orm-pg-copy';
 *
 * const orm = await MikroORM.init(await cloneTemplateDatabase({
 *   config, template: 'app_test_template', name: `app_test_${process.env.VITEST_POOL_ID}`,
 * }));
 * ```
 */
export async function cloneTemplateDatabase<C extends TestDatabaseConfig>(options: CloneDatabaseOptions<C>): Promise<C> {
  const { config, template, name } = options;
  await withMaintenanceClient(config, options.maintenanceDb, async client => {
    await client.query(`drop database if exists ${platform.quoteIdentifier(name)} with (force)`);
    await client.query(`create database ${platform.quoteIdentifier(name)} template ${platform.quoteIdentifier(template)}`);
  });
  return { ...config, ...connectionTo(config, name) };
}

/**
 * Drops the given databases, or every database whose name starts with `prefix` (the template
 * and all clones), closing their connections first.
 *
 * @example
 * ```ts
 * await dropTestDatabases(config, { prefix: 'app_test_' });
 * await dropTestDatabases(config, ['app_test_template']);
 * ```
 */
export async function dropTestDatabases(config: TestDatabaseConfig, databases: readonly string[] | { prefix: string }, maintenanceDb?: string): Promise<string[]> {
  return withMaintenanceClient(config, maintenanceDb, async client => {
    const names = 'prefix' in databases
      ? (await client.query<{ datname: string }>('select datname from pg_database where starts_with(datname, $1) order by 1', [databases.prefix])).rows.map(r => r.datname)
      : databases;
    for (const name of names) await client.query(`drop database if exists ${platform.quoteIdentifier(name)} with (force)`);
    return [...names];
  });
}

/** The connection options of `config` with the database replaced by `dbName`. */
function connectionTo(config: TestDatabaseConfig, dbName: string): TestDatabaseConfig {
  if (!config.clientUrl) return { dbName };
  const url = new URL(config.clientUrl);
  url.pathname = `/${encodeURIComponent(dbName)}`;
  return { dbName, clientUrl: url.toString() };
}

async function withMaintenanceClient<T>(config: TestDatabaseConfig, maintenanceDb = 'postgres', fn: (client: pg.Client) => Promise<T>): Promise<T> {
  const target = connectionTo(config, maintenanceDb);
  const client = new pg.Client(
    // MikroORM's password may be a callback, which `pg` accepts too (its types and MikroORM 6's differ)
    (target.clientUrl ? { connectionString: target.clientUrl } : { host: config.host, port: config.port, user: config.user, password: config.password, database: maintenanceDb }) as pg.ClientConfig,
  );
  await client.connect();
  try {
    return await fn(client);
  } finally {
    await client.end();
  }
}
