// The staging table behind every statement that is more than an INSERT (upsert, update, delete,
// deferred keys, read-back, copyFlush's diverted batches): temporary, dropped at commit, shaped like
// the COPY's columns of the entity's table (no constraints, no defaults: a column left out of the
// COPY stays out of the move), plus each row's input position `_ord`, so a row found wanting can be
// traced back and rows can be moved in input order.
import type { Platform } from '@mikro-orm/core';
import type { RunQuery } from './copy-session.js';

/** A staging column shaped like the target table's column `field`, named `as` when that differs (both quoted). */
export interface StageColumn {
  field: string;
  as: string;
}

/** The input position column of every staging table (quoted). */
export const ORDINAL_COLUMN = '"_ord"';

let stageCounter = 0;

/**
 * Creates the staging table for `columns` of `table` (quoted names, or renamed columns); returns
 * its quoted name and the COPY's column list, the input position `"_ord"` first or last.
 */
export async function createStage(
  platform: Platform,
  table: string,
  columns: readonly (string | StageColumn)[],
  run: RunQuery,
  ordinal: 'first' | 'last' = 'last',
): Promise<{ table: string; columns: string[] }> {
  const stage = platform.quoteIdentifier(`mikro_orm_pg_copy_stage_${++stageCounter}`);
  const shaped = columns.map(c => (typeof c === 'string' ? c : `${c.field} as ${c.as}`));
  const names = columns.map(c => (typeof c === 'string' ? c : c.as));
  const position = `null::bigint as ${ORDINAL_COLUMN}`;
  const select = ordinal === 'first' ? [position, ...shaped] : [...shaped, position];
  await run(`create temporary table ${stage} on commit drop as select ${select.join(', ')} from ${table} with no data`);
  return { table: stage, columns: ordinal === 'first' ? [ORDINAL_COLUMN, ...names] : [...names, ORDINAL_COLUMN] };
}
