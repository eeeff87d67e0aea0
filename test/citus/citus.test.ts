// Citus: copyPersist on a coordinator with workers (CITUS_URL, e.g. `docker compose --profile citus
// up -d` then CITUS_URL=postgres://postgres:postgres@localhost:5433/postgres). Skipped, visibly,
// without CITUS_URL. Written from Citus's documentation; what it relies on:
//
// - COPY into a distributed table through the coordinator: Citus routes each row to its shard.
// - Reference tables (create_reference_table) are copied to every worker; a distributed table may
//   have a foreign key to one.
// - Keys: copyPersist reserves keys with `nextval(...)` on the connection it copies on, which is
//   the coordinator, so a bigserial distribution column works as on plain PostgreSQL (the
//   coordinator owns the sequence; since Citus 11 workers get their own disjoint bigint ranges
//   for inserts they run themselves, which this library never does).
// - Upsert: unique constraints of a distributed table must include its distribution column, so
//   the conflict target must too; the library says so itself (DISTRIBUTION_COLUMN) before the
//   server fails. INSERT ... SELECT ... ON CONFLICT from the coordinator's staging table runs
//   "via the coordinator", which Citus supports since 8.1.
// - Parallel streams: each batch is a transaction of its own on the coordinator; with loadId the
//   bookkeeping table is a plain local table on the coordinator, written in the same transaction.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { EntitySchema, MikroORM, type Options } from '@mikro-orm/postgresql';
import { CopyEntityManager, CopyPersistError, copyPersist } from '../../src/index.js';
import { copyParallel, type CopyParallelOptions } from '../../src/loaders/parallel.js';
import { createTables } from '../support/orm.js';

const CITUS_URL = process.env.CITUS_URL;
const SCHEMA = 'citus_test';

class Tenant {
  id!: number;
  name!: string;
}
class Event {
  id?: string;
  tenant!: Tenant;
  kind!: string;
}
class Reading {
  device!: number;
  seq!: number;
  value!: number;
}

const TenantSchema = new EntitySchema<Tenant>({
  class: Tenant,
  properties: { id: { type: 'integer', primary: true }, name: { type: 'text' } },
});
const EventSchema = new EntitySchema<Event>({
  class: Event,
  properties: {
    id: { type: 'bigint', primary: true, autoincrement: true },
    tenant: { kind: 'm:1', entity: () => Tenant },
    kind: { type: 'text' },
  },
});
const ReadingSchema = new EntitySchema<Reading>({
  class: Reading,
  properties: {
    device: { type: 'integer', primary: true },
    seq: { type: 'integer', primary: true },
    value: { type: 'integer' },
  },
});

