// The upsert benchmark's table between paths, shared by bench/upsert.ts and bench/targets.ts: a
// seed of existing rows kept in a table of its own, the table reset from it before every path, its
// hash, and the upsert done by hand in one psql session — the anchor issue 13 measures
// copyPersist's upsert against (the same staging table and INSERT ... SELECT ... ON CONFLICT the
// library runs, without the library).
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import type { MikroORM } from '@mikro-orm/postgresql';
import { UPSERT_COLUMNS, UPSERT_SCHEMA, writeUpsertCsv } from './graph-data.js';
import { runPsql } from './runner.js';

export const UPSERT_TABLE = `"${UPSERT_SCHEMA}"."book"`;
const SEED = `"${UPSERT_SCHEMA}"."seed"`;
const quoteFile = (file: string) => `'${file.replaceAll("'", "''")}'`;

/**
 * Writes the seed: version 1 of the even keys 0, 2, ..., 2(n-1), ids 1..n, into the seed table
 * (created anew), through psql from a CSV file in `dir`.
 */
export async function seedUpsertTable(orm: MikroORM, url: string, rows: number, dir: string): Promise<void> {
  const conn = orm.em.getConnection();
  const seedCsv = join(dir, `seed-${rows}.csv`);
  await writeUpsertCsv(rows, i => 2 * i, 1, seedCsv);
  await conn.execute(`drop table if exists ${SEED}`);
  await conn.execute(`create table ${SEED} (like ${UPSERT_TABLE} including defaults)`);
  await runPsql(url, [`\\copy ${SEED} (${UPSERT_COLUMNS.join(', ')}) from ${quoteFile(seedCsv)} with (format csv)`]);
  rmSync(seedCsv);
}

/** The table back to the seed rows (or empty), statistics fresh, WAL checkpointed. */
export async function resetUpsertTable(orm: MikroORM, empty: boolean): Promise<void> {
  const conn = orm.em.getConnection();
  await conn.execute(`truncate ${UPSERT_TABLE} restart identity`);
  if (!empty) {
    await conn.execute(`insert into ${UPSERT_TABLE} select * from ${SEED} order by id`);
    await conn.execute(`select setval(pg_get_serial_sequence('${UPSERT_TABLE}', 'id'), (select max(id) from ${UPSERT_TABLE}))`);
  }
  await conn.execute(`vacuum analyze ${UPSERT_TABLE}`);
  await conn.execute('checkpoint');
}

export async function upsertDigest(orm: MikroORM): Promise<{ n: number; hash: string }> {
  const [row] = await orm.em.getConnection().execute<{ n: number; hash: string }[]>(
    `select count(*)::int as n, md5(coalesce(string_agg(md5(row(isbn, title, price, published_at, stock, active)::text), '' order by isbn), '')) as hash from ${UPSERT_TABLE}`,
  );
  return row;
}

export async function upsertCount(orm: MikroORM): Promise<number> {
  const [row] = await orm.em.getConnection().execute<{ n: number }[]>(`select count(*)::int as n from ${UPSERT_TABLE}`);
  return row.n;
}

/**
 * The psql commands of the upsert by hand, one session, one transaction: `\copy` into a temporary
 * table shaped as copyPersist shapes its staging table, then the one INSERT ... SELECT ... ON
 * CONFLICT (isbn) DO UPDATE of every other column that copyPersist's merge runs.
 */
export function upsertByHandCommands(csv: string): string[] {
  const columns = UPSERT_COLUMNS.map(c => `"${c}"`);
  const updated = columns.filter(c => c !== '"isbn"').map(c => `${c} = excluded.${c}`);
  return [
    'begin',
    `create temporary table upsert_stage on commit drop as select ${columns.join(', ')} from ${UPSERT_TABLE} with no data`,
    `\\copy upsert_stage (${columns.join(', ')}) from ${quoteFile(csv)} with (format csv)`,
    `insert into ${UPSERT_TABLE} (${columns.join(', ')}) select ${columns.join(', ')} from upsert_stage on conflict ("isbn") do update set ${updated.join(', ')}`,
    'commit',
  ];
}
