// Plain rows without entities. For an entity of plain columns, `em.create(Class, row)` only runs the
// constructor, copies each scalar value of its natural runtime type as it is, and turns a to-one
// key into a reference whose key flush writes back unchanged; an owning many-to-many array of keys
// becomes a collection whose pairs flush writes as pivot rows. So a copy of the row (the constructor's
// values first) reads to the row encoder exactly like that entity's insert payload, and pivot rows
// can be made straight from the keys, at a fraction of the cost (em.create was most of a plain-row
// copy, and most of its garbage). A row that may be treated differently (a primary key that could
// match an entity of the identity map, a key the view does not cover, a value of another type,
// which MikroORM may convert, a nested object em.create would build an entity from) still becomes
// an entity.
import { ReferenceKind, Reference, Type, Utils, helper, type AnyEntity, type EntityMetadata, type EntityProperty } from '@mikro-orm/core';
import type { SqlEntityManager } from '@mikro-orm/postgresql';
import { isRawSql, mikroOrm } from '../orm/index.js';
import type { EntityPlan } from './entity-plan.js';
import { isOwningToOne, pivotSides } from './relations.js';

/**
 * Marks a row view: the object is its own insert payload (to-one relations as their keys), so the
 * row encoder reads it instead of MikroORM's snapshot, which needs an entity.
 */
export const ROW_VIEW = Symbol('mikro-orm-pg-copy row view');

/** Is this item a row view rather than an entity? */
export function isRowView(item: object): boolean {
  return (item as { [ROW_VIEW]?: true })[ROW_VIEW] === true;
}

/** Turns a plain row into a view; `links` receives its pivot rows. */
export type RowViewFactory = (row: Record<string, unknown>, links: AnyEntity[]) => AnyEntity | undefined;

export interface RowViewOptions {
  /** Only keys as relation values, no entities or references (cascade would walk those). */
  keysOnly: boolean;
  /** Whether rows of a class (the pivot entity of a many-to-many) may be views. */
  allowed(meta: EntityMetadata): boolean;
  /** The plan rows of a class are written with, in the schema the views go to. */
  planOf(meta: EntityMetadata): EntityPlan;
}

/** Tests of `value` by runtime type: is it of the type em.create would store unchanged? */
const NATURAL: Record<string, string> = {
  string: "typeof value === 'string'",
  number: "typeof value === 'number'",
  boolean: "typeof value === 'boolean'",
  bigint: "typeof value === 'bigint'",
  Date: 'value instanceof Date',
};

/** Runtime types of keys flush writes as they are (through the reference's primary key). */
const NATURAL_KEY: Record<string, (value: unknown) => boolean> = {
  string: value => typeof value === 'string',
  number: value => typeof value === 'number',
};

/**
 * Returns a function that turns a plain row into a view for the row encoder, or `undefined` when
 * the row must become an entity; or returns `undefined` when no row of this entity can be a view.
 */
export function rowViewFactory(em: SqlEntityManager, plan: EntityPlan, options: RowViewOptions): RowViewFactory | undefined {
  const meta = plan.meta;
  const defaults = constructorValues(em, meta, plan);
  if (!defaults) return undefined;
  const context = new Map<string, unknown>();
  const lines: string[] = [];
  const fields: string[] = [];
  const covered = new Set<string>();
  // em.create returns the entity of the identity map that has the row's key, which flush then
  // does not insert; rows with keys are views only while no entity of the table is there
  const uow = em.getUnitOfWork();
  context.set('hasManaged', () => uow.getIdentityMap().getStore(meta.root).size > 0);
  plan.groups.forEach((group, i) => {
    const prop = group.prop;
    const key = JSON.stringify(prop.name);
    fields.push(`this[${key}] = ${JSON.stringify(defaults.get(prop.name))};`);
    const managedCheck = prop.primary ? ' || hasManaged()' : '';
    if (prop.kind === ReferenceKind.SCALAR) {
      const test = group.kind === 'single' && plainScalar(meta, prop) ? naturalTest(prop) : undefined;
      if (!test) return;
      covered.add(prop.name);
      const nullCheck = prop.primary ? 'value === null || ' : 'value !== null && ';
      lines.push(`  { const value = row[${key}]; if (value !== undefined) { if (${nullCheck}!(${test})${managedCheck}) return undefined; view[${key}] = value; } }`);
      return;
    }
    const keyOf = isOwningToOne(prop) && foreignKeyReader(em, meta, prop, options.keysOnly);
    if (!keyOf) return;
    covered.add(prop.name);
    context.set(`key${i}`, keyOf);
    lines.push(`  { const value = row[${key}]; if (value !== undefined) { const fk = value === null ? null : key${i}(value); if (fk === undefined${managedCheck}) return undefined; view[${key}] = fk; } }`);
  });
  // pivot rows last, once the row is known to be a view (its own key is read by then)
  const pk = meta.primaryKeys.length === 1 ? meta.properties[meta.primaryKeys[0]] : undefined;
  const linkLines: string[] = [];
  meta.relations.forEach((prop, i) => {
    if (prop.kind !== ReferenceKind.MANY_TO_MANY || !prop.owner || !pk || !covered.has(pk.name)) return;
    const links = pivotWriter(em, prop, options);
    if (!links) return;
    covered.add(prop.name);
    context.set(`links${i}`, links);
    lines.push(`  const many${i} = row[${JSON.stringify(prop.name)}];`);
    lines.push(`  if (many${i} !== undefined && !links${i}.check(many${i}, view[${JSON.stringify(pk.name)}])) return undefined;`);
    linkLines.push(`  if (many${i} !== undefined) links${i}.write(many${i}, view[${JSON.stringify(pk.name)}], links);`);
  });
  // any other property of the entity (inverse sides, embeddables, keys of other kinds) needs em.create
  const others = Object.keys(meta.properties).filter(name => !covered.has(name));
  context.set('entityClass', meta.class);
  context.set('ROW_VIEW', ROW_VIEW);
  const code = [
    'function View() {',
    ...fields.map(line => `  ${line}`),
    '}',
    // `constructor` is how the caller finds the entity class of an item; the view has nothing else
    'View.prototype = Object.create(null, { constructor: { value: entityClass }, [ROW_VIEW]: { value: true } });',
    'return function viewOf(row, links) {',
    ...others.map(name => `  if (row[${JSON.stringify(name)}] !== undefined) return undefined;`),
    '  const view = new View();',
    ...lines,
    ...linkLines,
    '  return view;',
    '};',
  ].join('\n');
  // every property is set in the constructor, in one order, so all views share one hidden class
  // eslint-disable-next-line @typescript-eslint/no-implied-eval -- compiled once per entity plan, from metadata only
  return new Function(...context.keys(), code)(...context.values()) as RowViewFactory;
}

