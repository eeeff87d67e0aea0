// Whether a call's whole write can be one query with nothing after it, so that without a caller's
// transaction it needs no MikroORM transaction (orm/transaction.ts) and its COPYs go as one query
// (copy/copy-at-once.ts). MikroORM's transaction cost a 10-row call two round trips of its five
// (BEGIN, COMMIT), and the COPY one more (its answer awaited before the rows were sent).
//
// The key reservation before the write is no reason for MikroORM's transaction: the session opens
// one in the same message and the rows' query commits it (a sequence hands out values outside any
// transaction, so a failed write leaves a gap either way, as a failed flush does). What is a
// reason: anything that writes or reads after the rows are in (the read-back of
// database-filled values, afterCreate hooks, the UPDATEs closing a cycle, pivot rows, an upsert's
// merge), more than one chunk (each chunk's keys are reserved between two COPYs), and a signal
// that may abort the call once the rows are sent.
//
// Entities whose keys the database generates need them before their rows can be encoded, which
// cost such a call a round trip of its own (the key reservation) until a small call's rows went
// as INSERTs returning the keys instead (copy/insert-at-once.ts): one round trip, and the keys as
// flush and insertMany get them, from the column's default in VALUES order.
import { Utils, type EntityMetadata } from '@mikro-orm/core';
import type { SqlEntityManager } from '@mikro-orm/postgresql';
import type { CopySource } from '../input/read-chunks.js';
import type { CopyPersistOptions } from '../api/options.js';
import type { AtOnce } from '../copy/copy-session.js';
import { isIsolatedClass, needsNoOrdering } from '../plan/write-order.js';
import { generatedKeyOf } from './assign-keys.js';
import type { LifecycleHooks } from './lifecycle-hooks.js';
import { mayReadBack } from './read-back.js';

export interface OneStatementCall {
  /** The plain rows' class (undefined for entities). */
  rowMeta: EntityMetadata | undefined;
  source: CopySource<object>;
  options: CopyPersistOptions;
  chunkSize: number;
  /** An upsert (its merge runs after the COPY). */
  upsert: boolean;
  hooks: LifecycleHooks | undefined;
  /** Whether database-filled values are read back onto the entities. */
  readBack: boolean;
  /** Whether entities without a key get one from the column's sequence. */
  assignKeys: boolean;
}

/**
 * Most entities whose keys come back from INSERTs: 40 rows of PostgreSQL's most columns per table
 * (1600) stay within the 65535 parameters of a statement.
 */
const MAX_INSERTED_ROWS = 40;

/**
 * Can this call's rows go in as one statement, with no statement after it? 'insert': as INSERTs
 * returning the generated keys of entities; 'copy': as COPYs; false: not at once.
 */
export function oneStatementForm(em: SqlEntityManager, call: OneStatementCall): AtOnce {
  const { rowMeta, source, options } = call;
  // within a caller's transaction, only INSERTs: their savepoint goes with them (a COPY's would not)
  const inTransaction = em.isInTransaction();
  if (!Array.isArray(source) || source.length === 0 || source.length > call.chunkSize) return false;
  if (call.upsert || options.cascade === true || options.signal) return false;
  const meta = rowMeta ?? classOf(em, source);
  if (!meta || !isIsolatedClass(meta) || call.hooks?.has(meta) || (call.readBack && mayReadBack(meta))) return false;
  if (!rowMeta && call.assignKeys && source.length <= MAX_INSERTED_ROWS && generatedKeyOf(meta)) return 'insert';
  if (inTransaction) return false;
  if (!rowMeta) return 'copy';
  // entities among plain rows are written as themselves, by their own class
  return source.every(item => !Utils.isEntity(item) || item.constructor === rowMeta.class) ? 'copy' : false;
}

/** The one class of an array of entities whose rows cannot depend on each other. */
function classOf(em: SqlEntityManager, items: readonly object[]): EntityMetadata | undefined {
  if (!needsNoOrdering(em, items as never)) return undefined;
  return em.getMetadata().find(items[0].constructor as never) as EntityMetadata | undefined;
}
