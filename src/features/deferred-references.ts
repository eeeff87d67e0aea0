// The second half of a cycle of new entities (see plan/write-order.ts): rows were written with a nullable
// foreign key left NULL; now that every row exists, set those keys with one UPDATE ... FROM per
// property, from a staging table of keys and values (staged-keys.ts).
import type { AnyEntity, EntityProperty } from '@mikro-orm/core';
import type { SqlEntityManager } from '@mikro-orm/postgresql';
import type { CopySession } from '../copy/copy-session.js';
import type { EntityPlan } from '../plan/entity-plan.js';
import { withStagedKeys } from './staged-keys.js';

export async function setDeferredReferences(
  em: SqlEntityManager,
  session: CopySession,
  deferred: Map<AnyEntity, EntityProperty[]>,
  planOf: (entity: AnyEntity) => EntityPlan,
): Promise<void> {
  const groups = new Map<EntityPlan, Map<EntityProperty, AnyEntity[]>>();
  for (const [entity, props] of deferred) {
    const plan = planOf(entity);
    let byProp = groups.get(plan);
    if (!byProp) groups.set(plan, (byProp = new Map()));
    for (const prop of props) byProp.set(prop, [...(byProp.get(prop) ?? []), entity]);
  }
  for (const [plan, byProp] of groups) {
    for (const [prop, entities] of byProp) {
      await withStagedKeys(em, session, plan, entities, [prop], ({ stage, join, quote }) => {
        const set = prop.fieldNames.map(f => `${quote(f)} = s.${quote(f)}`).join(', ');
        return `update ${plan.table} as t set ${set} from ${stage} as s where ${join}`;
      });
    }
  }
}