/**
 * What the constructor leaves in each column's property (by name) when em.create of this entity
 * can be nothing more than copying values over them; `undefined` when it cannot. Constructor values
 * must be primitives that come out the same every time (a class field `done = false`, not an id
 * drawn at random or a Date).
 */
function constructorValues(em: SqlEntityManager, meta: EntityMetadata, plan: EntityPlan): Map<string, unknown> | undefined {
  const config = em.config;
  if (mikroOrm.initializesNullableProperties(config) || config.get('forceUndefined') || config.get('forceEntityConstructor')) return undefined;
  if (meta.constructorParams?.length || meta.root.discriminatorColumn || meta.virtual) return undefined;
  // `onCreate` runs on the entity; a `default` is applied to the view as to an entity (checkInsert)
  if (meta.props.some(p => p.onCreate || p.kind === ReferenceKind.EMBEDDED || p.embedded)) return undefined;
  // a relation back into the same table orders rows by their entities (write-order.ts)
  if (meta.relations.some(p => p.targetMeta?.root === meta.root)) return undefined;
  try {
    const Entity = meta.class as new () => Record<string, unknown>;
    const [a, b] = [new Entity(), new Entity()];
    const values = new Map<string, unknown>();
    for (const { prop } of plan.groups) {
      const value = a[prop.name];
      if (value === undefined) continue;
      const primitive = value === null || typeof value === 'string' || typeof value === 'boolean' || Number.isFinite(value);
      if (!primitive || !Object.is(value, b[prop.name]) || prop.kind !== ReferenceKind.SCALAR) return undefined;
      values.set(prop.name, value);
    }
    return values;
  } catch {
    return undefined;
  }
}

/** A scalar the compiled row encoder reads straight from the object (see compiled-row.ts). */
function plainScalar(meta: EntityMetadata, prop: EntityProperty): boolean {
  return !prop.embedded && !prop.ref && !prop.lazy && !prop.getter && !prop.setter && !prop.accessor && meta.comparableProps.includes(prop);
}

/** em.create stores a value of the property's runtime type as it is; json objects and arrays too. */
function naturalTest(prop: EntityProperty): string | undefined {
  const typeName = prop.customType?.constructor.name;
  if (typeName === 'JsonType') return "typeof value === 'object'";
  if (prop.array || typeName === 'ArrayType') return 'Array.isArray(value)';
  return NATURAL[prop.runtimeType];
}

/** Key props of a target whose values flush writes unchanged, in key order; undefined if any is converted. */
function naturalKeyProps(target: EntityMetadata): ((value: unknown) => boolean)[] | undefined {
  const tests: ((value: unknown) => boolean)[] = [];
  for (const name of target.primaryKeys) {
    const prop = target.properties[name];
    const test = prop.kind === ReferenceKind.SCALAR ? NATURAL_KEY[prop.runtimeType] : undefined;
    const converts = prop.customType && prop.customType.convertToDatabaseValue !== Type.prototype.convertToDatabaseValue;
    if (!test || converts || prop.fieldNames?.length !== 1) return undefined;
    tests.push(test);
  }
  return tests.length ? tests : undefined;
}

/**
 * Reads the key a to-one value stands for, as flush writes it: a key of the target's key type
 * (an array of them for a composite key), or an entity or reference of the target that has its key
 * (and is managed, with `managedOnly`).
 * `undefined` for anything else.
 */
