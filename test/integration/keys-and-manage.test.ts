import { after, afterEach, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { BigIntType, EntitySchema, type MikroORM } from '@mikro-orm/postgresql';
import type { CopyEntityManager } from '../../src/index.js';
import { initTestOrm } from '../support/orm.js';

const SCHEMA = 'keys_test';

class Serial {
  id?: number;
  name!: string;
}
class BigSerial {
  id?: string | bigint;
  name!: string;
}
class Identity {
  id?: number;
  name!: string;
}
class Uuid {
  id!: string;
  name!: string;
}
class BigNumber {
  id?: number;
  name!: string;
}
class BigText {
  id?: string;
  name!: string;
}

const entities = [
  new EntitySchema<Serial>({ class: Serial, properties: { id: { type: 'integer', primary: true, autoincrement: true }, name: { type: 'string' } } }),
  new EntitySchema<BigSerial>({ class: BigSerial, properties: { id: { type: 'bigint', primary: true, autoincrement: true }, name: { type: 'string' } } }),
  new EntitySchema<Identity>({ class: Identity, properties: { id: { type: 'integer', primary: true, autoincrement: true }, name: { type: 'string' } } }),
  new EntitySchema<Uuid>({ class: Uuid, properties: { id: { type: 'uuid', primary: true, onCreate: () => randomUUID() }, name: { type: 'string' } } }),
  new EntitySchema<BigNumber>({ class: BigNumber, properties: { id: { type: new BigIntType('number'), primary: true, autoincrement: true }, name: { type: 'string' } } }),
  new EntitySchema<BigText>({ class: BigText, properties: { id: { type: new BigIntType('string'), primary: true, autoincrement: true }, name: { type: 'string' } } }),
];

describe('primary keys back on the entities', () => {
  let orm: MikroORM;
  const fork = () => orm.em.fork() as CopyEntityManager;
  const make = <T extends { name: string }>(em: CopyEntityManager, cls: new () => T, n: number, prefix = 'n') =>
    Array.from({ length: n }, (_, i) => em.create(cls, { name: `${prefix}${i}` } as never, { persist: false }) as T);
  const dbRows = (table: string) => orm.em.fork().getConnection().execute<{ id: unknown; name: string }[]>(`select id, name from ${SCHEMA}.${table} order by id`);

  before(async () => {
    orm = await initTestOrm({ schema: SCHEMA, entities });
    // an identity column GENERATED ALWAYS instead of MikroORM's serial
    await orm.em.getConnection().execute(`drop table ${SCHEMA}.identity; create table ${SCHEMA}.identity (id int generated always as identity primary key, name varchar(255) not null)`);
  });
  afterEach(async () => {
    await orm.em.getConnection().execute(`truncate ${SCHEMA}.serial, ${SCHEMA}.big_serial, ${SCHEMA}.identity, ${SCHEMA}.uuid, ${SCHEMA}.big_number, ${SCHEMA}.big_text restart identity`);
  });
  after(async () => orm?.close(true));

  for (const [cls, table] of [[Serial, 'serial'], [BigSerial, 'big_serial'], [Identity, 'identity'], [BigNumber, 'big_number'], [BigText, 'big_text']] as const) {
    it(`${table} keys are reserved from the sequence and set on the entities`, async () => {
      const em = fork();
      const list = make(em, cls as new () => { id?: unknown; name: string }, 2500);
      await em.copyPersist(list, { chunkSize: 1000 });
      const rows = await dbRows(table);
      assert.deepEqual(
        list.map(e => [String(e.id), e.name]),
        rows.map(r => [String(r.id), r.name]),
      );
      // the same JS type flush gives the key
      const flushed = em.create(cls as new () => { id?: unknown; name: string }, { name: 'flushed' } as never);
      await em.flush();
      assert.equal(typeof list[0].id, typeof flushed.id);
      // and an ordinary INSERT after the copy gets a fresh key
      assert.ok(BigInt(String(flushed.id)) > BigInt(String(list.at(-1)!.id)));
    });
  }

  // keys of up to 15 digits are read from the reservation as numbers, longer ones as text
  it('reserved keys past 2^53 and below zero keep every digit', async () => {
    const sequence = async (table: string, sql: string) => {
      const [{ name }] = await orm.em.getConnection().execute(`select pg_get_serial_sequence('${SCHEMA}.${table}', 'id') as name`);
      await orm.em.getConnection().execute(`alter sequence ${name} ${sql}`);
    };
    try {
      await sequence('big_serial', 'restart with 999999999999998');
      await sequence('big_text', 'restart with 9007199254740990');
      await sequence('serial', 'minvalue -100 increment -7 restart with 3');
      const em = fork();
      const big = make(em, BigSerial, 4);
      const text = make(em, BigText, 4);
      const negative = make(em, Serial, 4);
      await em.copyPersist([...big, ...text, ...negative]);
      assert.deepEqual(big.map(e => e.id), [999999999999998n, 999999999999999n, 1000000000000000n, 1000000000000001n]);
      assert.deepEqual(text.map(e => e.id), ['9007199254740990', '9007199254740991', '9007199254740992', '9007199254740993']);
      assert.deepEqual(negative.map(e => e.id), [3, -4, -11, -18]);
      for (const [list, table] of [[big, 'big_serial'], [text, 'big_text'], [negative, 'serial']] as const) {
        assert.deepEqual(new Set((await dbRows(table)).map(r => String(r.id))), new Set(list.map(e => String(e.id))));
      }
    } finally {
      await sequence('serial', 'minvalue 1 increment 1 restart with 1');
    }
  });

  it('client-generated keys come from onCreate', async () => {
    const em = fork();
    const list = make(em, Uuid, 10);
    await em.copyPersist(list);
    const rows = await dbRows('uuid');
    assert.deepEqual(new Set(list.map(e => e.id)), new Set(rows.map(r => r.id)));
  });

  it('explicit keys are kept, only missing ones are reserved', async () => {
    const em = fork();
    const list = make(em, Serial, 4);
    list[1].id = 1_000_000;
    await em.copyPersist(list);
    assert.equal(list[1].id, 1_000_000);
    assert.deepEqual((await dbRows('serial')).map(r => r.id), [list[0].id, list[2].id, list[3].id, 1_000_000].sort((a, b) => a! - b!));
  });

  it('assignKeys: false leaves the keys to the database and unset on the entities', async () => {
    const em = fork();
    const list = make(em, Serial, 5);
    await em.copyPersist(list, { assignKeys: false });
    assert.ok(list.every(e => e.id === undefined));
    assert.deepEqual((await dbRows('serial')).map(r => r.id), [1, 2, 3, 4, 5]);
  });

  it('reserved keys never collide with concurrent flushes and copies', async () => {
    const copies = [0, 1, 2].map(c => {
      const em = fork();
      return em.copyPersist(make(em, Serial, 5000, `c${c}-`), { chunkSize: 500 });
    });
    const flushes = Array.from({ length: 20 }, async (_, f) => {
      const em = orm.em.fork();
      make(em as CopyEntityManager, Serial, 50, `f${f}-`).forEach(e => em.persist(e));
      await em.flush();
    });
    await Promise.all([...copies, ...flushes]);
    const [{ n, ids }] = await orm.em.fork().getConnection().execute(`select count(*)::int as n, count(distinct id)::int as ids from ${SCHEMA}.serial`);
    assert.deepEqual({ n, ids }, { n: 16_000, ids: 16_000 });
  });

  it('manage: true puts the copies into the identity map, so changes become UPDATEs', async () => {
    const em = fork();
    const list = make(em, Serial, 3);
    await em.copyPersist(list, { manage: true });
    assert.equal(await em.findOne(Serial, list[1].id!), list[1]);
    list[1].name = 'renamed';
    await em.flush();
    assert.deepEqual((await dbRows('serial')).map(r => r.name), ['n0', 'renamed', 'n2']);
  });

  it('without manage the identity map stays empty', async () => {
    const em = fork();
    await em.copyPersist(make(em, Serial, 3));
    assert.equal(em.getUnitOfWork().getIdentityMap().values().length, 0);
  });
});
