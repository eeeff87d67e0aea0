// What the metadata says about relations, in one place: which to-one properties own a foreign
// key, which edges flush's persist cascade follows, and the order tables must be written in.
import { Cascade, ReferenceKind, Reference, Utils, helper, type AnyEntity, type EntityMetadata, type EntityProperty } from '@mikro-orm/core';
import type { SqlEntityManager } from '@mikro-orm/postgresql';
import { tableCycle } from '../errors.js';

/** A many-to-one, or the owning side of a one-to-one: the row holds the foreign key. */
export function isOwningToOne(prop: EntityProperty): boolean {
  return prop.kind === ReferenceKind.MANY_TO_ONE || (prop.kind === ReferenceKind.ONE_TO_ONE && !!prop.owner);
}

export function isToOne(prop: EntityProperty): boolean {
  return prop.kind === ReferenceKind.MANY_TO_ONE || prop.kind === ReferenceKind.ONE_TO_ONE;
}

export function isToMany(prop: EntityProperty): boolean {
  return prop.kind === ReferenceKind.ONE_TO_MANY || prop.kind === ReferenceKind.MANY_TO_MANY;
}

/** Does flush's persist cascade (`UnitOfWork.shouldCascade`) follow this relation? */
export function cascadesPersist(prop: EntityProperty): boolean {
  return !!prop.cascade && (prop.cascade.includes(Cascade.PERSIST) || prop.cascade.includes(Cascade.ALL));
}

/** The entity a to-one property points at, unwrapped from a `Reference`; undefined for none or a bare key. */
export function toOneTarget(entity: AnyEntity, prop: EntityProperty): AnyEntity | undefined {
  const value = Reference.unwrapReference(entity[prop.name] ?? null) as AnyEntity | null;
  return value != null && Utils.isEntity(value) ? value : undefined;
}

/** The items of a loaded collection property; empty when it is unset or not initialized. */
export function collectionItems(entity: AnyEntity, prop: EntityProperty): readonly AnyEntity[] {
  const collection = entity[prop.name] as { isInitialized?(): boolean; getItems(check?: boolean): AnyEntity[] } | undefined;
  if (!collection || typeof collection.getItems !== 'function' || !collection.isInitialized?.()) return [];
  return collection.getItems(false);
}

/**
 * The pivot entity of an owning many-to-many property and its two many-to-one sides (the owner's
 * and the target's foreign keys), found by their columns; undefined sides when it has no such plain keys.
 */
export function pivotSides(em: SqlEntityManager, prop: EntityProperty): { pivotMeta?: EntityMetadata; ownerSide?: EntityProperty; targetSide?: EntityProperty } {
  const pivotMeta = em.getMetadata().find(prop.pivotEntity) as EntityMetadata | undefined;
  const sides = pivotMeta?.relations.filter(p => p.kind === ReferenceKind.MANY_TO_ONE) ?? [];
  const same = (a: string[], b: string[] | undefined) => !!b && a.length === b.length && a.every((f, i) => f === b[i]);
  const ownerSide = sides.find(p => same(p.fieldNames, prop.joinColumns));
  const targetSide = sides.find(p => p !== ownerSide && same(p.fieldNames, prop.inverseJoinColumns));
  return { pivotMeta, ownerSide, targetSide };
}

/**
 * The copying EntityManager's metadata of an entity, found by its class. Not `helper(entity).__meta`:
 * when two ORMs were initialised with the same classes, an entity carries the last one's metadata.
 */
export function metadataOf(em: SqlEntityManager, entity: AnyEntity): EntityMetadata {
  const meta = em.getMetadata().find(entity.constructor as never) as EntityMetadata | undefined;
  return meta ?? (helper(entity).__meta as EntityMetadata);
}

/**
 * Does the row of this entity still have to be written? As for flush, not when it is managed or a
 * reference (`em.getReference`, not initialized); and not when its database-generated key is
 * already set (written before, by an earlier copy).
 */
export function isNew(em: SqlEntityManager, entity: AnyEntity): boolean {
  const wrapped = helper(entity);
  if (wrapped.__managed || !wrapped.__initialized) return false;
  const meta = metadataOf(em, entity);
  const pk = meta.primaryKeys.length === 1 ? meta.properties[meta.primaryKeys[0]] : undefined;
  return !(pk?.autoincrement && wrapped.hasPrimaryKey());
}

/** A foreign key between two tables that rows of this call use: `from`'s rows point at `to`'s. */
export interface TableEdge {
  from: EntityMetadata;
  to: EntityMetadata;
  nullable: boolean;
  /** The property holding the key, for messages. */
  via: string;
}

/**
 * The one ordering of tables (root entity metadata): a table after the tables its rows reference
 * through non-nullable foreign keys always, through nullable ones where that closes no cycle (rows
 * referencing a table written later wait for their key: see write-order.ts). Only the foreign keys
 * the rows really use count. A cycle of non-nullable ones cannot be written in any order.
 */
export function orderTables(tables: Iterable<EntityMetadata>, edges: Iterable<TableEdge>): Map<EntityMetadata, number> {
  const present = new Set(tables);
  const strong = new Map<EntityMetadata, Set<EntityMetadata>>();
  const weak = new Map<EntityMetadata, Set<EntityMetadata>>();
  const names = new Map<EntityMetadata, Map<EntityMetadata, string>>();
  for (const root of present) {
    strong.set(root, new Set());
    weak.set(root, new Set());
    names.set(root, new Map());
  }
  for (const { from, to, nullable, via } of edges) {
    if (from === to || !present.has(from) || !present.has(to)) continue;
    (nullable ? weak : strong).get(from)!.add(to);
    if (!nullable) names.get(from)!.set(to, via);
  }
  const order = new Map<EntityMetadata, number>();
  const pending = [...present];
  const ready = (t: EntityMetadata, withWeak: boolean) =>
    [...strong.get(t)!].every(d => order.has(d)) && (!withWeak || [...weak.get(t)!].every(d => order.has(d)));
  while (pending.length) {
    const next = pending.find(t => ready(t, true)) ?? pending.find(t => ready(t, false));
    if (!next) {
      // every pending table waits for another through a non-nullable key: follow them to a cycle
      const path: EntityMetadata[] = [pending[0]];
      for (;;) {
        const last = path[path.length - 1];
        const after = [...strong.get(last)!].find(d => pending.includes(d))!;
        const seen = path.indexOf(after);
        if (seen >= 0) {
          const cycle = path.slice(seen);
          const text = cycle.map((t, i) => `${t.className}.${names.get(t)!.get(cycle[(i + 1) % cycle.length])}`).join(' → ');
          throw tableCycle(text, cycle[0].className, names.get(cycle[0])!.get(cycle[1 % cycle.length]));
        }
        path.push(after);
      }
    }
    order.set(next, order.size);
    pending.splice(pending.indexOf(next), 1);
  }
  return order;
}
