// Everything that differs between MikroORM 6 (knex underneath) and 7 (Kysely underneath) lives
// here, detected by feature rather than by version number.
import * as core from '@mikro-orm/core';
import type { EntityMetadata, EntityProperty } from '@mikro-orm/core';
import { unknownTransactionContext } from '../errors.js';

/** A query object that `pg`'s Client runs as is: pg-copy-streams' COPY stream is one. */
export interface Submittable {
  submit(connection: unknown): void;
}

/** The knex transaction of MikroORM 6: its client hands out the transaction's own `pg` Client. */
interface KnexTransaction {
  client: { acquireConnection(): Promise<{ query(query: Submittable): unknown }> };
}

/** The Kysely transaction of MikroORM 7. */
interface KyselyTransaction {
  getExecutor(): {
    provideConnection<T>(consumer: (connection: KyselyConnection) => Promise<T>): Promise<T>;
  };
}

interface KyselyConnection {
  executeQuery(query: { sql: unknown; parameters: readonly unknown[]; query: unknown; queryId: unknown }): Promise<unknown>;
}

function isKyselyTransaction(trx: unknown): trx is KyselyTransaction {
  return typeof (trx as KyselyTransaction | null)?.getExecutor === 'function';
}

function isKnexTransaction(trx: unknown): trx is KnexTransaction {
  return typeof (trx as KnexTransaction | null)?.client?.acquireConnection === 'function';
}

/**
 * Runs `work` holding the `pg` connection of the transaction `trx`; `submit` hands a query
 * object to that connection's queue.
 *
 * MikroORM 7: Kysely's transaction does not expose its `pg` client, but its executor lends the
 * transaction's connection exclusively to one consumer at a time, and `pg` runs any object with a
 * `submit()` method as a query. So the COPY stream goes through Kysely's own connection, and no
 * other query of the transaction can interleave until `work` settles.
 *
 * MikroORM 6: knex's transaction client returns the transaction's `pg` Client.
 */
export async function withTransactionConnection<T>(trx: unknown, work: (submit: (query: Submittable) => void) => Promise<T>): Promise<T> {
  if (isKyselyTransaction(trx)) {
    return trx.getExecutor().provideConnection(connection =>
      work(query => {
        rememberWireConnection(trx, query);
        // Kysely awaits `client.query(sql)`, which for a submittable returns the object itself at
        // once; failures of the COPY arrive on the stream, so this promise carries nothing.
        connection
          .executeQuery({ sql: query, parameters: [], query: { kind: 'RawNode', sqlFragments: [], parameters: [] }, queryId: { queryId: 'mikro-orm-pg-copy' } })
          .catch(() => undefined);
      }),
    );
  }
  if (isKnexTransaction(trx)) {
    const client = await trx.client.acquireConnection();
    return work(query => void client.query(query));
  }
  throw unknownTransactionContext();
}

/** What `withPooledConnection` needs of MikroORM's connection: Kysely (7) or knex (6) underneath. */
interface PooledConnectionSource {
  getClient?(): { connection?(): { execute<T>(work: (db: unknown) => Promise<T>): Promise<T> } } | undefined;
  getKnex?(): { client: { acquireConnection(): Promise<{ query(query: Submittable): unknown }>; releaseConnection(connection: unknown): Promise<unknown> } };
}

/**
 * Runs `work` on one pool connection without a transaction; `work` receives a context that
 * `withTransactionConnection` takes like a transaction's. MikroORM 7: a Kysely bound to one
 * connection (`db.connection()`); 6: knex's pooled `pg` Client, handed out as a knex transaction
 * would hand out its own. Either way the connection goes back to the pool afterwards, and `pg-pool`
 * or knex's pool discards it if it died meanwhile.
 */
export async function withPooledConnection<T>(connection: unknown, work: (trx: unknown) => Promise<T>): Promise<T> {
  const source = connection as PooledConnectionSource;
  const kysely = source.getClient?.();
  if (typeof kysely?.connection === 'function') return kysely.connection().execute(work);
  const knex = source.getKnex?.();
  if (!knex) throw unknownTransactionContext();
  const client = await knex.client.acquireConnection();
  try {
    return await work({ client: { acquireConnection: () => Promise.resolve(client) } } satisfies KnexTransaction);
  } finally {
    await knex.client.releaseConnection(client);
  }
}

