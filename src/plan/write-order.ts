// Which entities a call writes and in what order: what flush's unit of work decides before its
// INSERTs. Tables are written one after another, referenced tables first; within a table, rows
// that other rows of it reference come first; a nullable foreign key that closes a cycle is written
// as NULL and set once every row is in (flush does the same with an extra UPDATE); many-to-many
// collections become pivot rows, written after both sides.
import { EventType, ReferenceKind, helper, type AnyEntity, type EntityMetadata, type EntityProperty } from '@mikro-orm/core';
import type { SqlEntityManager } from '@mikro-orm/postgresql';
import { rowCycle, unsupportedPivot, unwrittenRelated, type CopyPersistError } from '../errors.js';
import {
  cascadesPersist,
  collectionItems,
  isNew,
  isOwningToOne,
  isToMany,
  isToOne,
  metadataOf,
  orderTables,
  pivotSides,
  toOneTarget,
  type TableEdge,
} from './relations.js';

export interface WriteOrder {
  /** The rows to write (entities, then pivot entities), table by table. */
  entities: AnyEntity[];
  /** Nullable to-one properties written as NULL at first, because their target's row comes later. */
  deferred: Map<AnyEntity, EntityProperty[]>;
  /** Rows of the same table an entity's row references: they go in the same COPY or an earlier one. */
  sameTable: Map<AnyEntity, AnyEntity[]>;
  /** For entities that are not input items (reached by cascade, pivot rows): the item that led to them. */
  reachedFrom: Map<AnyEntity, AnyEntity>;
  /** Owning many-to-many collections whose pivot rows this call writes, by owner. */
  pivotCollections: Map<AnyEntity, EntityProperty[]>;
}

/**
 * Orders `items` (entities) for writing; with `cascade`, adds what flush's persist cascade reaches
 * from them and is not in the database yet.
 */
export function orderForWrite(em: SqlEntityManager, items: readonly AnyEntity[], cascade: boolean): WriteOrder {
  const reachedFrom = new Map<AnyEntity, AnyEntity>();
  // flushOrder also drops repeated items: an entity given twice is one row, as for flush
  const members = flushOrder(em, cascade ? reach(em, items, reachedFrom) : items);
  const pivotCollections = new Map<AnyEntity, EntityProperty[]>();
  const pivots = pivotRows(em, members, cascade, pivotCollections, reachedFrom);
  const all = pivots.length ? [...members, ...pivots] : members;
  const index = new MemberIndex(em, all);

  // the foreign keys between rows of this call
  const deferred = new Map<AnyEntity, EntityProperty[]>();
  const defer = (entity: AnyEntity, prop: EntityProperty) => {
    const list = deferred.get(entity);
    if (list) list.push(prop);
    else deferred.set(entity, [prop]);
  };
  const edges: { from: AnyEntity; prop: EntityProperty; to: AnyEntity }[] = [];
  const tableEdges: TableEdge[] = [];
  const tables = new Set<EntityMetadata>();
  for (const entity of all) {
    const meta = metadataOf(em, entity);
    tables.add(meta.root);
    for (const prop of meta.relations) {
      if (!isOwningToOne(prop) || prop.mapToPk) continue;
      const target = toOneTarget(entity, prop);
      const member = target && index.find(target);
      if (!member) continue;
      if (member === entity) {
        // a row referencing itself is valid as written; flush still sets the key with its extra UPDATE
        if (prop.nullable && updateIsObservable(em, meta)) defer(entity, prop);
        continue;
      }
      edges.push({ from: entity, prop, to: member });
      tableEdges.push({ from: meta.root, to: metadataOf(em, member).root, nullable: !!prop.nullable, via: prop.name });
    }
    if (!cascade) refuseUnwrittenItems(em, entity, meta, index);
  }
  const tableOrder = orderTables(tables, tableEdges);

  const sameTable = new Map<AnyEntity, { from: AnyEntity; prop: EntityProperty; to: AnyEntity }[]>();
  for (const edge of edges) {
    const from = metadataOf(em, edge.from).root;
    const to = metadataOf(em, edge.to).root;
    if (from === to) {
      // flush inserts a class's rows in one batch and sets every reference to a new row of it with an
      // extra UPDATE; where that UPDATE is observable (a version, onUpdate, update hooks) do the same
      if (edge.prop.nullable && updateIsObservable(em, metadataOf(em, edge.from))) {
        defer(edge.from, edge.prop);
        continue;
      }
      const list = sameTable.get(edge.from);
      if (list) list.push(edge);
      else sameTable.set(edge.from, [edge]);
    } else if (tableOrder.get(to)! > tableOrder.get(from)!) {
      // orderTables puts a table after every table it references through a non-nullable key
      defer(edge.from, edge.prop);
    }
  }

  // a table's rows: the rows they reference first (depth first, without recursion: chains can be long)
  const byTable = new Map<EntityMetadata, AnyEntity[]>();
  for (const entity of all) {
    const root = metadataOf(em, entity).root;
    const list = byTable.get(root);
    if (list) list.push(entity);
    else byTable.set(root, [entity]);
  }
  const ordered: AnyEntity[] = [];
  const refs = new Map<AnyEntity, AnyEntity[]>();
  for (const root of [...tableOrder.keys()].sort((a, b) => tableOrder.get(a)! - tableOrder.get(b)!)) {
    const rows = byTable.get(root) ?? [];
    if (!rows.some(row => sameTable.has(row))) {
      // not push(...rows): a spread of a million arguments overflows the stack
      for (const row of rows) ordered.push(row);
      continue;
    }
    const state = new Map<AnyEntity, 1 | 2>(); // 1: on the path, 2: written
    for (const start of rows) {
      if (state.has(start)) continue;
      const path: { entity: AnyEntity; next: number }[] = [{ entity: start, next: 0 }];
      state.set(start, 1);
      while (path.length) {
        const top = path[path.length - 1];
        const out = sameTable.get(top.entity) ?? [];
        if (top.next < out.length) {
          const edge = out[top.next++];
          const seen = state.get(edge.to);
          if (seen === 2) continue;
          if (seen === 1) {
            // a cycle within the table: its nullable key waits, as flush's extra UPDATE does
            if (!edge.prop.nullable) throw cycleError(em, edge.from, edge.prop);
            defer(edge.from, edge.prop);
            continue;
          }
          state.set(edge.to, 1);
          path.push({ entity: edge.to, next: 0 });
          continue;
        }
        path.pop();
        state.set(top.entity, 2);
        ordered.push(top.entity);
        const targets = out.filter(e => !deferred.get(top.entity)?.includes(e.prop)).map(e => e.to);
        if (targets.length) refs.set(top.entity, targets);
      }
    }
  }
  return { entities: ordered, deferred, sameTable: refs, reachedFrom, pivotCollections };
}

