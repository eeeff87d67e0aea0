// The ORM the benchmark and its children use: a CopyEntityManager on the `bench` schema, and
// what the parent does to its tables between paths (empty them, hash them against psql's).
import { MikroORM, type EntityMetadata, type Options } from '@mikro-orm/postgresql';
import { CopyEntityManager } from '../../src/index.js';
import { ENTITIES, type BenchEntity } from './data.js';
import { createSchema } from './graph-data.js';

export const SCHEMA = 'bench';

/** `connections`: the pool's size (parallel streams take one each). */
export async function initBenchOrm(url: string, connections = 2): Promise<MikroORM> {
  return MikroORM.init({
    clientUrl: url,
    schema: SCHEMA,
    entities: Object.values(ENTITIES).map(e => e.schema),
    entityManager: CopyEntityManager,
    allowGlobalContext: true,
    debug: false,
    pool: { min: 0, max: connections },
  } as Options);
}

/** Drops and recreates the bench schema with both tables. */
export const createBenchSchema = (orm: MikroORM) => createSchema(orm, SCHEMA);

export interface TableInfo {
  /** `"bench"."book"` */
  table: string;
  /** Column names in the order of the entity's `columns` (the CSV's order), quoted. */
  columns: string[];
  orderColumn: string;
}

export function tableInfo(orm: MikroORM, e: BenchEntity): TableInfo {
  const meta = orm.getMetadata().find(e.cls) as EntityMetadata | undefined;
  if (!meta) throw new Error(`${e.key} is not registered`);
  const field = (prop: string) => `"${meta.properties[prop as never].fieldNames[0]}"`;
  return {
    table: `"${SCHEMA}"."${meta.tableName}"`,
    columns: e.columns.map(c => field(c.prop)),
    orderColumn: field(e.orderProp),
  };
}

/** Row count and a hash of every column but the key, ordered by `orderProp`: equal tables, equal hashes. */
export async function tableDigest(orm: MikroORM, e: BenchEntity): Promise<{ n: number; hash: string }> {
  const info = tableInfo(orm, e);
  const [row] = await orm.em.getConnection().execute<{ n: number; hash: string }[]>(
    `select count(*)::int as n, md5(coalesce(string_agg(md5(t::text), '' order by t.k), '')) as hash
       from (select ${info.orderColumn} as k, ${info.columns.join(', ')} from ${info.table}) t`,
  );
  return row;
}

export async function truncateBench(orm: MikroORM, e: BenchEntity): Promise<void> {
  await orm.em.getConnection().execute(`truncate ${tableInfo(orm, e).table} restart identity`);
}
