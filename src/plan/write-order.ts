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
  /**
   * For each of `entities`, the index in the items given of the item it stands for (its first
   * occurrence) or, for rows cascade reached and pivot rows, of the item that led to it.
   */
  origins: Int32Array;
  /** Nullable to-one properties written as NULL at first, because their target's row comes later. */
  deferred: Map<AnyEntity, EntityProperty[]>;
  /** Rows of the same table an entity's row references: they go in the same COPY or an earlier one. */
  sameTable: Map<AnyEntity, AnyEntity[]>;
  /** Owning many-to-many collections whose pivot rows this call writes, by owner. */
  pivotCollections: Map<AnyEntity, EntityProperty[]>;
}

/** A foreign key between rows of this call, by property and referenced table: how many and in which table order. */
interface EdgeKind {
  from: EntityMetadata;
  to: EntityMetadata;
  prop: EntityProperty;
  /** Ordinals of the first and last edge of this kind: the table order sees them in the order the rows gave them. */
  first: number;
  last: number;
}

/**
 * Orders `items` (entities) for writing; with `cascade`, adds what flush's persist cascade reaches
 * from them and is not in the database yet.
 *
 * A graph of a million rows passes through here before its first COPY, so rows are numbered once
 * (one Map from entity to number, `Graph`) and everything else kept per row is an array by that
 * number; what a class's metadata says is read once per class (`Classes`).
 */
