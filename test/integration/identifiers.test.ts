// Names that need quoting everywhere: reserved words, double quotes, spaces, mixed case and
// non-ASCII, in a schema of such a name. They must be written correctly and never reach SQL unquoted.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { EntitySchema, type MikroORM } from '@mikro-orm/postgresql';
import type { CopyEntityManager } from '../../src/index.js';
import { initTestOrm } from '../support/orm.js';

const SCHEMA = 'Weird "Schema" ü';

class Order {
  id!: number;
  select!: string;
  user?: string;
  spaced?: string;
  mixed?: number;
  injection?: string;
}

const OrderSchema = new EntitySchema<Order>({
  class: Order,
  tableName: 'order',
  schema: SCHEMA,
  properties: {
    id: { type: 'integer', primary: true, fieldName: 'ID' },
    select: { type: 'text', fieldName: 'select' },
    user: { type: 'text', fieldName: 'user', nullable: true },
    spaced: { type: 'text', fieldName: 'with space ", äöü', nullable: true },
    mixed: { type: 'integer', fieldName: 'MixedCase', nullable: true },
    injection: { type: 'text', fieldName: 'x"); drop table "order"; --', nullable: true },
  },
});

describe('hostile identifiers', () => {
  let orm: MikroORM;
  before(async () => {
    orm = await initTestOrm({ schema: 'identifiers_test', extraSchemas: [SCHEMA], entities: [OrderSchema] });
  });
  after(async () => orm?.close(true));

  it('writes reserved, quoted, spaced, mixed-case and non-ASCII names in a non-default schema', async () => {
    const em = orm.em.fork() as CopyEntityManager;
    const orders = [1, 2, 3].map(i =>
      em.create(Order, { id: i, select: `s${i}`, user: `u${i}`, spaced: `"${i}"`, mixed: i * 10, injection: `'; drop table x; --${i}` }, { persist: false }),
    );
    assert.equal((await em.copyPersist(orders)).rows, 3);
    const found = await orm.em.fork().find(Order, {}, { orderBy: { id: 'asc' } });
    assert.deepEqual(
      found.map(o => ({ ...o })),
      orders.map(o => ({ ...o })),
    );
    const [{ n }] = await em.getConnection().execute(`select count(*)::int as n from "Weird ""Schema"" ü"."order"`);
    assert.equal(n, 3);
  });
});
