// `beforeCreate` and `afterCreate` (and the update hooks of a cycle-closing UPDATE), as flush runs them: entity hooks (`@BeforeCreate()`, `hooks`
// in a schema) and event subscribers. flush runs `beforeCreate` after property initializers and
// before its required checks, and `afterCreate` once the rows are in, inside the transaction; so
// does copyPersist, per row, only for classes that have listeners, so other classes pay nothing.
import { ChangeSet, ChangeSetType, EventType, type AnyEntity, type EntityMetadata } from '@mikro-orm/core';
import type { SqlEntityManager } from '@mikro-orm/postgresql';

interface Listeners {
  before: boolean;
  after: boolean;
}

export class LifecycleHooks {
  readonly #em: SqlEntityManager;
  readonly #listeners = new Map<EntityMetadata, Listeners>();
  readonly #created: { entity: AnyEntity; meta: EntityMetadata }[] = [];

  constructor(em: SqlEntityManager) {
    this.#em = em;
  }

  #of(meta: EntityMetadata): Listeners {
    let listeners = this.#listeners.get(meta);
    if (!listeners) {
      const events = this.#em.getEventManager();
      listeners = { before: events.hasListeners(EventType.beforeCreate, meta), after: events.hasListeners(EventType.afterCreate, meta) };
      this.#listeners.set(meta, listeners);
    }
    return listeners;
  }

  /** Runs `beforeCreate` for the entity, if its class has listeners; remembers it for `afterCreate`. */
  async beforeCreate(entity: AnyEntity, meta: EntityMetadata): Promise<void> {
    const listeners = this.#of(meta);
    if (listeners.after) this.#created.push({ entity, meta });
    if (!listeners.before) return;
    await this.#dispatch(EventType.beforeCreate, entity, meta);
  }

  /** Does any entity of this class need `beforeCreate` or `afterCreate`? */
  has(meta: EntityMetadata): boolean {
    const listeners = this.#of(meta);
    return listeners.before || listeners.after;
  }

  /** Runs `afterCreate` for every entity written, in write order. */
  async afterCreate(): Promise<void> {
    for (const { entity, meta } of this.#created) await this.#dispatch(EventType.afterCreate, entity, meta);
  }

  /**
   * `beforeUpdate` or `afterUpdate` of the UPDATE that closes a cycle (deferred-references.ts),
   * which flush sends through its normal update path, hooks included.
   */
  async update(type: EventType.beforeUpdate | EventType.afterUpdate, entity: AnyEntity, meta: EntityMetadata): Promise<void> {
    if (this.#em.getEventManager().hasListeners(type, meta)) await this.#dispatch(type, entity, meta, ChangeSetType.UPDATE);
  }

  async #dispatch(type: EventType, entity: AnyEntity, meta: EntityMetadata, changeSetType = ChangeSetType.CREATE): Promise<void> {
    const em = this.#em;
    const changeSet = new ChangeSet(entity, changeSetType, em.getComparator().prepareEntity(entity), meta);
    await em.getEventManager().dispatchEvent(type, { entity, meta, em, changeSet } as never, meta);
  }
}
