// The second half of a cycle of new entities (see plan/write-order.ts): rows were written with a nullable
// foreign key left NULL; now that every row exists, set those keys. The values travel through a
// COPY into a staging table and one UPDATE ... FROM, so no data is ever part of the SQL.
import { Utils, type AnyEntity, type EntityProperty } from '@mikro-orm/core';
import type { SqlEntityManager } from '@mikro-orm/postgresql';
import type { CopySession } from '../copy/copy-session.js';
import { csvField } from '../encoding/csv-row.js';
import { columnTraits, toPgText } from '../encoding/pg-text.js';
import type { EntityPlan } from '../plan/entity-plan.js';

let stageCounter = 0;

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
  const platform = em.getPlatform();
  const quote = (field: string) => platform.quoteIdentifier(field);
  const comparator = em.getComparator();
  for (const [plan, byProp] of groups) {
    const root = plan.meta.root;
    const pkProps = root.primaryKeys.map(name => root.properties[name]);
    for (const [prop, entities] of byProp) {
      const keyFields = pkProps.flatMap(p => p.fieldNames);
      const columns = [...keyFields, ...prop.fieldNames].map(quote);
      const traits = [...pkProps.flatMap(p => p.fieldNames.map((_, i) => columnTraits(p.columnTypes?.[i]))), ...prop.fieldNames.map((_, i) => columnTraits(prop.columnTypes?.[i]))];
      let text = '';
      for (const entity of entities) {
        const data = comparator.prepareEntity(entity);
        const values = [...pkProps.flatMap(p => flat(data[p.name], p.fieldNames.length)), ...flat(data[prop.name], prop.fieldNames.length)];
        text += values.map((v, i) => csvField(toPgText(v, platform, traits[i]))).join(',') + '\n';
      }
      const stage = quote(`mikro_orm_pg_copy_refs_${++stageCounter}`);
      await session.query(`create temporary table ${stage} on commit drop as select ${columns.join(', ')} from ${plan.table} with no data`);
      await session.copyText(`copy ${stage} (${columns.join(', ')}) from stdin with (format csv)`, text);
      const set = prop.fieldNames.map(f => `${quote(f)} = s.${quote(f)}`).join(', ');
      const where = keyFields.map(f => `t.${quote(f)} = s.${quote(f)}`).join(' and ');
      await session.query(`update ${plan.table} as t set ${set} from ${stage} as s where ${where}`);
      await session.query(`drop table ${stage}`);
    }
  }
}

function flat(value: unknown, width: number): unknown[] {
  if (width === 1) return [value];
  if (value == null) return Array.from({ length: width }, () => null);
  return Utils.flatten(Utils.asArray(value) as unknown[][], true);
}