export function orderForWrite(em: SqlEntityManager, items: readonly AnyEntity[], cascade: boolean): WriteOrder {
  const classes = new Classes(em);
  // numbering drops repeated items: an entity given twice is one row, as for flush
  const graph = cascade ? reach(classes, items) : numbered(classes, items);
  const { members } = graph;
  const sequence = flushOrder(graph);
  const pivotCollections = new Map<AnyEntity, EntityProperty[]>();
  if (classes.anyManyToMany()) {
    for (const row of pivotRows(em, classes, graph, sequence, cascade, pivotCollections)) sequence.push(row);
  }
  const origins = originsOf(graph, items);
  const memberOf = memberFinder(classes, graph, sequence);

  // the foreign keys between rows of this call: first only what kinds there are, for the table order
  const deferred = new Map<AnyEntity, EntityProperty[]>();
  const defer = (entity: AnyEntity, prop: EntityProperty) => {
    const list = deferred.get(entity);
    if (list) list.push(prop);
    else deferred.set(entity, [prop]);
  };
  const observable = new Map<EntityMetadata, boolean>();
  const isObservable = (meta: EntityMetadata) => {
    let yes = observable.get(meta);
    if (yes === undefined) observable.set(meta, (yes = updateIsObservable(em, meta)));
    return yes;
  };
  const kinds = new Map<EntityProperty, Map<EntityMetadata, EdgeKind>>();
  const byTable = new Map<EntityMetadata, number[]>();
  let edges = 0;
  // indexed loops over the rows: `for...of` here left an iterator result per row as garbage
  for (let i = 0; i < sequence.length; i++) {
    const u = sequence[i];
    const entity = members[u];
    const info = graph.infos[u];
    const rows = byTable.get(info.root);
    if (rows) rows.push(u);
    else byTable.set(info.root, [u]);
    for (let p = 0; p < info.owningToOne.length; p++) {
      const prop = info.owningToOne[p];
      const target = graph.toOneOf(u, info.owningAt[p], prop);
      const m = target ? memberOf(target) : -1;
      if (m < 0) continue;
      if (m === u) {
        // a row referencing itself is valid as written; flush still sets the key with its extra UPDATE
        if (prop.nullable && isObservable(info.meta)) defer(entity, prop);
        continue;
      }
      const to = graph.infos[m].root;
      let byTo = kinds.get(prop);
      if (!byTo) kinds.set(prop, (byTo = new Map()));
      const kind = byTo.get(to);
      if (kind) kind.last = edges++;
      else byTo.set(to, { from: info.root, to, prop, first: edges, last: edges++ });
    }
    if (!cascade) refuseUnwrittenItems(em, classes, entity, info, memberOf);
  }
  const allKinds = [...kinds.values()].flatMap(byTo => [...byTo.values()]);
  const tableEdge = (k: EdgeKind): TableEdge => ({ from: k.from, to: k.to, nullable: !!k.prop.nullable, via: k.prop.name });
  // as if every edge were given: a table's references in the order they first occur, the last one naming a pair of tables
  const tableOrder = orderTables(byTable.keys(), [
    ...[...allKinds].sort((a, b) => a.first - b.first).map(tableEdge),
    ...[...allKinds].sort((a, b) => a.last - b.last).map(tableEdge),
  ]);
  // orderTables puts a table after every table it references through a non-nullable key
  const acts = (k: EdgeKind) => k.from === k.to || tableOrder.get(k.to)! > tableOrder.get(k.from)!;

  // then, where a kind of edge matters, its edges one by one, in the order the rows give them
  const sameTable = new Map<AnyEntity, { from: AnyEntity; prop: EntityProperty; to: AnyEntity }[]>();
  if (allKinds.some(acts)) {
    for (let i = 0; i < sequence.length; i++) {
      const u = sequence[i];
      const entity = members[u];
      const info = graph.infos[u];
      for (let p = 0; p < info.owningToOne.length; p++) {
        const prop = info.owningToOne[p];
        const byTo = kinds.get(prop);
        if (!byTo) continue;
        const target = graph.toOneOf(u, info.owningAt[p], prop);
        const m = target ? memberOf(target) : -1;
        if (m < 0 || m === u) continue;
        const kind = byTo.get(graph.infos[m].root)!;
        if (!acts(kind)) continue;
        if (kind.from !== kind.to) {
          defer(entity, prop);
          continue;
        }
        // flush inserts a class's rows in one batch and sets every reference to a new row of it with an
        // extra UPDATE; where that UPDATE is observable (a version, onUpdate, update hooks) do the same
        if (prop.nullable && isObservable(info.meta)) {
          defer(entity, prop);
          continue;
        }
        const edge = { from: entity, prop, to: members[m] };
        const list = sameTable.get(entity);
        if (list) list.push(edge);
        else sameTable.set(entity, [edge]);
      }
    }
  }

  // a table's rows: the rows they reference first (depth first, without recursion: chains can be long)
  const ordered: AnyEntity[] = [];
  const orderedOrigins = new Int32Array(sequence.length);
  const emit = (u: number) => {
    orderedOrigins[ordered.length] = origins[u];
    ordered.push(members[u]);
  };
  const refs = new Map<AnyEntity, AnyEntity[]>();
  for (const root of [...tableOrder.keys()].sort((a, b) => tableOrder.get(a)! - tableOrder.get(b)!)) {
    const rows = byTable.get(root) ?? [];
    if (!sameTable.size || !rows.some(u => sameTable.has(members[u]))) {
      for (let i = 0; i < rows.length; i++) emit(rows[i]);
      continue;
    }
    const state = new Map<AnyEntity, 1 | 2>(); // 1: on the path, 2: written
    for (const u of rows) {
      const start = members[u];
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
            if (!edge.prop.nullable) throw cycleError(classes, edge.from, edge.prop);
            defer(edge.from, edge.prop);
            continue;
          }
          state.set(edge.to, 1);
          path.push({ entity: edge.to, next: 0 });
          continue;
        }
        path.pop();
        state.set(top.entity, 2);
        emit(graph.index.get(top.entity)!);
        const targets = out.filter(e => !deferred.get(top.entity)?.includes(e.prop)).map(e => e.to);
        if (targets.length) refs.set(top.entity, targets);
      }
    }
  }
  return { entities: ordered, origins: orderedOrigins, deferred, sameTable: refs, pivotCollections };
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

/** What the walk needs of a class's metadata, read once per call. */
interface ClassInfo {
  meta: EntityMetadata;
  root: EntityMetadata;
  /** Its relations as the persist cascade and flush's `findNewEntities` follow them, in declaration order. */
  walk: { prop: EntityProperty; toOne: boolean; cascades: boolean; manyToMany: boolean }[];
  /** The to-one and many-to-many relations whose targets flush puts first, in declaration order. */
  first: { prop: EntityProperty; toOne: boolean }[];
  /** Its to-one relations, in declaration order: the walk keeps what they hold (`Graph.toOneOf`). */
  toOne: EntityProperty[];
  /** Relations holding a foreign key that rows of this call may fill, and their places in `toOne`. */
  owningToOne: EntityProperty[];
  owningAt: number[];
  hasManyToMany: boolean;
  /** A single database-generated primary key: an entity that has it set was written before. */
  generatedKey: boolean;
}

