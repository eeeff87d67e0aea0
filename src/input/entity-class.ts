// The entity class an argument names: a class, or an `EntitySchema` (what `defineEntity` returns,
// too), as `em.create` accepts them.
import { EntitySchema, type EntityClass, type EntityManager } from '@mikro-orm/core';
import { CopyPersistError } from '../errors.js';

/** What `copyPersist(em, X, rows)` accepts as `X`. */
export type EntityClassLike<T extends object> = EntityClass<T> | EntitySchema<T>;

/**
 * The entity class `value` names; undefined when it is not one (it is the input itself). A schema
 * without a class of its own gets one when the ORM discovers it, on the ORM's copy of its
 * metadata: that is where it is looked up.
 */
export function entityClassOf(em: EntityManager, value: unknown): EntityClass<object> | undefined {
  if (typeof value === 'function') return value as EntityClass<object>;
  if (!(value instanceof EntitySchema)) return undefined;
  const meta = value.meta;
  const cls = meta.class ?? (em.getMetadata().find(meta.className as never) as { class?: unknown } | undefined)?.class;
  if (!cls) throw new CopyPersistError('UNREGISTERED_ENTITY', 'an EntitySchema that is not registered with this ORM', { entity: meta.className });
  return cls as EntityClass<object>;
}