/** Does an UPDATE of an entity of this class change more than the columns it sets? */
function updateIsObservable(em: SqlEntityManager, meta: EntityMetadata): boolean {
  const events = em.getEventManager();
  return meta.versionProperty !== undefined ||
    meta.props.some(prop => prop.onUpdate) ||
    events.hasListeners(EventType.beforeUpdate, meta) ||
    events.hasListeners(EventType.afterUpdate, meta);
}

/**
 * Can a call with these items skip ordering? Yes when every item is of one class whose rows can
 * reference no other row of the call and which has no collections: the common bulk load.
 */
export function needsNoOrdering(em: SqlEntityManager, items: readonly AnyEntity[]): boolean {
  if (items.length === 0) return true;
  const cls = items[0].constructor;
  for (let i = 1; i < items.length; i++) if (items[i].constructor !== cls) return false;
  // an unknown class is ordered, where reading the items reports it
  const meta = em.getMetadata().find(cls as never) as EntityMetadata | undefined;
  return !!meta && !meta.embeddable && isIsolatedClass(meta);
}

/** No relation through which rows of one call could depend on each other or carry other rows. */
export function isIsolatedClass(meta: EntityMetadata): boolean {
  return !meta.root.relations.some(
    prop => (isOwningToOne(prop) && prop.targetMeta?.root === meta.root) || isToMany(prop) || (isToOne(prop) && !isOwningToOne(prop)),
  );
}

/**
 * The order flush computes its change sets in (`UnitOfWork.findNewEntities`): from each entity in
 * turn, depth first, the new to-one targets and dirty many-to-many items first, then the entity. A
 * table's rows are written, and take their keys, in this order, so ids come out as flush's.
 */
