// All or nothing: a copy runs inside the caller's transaction (within a savepoint, so a failed
// copy leaves that transaction usable) or inside a transaction of its own — or, when the caller
// has none and the whole write is one query (engine/one-statement.ts), on one pool connection
// without MikroORM's transaction: that query is atomic by itself, and the session opens and
// commits a transaction in the messages it sends anyway when a statement comes before it
// (copy/copy-session.ts), saving BEGIN's and COMMIT's round trips. A call written as INSERTs
// within the caller's transaction sends its own savepoint and release with them, in the same
// message (copy/insert-at-once.ts), instead of a round trip each.
import type { SqlEntityManager } from '@mikro-orm/postgresql';
import { mikroOrm } from './index.js';

let savepointCounter = 0;

/** A savepoint name of its own for a call, platform-quoted. */
export function newSavepoint(em: SqlEntityManager): string {
  return em.getPlatform().quoteIdentifier(`mikro_orm_pg_copy_${++savepointCounter}`);
}

/**
 * Runs `work` with a transaction context of `em`: the caller's, or a new one. `oneStatement`: the
 * work writes with one query and nothing after it, so without a caller's transaction it gets a
 * pool connection as its context, and its session makes it atomic (`CopySession`'s `atOnce`);
 * within one, the session sends the savepoint with its INSERTs when it `ownsSavepoint`.
 */
export async function inTransaction<T>(em: SqlEntityManager, work: (trx: unknown) => Promise<T>, oneStatement = false, ownsSavepoint = false): Promise<T> {
  const connection = em.getConnection('write');
  const callerTrx: unknown = em.getTransactionContext();
  if (!callerTrx && oneStatement) return mikroOrm.withPooledConnection(connection, work);
  if (callerTrx && ownsSavepoint) return work(callerTrx);
  if (!callerTrx) {
    // MikroORM's own transaction handling: commit on success, rollback on error
    const pool = await mikroOrm.watchPool(connection);
    let ownTrx: unknown;
    try {
      return await connection.transactional(trx => work((ownTrx = trx)));
    } catch (e) {
      mikroOrm.discardIfStranded(pool, ownTrx, e instanceof Error ? e : new Error(String(e)));
      throw e;
    }
  }
  const savepoint = newSavepoint(em);
  const run = (sql: string) => connection.execute(sql, [], 'run', callerTrx as never);
  await run(`savepoint ${savepoint}`);
  try {
    const result = await work(callerTrx);
    await run(`release savepoint ${savepoint}`);
    return result;
  } catch (e) {
    // leave the caller's transaction as it was before the call; if even that fails the
    // transaction is aborted and the caller's rollback is the only way out, so keep the cause
    await run(`rollback to savepoint ${savepoint}`).catch(() => undefined);
    throw e;
  }
}
