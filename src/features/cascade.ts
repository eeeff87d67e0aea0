// `cascade: true`: copy what is reachable from the given entities and not yet in the database,
// in an order computed from the metadata — to-one targets before the entities that point at them,
// collection items after their owners, and many-to-many pivot rows last — as flush's persist
// cascade and commit order would.
import { Reference, ReferenceKind, Utils, helper, type AnyEntity, type EntityMetadata, type EntityProperty } from '@mikro-orm/core';
import type { SqlEntityManager } from '@mikro-orm/postgresql';
import { CopyPersistError } from '../errors.js';

/** The entities to copy, in write order, and the references to set after all rows are in. */
export interface GraphOrder {
  entities: AnyEntity[];
  /** Write order of the tables (root entity metadata), rows of a lower number first. */
  tableOrder: Map<EntityMetadata, number>;
  /** Nullable to-one properties written as NULL first, because they close a cycle of new entities. */
  deferred: Map<AnyEntity, EntityProperty[]>;
}

const VISITING = 1;
const DONE = 2;

/** Unwinds the walk to the entity whose nullable reference has to wait, to break a cycle. */
class DeferReference {
  constructor(
    readonly owner: AnyEntity,
    readonly prop: EntityProperty,
  ) {}
}

/**
 * Walks the graph from `roots`: depth first, each to-one target before the entity pointing at it,
 * collection items after their owner. An entity counts as new, as for flush, unless it is
 * managed, a reference (`em.getReference`, an uninitialized entity), or has a database-generated
 * key already.
 *
 * A cycle of new entities needs one of its foreign keys written later. When the walk closes a
 * cycle on a nullable reference, that one waits. When it closes on a non-nullable one, the walk
 * unwinds to the nearest nullable reference on the cycle, lets it wait, and goes on from there.
 */
export function orderGraph(em: SqlEntityManager, roots: readonly AnyEntity[]): GraphOrder {
  const state = new Map<AnyEntity, number>();
  const entities: AnyEntity[] = [];
  const pivots: AnyEntity[] = [];
  const deferred = new Map<AnyEntity, EntityProperty[]>();
  // the current path: entities being visited, and the reference that led to each
  const stack: AnyEntity[] = [];
  const via: (EntityProperty | undefined)[] = [];

  const defer = (entity: AnyEntity, prop: EntityProperty) => deferred.set(entity, [...(deferred.get(entity) ?? []), prop]);

  const visit = (entity: AnyEntity, edge?: EntityProperty) => {
    state.set(entity, VISITING);
    stack.push(entity);
    via.push(edge);
    const later: AnyEntity[] = [];
    try {
      const meta = helper(entity).__meta as EntityMetadata;
      for (const prop of meta.relations) {
        if (!isOwningToOne(prop)) continue;
        const target = Reference.unwrapReference(entity[prop.name] ?? null) as AnyEntity | null;
        if (!target || !Utils.isEntity(target) || !isNew(target)) continue;
        const seen = state.get(target);
        if (seen === DONE) continue;
        if (seen === VISITING) {
          if (prop.nullable) {
            defer(entity, prop);
            continue;
          }
          throw nearestNullable(stack, via, target, meta, prop);
        }
        try {
          visit(target, prop);
        } catch (e) {
          if (!(e instanceof DeferReference && e.owner === entity && e.prop === prop)) throw e;
          defer(entity, prop);
          later.push(target);
        }
      }
      state.set(entity, DONE);
      entities.push(entity);
      for (const target of later) if (!state.has(target)) visit(target);
      for (const prop of meta.relations) {
        if (prop.kind !== ReferenceKind.ONE_TO_MANY && prop.kind !== ReferenceKind.MANY_TO_MANY) continue;
        const collection = entity[prop.name] as { isInitialized(): boolean; getItems(check?: boolean): AnyEntity[] } | undefined;
        if (!collection?.isInitialized?.()) continue;
        for (const item of collection.getItems(false)) {
          if (isNew(item) && !state.has(item)) visit(item);
          if (prop.kind === ReferenceKind.MANY_TO_MANY && prop.owner) pivots.push(pivotRow(em, prop, entity, item));
        }
      }
    } finally {
      stack.pop();
      via.pop();
      // unwound before it was written: it is visited again later
      if (state.get(entity) === VISITING) state.delete(entity);
    }
  };

  for (const root of roots) {
    if (!state.has(root)) visit(root);
  }
  const all = [...entities, ...pivots];
  const tableOrder = orderTables(all);
  // rows are written a table at a time, so a reference to a row of a table written later waits too
  for (const entity of entities) {
    const meta = helper(entity).__meta as EntityMetadata;
    for (const prop of meta.relations) {
      if (!isOwningToOne(prop) || deferred.get(entity)?.includes(prop)) continue;
      const target = Reference.unwrapReference(entity[prop.name] ?? null) as AnyEntity | null;
      if (!target || !state.has(target)) continue;
      const targetMeta = (helper(target).__meta as EntityMetadata).root;
      if (targetMeta === meta.root || tableOrder.get(targetMeta)! < tableOrder.get(meta.root)!) continue;
      if (!prop.nullable) {
        throw new CopyPersistError('UNSUPPORTED_PROPERTY', `tables reference each other through non-nullable foreign keys (${meta.className}.${prop.name} → ${targetMeta.className}); make one nullable or copy in two calls`, {
          entity: meta.className,
          property: prop.name,
        });
      }
      defer(entity, prop);
    }
  }
  return { entities: all, tableOrder, deferred };
}

