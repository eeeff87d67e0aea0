// A transaction whose connection died, on MikroORM 7 (Kysely over a `pg` Pool). Kysely gives a
// transaction's connection back to the pool only when its COMMIT or ROLLBACK succeeds. When the
// backend died mid-COPY (killed, network gone), the ROLLBACK fails too and the pool slot would stay
// taken forever. So we remember which wire connection each transaction's COPY used, watch the `pg`
// pool's public checkout events, and hand such a client back with an error, which makes pg-pool
// discard it. MikroORM 6 needs none of this: knex releases the connection itself.

// Typed structurally, as Kysely does it: only the part of pg-pool used here.
interface PgPoolClient {
  connection?: unknown;
  release(error?: Error | boolean): void;
}

/** A `pg` Pool whose checked-out clients are tracked (see {@link watchPool}). */
export interface WatchedPool {
  on(event: 'acquire' | 'remove', listener: (client: PgPoolClient) => void): unknown;
  on(event: 'release', listener: (error: unknown, client: PgPoolClient) => void): unknown;
}

/** The part of a Kysely transaction that says how it ended. */
interface EndedTransaction {
  isCommitted?: boolean;
  isRolledBack?: boolean;
}

const wireConnectionOf = new WeakMap<object, unknown>();
const checkedOut = new WeakMap<WatchedPool, Set<PgPoolClient>>();

/**
 * Wraps `query` (a `Submittable`, typed here by its one method so that this file imports nothing of
 * the facade it serves) so that, once `pg` runs it, the wire connection of `trx` is known.
 */
export function rememberWireConnection(trx: object, query: { submit(connection: unknown): void }): void {
  const submit = query.submit.bind(query);
  query.submit = connection => {
    wireConnectionOf.set(trx, connection);
    submit(connection);
  };
}

/** Starts tracking the clients checked out of the connection's `pg` pool. */
export async function watchPool(connection: { getNativeClient?: () => Promise<unknown> }): Promise<WatchedPool | undefined> {
  const pool = (await connection.getNativeClient?.().catch(() => undefined)) as WatchedPool | undefined;
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
export function discardIfStranded(pool: WatchedPool | undefined, trx: unknown, cause: Error): void {
  const t = trx as EndedTransaction | undefined;
  if (!pool || !t || t.isCommitted !== false || t.isRolledBack !== false) return;
  const wire = wireConnectionOf.get(t);
  for (const client of checkedOut.get(pool) ?? []) {
    if (wire !== undefined && client.connection === wire) {
      client.release(cause);
      return;
    }
  }
}
