// copyUpdate against flush: the same changes applied with em.flush() to managed entities in one
// schema and with copyUpdate in another must leave equal tables (every column compared as text);
// then its counts, options, transactions and errors.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { NotNullConstraintViolationException, OptimisticLockError, wrap } from '@mikro-orm/core';
import { CopyPersistError, copyUpdate, type CopyEntityManager } from '../../src/index.js';
import { applyChange, assertSameTable, changeOf, flushAndCopySides } from '../support/bulk-model.js';
import { assertPoolHealthy } from '../support/orm.js';

const FLUSH = 'update_flush';
const COPY = 'update_copy';

describe('copyUpdate writes what flush writes', () => {
  const sides = flushAndCopySides(FLUSH, COPY);
  const { flushModel, copyModel, copyEm } = sides;


  /** Applies `changeOf` to every third item through flush, on managed entities. */
  async function flushChanges(): Promise<void> {
    const em = sides.flushOrm.em.fork();
    const items = await em.find(flushModel.Item, {}, { orderBy: { id: 'asc' } });
    for (const item of items.filter(i => i.id % 3 === 0)) {
      applyChange(em, item, changeOf(item.id, 2));
    }
    await em.flush();
  }

  it('entities loaded elsewhere, every column written: equal tables for every kind, version and onUpdate', async () => {
    await flushChanges();
    // loaded by another EntityManager, changed, then handed over: copyUpdate writes all their columns
    const loader = sides.copyOrm.em.fork();
    const items = (await loader.find(copyModel.Item, {}, { orderBy: { id: 'asc' } })).filter(i => i.id % 3 === 0);
    for (const item of items) applyChange(loader, item, changeOf(item.id, 2));
    const result = await copyUpdate(copyEm(), items);
    assert.deepEqual(result, { updated: 20, notFound: 0, byEntity: { Item: { updated: 20, notFound: 0 } } });
    await assertSameTable(sides.copyOrm, FLUSH, COPY, 'item');
    // the version in the entities follows the database's, so a later flush of them still works
    assert.equal(items[0].version, 2);
  });

  it('plain rows with three fields: equal tables, other columns untouched', async () => {
    await flushChanges();
    const rows = Array.from({ length: 20 }, (_, k) => ({ id: (k + 1) * 3, ...changeOf((k + 1) * 3, 2) }));
    const result = await copyEm().copyUpdate(copyModel.Item, rows as never);
    assert.equal(result.updated, 20);
    await assertSameTable(sides.copyOrm, FLUSH, COPY, 'item');
  });

  it('`fields` limits the columns written; the others keep their values', async () => {
    const em = copyEm();
    const before = await em.getConnection().execute(`select id, title, count from "${COPY}".item order by id`);
    const items = await sides.copyOrm.em.fork().find(copyModel.Item, {}, { orderBy: { id: 'asc' } });
    for (const item of items) {
      item.title = `new ${item.id}`;
      item.count = -1;
    }
    await em.copyUpdate(items, { fields: ['title'] });
    const after = await em.getConnection().execute<{ id: number; title: string; count: number }[]>(`select id, title, count from "${COPY}".item order by id`);
    assert.deepEqual(after.map(r => r.count), before.map(r => r.count));
    assert.deepEqual(after.map(r => r.title), before.map(r => `new ${r.id}`));
  });

  it('composite keys: the same table as flush', async () => {
    const flushEm = sides.flushOrm.em.fork();
    for (const pair of await flushEm.find(flushModel.Pair, { left: 1 })) pair.value = `changed ${pair.right}`;
    await flushEm.flush();
    const rows = Array.from({ length: 20 }, (_, i) => ({ left: i % 4, right: `r${i}`, value: `changed r${i}` })).filter(r => r.left === 1);
    const result = await copyEm().copyUpdate(copyModel.Pair, rows);
    assert.deepEqual(result.updated, 5);
    await assertSameTable(sides.copyOrm, FLUSH, COPY, 'pair');
  });

  it('managed entities take a snapshot: a flush afterwards writes nothing more', async () => {
    const em = copyEm();
    const items = await em.find(copyModel.Item, { id: { $lte: 5 } });
    for (const item of items) item.title = `via copy ${item.id}`;
    await em.copyUpdate(items, { fields: ['title'] });
    let queries = 0;
    em.getEventManager().registerSubscriber({ beforeFlush: () => void queries++, onFlush: args => void (queries += args.uow.getChangeSets().length) });
    await em.flush();
    assert.equal(queries, 1, 'flush found change sets after copyUpdate');
    assert.equal(wrap(items[0]).toObject().title, `via copy ${items[0].id}`);
  });

  it('counts keys that match no row, and fails on them with onMissing: fail, writing nothing', async () => {
    const em = copyEm();
    const rows = [{ id: 1, title: 'one' }, { id: 100_000, title: 'none' }, { id: 2, title: 'two' }];
    assert.deepEqual(await em.copyUpdate(copyModel.Item, rows), { updated: 2, notFound: 1, byEntity: { Item: { updated: 2, notFound: 1 } } });
    const changed = [{ id: 3, title: 'three' }, { id: 100_001, title: 'none' }];
    await assert.rejects(em.copyUpdate(copyModel.Item, changed, { onMissing: 'fail' }), (e: unknown) => {
      assert.ok(e instanceof CopyPersistError);
      assert.equal(e.code, 'NOT_FOUND');
      assert.equal(e.entity, 'Item');
      assert.equal(e.position, 1);
      return true;
    });
    const [row] = await em.getConnection().execute(`select title from "${COPY}".item where id = 3`);
    assert.notEqual(row.title, 'three');
    await assertPoolHealthy(sides.copyOrm);
  });

  it('a stale version fails the whole call with OptimisticLockError, as flush does', async () => {
    const em = copyEm();
    const items = await sides.copyOrm.em.fork().find(copyModel.Item, { id: { $lte: 4 } }, { orderBy: { id: 'asc' } });
    await em.getConnection().execute(`update "${COPY}".item set version = version + 1 where id = 3`);
    for (const item of items) item.title = 'stale?';
    await assert.rejects(em.copyUpdate(items), (e: unknown) => {
      assert.ok(e instanceof OptimisticLockError, `expected OptimisticLockError, got ${String(e)}`);
      assert.match(e.message, /Item\.version, input position 2/);
      return true;
    });
    const titles = await em.getConnection().execute(`select title from "${COPY}".item where title = 'stale?'`);
    assert.equal(titles.length, 0);
    await assertPoolHealthy(sides.copyOrm);
  });

  it('runs in the caller transaction: rolled back with it; a failure leaves that transaction usable', async () => {
    const em = copyEm();
    await assert.rejects(
      em.transactional(async trx => {
        await (trx as CopyEntityManager).copyUpdate(copyModel.Item, [{ id: 1, title: 'in trx' }]);
        const [row] = await trx.getConnection().execute(`select title from "${COPY}".item where id = 1`, [], 'all', trx.getTransactionContext());
        assert.equal(row.title, 'in trx');
        throw new Error('roll back');
      }),
      /roll back/,
    );
    const [row] = await em.getConnection().execute(`select title from "${COPY}".item where id = 1`);
    assert.notEqual(row.title, 'in trx');

    await em.transactional(async trx => {
      await assert.rejects((trx as CopyEntityManager).copyUpdate(copyModel.Item, [{ id: 1, title: null }] as never), NotNullConstraintViolationException);
      await (trx as CopyEntityManager).copyUpdate(copyModel.Item, [{ id: 2, title: 'after the failure' }]);
    });
    const [second] = await em.getConnection().execute(`select title from "${COPY}".item where id = 2`);
    assert.equal(second.title, 'after the failure');
    await assertPoolHealthy(sides.copyOrm);
  });

  describe('errors: entity, property and position; nothing written; the pool healthy', () => {
    async function rejects(call: () => Promise<unknown>, check: (e: unknown) => void): Promise<void> {
      const snapshot = await sides.copyOrm.em.getConnection().execute(`select md5(string_agg(i::text, ',' order by id)) as h from "${COPY}".item as i`);
      await assert.rejects(call(), e => {
        check(e);
        return true;
      });
      assert.deepEqual(await sides.copyOrm.em.getConnection().execute(`select md5(string_agg(i::text, ',' order by id)) as h from "${COPY}".item as i`), snapshot);
      await assertPoolHealthy(sides.copyOrm);
    }
    const copyError = (code: string, property: string | undefined, position: number | undefined) => (e: unknown) => {
      assert.ok(e instanceof CopyPersistError, `expected CopyPersistError, got ${String(e)}`);
      assert.deepEqual({ code: e.code, entity: e.entity, property: e.property, position: e.position }, { code, entity: 'Item', property, position });
    };

    it('two items with one key', () =>
      rejects(() => copyEm().copyUpdate(copyModel.Item, [{ id: 1, title: 'a' }, { id: 2, title: 'b' }, { id: 1, title: 'c' }]), copyError('DUPLICATE_KEY', undefined, 2)));

    it('an item without its primary key', () => rejects(() => copyEm().copyUpdate(copyModel.Item, [{ id: 1, title: 'a' }, { title: 'b' }]), copyError('MISSING_KEY', undefined, 1)));

    it('a property that is not one of the entity', () => rejects(() => copyEm().copyUpdate(copyModel.Item, [{ id: 1, nope: 1 }] as never), copyError('UNKNOWN_PROPERTY', 'nope', 0)));

    it('`fields` naming an unknown property', () => rejects(() => copyEm().copyUpdate(copyModel.Item, [{ id: 1 }], { fields: ['nope'] }), copyError('UNKNOWN_PROPERTY', 'nope', undefined)));
    it('`fields` naming what every object has', () => rejects(() => copyEm().copyUpdate(copyModel.Item, [{ id: 1 }], { fields: ['constructor'] }), copyError('UNKNOWN_PROPERTY', 'constructor', undefined)));

    it('a value PostgreSQL text cannot hold', () =>
      rejects(() => copyEm().copyUpdate(copyModel.Item, [{ id: 1, title: 'ok' }, { id: 2, title: 'nul\0' }]), copyError('NUL_CHARACTER', 'title', 1)));

    it('a database error surfaces as MikroORM exception class naming the entity', () =>
      rejects(() => copyEm().copyUpdate(copyModel.Item, [{ id: 1, title: null }] as never), e => {
        assert.ok(e instanceof NotNullConstraintViolationException, `got ${String(e)}`);
        // named as the call the user made, not as copyPersist
        assert.match((e as Error).message, /^copyUpdate into Item failed/);
      }));
  });
});