function flushOrder(em: SqlEntityManager, members: readonly AnyEntity[]): AnyEntity[] {
  const member = new Set(members);
  const done = new Set<AnyEntity>();
  const out: AnyEntity[] = [];
  const before = (entity: AnyEntity): AnyEntity[] => {
    const first: AnyEntity[] = [];
    for (const prop of metadataOf(em, entity).relations) {
      if (isToOne(prop)) {
        const target = toOneTarget(entity, prop);
        if (target && member.has(target)) first.push(target);
      } else if (prop.kind === ReferenceKind.MANY_TO_MANY) {
        for (const item of collectionItems(entity, prop)) if (member.has(item)) first.push(item);
      }
    }
    return first;
  };
  for (const start of members) {
    if (done.has(start)) continue;
    done.add(start);
    const path: { entity: AnyEntity; next: AnyEntity[]; i: number }[] = [{ entity: start, next: before(start), i: 0 }];
    while (path.length) {
      const top = path[path.length - 1];
      if (top.i < top.next.length) {
        const target = top.next[top.i++];
        if (done.has(target)) continue;
        done.add(target);
        path.push({ entity: target, next: before(target), i: 0 });
        continue;
      }
      path.pop();
      out.push(top.entity);
    }
  }
  return out;
}

/**
 * What flush writes after `em.persist(item)` for each item: the persist cascade (relations whose
 * `cascade` includes persist: to-one targets both ways, collection items) and, as flush's
 * `findNewEntities`, every to-one target and dirty many-to-many item that is not managed. Walks
 * through existing entities too, writing only new ones.
 */
function reach(em: SqlEntityManager, items: readonly AnyEntity[], reachedFrom: Map<AnyEntity, AnyEntity>): AnyEntity[] {
  const visited = new Set<AnyEntity>();
  const members: AnyEntity[] = [];
  for (const root of items) {
    if (visited.has(root)) continue;
    const stack = [root];
    visited.add(root);
    while (stack.length) {
      const entity = stack.pop()!;
      if (isNew(em, entity) || entity === root) {
        members.push(entity);
        if (entity !== root && !reachedFrom.has(entity)) reachedFrom.set(entity, root);
      }
      if (!helper(entity).__initialized) continue;
      const next: AnyEntity[] = [];
      for (const prop of metadataOf(em, entity).relations) {
        if (isToOne(prop)) {
          const target = toOneTarget(entity, prop);
          if (target && (cascadesPersist(prop) || !helper(target).__managed)) next.push(target);
        } else if (isToMany(prop)) {
          const follow = cascadesPersist(prop);
          const dirtyManyToMany = prop.kind === ReferenceKind.MANY_TO_MANY;
          if (!follow && !dirtyManyToMany) continue;
          for (const item of collectionItems(entity, prop)) {
            if (follow || !helper(item).__originalEntityData) next.push(item);
          }
        }
      }
      // reversed onto the stack, so the walk meets them in declaration order
      for (let i = next.length - 1; i >= 0; i--) {
        if (visited.has(next[i])) continue;
        visited.add(next[i]);
        stack.push(next[i]);
      }
    }
  }
  return members;
}

/**
 * Pivot rows of the many-to-many collections of the rows written, from either side, each pair
 * once. The other side must be written by this call or exist already.
 */
function pivotRows(
  em: SqlEntityManager,
  members: readonly AnyEntity[],
  cascade: boolean,
  owners: Map<AnyEntity, EntityProperty[]>,
  reachedFrom: Map<AnyEntity, AnyEntity>,
): AnyEntity[] {
  const written = new Set(members);
  const pairs = new Map<EntityProperty, Map<AnyEntity, Set<AnyEntity>>>();
  const add = (prop: EntityProperty, owner: AnyEntity, target: AnyEntity) => {
    let byOwner = pairs.get(prop);
    if (!byOwner) pairs.set(prop, (byOwner = new Map()));
    let targets = byOwner.get(owner);
    if (!targets) {
      byOwner.set(owner, (targets = new Set()));
      const list = owners.get(owner);
      if (list) list.push(prop);
      else owners.set(owner, [prop]);
    }
    targets.add(target);
  };
  // the owning sides first, in their collections' order (a fixed-order pivot numbers its rows so),
  // then links only an inverse side holds
  for (const owningPass of [true, false]) {
    for (const entity of members) {
      const meta = metadataOf(em, entity);
      for (const prop of meta.relations) {
        if (prop.kind !== ReferenceKind.MANY_TO_MANY || !!prop.owner !== owningPass) continue;
        for (const item of collectionItems(entity, prop)) {
          if (isNew(em, item) && !written.has(item) && !helper(item).hasPrimaryKey()) {
            throw unwrittenError(em, entity, prop, item, cascade);
          }
          if (prop.owner) {
            add(prop, entity, item);
          } else {
            const owning = prop.mappedBy ? metadataOf(em, item).properties[prop.mappedBy] : undefined;
            if (owning) add(owning, item, entity);
          }
        }
      }
    }
  }
  const rows: AnyEntity[] = [];
  for (const [prop, byOwner] of pairs) {
    const make = pivotFactory(em, prop);
    for (const [owner, targets] of byOwner) {
      for (const target of targets) {
        const row = make(owner, target);
        reachedFrom.set(row, reachedFrom.get(owner) ?? owner);
        rows.push(row);
      }
    }
  }
  return rows;
}

