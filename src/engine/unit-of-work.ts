// What flush leaves in the unit of work, done for a copy: entities made with `em.create()` leave the
// persist stack, `manage` registers the written entities as loaded, and pivot collections take a
// snapshot, so that no later flush writes the same rows again.
import { helper, type AnyEntity, type EntityProperty } from '@mikro-orm/core';
import type { SqlEntityManager } from '@mikro-orm/postgresql';

/**
 * Entities of the call that the copying EntityManager has scheduled for insert: `em.create()`
 * schedules them, and `em.transactional()` hands the parent's schedule to its fork. After the copy
 * they are unscheduled and take the snapshot flush would have taken, so no later flush inserts them
 * again — not this EntityManager's, nor the parent's after the transaction (to a flush, an entity
 * with a snapshot and no changes has nothing to write).
 */
export class ScheduledInserts {
  readonly #stack: Set<AnyEntity>;
  readonly #found: AnyEntity[] = [];

  constructor(em: SqlEntityManager) {
    this.#stack = em.getUnitOfWork().getPersistStack() as Set<AnyEntity>;
  }

  /** Per row: one size check unless something is scheduled. */
  note(entity: AnyEntity): void {
    if (this.#stack.size && this.#stack.has(entity)) this.#found.push(entity);
  }

  settle(em: SqlEntityManager): void {
    const comparator = em.getComparator();
    for (const entity of this.#found) {
      this.#stack.delete(entity);
      helper(entity).__originalEntityData = comparator.prepareEntity(entity);
    }
  }
}

/**
 * Pivot rows written here must not be inserted again by the next flush: the collections that
 * flush would see as dirty (of managed owners, or of entities `manage` registers) take a snapshot.
 */
export function snapshotCollections(collections: Map<AnyEntity, EntityProperty[]>, managed: boolean): void {
  for (const [owner, props] of collections) {
    if (!managed && !helper(owner).__managed) continue;
    for (const prop of props) (owner[prop.name] as { takeSnapshot?(): void } | undefined)?.takeSnapshot?.();
  }
}

/**
 * Puts the copied entities into the identity map as if loaded, so later changes become UPDATEs;
 * under the schema flush would have given them, which is part of the identity map's key.
 */
export function manage(em: SqlEntityManager, entities: readonly AnyEntity[]): void {
  const uow = em.getUnitOfWork();
  const comparator = em.getComparator();
  for (const entity of entities) {
    const wrapped = helper(entity);
    wrapped.__schema ??= em.schema;
    uow.register(entity, comparator.prepareEntity(entity), { refresh: true, loaded: true });
  }
}
