// What flush computes for a new entity before it builds its INSERT: property initializers and
// `onCreate`, the required and type checks, then MikroORM's own snapshot of the entity
// (`EntityComparator.prepareEntity`), which already converts custom types, flattens inline
// embeddables, turns to-one relations into primary keys and adds the STI discriminator.
import { ReferenceKind, Utils, helper, type AnyEntity, type Dictionary, type EntityProperty } from '@mikro-orm/core';
import type { SqlEntityManager } from '@mikro-orm/postgresql';
import { notEnumValue, referenceWithoutKey, requiredValue, wrongRuntimeType } from '../errors.js';
import { isRawSql, mikroOrm, scalarRuntimeTypes } from '../orm/index.js';
import type { EntityPlan } from './entity-plan.js';
import { toOneTarget } from './relations.js';

/**
 * Returns the payload flush would insert for `entity`, keyed by property name. `deferred` names
 * to-one properties written as NULL now and set later (cycles in a cascaded graph): their targets
 * may have no key yet.
 */
export function insertPayload(em: SqlEntityManager, plan: EntityPlan, entity: AnyEntity, position: number, deferred?: readonly EntityProperty[]): Dictionary {
  checkInsert(em, plan, entity, position, deferred);
  return snapshotPayload(em, entity, deferred);
}

/**
 * What flush does to a new entity before its snapshot: initializers, then the required, type and
 * to-one key checks. Initializers are idempotent (they fill only what is unset), so running them
 * again after `beforeCreate` hooks ran them first changes nothing.
 */
export function checkInsert(em: SqlEntityManager, plan: EntityPlan, entity: AnyEntity, position: number, deferred?: readonly EntityProperty[]): void {
  applyInitializers(em, plan, entity);
  for (const prop of plan.requiredProps) {
    if (entity[prop.name] == null) {
      throw requiredValue(plan.entityName, prop.name, position);
    }
  }
  for (const prop of plan.validatedProps) checkRuntimeType(plan, prop, entity, position);
  for (const prop of plan.toOneProps) {
    if (deferred?.includes(prop)) continue;
    const target = toOneTarget(entity, prop);
    if (target && !helper(target).hasPrimaryKey()) {
      throw referenceWithoutKey(plan.entityName, prop.name, helper(target).__meta.className, position);
    }
  }
}

/** MikroORM's own snapshot of the entity, with the `deferred` relations set to NULL. */
export function snapshotPayload(em: SqlEntityManager, entity: AnyEntity, deferred?: readonly EntityProperty[]): Dictionary {
  const data = em.getComparator().prepareEntity(entity);
  for (const prop of deferred ?? []) data[prop.name] = null;
  return data;
}

/** Property initializers and `onCreate`, as flush applies them before `beforeCreate` hooks. */
export function applyInitializers(em: SqlEntityManager, plan: EntityPlan, entity: AnyEntity): void {
  for (const prop of plan.initializerProps) applyInitializer(em, entity, prop);
}

/**
 * MikroORM's `ChangeSetComputer.processPropertyInitializers`, for a new entity. The two supported
 * majors differ here, and the rows differ with them: whether an undefined property with a scalar
 * `default` gets it at runtime, and whether an array of embeddables has its items initialized
 * (`MikroOrmVersion` in src/orm/ says which major does what).
 */
function applyInitializer(em: SqlEntityManager, entity: AnyEntity, prop: EntityProperty): void {
  const value = entity[prop.name];
  if (prop.onCreate && (value == null || (Utils.isScalarReference(value) && value.unwrap() == null))) {
    entity[prop.name] = prop.onCreate(entity, em);
  } else if (
    mikroOrm.appliesRuntimeDefaults &&
    prop.default != null &&
    !isRawSql(prop.default) &&
    prop.kind !== ReferenceKind.MANY_TO_ONE &&
    prop.kind !== ReferenceKind.ONE_TO_ONE &&
    value === undefined
  ) {
    entity[prop.name] = prop.default;
  }
  if (prop.kind === ReferenceKind.EMBEDDED && entity[prop.name] && prop.targetMeta) {
    const items: AnyEntity[] = prop.array && mikroOrm.initializesEmbeddedArrayItems ? entity[prop.name] : [entity[prop.name]];
    for (const item of items) {
      for (const embedded of prop.targetMeta.hydrateProps) applyInitializer(em, item, embedded);
    }
  }
}

/** MikroORM's `validateProperty` (on the majors that validate): a scalar of the wrong runtime type, or a value outside an enum. */
function checkRuntimeType(plan: EntityPlan, prop: EntityProperty, entity: AnyEntity, position: number): void {
  const value = prop.embedded && prop.embedded[0] in entity ? entity[prop.embedded[0]]?.[prop.embedded[1]] : prop.ref ? entity[prop.name]?.unwrap() : entity[prop.name];
  if (value == null || isRawSql(value)) return;
  const property = prop.embedded ? prop.embedded.join('.') : prop.name;
  if (prop.enum && prop.items) {
    if (!prop.items.some(item => item === value)) {
      throw notEnumValue(plan.entityName, property, value, position);
    }
    return;
  }
  const given = Utils.getObjectType(value);
  if (given !== prop.runtimeType && scalarRuntimeTypes.has(prop.runtimeType)) {
    throw wrongRuntimeType(plan.entityName, property, prop.runtimeType, given, position);
  }
}