/** Builds rows of the pivot table of an owning many-to-many property, as pivot entities. */
function pivotFactory(em: SqlEntityManager, prop: EntityProperty): (owner: AnyEntity, target: AnyEntity) => AnyEntity {
  const { pivotMeta, ownerSide, targetSide } = pivotSides(em, prop);
  if (!pivotMeta || !ownerSide || !targetSide) {
    throw unsupportedPivot(typeof prop.pivotEntity === 'function' ? (prop.pivotEntity as { name: string }).name : String(prop.pivotEntity), prop.name);
  }
  return (owner, target) => em.create(pivotMeta.class, { [ownerSide.name]: owner, [targetSide.name]: target } as never, { persist: false }) as AnyEntity;
}

/**
 * Without `cascade`, a collection or inverse one-to-one holding a new entity that this call does not
 * write would lose that entity silently, where flush's cascade would write it: refuse instead.
 */
function refuseUnwrittenItems(em: SqlEntityManager, entity: AnyEntity, meta: EntityMetadata, index: MemberIndex): void {
  for (const prop of meta.relations) {
    if (!cascadesPersist(prop) || prop.kind === ReferenceKind.MANY_TO_MANY) continue;
    if (prop.kind === ReferenceKind.ONE_TO_MANY) {
      for (const item of collectionItems(entity, prop)) {
        if (isNew(em, item) && !index.find(item)) throw unwrittenError(em, entity, prop, item, false);
      }
    } else if (prop.kind === ReferenceKind.ONE_TO_ONE && !prop.owner) {
      const target = toOneTarget(entity, prop);
      if (target && isNew(em, target) && !index.find(target)) throw unwrittenError(em, entity, prop, target, false);
    }
  }
}

function unwrittenError(em: SqlEntityManager, entity: AnyEntity, prop: EntityProperty, item: AnyEntity, cascade: boolean): CopyPersistError {
  return unwrittenRelated(metadataOf(em, entity).className, prop.name, metadataOf(em, item).className, cascade);
}

function cycleError(em: SqlEntityManager, entity: AnyEntity, prop: EntityProperty): CopyPersistError {
  return rowCycle(metadataOf(em, entity).className, prop.name);
}

/**
 * Finds the row of this call a to-one value stands for: the entity itself, or — for a reference
 * built from a key (plain rows: `{ parent: 1 }`) — the row of the same table with that key.
 */
class MemberIndex {
  readonly #em: SqlEntityManager;
  readonly #members: Set<AnyEntity>;
  readonly #roots = new Set<EntityMetadata>();
  #byKey: Map<string, AnyEntity> | undefined;

  constructor(em: SqlEntityManager, members: readonly AnyEntity[]) {
    this.#em = em;
    this.#members = new Set(members);
    for (const entity of members) this.#roots.add(metadataOf(em, entity).root);
  }

  find(target: AnyEntity): AnyEntity | undefined {
    if (this.#members.has(target)) return target;
    const root = metadataOf(this.#em, target).root;
    if (!this.#roots.has(root) || !helper(target).hasPrimaryKey()) return undefined;
    this.#byKey ??= this.#keyIndex();
    return this.#byKey.get(keyOf(root, target));
  }

  #keyIndex(): Map<string, AnyEntity> {
    const index = new Map<string, AnyEntity>();
    for (const entity of this.#members) {
      if (helper(entity).hasPrimaryKey()) index.set(keyOf(metadataOf(this.#em, entity).root, entity), entity);
    }
    return index;
  }
}

function keyOf(root: EntityMetadata, entity: AnyEntity): string {
  return `${root.className}\u0000${helper(entity).getSerializedPrimaryKey()}`;
}
