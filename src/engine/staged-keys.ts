// Rows of the current copy addressed by primary key after their COPY: the keys (and any values to
// set) travel through a COPY into a temporary staging table, and one statement joins it with the
// entity's table — so no data is ever part of the SQL, whatever the key's type or width.
import { ReferenceKind, Utils, type AnyEntity, type EntityProperty } from '@mikro-orm/core';
import type { SqlEntityManager } from '@mikro-orm/postgresql';
import type { CopySession } from '../copy/copy-session.js';
import type { WireResult } from '../copy/wire-query.js';
import { csvField } from '../encoding/row-encoder.js';
import { columnTraits, toPgText } from '../encoding/pg-text.js';
import type { EntityPlan } from '../plan/entity-plan.js';
import { createStage } from '../copy/stage.js';


/** What runs against the staged rows: `stage` and `join` are SQL of quoted identifiers only. */
export type StagedStatement = (parts: { stage: string; join: string; quote: (field: string) => string }) => string;

/**
 * Stages the primary key of each entity (and the columns of `props`, as `prepareEntity` gives
 * them) with the entity's index in `entities` as `"_ord"`, and runs `statement` against the
 * staging table — to be aliased `s`, joined to the entity's table aliased `t` by `join`.
 */
export async function withStagedKeys(
  em: SqlEntityManager,
  session: CopySession,
  plan: EntityPlan,
  entities: readonly AnyEntity[],
  props: readonly EntityProperty[],
  statement: StagedStatement,
): Promise<WireResult> {
  const platform = em.getPlatform();
  const quote = (field: string) => platform.quoteIdentifier(field);
  const comparator = em.getComparator();
  const root = plan.meta.root;
  const pkProps = root.primaryKeys.map(name => root.properties[name]);
  const staged = [...pkProps, ...props];
  const keyFields = pkProps.flatMap(p => p.fieldNames);
  const columns = staged.flatMap(p => p.fieldNames).map(quote);
  const traits = staged.flatMap(p => p.fieldNames.map((_, i) => columnTraits(p.columnTypes?.[i])));
  let text = '';
  // plain scalar keys are read straight from the entity: a whole snapshot per row costs more than the staging itself
  const scalarKeysOnly = props.length === 0 && pkProps.every(p => p.kind === ReferenceKind.SCALAR);
  entities.forEach((entity, ord) => {
    let values: unknown[];
    if (scalarKeysOnly) {
      values = pkProps.map(p => (p.customType ? p.customType.convertToDatabaseValue(entity[p.name], platform) : entity[p.name]));
    } else {
      const data = comparator.prepareEntity(entity);
      values = staged.flatMap(p => flat(data[p.name], p.fieldNames.length));
    }
    text += values.map((v, i) => csvField(toPgText(v, platform, traits[i]))).join(',') + `,${ord}\n`;
  });
  const { table: stage, columns: copied } = await createStage(platform, plan.table, columns, sql => session.query(sql));
  await session.copyText(`copy ${stage} (${copied.join(', ')}) from stdin with (format csv)`, text);
  const join = keyFields.map(f => `t.${quote(f)} = s.${quote(f)}`).join(' and ');
  const result = await session.query(statement({ stage, join, quote }));
  await session.query(`drop table ${stage}`);
  return result;
}

function flat(value: unknown, width: number): unknown[] {
  if (width === 1) return [value];
  if (value == null) return Array.from({ length: width }, () => null);
  return Utils.flatten(Utils.asArray(value) as unknown[][], true);
}