/**
 * Orders the tables of the graph so that referenced tables come first: non-nullable references
 * always, nullable ones where they do not close a cycle (those rows wait for their reference).
 */
function orderTables(entities: AnyEntity[]): Map<EntityMetadata, number> {
  const tables = new Set<EntityMetadata>();
  const strong = new Map<EntityMetadata, Set<EntityMetadata>>();
  const weak = new Map<EntityMetadata, Set<EntityMetadata>>();
  for (const entity of entities) {
    const meta = helper(entity).__meta as EntityMetadata;
    if (tables.has(meta.root) && meta === meta.root) continue;
    tables.add(meta.root);
    for (const prop of meta.relations) {
      if (!isOwningToOne(prop) || !prop.targetMeta || prop.targetMeta.root === meta.root) continue;
      const edges = prop.nullable ? weak : strong;
      if (!edges.has(meta.root)) edges.set(meta.root, new Set());
      edges.get(meta.root)!.add(prop.targetMeta.root);
    }
  }
  const order = new Map<EntityMetadata, number>();
  const pending = [...tables];
  const ready = (t: EntityMetadata, withWeak: boolean) =>
    [...(strong.get(t) ?? [])].every(d => order.has(d) || !tables.has(d)) &&
    (!withWeak || [...(weak.get(t) ?? [])].every(d => order.has(d) || !tables.has(d)));
  while (pending.length) {
    // prefer a table whose references are all written; else give up on nullable ones; else on all
    const next = pending.find(t => ready(t, true)) ?? pending.find(t => ready(t, false)) ?? pending[0];
    order.set(next, order.size);
    pending.splice(pending.indexOf(next), 1);
  }
  return order;
}

/** The nullable reference closest to the end of the cycle `target … current`, to unwind to. */
function nearestNullable(stack: AnyEntity[], via: (EntityProperty | undefined)[], target: AnyEntity, meta: EntityMetadata, prop: EntityProperty): DeferReference | CopyPersistError {
  const from = stack.indexOf(target);
  for (let i = stack.length - 1; i > from; i--) {
    const edge = via[i];
    if (edge?.nullable) return new DeferReference(stack[i - 1], edge);
  }
  const cycle = [...stack.slice(from).map((e, i) => `${helper(e).__meta.className}.${(via[from + i + 1] ?? prop).name}`)].join(' → ');
  return new CopyPersistError('UNSUPPORTED_PROPERTY', `a cycle of new entities through non-nullable foreign keys (${cycle}); make one of them nullable or copy in two calls`, {
    entity: meta.className,
    property: prop.name,
  });
}

function isOwningToOne(prop: EntityProperty): boolean {
  return prop.kind === ReferenceKind.MANY_TO_ONE || (prop.kind === ReferenceKind.ONE_TO_ONE && !!prop.owner);
}

function isNew(entity: AnyEntity): boolean {
  const wrapped = helper(entity);
  if (wrapped.__managed || !wrapped.__initialized) return false;
  const meta = wrapped.__meta as EntityMetadata;
  const pk = meta.primaryKeys.length === 1 ? meta.properties[meta.primaryKeys[0]] : undefined;
  // a key the database generates is only there once the row is
  return !(pk?.autoincrement && wrapped.hasPrimaryKey());
}

/** A row of the pivot table of an owning many-to-many property, as a pivot entity. */
function pivotRow(em: SqlEntityManager, prop: EntityProperty, owner: AnyEntity, target: AnyEntity): AnyEntity {
  const pivotMeta = em.getMetadata().find(prop.pivotEntity) as EntityMetadata | undefined;
  const sides = pivotMeta?.relations.filter(p => p.kind === ReferenceKind.MANY_TO_ONE) ?? [];
  const same = (a: string[], b: string[] | undefined) => !!b && a.length === b.length && a.every((f, i) => f === b[i]);
  const ownerSide = sides.find(p => same(p.fieldNames, prop.joinColumns));
  const targetSide = sides.find(p => p !== ownerSide && same(p.fieldNames, prop.inverseJoinColumns));
  if (!pivotMeta || !ownerSide || !targetSide) {
    throw new CopyPersistError('UNSUPPORTED_PROPERTY', 'a many-to-many property whose pivot entity has no plain foreign keys to both sides', {
      entity: helper(owner).__meta.className,
      property: prop.name,
    });
  }
  return em.create(pivotMeta.class, { [ownerSide.name]: owner, [targetSide.name]: target } as never, { persist: false }) as AnyEntity;
}
