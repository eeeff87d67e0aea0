// The ORM the benchmark and its children use: a CopyEntityManager on the `bench` schema.
import { MikroORM, type EntityMetadata, type Options } from '@mikro-orm/postgresql';
import { CopyEntityManager } from '../../src/index.js';
import { ENTITIES, type BenchEntity } from './data.js';

export const SCHEMA = 'bench';

export async function initBenchOrm(url: string): Promise<MikroORM> {
  return MikroORM.init({
    clientUrl: url,
    schema: SCHEMA,
    entities: Object.values(ENTITIES).map(e => e.schema),
    entityManager: CopyEntityManager,
    allowGlobalContext: true,
    debug: false,
    pool: { min: 0, max: 2 },
  } as Options);
}

/** Drops and recreates the bench schema with both tables. */
export async function createBenchSchema(orm: MikroORM): Promise<void> {
  const conn = orm.em.getConnection();
  await conn.execute(`drop schema if exists "${SCHEMA}" cascade`);
  await conn.execute(`create schema "${SCHEMA}"`);
  const generator = orm.schema as unknown as { create?: () => Promise<void>; createSchema?: () => Promise<void> };
  await (generator.create ? generator.create() : generator.createSchema!());
}

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