function keyReader(em: SqlEntityManager, target: EntityMetadata, keysOnly: boolean, managedOnly = false): ((value: unknown) => unknown) | undefined {
  const tests = naturalKeyProps(target);
  if (!tests) return undefined;
  const root = target.root;
  const ofEntity = (value: unknown): unknown => {
    if (keysOnly || value === null || typeof value !== 'object') return undefined;
    const entity = Reference.unwrapReference(value as object) as AnyEntity;
    if (!Utils.isEntity(entity) || (em.getMetadata().find(entity.constructor as never) as EntityMetadata | undefined)?.root !== root) return undefined;
    const wrapped = helper(entity);
    if (!wrapped.hasPrimaryKey() || (managedOnly && !wrapped.__managed)) return undefined;
    const key = tests.length === 1 ? wrapped.getPrimaryKey() : target.primaryKeys.map(name => entity[name] as unknown);
    return tests.length === 1 ? (tests[0](key) ? key : undefined) : (key as unknown[]).every((part, i) => tests[i](part)) ? key : undefined;
  };
  if (tests.length === 1) {
    const test = tests[0];
    return value => (test(value) ? value : ofEntity(value));
  }
  return value => {
    if (!Array.isArray(value)) return ofEntity(value);
    return value.length === tests.length && value.every((part, i) => tests[i](part)) ? value.slice() : undefined;
  };
}

/** The key reader of an owning to-one property, when views can carry it. */
function foreignKeyReader(em: SqlEntityManager, meta: EntityMetadata, prop: EntityProperty, keysOnly: boolean): ((value: unknown) => unknown) | undefined {
  if (prop.mapToPk || mikroOrm.isPolymorphic(prop) || mikroOrm.targetKeyOf(prop) || !prop.targetMeta || prop.targetMeta.root === meta.root) return undefined;
  const target = prop.targetMeta;
  if (prop.fieldNames.length !== target.primaryKeys.length) return undefined;
  return keyReader(em, target, keysOnly);
}

/** Checks and writes the pivot rows of one owning many-to-many property of a view. */
interface PivotWriter {
  /** Is the value an array of keys the view can link? */
  check(value: unknown, ownerKey: unknown): boolean;
  /** Pushes one pivot row per distinct key (a collection holds an item once). */
  write(value: unknown[], ownerKey: unknown, links: AnyEntity[]): void;
}

/**
 * Pivot rows straight from keys, for a pivot entity that is nothing but the two foreign keys; the
 * same rows write-order.ts builds from a collection's pairs.
 */
function pivotWriter(em: SqlEntityManager, prop: EntityProperty, options: RowViewOptions): PivotWriter | undefined {
  const { pivotMeta, ownerSide, targetSide } = pivotSides(em, prop);
  if (!pivotMeta || prop.fixedOrder || !prop.targetMeta || !options.allowed(pivotMeta)) return undefined;
  const plan = options.planOf(pivotMeta);
  if (!ownerSide || !targetSide || plan.groups.length !== 2 || !plan.groups.every(g => g.prop === ownerSide || g.prop === targetSide)) return undefined;
  if (pivotMeta.props.some(p => p.onCreate || (p.default != null && !isRawSql(p.default)))) return undefined;
  // a collection holds two unmanaged entities with one key twice (two pivot rows, a duplicate key
  // error); the identity map makes managed ones one object, as the keys are one value here
  const keyOf = keyReader(em, prop.targetMeta, options.keysOnly, true);
  if (!keyOf || ownerSide.fieldNames.length !== 1) return undefined;
  const owner = JSON.stringify(ownerSide.name);
  const target = JSON.stringify(targetSide.name);
  // eslint-disable-next-line @typescript-eslint/no-implied-eval -- two fixed property names, from metadata
  const Pivot = new Function('pivotClass', 'ROW_VIEW', [
    `function Pivot(ownerKey, targetKey) { this[${owner}] = ownerKey; this[${target}] = targetKey; }`,
    'Pivot.prototype = Object.create(null, { constructor: { value: pivotClass }, [ROW_VIEW]: { value: true } });',
    'return Pivot;',
  ].join('\n'))(pivotMeta.class, ROW_VIEW) as new (ownerKey: unknown, targetKey: unknown) => AnyEntity;
  const composite = prop.targetMeta.primaryKeys.length > 1;
  return {
    check(value, ownerKey) {
      return ownerKey != null && Array.isArray(value) && value.every(item => keyOf(item) !== undefined);
    },
    write(value, ownerKey, links) {
      const keys = value.map(keyOf);
      const seen = keys.length > 8 || composite ? new Set<string>() : undefined;
      for (let i = 0; i < keys.length; i++) {
        const key = keys[i];
        if (seen) {
          const hash = composite ? JSON.stringify(key) : `${typeof key}:${String(key)}`;
          if (seen.has(hash)) continue;
          seen.add(hash);
        } else if (keys.indexOf(key) !== i) {
          continue;
        }
        links.push(new Pivot(ownerKey, key));
      }
    },
  };
}
