// Metadata → which columns a row of an entity can fill, how each is read from MikroORM's insert
// payload, and which checks flush would run first. Built once per entity class and EntityManager
// configuration, then reused for every row.
import { ReferenceKind, type EntityMetadata, type EntityProperty, type Platform } from '@mikro-orm/core';
import type { SqlEntityManager } from '@mikro-orm/postgresql';
import { notTableBacked, unsupportedMapping } from '../errors.js';
import { mikroOrm } from '../orm/index.js';
import { isOwningToOne } from './relations.js';

/** How a property's payload value becomes column values. */
export type ColumnKind =
  /** One column; the payload holds its value. */
  | 'single'
  /** Several columns (composite foreign key); the payload holds an array of values. */
  | 'composite'
  /** One JSON column holding an embeddable object (or an array of them). */
  | 'embedded-object';

/** One property of the insert payload and the column(s) it fills. */
export interface ColumnGroup {
  prop: EntityProperty;
  kind: ColumnKind;
  /** Column names, as MikroORM's naming strategy and `fieldName` made them. */
  fields: string[];
  /** Column names quoted by the platform, for the COPY column list. */
  quotedFields: string[];
  /** Name used in error messages (`address.street` for an inline embedded property). */
  label: string;
}

/** Everything needed to turn instances of one entity class into COPY rows. */
export interface EntityPlan {
  meta: EntityMetadata;
  /** Entity class name, as reported in results and errors. */
  entityName: string;
  /** Quoted, schema-qualified table (the root's table for single-table inheritance). */
  table: string;
  /** Every property that can appear in the insert payload, in column order. */
  groups: ColumnGroup[];
  /** Properties whose `onCreate` or `default` flush applies before inserting (recursing into embeddables). */
  initializerProps: EntityProperty[];
  /** Properties flush's `validateRequired` checks (empty when that option is off). */
  requiredProps: EntityProperty[];
  /** Properties whose runtime type flush checks (`validateEntity`; MikroORM 7, none on 6). */
  validatedProps: EntityProperty[];
  /** Owning to-one relations: their targets must already have a primary key. */
  toOneProps: EntityProperty[];
}

/** Plans by entity metadata and schema (`undefined`: the EntityManager's default). */
export type PlanCache = Map<EntityMetadata, Map<string | undefined, EntityPlan>>;

/**
 * Builds (or returns the cached) plan of an entity class. `schema` is the schema flush would
 * write the entity into: the entity's own (`wrap(entity).setSchema()`), else the fork's
 * (`em.fork({ schema })`); the metadata's fixed schema wins over both, as in MikroORM's driver.
 */
export function planFor(em: SqlEntityManager, meta: EntityMetadata, schema: string | undefined, cache: PlanCache): EntityPlan {
  let bySchema = cache.get(meta);
  if (!bySchema) cache.set(meta, (bySchema = new Map()));
  let plan = bySchema.get(schema);
  if (!plan) bySchema.set(schema, (plan = buildPlan(em, meta, schema)));
  return plan;
}

function buildPlan(em: SqlEntityManager, meta: EntityMetadata, schemaOfEntity: string | undefined): EntityPlan {
  const entityName = meta.className;
  const unsupported = (property: string | undefined, why: string) => unsupportedMapping(entityName, property, why);

  if (meta.embeddable || meta.virtual || meta.expression) {
    throw notTableBacked(entityName);
  }
  if (meta.readonly) throw unsupported(undefined, 'a readonly entity (flush never inserts it)');
  if (mikroOrm.isTablePerType(meta)) throw unsupported(undefined, 'table-per-type inheritance (rows span several tables)');

  const platform = em.getPlatform();
  const root = meta.root;
  const table = quotedTable(em, root, schemaOfEntity);

  const groups: ColumnGroup[] = [];
  for (const prop of root.props) {
    if (!isInsertable(root, prop)) continue;
    const label = prop.embedded ? prop.embedded.join('.') : prop.name;
    if (convertsInSql(prop, platform)) {
      throw unsupported(label, `a custom type converted inside SQL (${prop.customType!.constructor.name}.convertToDatabaseValueSQL); COPY cannot evaluate SQL`);
    }
    if (prop.stiFieldNames) throw unsupported(label, 'an STI property stored in different columns per subtype');
    if (mikroOrm.isPolymorphic(prop)) throw unsupported(label, 'a polymorphic relation');
    if (mikroOrm.targetKeyOf(prop)) throw unsupported(label, 'a relation that references a non-primary key (targetKey)');
    const kind: ColumnKind = prop.kind === ReferenceKind.EMBEDDED ? 'embedded-object' : prop.fieldNames.length > 1 ? 'composite' : 'single';
    groups.push({ prop, kind, label, fields: prop.fieldNames, quotedFields: prop.fieldNames.map(f => platform.quoteIdentifier(f)) });
  }

  const validateRequired = em.config.get('validateRequired') !== false;
  const plan: EntityPlan = {
    meta,
    entityName,
    table,
    groups,
    initializerProps: meta.hydrateProps.filter(p => p.onCreate || p.default != null || p.kind === ReferenceKind.EMBEDDED),
    requiredProps: validateRequired ? meta.props.filter(p => isRequired(meta, p)) : [],
    validatedProps: mikroOrm.propsValidatedOnInsert(meta),
    toOneProps: meta.relations.filter(p => isOwningToOne(p) && !p.mapToPk),
  };
  return plan;
}

