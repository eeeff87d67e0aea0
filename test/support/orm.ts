// Shared by every integration test: an ORM on the test database, in a schema of the test's own,
// built from `EntitySchema` definitions so the same file runs on MikroORM 6 and 7.
import { MikroORM, type Options } from '@mikro-orm/postgresql';
import { CopyEntityManager } from '../../src/index.js';

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
    await conn.execute(`drop schema if exists "${name}" cascade`);
    await conn.execute(`create schema "${name}"`);
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

/** Creates the tables of the ORM's entities: `schema.create()` in 7, `createSchema()` in 6. */
export async function createTables(orm: MikroORM): Promise<void> {
  const generator = orm.schema as unknown as { create?: () => Promise<void>; createSchema?: () => Promise<void> };
  await (generator.create ? generator.create() : generator.createSchema!());
}
