// Plain rows without entities. For an entity of plain scalar columns, `em.create(Class, row)` only
// runs the constructor (which sets nothing, checked once) and copies each value of its natural
// runtime type as it is, so a copy of the row reads exactly like that entity to the compiled row
// encoder, at a fraction of the cost (em.create was a quarter of a plain-row copy, and most of its
// garbage). A row that may be treated differently (a primary key that could match a managed
// entity, a key the view does not cover, a value of another type, which MikroORM may convert)
// still becomes an entity.
import { ReferenceKind, type AnyEntity, type EntityMetadata, type EntityProperty } from '@mikro-orm/core';
import type { SqlEntityManager } from '@mikro-orm/postgresql';
import { isRawSql } from '../adapters/mikro-orm.js';
import type { EntityPlan } from './entity-plan.js';

/** Tests of `value` by runtime type: is it of the type em.create would store unchanged? */
const NATURAL: Record<string, string> = {
  string: "typeof value === 'string'",
  number: "typeof value === 'number'",
  boolean: "typeof value === 'boolean'",
  bigint: "typeof value === 'bigint'",
  Date: 'value instanceof Date',
};

/**
 * Returns a function that turns a plain row into a view for the row encoder, or `undefined` when
 * the row must become an entity; or returns `undefined` when no row of this entity can be a view.
 * `keys`: the primary key is read too (for callers that register nothing in the identity map, so
 * no managed entity can be met: copyUpdate, copyDelete).
 */
export function rowViewFactory(em: SqlEntityManager, plan: EntityPlan, keys = false): ((row: Record<string, unknown>) => AnyEntity | undefined) | undefined {
  const meta = plan.meta;
  if (!viewable(em, meta, plan)) return undefined;
  const lines: string[] = [];
  const fields: string[] = [];
  const covered = new Set<string>();
  for (const group of plan.groups) {
    const prop = group.prop;
    const key = JSON.stringify(prop.name);
    fields.push(`this[${key}] = undefined;`);
    if (prop.primary && !keys) continue;
    const test = naturalTest(prop);
    if (!test) return undefined;
    covered.add(prop.name);
    lines.push(`  { const value = row[${key}]; if (value !== undefined) { if (value !== null && !(${test})) return undefined; view[${key}] = value; } }`);
  }
  // any other property of the entity (the primary key, relations, collections) needs em.create
  const others = Object.keys(meta.properties).filter(name => !covered.has(name));
  const code = [
    'function View() {',
    ...fields.map(line => `  ${line}`),
    '}',
    // `constructor` is how the caller finds the entity class of an item; the view has nothing else
    'View.prototype = Object.create(null, { constructor: { value: entityClass } });',
    'return function viewOf(row) {',
    ...others.map(name => `  if (row[${JSON.stringify(name)}] !== undefined) return undefined;`),
    '  const view = new View();',
    ...lines,
    '  return view;',
    '};',
  ].join('\n');
  // every property is set in the constructor, in one order, so all views share one hidden class
  return new Function('entityClass', code)(meta.class) as (row: Record<string, unknown>) => AnyEntity | undefined;
}

/** Can em.create of this entity be nothing more than copying scalar values? */
function viewable(em: SqlEntityManager, meta: EntityMetadata, plan: EntityPlan): boolean {
  // read by name: `initNullableProperties` is a MikroORM 7 option that 6's types do not know
  const option = (name: string) => (em.config as unknown as { get(key: string): unknown }).get(name);
  if (option('initNullableProperties') || option('forceUndefined') || option('forceEntityConstructor')) return false;
  if (meta.constructorParams?.length || meta.root.discriminatorColumn || meta.virtual || plan.initializerProps.length) return false;
  if (meta.props.some(p => p.onCreate || (p.default != null && !isRawSql(p.default)))) return false;
  if (!plan.groups.every(g => g.kind === 'single' && g.prop.kind === ReferenceKind.SCALAR && plainScalar(g.prop))) return false;
  try {
    const instance = new (meta.class as new () => Record<string, unknown>)();
    return plan.groups.every(g => instance[g.prop.name] === undefined);
  } catch {
    return false;
  }
}

function plainScalar(prop: EntityProperty): boolean {
  const extended = prop as EntityProperty & { accessor?: unknown };
  return !prop.embedded && !prop.ref && !prop.lazy && !prop.getter && !prop.setter && !extended.accessor;
}

/** em.create stores a value of the property's runtime type as it is; json objects and arrays too. */
function naturalTest(prop: EntityProperty): string | undefined {
  const typeName = prop.customType?.constructor.name;
  if (typeName === 'JsonType') return "typeof value === 'object'";
  if (prop.array || typeName === 'ArrayType') return 'Array.isArray(value)';
  return NATURAL[prop.runtimeType];
}
