// The second half of a cycle of new entities (see plan/write-order.ts): rows were written with a nullable
// foreign key left NULL; now that every row exists, set those keys — as flush does, through an
// UPDATE per property that is an update in every sense: `onUpdate` properties are applied and
// written, the version is bumped, `beforeUpdate`/`afterUpdate` hooks run. Keys and values travel
// through a staging table (staged-keys.ts), one UPDATE ... FROM per class and property.
import { EventType, ReferenceKind, type AnyEntity, type EntityMetadata, type EntityProperty } from '@mikro-orm/core';
import type { SqlEntityManager } from '@mikro-orm/postgresql';
import type { CopySession } from '../copy/copy-session.js';
import type { EntityPlan } from '../plan/entity-plan.js';
import type { LifecycleHooks } from './lifecycle-hooks.js';
import { withStagedKeys } from './staged-keys.js';
import { versionBump } from '../copy/version-bump.js';
import { mikroOrm } from '../orm/index.js';

export async function setDeferredReferences(
  em: SqlEntityManager,
  session: CopySession,
  deferred: Map<AnyEntity, EntityProperty[]>,
  planOf: (entity: AnyEntity) => EntityPlan,
  hooks: LifecycleHooks | undefined,
): Promise<void> {
  const groups = new Map<EntityPlan, Map<EntityProperty, AnyEntity[]>>();
  for (const [entity, props] of deferred) {
    const plan = planOf(entity);
    let byProp = groups.get(plan);
    if (!byProp) groups.set(plan, (byProp = new Map()));
    for (const prop of props) byProp.set(prop, [...(byProp.get(prop) ?? []), entity]);
  }
  for (const [plan, byProp] of groups) {
    const { meta } = plan;
    const onUpdate = onUpdateProps(meta);
    const version = meta.versionProperty ? meta.root.properties[meta.versionProperty] : undefined;
    for (const [prop, entities] of byProp) {
      for (const entity of entities) {
        for (const p of onUpdate) entity[p.name] = p.onUpdate!(entity, em);
        await hooks?.update(EventType.beforeUpdate, entity, meta);
      }
      const { rows } = await withStagedKeys(em, session, plan, entities, [prop, ...onUpdate], ({ stage, join, quote }) => {
        const set = [prop, ...onUpdate].flatMap(p => p.fieldNames).map(f => `${quote(f)} = s.${quote(f)}`);
        if (version) set.push(versionBump(em.getPlatform(), version, quote(version.fieldNames[0])));
        const returning = version ? `s."_ord", t.${quote(version.fieldNames[0])}` : 's."_ord"';
        return `update ${plan.table} as t set ${set.join(', ')} from ${stage} as s where ${join} returning ${returning}`;
      });
      if (version) {
        // flush reads the new version back from the UPDATE
        for (const row of rows) entities[row._ord as number][version.name] = mikroOrm.mapResultRow(em, meta, row)[version.name];
      }
      for (const entity of entities) await hooks?.update(EventType.afterUpdate, entity, meta);
    }
  }
}

/** Top-level scalar properties with `onUpdate`: flush applies them to every UPDATE. */
function onUpdateProps(meta: EntityMetadata): EntityProperty[] {
  return meta.props.filter(p => p.onUpdate && p.kind === ReferenceKind.SCALAR && !p.embedded && p.persist !== false);
}
