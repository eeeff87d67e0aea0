// loadFixtures of rows keyed by entity name turns PostgreSQL's per-row foreign key triggers off for
// the load (session_replication_role = replica) and checks every foreign key once afterwards
// (loaders/fixtures.ts). What must not change with it: a missing referenced row is the error the
// per-row checks give, nothing is written, triggers of the user's own still fire, and the session
// is left with its checks on.
import { after, afterEach, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { Collection, EntitySchema, type MikroORM } from '@mikro-orm/postgresql';
import { TestEntityManager, beginTestTransaction, copyPersist, loadFixtures, truncateEntities } from '../../src/index.js';
import { countRows, initTestOrm } from '../support/orm.js';

const SCHEMA = 'fixtures_fk';

class Shelf {
  id!: number;
  name!: string;
}

class Item {
  id!: number;
  title!: string;
  shelf!: Shelf;
  marks = new Collection<Mark>(this);
}

class Mark {
  id!: number;
  label!: string;
}

const entities = [
  new EntitySchema<Shelf>({ class: Shelf, properties: { id: { type: 'integer', primary: true }, name: { type: 'string' } } }),
  new EntitySchema<Item>({
    class: Item,
    properties: {
      id: { type: 'integer', primary: true },
      title: { type: 'string' },
      shelf: { kind: 'm:1', entity: () => Shelf },
      marks: { kind: 'm:n', entity: () => Mark, owner: true },
    },
  }),
  new EntitySchema<Mark>({ class: Mark, properties: { id: { type: 'integer', primary: true }, label: { type: 'string' } } }),
];

const SHELVES = [{ id: 1, name: 'top' }];
const MARKS = [{ id: 1, label: 'a' }, { id: 2, label: 'b' }];

describe('fixtures: foreign keys checked after the load', () => {
  let orm: MikroORM;
  const queries: string[] = [];

  before(async () => {
    orm = await initTestOrm({ schema: SCHEMA, entities, entityManager: TestEntityManager, debug: ['query'], logger: (message: string) => void queries.push(message) });
  });
  after(async () => orm?.close(true));
  afterEach(async () => {
    await truncateEntities(orm.em);
    queries.length = 0;
  });

  it('rows keyed by entity name are written with the per-row checks off, then checked', async () => {
    const result = await loadFixtures(orm.em.fork(), { Item: [{ id: 1, title: 'x', shelf: 1, marks: [1, 2] }], Shelf: SHELVES, Mark: MARKS });
    assert.equal(result.rows, 1 + 2 + 1 + 2);
    // set for the load, and set back (the logged queries show `?` for the values)
    assert.equal(queries.filter(q => q.includes("set_config('session_replication_role'")).length, 2, 'the per-row checks were not turned off');
    assert.ok(queries.some(q => q.includes('not exists (select 1 from')), 'no foreign key was checked afterwards');
  });

  for (const [what, item] of [
    ['a to-one key', { id: 2, title: 'no such shelf', shelf: 99 }],
    ['a many-to-many key', { id: 2, title: 'no such mark', shelf: 1, marks: [1, 99] }],
  ] as const) {
    it(`a missing row behind ${what} is the error the per-row checks give, and nothing is written`, async () => {
      const rows: Record<string, unknown>[] = [{ id: 1, title: 'fine', shelf: 1, marks: [2] }, item];
      // the per-row checks' error: copyPersist alone, after the referenced rows
      const expected = await orm.em
        .fork()
        .transactional(async em => {
          await copyPersist(em, Shelf, SHELVES);
          await copyPersist(em, Mark, MARKS);
          await copyPersist(em, Item, rows as never[]); // throws, and the transaction rolls back
        })
        .then(
          () => assert.fail('copyPersist wrote a row whose referenced row is missing'),
          (e: unknown) => e,
        );
      assert.ok(expected instanceof Error);
      await assert.rejects(loadFixtures(orm.em.fork(), { Item: rows, Shelf: SHELVES, Mark: MARKS }), (e: unknown) => {
        assert.ok(e instanceof Error);
        assert.equal(e.constructor, expected.constructor);
        assert.equal(e.message, expected.message);
        return true;
      });
      for (const table of ['shelf', 'item', 'mark', 'item_marks']) assert.equal(await countRows(orm, `${SCHEMA}.${table}`), 0, table);
    });
  }

  it('leaves the session with its per-row checks on, inside a test transaction', async () => {
    const tx = await beginTestTransaction(orm.em);
    try {
      await loadFixtures(tx.em, { Shelf: SHELVES });
      const [row] = await tx.em.getConnection().execute<{ role: string }[]>(`select current_setting('session_replication_role') as role`, [], 'all', tx.em.getTransactionContext());
      assert.equal(row.role, 'origin');
      await assert.rejects(
        tx.em.getConnection().execute(`insert into ${SCHEMA}.item (id, title, shelf_id) values (1, 'x', 99)`, [], 'run', tx.em.getTransactionContext()),
        /foreign key/,
      );
    } finally {
      await tx.rollback();
    }
  });

  it('a role that is not a superuser loads with the per-row checks', async () => {
    const conn = orm.em.getConnection();
    const role = 'mikro_orm_pg_copy_fixtures_fk_plain';
    await conn.execute(`drop role if exists ${role}`);
    await conn.execute(`create role ${role}`);
    try {
      await conn.execute(`grant usage on schema ${SCHEMA} to ${role}; grant all on all tables in schema ${SCHEMA} to ${role}; grant all on all sequences in schema ${SCHEMA} to ${role}`);
      const tx = await beginTestTransaction(orm.em);
      try {
        await tx.em.getConnection().execute(`set local role ${role}`, [], 'run', tx.em.getTransactionContext());
        const result = await loadFixtures(tx.em, { Item: [{ id: 1, title: 'x', shelf: 1, marks: [1] }], Shelf: SHELVES, Mark: MARKS });
        assert.equal(result.rows, 5);
        assert.ok(!queries.some(q => q.includes("set_config('session_replication_role'")), 'tried to turn the per-row checks off');
      } finally {
        await tx.rollback();
      }
    } finally {
      await conn.execute(`drop owned by ${role}`);
      await conn.execute(`drop role ${role}`);
    }
  });

  it('a table with a trigger of its own keeps the per-row checks, and its trigger fires', async () => {
    const conn = orm.em.getConnection();
    await conn.execute(`create table ${SCHEMA}.shelf_audit (name text)`);
    await conn.execute(`create function ${SCHEMA}.audit_shelf() returns trigger language plpgsql as $$ begin insert into ${SCHEMA}.shelf_audit values (new.name); return new; end $$`);
    await conn.execute(`create trigger shelf_audit after insert on ${SCHEMA}.shelf for each row execute function ${SCHEMA}.audit_shelf()`);
    try {
      await loadFixtures(orm.em.fork(), { Shelf: SHELVES, Item: [{ id: 1, title: 'x', shelf: 1 }] });
      assert.equal(await countRows(orm, `${SCHEMA}.shelf_audit`), 1, 'the trigger did not fire');
      assert.ok(!queries.some(q => q.includes("set_config('session_replication_role'")), 'the per-row checks were turned off beside a trigger');
    } finally {
      await conn.execute(`drop trigger shelf_audit on ${SCHEMA}.shelf`);
      await conn.execute(`drop table ${SCHEMA}.shelf_audit`);
      await conn.execute(`drop function ${SCHEMA}.audit_shelf()`);
    }
  });
});