/**
 * Does flush wrap this property's value in SQL (`nativeInsertMany` puts
 * `convertToDatabaseValueSQL('?')` in place of the parameter)? Built-in types define the method
 * as a no-op too (MikroORM 7's JsonType returns `? + castColumn(prop)`, empty for a json column),
 * so only a wrapper that changes the placeholder counts, as MikroORM's own
 * `hasConvertToDatabaseValueSQL` decides.
 */
function convertsInSql(prop: EntityProperty, platform: Platform): boolean {
  const type = prop.customType;
  if (!type?.convertToDatabaseValueSQL || prop.object) return false;
  return type.convertToDatabaseValueSQL('?', platform) !== '?';
}

/** Would this property be a key of the payload flush inserts? */
function isInsertable(root: EntityMetadata, prop: EntityProperty): boolean {
  if (prop.persist === false || prop.formula || prop.generated) return false;
  if (prop.embedded) {
    // a property of an inline embeddable is its own column; one of an object embeddable lives in the JSON
    const parent = root.properties[prop.embedded[0]];
    return !!parent && !parent.object && !isInsideObjectEmbeddable(root, parent);
  }
  switch (prop.kind) {
    case ReferenceKind.SCALAR:
      return true;
    case ReferenceKind.EMBEDDED:
      return !!prop.object;
    case ReferenceKind.MANY_TO_ONE:
    case ReferenceKind.ONE_TO_ONE:
      return isOwningToOne(prop);
    default:
      return false;
  }
}

function isInsideObjectEmbeddable(root: EntityMetadata, prop: EntityProperty): boolean {
  for (let p: EntityProperty | undefined = prop; p?.embedded; p = root.properties[p.embedded[0]]) {
    if (root.properties[p.embedded[0]]?.object) return true;
  }
  return false;
}

/**
 * The quoted table of an entity's root in `schema` (else its own or the EntityManager's), as
 * MikroORM writes it: schema-qualified unless that is the default schema.
 */
export function quotedTable(em: SqlEntityManager, root: EntityMetadata, schema?: string): string {
  const platform = em.getPlatform();
  const name = em.getDriver().getSchemaName(root, { schema: schema ?? root.schema });
  return name && name !== platform.getDefaultSchemaName()
    ? `${platform.quoteIdentifier(name)}.${platform.quoteIdentifier(root.tableName)}`
    : platform.quoteIdentifier(root.tableName);
}

/** Must a new entity give this property a value? The same test as MikroORM's `ChangeSetPersister.validateRequired`. */
export function isRequired(meta: EntityMetadata, prop: EntityProperty): boolean {
  return (
    !prop.nullable &&
    !prop.autoincrement &&
    !prop.default &&
    !prop.defaultRaw &&
    !prop.onCreate &&
    !prop.generated &&
    !prop.embedded &&
    prop.kind !== ReferenceKind.ONE_TO_MANY &&
    prop.kind !== ReferenceKind.MANY_TO_MANY &&
    !(prop.kind === ReferenceKind.EMBEDDED && prop.targetMeta?.props.every(p => p.formula || p.persist === false || p.primary)) &&
    prop.name !== meta.root.discriminatorColumn &&
    prop.type !== 'ObjectId' &&
    prop.persist !== false
  );
}