/** The metadata of the call's entities by class (`metadataOf`), with what the walk needs of it. */
class Classes {
  readonly #em: SqlEntityManager;
  readonly #byClass = new Map<unknown, ClassInfo>();
  #lastClass: unknown;
  #last: ClassInfo | undefined;
  #manyToMany = false;

  constructor(em: SqlEntityManager) {
    this.#em = em;
  }

  of(entity: AnyEntity): ClassInfo {
    const cls = entity.constructor;
    if (cls === this.#lastClass) return this.#last!;
    let info = this.#byClass.get(cls);
    if (!info) {
      info = classInfo(metadataOf(this.#em, entity));
      if (info.hasManyToMany) this.#manyToMany = true;
      // metadataOf falls back to the entity's own metadata for a class this ORM does not know: not kept by class
      if (!this.#em.getMetadata().find(cls as never)) return info;
      this.#byClass.set(cls, info);
    }
    this.#lastClass = cls;
    this.#last = info;
    return info;
  }

  /** Does any class seen so far have a many-to-many relation (whose pivot rows a call may write)? */
  anyManyToMany(): boolean {
    return this.#manyToMany;
  }
}

function classInfo(meta: EntityMetadata): ClassInfo {
  const pk = meta.primaryKeys.length === 1 ? meta.properties[meta.primaryKeys[0]] : undefined;
  const toOne = meta.relations.filter(isToOne);
  const owningToOne = meta.relations.filter(prop => isOwningToOne(prop) && !prop.mapToPk);
  return {
    meta,
    root: meta.root,
    walk: meta.relations
      .filter(prop => isToOne(prop) || isToMany(prop))
      .map(prop => ({ prop, toOne: isToOne(prop), cascades: cascadesPersist(prop), manyToMany: prop.kind === ReferenceKind.MANY_TO_MANY })),
    first: meta.relations.filter(prop => isToOne(prop) || prop.kind === ReferenceKind.MANY_TO_MANY).map(prop => ({ prop, toOne: isToOne(prop) })),
    toOne,
    owningToOne,
    owningAt: owningToOne.map(prop => toOne.indexOf(prop)),
    hasManyToMany: meta.relations.some(prop => prop.kind === ReferenceKind.MANY_TO_MANY),
    generatedKey: !!pk?.autoincrement,
  };
}

/** `isNew` (relations.ts) with the class's metadata at hand. */
function isNewOf(info: ClassInfo, wrapped: ReturnType<typeof helper>): boolean {
  if (wrapped.__managed || !wrapped.__initialized) return false;
  return !(info.generatedKey && wrapped.hasPrimaryKey());
}

/**
 * The rows of a call, numbered: `members[n]` is row n, `index` maps an entity to its number. The
 * walk keeps each row's to-one targets as it reads them, so later passes do not read them again
 * through the entity's accessors (a million rows read each up to three times).
 */
class Graph {
  readonly members: AnyEntity[] = [];
  /** Row numbers by entity; -1 for entities the walk passed through without writing them. */
  readonly index = new Map<AnyEntity, number>();
  /** For each row, the number of the item it was reached from by cascade; -1 for the items. */
  readonly from: number[] = [];
  /** For each row, its class: later passes read it here rather than from the entity (a cache miss each, at a million rows). */
  readonly infos: ClassInfo[] = [];
  /** Where each row's to-one targets start in `#targets` (its class's `toOne` order); -1: not kept. */
  readonly #targetsAt: number[] = [];
  readonly #targets: (AnyEntity | undefined)[] = [];

  add(entity: AnyEntity, info: ClassInfo, from: number): number {
    const n = this.members.length;
    this.index.set(entity, n);
    this.members.push(entity);
    this.infos.push(info);
    this.from.push(from);
    this.#targetsAt.push(-1);
    return n;
  }

  /** Keeps a target of row `n`'s to-one relations, the first `first`: they come in `toOne` order. */
  keepTarget(n: number, target: AnyEntity | undefined, first: boolean): void {
    if (first) this.#targetsAt[n] = this.#targets.length;
    this.#targets.push(target);
  }

  /** The target of row `n`'s to-one relation `prop`, the `at`-th of its class's `toOne`. */
  toOneOf(n: number, at: number, prop: EntityProperty): AnyEntity | undefined {
    const kept = this.#targetsAt[n];
    return kept >= 0 ? this.#targets[kept + at] : toOneTarget(this.members[n], prop);
  }
}

/** The items as rows, each once. */
function numbered(classes: Classes, items: readonly AnyEntity[]): Graph {
  const graph = new Graph();
  for (const item of items) if (!graph.index.has(item)) graph.add(item, classes.of(item), -1);
  return graph;
}

/** For each row, the index in `items` of the item it is (first occurrence) or was reached from. */
function originsOf(graph: Graph, items: readonly AnyEntity[]): Int32Array {
  const own = new Int32Array(graph.members.length).fill(-1);
  items.forEach((item, i) => {
    const n = graph.index.get(item);
    if (n !== undefined && n >= 0 && own[n] < 0) own[n] = i;
  });
  const origins = new Int32Array(graph.members.length);
  for (let n = 0; n < origins.length; n++) origins[n] = own[n] >= 0 ? own[n] : own[graph.from[n]];
  return origins;
}

/**
 * The order flush computes its change sets in (`UnitOfWork.findNewEntities`): from each entity in
 * turn, depth first, the new to-one targets and dirty many-to-many items first, then the entity. A
 * table's rows are written, and take their keys, in this order, so ids come out as flush's.
 * Returns row numbers.
 */
function flushOrder(graph: Graph): number[] {
  const { members, index } = graph;
  const done = new Uint8Array(members.length);
  const out: number[] = [];
  // the path: its rows, and for each the rows to put first, one list after another in `first`;
  // stacks with a depth of their own rather than push and pop: an array cut to length 0 gives up
  // its storage, and a million rows would allocate it again each time (hundreds of MB of garbage)
  const pathRow: number[] = [];
  const pathNext: number[] = [];
  const pathEnd: number[] = [];
  let depth = 0;
  const first: number[] = [];
  let firstLength = 0;
  const add = (target: AnyEntity) => {
    const m = index.get(target);
    if (m !== undefined && m >= 0) first[firstLength++] = m;
  };
  const enter = (n: number) => {
    done[n] = 1;
    pathRow[depth] = n;
    pathNext[depth] = firstLength;
    const entity = members[n];
    const info = graph.infos[n];
    let at = 0;
    for (let f = 0; f < info.first.length; f++) {
      const { prop, toOne } = info.first[f];
      if (toOne) {
        const target = graph.toOneOf(n, at++, prop);
        if (target) add(target);
      } else {
        const items = collectionItems(entity, prop);
        for (let i = 0; i < items.length; i++) add(items[i]);
      }
    }
    pathEnd[depth++] = firstLength;
  };
  for (let start = 0; start < members.length; start++) {
    if (done[start]) continue;
    enter(start);
    while (depth) {
      const top = depth - 1;
      if (pathNext[top] < pathEnd[top]) {
        const target = first[pathNext[top]++];
        if (!done[target]) enter(target);
        continue;
      }
      out.push(pathRow[top]);
      depth = top;
      firstLength = top > 0 ? pathEnd[top - 1] : 0;
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
function reach(classes: Classes, items: readonly AnyEntity[]): Graph {
  const graph = new Graph();
  const { index } = graph;
  // a stack and a list with counts of their own, indexed loops: `length = 0` would drop their
  // storage and `for...of` make iterators, garbage per entity at a million entities
  const stack: AnyEntity[] = [];
  let depth = 0;
  const next: AnyEntity[] = [];
  for (let r = 0; r < items.length; r++) {
    const root = items[r];
    if (index.has(root)) continue;
    index.set(root, -1);
    stack[depth++] = root;
    let rootRow = -1;
    while (depth) {
      const entity = stack[--depth];
      const info = classes.of(entity);
      const wrapped = helper(entity);
      const n = entity === root ? (rootRow = graph.add(entity, info, -1)) : isNewOf(info, wrapped) ? graph.add(entity, info, rootRow) : -1;
      if (!wrapped.__initialized) continue;
      let count = 0;
      let kept = 0;
      for (let w = 0; w < info.walk.length; w++) {
        const { prop, toOne, cascades, manyToMany } = info.walk[w];
        if (toOne) {
          const target = toOneTarget(entity, prop);
          if (n >= 0) graph.keepTarget(n, target, kept++ === 0);
          if (target && (cascades || !helper(target).__managed)) next[count++] = target;
        } else if (cascades || manyToMany) {
          const related = collectionItems(entity, prop);
          for (let i = 0; i < related.length; i++) {
            if (cascades || !helper(related[i]).__originalEntityData) next[count++] = related[i];
          }
        }
      }
      // reversed onto the stack, so the walk meets them in declaration order
      for (let i = count - 1; i >= 0; i--) {
        if (index.has(next[i])) continue;
        index.set(next[i], -1);
        stack[depth++] = next[i];
      }
    }
  }
  return graph;
}

/**
 * Pivot rows of the many-to-many collections of the rows written, from either side, each pair
 * once. The other side must be written by this call or exist already. The rows join the graph.
 */
function pivotRows(
  em: SqlEntityManager,
  classes: Classes,
  graph: Graph,
  sequence: readonly number[],
  cascade: boolean,
  owners: Map<AnyEntity, EntityProperty[]>,
): number[] {
  const { members, index } = graph;
  const written = (entity: AnyEntity) => (index.get(entity) ?? -1) >= 0;
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
    for (const n of sequence) {
      const entity = members[n];
      for (const prop of graph.infos[n].meta.relations) {
        if (prop.kind !== ReferenceKind.MANY_TO_MANY || !!prop.owner !== owningPass) continue;
        for (const item of collectionItems(entity, prop)) {
          if (!written(item) && isNewOf(classes.of(item), helper(item)) && !helper(item).hasPrimaryKey()) {
            throw unwrittenError(classes, entity, prop, item, cascade);
          }
          if (prop.owner) {
            add(prop, entity, item);
          } else {
            const owning = prop.mappedBy ? classes.of(item).meta.properties[prop.mappedBy] : undefined;
            if (owning) add(owning, item, entity);
          }
        }
      }
    }
  }
  const rows: number[] = [];
  for (const [prop, byOwner] of pairs) {
    const make = pivotFactory(em, prop);
    for (const [owner, targets] of byOwner) {
      const o = index.get(owner)!;
      for (const target of targets) {
        const row = make(owner, target);
        rows.push(graph.add(row, classes.of(row), graph.from[o] >= 0 ? graph.from[o] : o));
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
function refuseUnwrittenItems(em: SqlEntityManager, classes: Classes, entity: AnyEntity, info: ClassInfo, memberOf: (target: AnyEntity) => number): void {
  for (const prop of info.meta.relations) {
    if (!cascadesPersist(prop) || prop.kind === ReferenceKind.MANY_TO_MANY) continue;
    if (prop.kind === ReferenceKind.ONE_TO_MANY) {
      for (const item of collectionItems(entity, prop)) {
        if (isNew(em, item) && memberOf(item) < 0) throw unwrittenError(classes, entity, prop, item, false);
      }
    } else if (prop.kind === ReferenceKind.ONE_TO_ONE && !prop.owner) {
      const target = toOneTarget(entity, prop);
      if (target && isNew(em, target) && memberOf(target) < 0) throw unwrittenError(classes, entity, prop, target, false);
    }
  }
}

function unwrittenError(classes: Classes, entity: AnyEntity, prop: EntityProperty, item: AnyEntity, cascade: boolean): CopyPersistError {
  return unwrittenRelated(classes.of(entity).meta.className, prop.name, classes.of(item).meta.className, cascade);
}

function cycleError(classes: Classes, entity: AnyEntity, prop: EntityProperty): CopyPersistError {
  return rowCycle(classes.of(entity).meta.className, prop.name);
}

/**
 * Finds the row of this call a to-one value stands for: the entity itself, or — for a reference
 * built from a key (plain rows: `{ parent: 1 }`) — the row of the same table with that key.
 * Returns its number, or -1.
 */
function memberFinder(classes: Classes, { members, index, infos }: Graph, sequence: readonly number[]): (target: AnyEntity) => number {
  const roots = new Set<EntityMetadata>();
  for (let i = 0; i < sequence.length; i++) roots.add(infos[sequence[i]].root);
  let byKey: Map<string, number> | undefined;
  return target => {
    const n = index.get(target);
    if (n !== undefined && n >= 0) return n;
    const root = classes.of(target).root;
    if (!roots.has(root) || !helper(target).hasPrimaryKey()) return -1;
    if (!byKey) {
      byKey = new Map();
      for (const m of sequence) {
        if (helper(members[m]).hasPrimaryKey()) byKey.set(keyOf(infos[m].root, members[m]), m);
      }
    }
    return byKey.get(keyOf(root, target)) ?? -1;
  };
}

function keyOf(root: EntityMetadata, entity: AnyEntity): string {
  return `${root.className}\u0000${helper(entity).getSerializedPrimaryKey()}`;
}
