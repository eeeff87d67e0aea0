// The staging table behind every statement that is more than an INSERT (upsert, update, delete,
// deferred keys, read-back): temporary, dropped at commit, shaped like the COPY's columns of the
// entity's table (no constraints, no defaults: a column left out of the COPY stays out of the
// move), plus each row's input position `_ord`, so a row found wanting can be traced back.
import type { Platform } from '@mikro-orm/core';
import type { EntityPlan } from '../plan/entity-plan.js';
import type { RunQuery } from './copy-session.js';

let stageCounter = 0;

/** Creates the staging table; returns its quoted name and the COPY's column list (`"_ord"` last). */
export async function createStage(platform: Platform, plan: EntityPlan, columns: readonly string[], run: RunQuery): Promise<{ table: string; columns: string[] }> {
  const stage = platform.quoteIdentifier(`mikro_orm_pg_copy_stage_${++stageCounter}`);
  await run(`create temporary table ${stage} on commit drop as select ${columns.join(', ')}, null::bigint as "_ord" from ${plan.table} with no data`);
  return { table: stage, columns: [...columns, '"_ord"'] };
}
