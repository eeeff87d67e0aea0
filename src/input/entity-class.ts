// The entity class an argument names: a class, or an `EntitySchema` (what MikroORM 7's
// `defineEntity` returns, too), as `em.create` accepts them.
import { EntitySchema, type EntityClass } from '@mikro-orm/core';

/** What `copyPersist(em, X, rows)` accepts as `X`. */
export type EntityClassLike<T extends object> = EntityClass<T> | EntitySchema<T>;

/** The entity class `value` names; undefined when it is not one (it is the input itself). */
export function entityClassOf(value: unknown): EntityClass<object> | undefined {
  if (typeof value === 'function') return value as EntityClass<object>;
  if (value instanceof EntitySchema) return value.meta.class as EntityClass<object>;
  return undefined;
}
