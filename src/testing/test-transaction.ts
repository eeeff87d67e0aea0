// Load fixtures once, roll back per test: one transaction per test that code under test joins,
// even when it forks the EntityManager, begins its own transaction or uses the global `orm.em`.
import type { Configuration, ForkOptions, TransactionOptions } from '@mikro-orm/core';
import type { EntityManager } from '@mikro-orm/postgresql';
import { CopyEntityManager } from '../api/copy-entity-manager.js';
import { notTestEntityManager, testTransactionOpen } from '../errors.js';

/** The test transaction of each ORM (keyed by its configuration, which all its EMs share). */
const active = new WeakMap<Configuration, TestEntityManager>();

/**
 * A {@link CopyEntityManager} for test suites: while {@link beginTestTransaction} is in effect,
 * every EntityManager of the ORM works inside the test's transaction.
 *
 * - the global `orm.em` resolves to the test's EntityManager, unless a request or transaction
 *   context of its own is active (then that one, which is in the test's transaction too);
 * - `em.fork()` keeps the transaction of the EM it forks (MikroORM's `keepTransactionContext`,
 *   made the default), so a fork's queries and flushes run on the test's connection;
 * - `em.begin()` and `em.transactional()` open a savepoint in it instead of a new transaction, so
 *   their commit cannot end the test's transaction, and their rollback undoes only their part.
 *
 * Outside a test transaction it behaves exactly as `CopyEntityManager`.
 *
 * @example
 * ```ts
 * import { MikroORM } from '@mikro-orm/postgresql';
 * import { TestEntityManager } from 'mikro-orm-pg-copy';
 *
 * const orm = await MikroORM.init({ ...config, entityManager: TestEntityManager });
 * ```
 */
export class TestEntityManager extends CopyEntityManager {
  override getContext(validate = true): this {
    // only where the global EM would be used itself: a request or transaction context still wins
    const test = this.global ? active.get(this.config) : undefined;
    if (test && super.getContext(false) === this) return test as this;
    return super.getContext(validate);
  }

  override fork(options: ForkOptions = {}): this {
    const join = options.keepTransactionContext === undefined && active.has(this.config) && this.getContext(false).isInTransaction();
    return super.fork(join ? { ...options, keepTransactionContext: true } : options);
  }

  override async begin(options: Omit<TransactionOptions, 'ignoreNestedTransactions'> = {}): Promise<void> {
    const outer = !options.ctx && active.has(this.config) ? this.getContext(false).getTransactionContext() : undefined;
    return super.begin(outer ? { ...options, ctx: outer } : options);
  }
}

/** A test's transaction: {@link TestTransaction.em} for the test, {@link TestTransaction.rollback} after it. */
export interface TestTransaction {
  /** The EntityManager in the transaction; the global `orm.em` and every fork resolve to it. */
  readonly em: EntityManager;
  /** Rolls back everything the test wrote and ends the test transaction. */
  rollback(): Promise<void>;
}

/**
 * Begins a transaction for one test on a fork of `em` (usually `orm.em`), which must be a
 * {@link TestEntityManager}. Until `rollback()`, the ORM's EntityManagers join it (see
 * {@link TestEntityManager}); one test transaction per ORM at a time, so run a file's tests one
 * after another (the default of vitest and jest). Sequences are not transactional: keys handed out
 * during the test are not handed out again.
 *
 * @example
 * ```ts
 * import { beginTestTransaction, type TestTransaction } from 'mikro-orm-pg-copy';
 *
 * let tx: TestTransaction;
 * beforeEach(async () => { tx = await beginTestTransaction(orm.em); });
 * afterEach(() => tx.rollback());
 * ```
 */
export async function beginTestTransaction(em: EntityManager): Promise<TestTransaction> {
  if (!(em instanceof TestEntityManager)) {
    throw notTestEntityManager();
  }
  const config = em.config;
  if (active.has(config)) throw testTransactionOpen();
  const fork = em.fork();
  await fork.begin();
  active.set(config, fork);
  return {
    em: fork,
    async rollback() {
      if (active.get(config) !== fork) return;
      active.delete(config);
      try {
        await fork.rollback();
      } finally {
        fork.clear();
      }
    },
  };
}