/** MikroORM 7 exports `isRaw`; MikroORM 6 marks raw SQL as `RawQueryFragment` instances. */
export function isRawSql(value: unknown): boolean {
  const c = core as unknown as { isRaw?: (v: unknown) => boolean; RawQueryFragment?: new (...args: never[]) => unknown };
  if (c.isRaw) return c.isRaw(value);
  return !!c.RawQueryFragment && value instanceof c.RawQueryFragment;
}

/** The properties MikroORM 7 type-checks before every insert (`validateEntity`); 6 has none by default. */
export function propsValidatedOnInsert<T>(meta: EntityMetadata<T>): EntityProperty<T>[] {
  return (meta as EntityMetadata<T> & { validateProps?: EntityProperty<T>[] }).validateProps ?? [];
}

/** Runtime types MikroORM 7 checks values against (`SCALAR_TYPES`). */
export const scalarRuntimeTypes: ReadonlySet<string> =
  (core as unknown as { SCALAR_TYPES?: Set<string> }).SCALAR_TYPES ?? new Set(['string', 'number', 'boolean', 'bigint', 'Uint8Array', 'Date', 'Buffer', 'RegExp']);

// --- MikroORM 7: a transaction whose connection died -------------------------------------------
//
// Kysely gives a transaction's connection back to the pool only when its COMMIT or ROLLBACK
// succeeds. When the backend died mid-COPY (killed, network gone), the ROLLBACK fails too and the
// pool slot would stay taken forever. So we remember which wire connection each transaction's COPY
// used, watch the `pg` pool's public checkout events, and hand such a client back with an error,
// which makes pg-pool discard it.

interface PgPoolClient {
  connection?: unknown;
  release(error?: Error | boolean): void;
}

interface PgPool {
  on(event: 'acquire' | 'remove', listener: (client: PgPoolClient) => void): unknown;
  on(event: 'release', listener: (error: unknown, client: PgPoolClient) => void): unknown;
}

const wireConnectionOf = new WeakMap<object, unknown>();
const checkedOut = new WeakMap<PgPool, Set<PgPoolClient>>();

function rememberWireConnection(trx: object, query: Submittable): void {
  const submit = query.submit.bind(query);
  query.submit = connection => {
    wireConnectionOf.set(trx, connection);
    submit(connection);
  };
}

/** Starts tracking the clients checked out of the EM's `pg` pool (MikroORM 7; a no-op on 6). */
export async function watchPool(connection: { getNativeClient?: () => Promise<unknown> }): Promise<PgPool | undefined> {
  const pool = (await connection.getNativeClient?.().catch(() => undefined)) as PgPool | undefined;
  if (!pool || typeof pool.on !== 'function' || checkedOut.has(pool)) return pool;
  const clients = new Set<PgPoolClient>();
  checkedOut.set(pool, clients);
  pool.on('acquire', client => clients.add(client));
  pool.on('release', (_error, client) => clients.delete(client));
  pool.on('remove', client => clients.delete(client));
  return pool;
}

/**
 * After a failed own transaction: if Kysely could neither commit nor roll back `trx`, discard the
 * `pg` client its COPY ran on, so the pool slot is freed.
 */
export function discardIfStranded(pool: PgPool | undefined, trx: unknown, cause: Error): void {
  const t = trx as { isCommitted?: boolean; isRolledBack?: boolean } | undefined;
  if (!pool || !t || t.isCommitted !== false || t.isRolledBack !== false) return;
  const wire = wireConnectionOf.get(t as object);
  for (const client of checkedOut.get(pool) ?? []) {
    if (wire !== undefined && client.connection === wire) {
      client.release(cause);
      return;
    }
  }
}

/**
 * A result row keyed by column → values by property, as hydration converts them (the version
 * or defaults the database filled in). The comparator does it on both versions; MikroORM 7 names
 * the entity by its metadata, 6 by its class name.
 */
export function mapResultRow(em: { getComparator(): unknown }, meta: EntityMetadata, row: Record<string, unknown>): Record<string, unknown> {
  const comparator = em.getComparator() as { mapResult(entity: EntityMetadata | string, row: Record<string, unknown>): Record<string, unknown> };
  return comparator.mapResult(core.Utils.getORMVersion().startsWith('6.') ? meta.className : meta, row);
}