describe('Citus', { skip: CITUS_URL ? false : 'CITUS_URL is not set (a Citus coordinator with workers added): Citus tests skipped' }, () => {
  let orm: MikroORM;
  const em = () => orm.em.fork() as CopyEntityManager;
  const run = <T = Record<string, unknown>[]>(sql: string) => orm.em.getConnection().execute<T & object>(sql);
  const count = async (table: string) => Number((await run<{ n: string }[]>(`select count(*) as n from ${SCHEMA}.${table}`))[0].n);

  before(async () => {
    orm = await MikroORM.init({
      clientUrl: CITUS_URL,
      schema: SCHEMA,
      entities: [TenantSchema, EventSchema, ReadingSchema],
      entityManager: CopyEntityManager,
      allowGlobalContext: true,
      pool: { min: 0, max: 6 },
    } as Options);
    const [{ workers }] = await run<{ workers: number }[]>(`select count(*)::int as workers from citus_get_active_worker_nodes()`);
    assert.ok(workers >= 1, 'CITUS_URL must point at a coordinator with at least one worker added');
    await run(`drop schema if exists ${SCHEMA} cascade`);
    await run(`create schema ${SCHEMA}`);
    await createTables(orm);
    // the referenced table first: a distributed table's foreign key may only point at a reference table
    await run(`select create_reference_table('${SCHEMA}.tenant')`);
    await run(`select create_distributed_table('${SCHEMA}.event', 'id')`);
    await run(`select create_distributed_table('${SCHEMA}.reading', 'device')`);
  });
  after(async () => {
    if (!orm) return;
    await run(`drop schema if exists ${SCHEMA} cascade`).catch(() => undefined);
    await orm.close(true);
  });

  it('the tables are distributed as the test expects', async () => {
    const tables = await run<{ name: string; type: string; column: string }[]>(
      `select table_name::text as name, citus_table_type as type, distribution_column as column from citus_tables where table_name::text like '${SCHEMA}.%' order by 1`,
    );
    assert.deepEqual(tables.map(t => [t.name, t.type, t.column]), [
      [`${SCHEMA}.event`, 'distributed', 'id'],
      [`${SCHEMA}.reading`, 'distributed', 'device'],
      [`${SCHEMA}.tenant`, 'reference', '<none>'],
    ]);
  });

  it('copies into a reference table and a distributed table, rows spread over shards', async () => {
    const e = em();
    const tenants = Array.from({ length: 20 }, (_, i) => e.create(Tenant, { id: i + 1, name: `t${i + 1}` }, { persist: false }));
    const events = Array.from({ length: 10_000 }, (_, i) => e.create(Event, { tenant: tenants[i % 20], kind: `k${i % 7}` }, { persist: false }));
    const result = await e.copyPersist([...events, ...tenants]);
    assert.deepEqual(result.byEntity, { Tenant: 20, Event: 10_000 });
    assert.equal(await count('tenant'), 20);
    assert.equal(await count('event'), 10_000);
    const [{ shards }] = await run<{ shards: number }[]>(
      `select count(distinct get_shard_id_for_distribution_column('${SCHEMA}.event', id))::int as shards from ${SCHEMA}.event`,
    );
    assert.ok(shards > 1, `all rows landed on ${shards} shard`);
  });

  it('reserves bigserial keys on the coordinator: set on the entities, the rows carry them, later inserts continue after', async () => {
    const e = em();
    const tenant = e.getReference(Tenant, 1);
    const events = Array.from({ length: 3000 }, (_, i) => e.create(Event, { tenant, kind: `keys${i}` }, { persist: false }));
    await e.copyPersist(events);
    const ids = events.map(ev => BigInt(ev.id!));
    assert.equal(new Set(ids).size, 3000);
    const stored = await run<{ id: string; kind: string }[]>(`select id::text as id, kind from ${SCHEMA}.event where kind like 'keys%'`);
    const byKind = new Map(stored.map(r => [r.kind, BigInt(r.id)]));
    for (const ev of events) assert.equal(byKind.get(ev.kind), BigInt(ev.id!));
    // an ordinary flush afterwards takes the next value of the same sequence
    const later = e.create(Event, { tenant, kind: 'flushed' });
    await e.flush();
    assert.ok(BigInt(later.id!) > ids.reduce((a, b) => (a > b ? a : b)));
  });

  it('upserts when the conflict target holds the distribution column', async () => {
    const e = em();
    const first = Array.from({ length: 1000 }, (_, i) => e.create(Reading, { device: i % 10, seq: i, value: 1 }, { persist: false }));
    await e.copyPersist(first);
    const second = Array.from({ length: 1000 }, (_, i) => e.create(Reading, { device: (i + 500) % 10, seq: i + 500, value: 2 }, { persist: false }));
    const result = await e.copyPersist(second, { onConflictFields: ['device', 'seq'], onConflictAction: 'merge' });
    assert.deepEqual(result.upserted, { inserted: 500, updated: 500, skipped: 0 });
    const [{ twos }] = await run<{ twos: number }[]>(`select count(*)::int as twos from ${SCHEMA}.reading where value = 2`);
    assert.equal(twos, 1000);
  });

  it('refuses a conflict target without the distribution column, clearly and before the server does', async () => {
    const e = em();
    const before = await count('reading');
    const rows = [e.create(Reading, { device: 1, seq: 99_999, value: 3 }, { persist: false })];
    await assert.rejects(
      e.copyPersist(rows, { onConflictFields: ['seq'] }),
      (err: unknown) => err instanceof CopyPersistError && err.code === 'DISTRIBUTION_COLUMN' && /"device"/.test(err.message),
    );
    assert.equal(await count('reading'), before);
  });

  it('parallel streams into a distributed table, exactly once with loadId', async () => {
    const rows = Array.from({ length: 20_000 }, (_, i) => ({ device: 1000 + (i % 50), seq: i, value: 7 }));
    const options: CopyParallelOptions = { parallel: 4, batchSize: 2000, loadId: 'citus-readings', loadTable: `${SCHEMA}.loads` };
    const result = await copyParallel(em(), Reading, rows, options);
    assert.deepEqual([result.rows, result.batches], [20_000, 10]);
    const again = await copyParallel(em(), Reading, rows, options);
    assert.deepEqual([again.rows, again.skippedBatches], [0, 10]);
    const [{ n }] = await run<{ n: number }[]>(`select count(*)::int as n from ${SCHEMA}.reading where value = 7`);
    assert.equal(n, 20_000);
    // and through copyPersist's own option
    const more = Array.from({ length: 5000 }, (_, i) => ({ device: 2000 + (i % 7), seq: i, value: 8 }));
    assert.equal((await copyPersist(em(), Reading, more, { parallel: 2 })).rows, 5000);
  });
});
