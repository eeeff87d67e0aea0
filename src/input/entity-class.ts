// The entity class an argument names: a class, or an `EntitySchema` (what `defineEntity` returns,
// too), as `em.create` accepts them.
import { EntitySchema, type EntityClass, type EntityManager } from '@mikro-orm/core';
import { unregisteredSchema } from '../errors.js';
import type { CopySource } from './read-chunks.js';

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
  if (!cls) throw unregisteredSchema(meta.className);
  return cls as EntityClass<object>;
}

/** A call of an entry point, its overloads read: `(entities, options?)` or `(entityClass, rows, options?)`. */
export interface CopyCall<Options> {
  /** The class of plain rows; undefined when the input holds entities. */
  entityClass: EntityClass<object> | undefined;
  source: CopySource<object>;
  options: Options;
}

/**
 * Reads the `(a, b, c)` of every entry point that takes either entities or a class and its rows
 * (copyPersist, copyParallel, and through copyPersist `CopyEntityManager.copyPersist`), so that
 * they all tell the two forms apart the same way.
 */
export function readCopyCall<Options extends object>(em: EntityManager, a: unknown, b?: unknown, c?: unknown): CopyCall<Options> {
  const entityClass = entityClassOf(em, a);
  const source = (entityClass ? b : a) as CopySource<object>;
  const options = ((entityClass ? c : b) as Options | undefined) ?? ({} as Options);
  return { entityClass, source, options };
}
