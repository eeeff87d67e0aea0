// copySync against flush: a scope made equal to an input (changes, new rows, rows gone) once with
// managed entities and em.flush(), once with copySync; equal tables and the counts of each kind.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { CopyPersistError, copySync, type CopyEntityManager } from '../../src/index.js';
import { applyChange, assertSameTable, changeOf, flushAndCopySides } from '../support/bulk-model.js';
import { assertPoolHealthy, countRows } from '../support/orm.js';

const FLUSH = 'sync_flush';
const COPY = 'sync_copy';

describe('copySync', () => {
  const sides = flushAndCopySides(FLUSH, COPY);
  const { flushModel, copyModel, copyEm } = sides;
  const tableHash = async () =>
    (await sides.copyOrm.em.getConnection().execute(`select md5(string_agg(i::text, ',' order by id)) as h from "${COPY}".item as i`))[0].h as string;


  it("the table's own rows: every row unchanged (every kind compared), nothing written", async () => {
    const before = await tableHash();
    const items = await sides.copyOrm.em.fork().find(copyModel.Item, {});
    const result = await copySync(copyEm(), copyModel.Item, items, { where: {} });
    assert.deepEqual(result, { inserted: 0, updated: 0, unchanged: 60, deleted: 0 });
    assert.equal(await tableHash(), before, 'an unchanged row was written (its version would have moved)');
  });

  it('changes, new rows and rows gone in a scope: the table flush leaves, with counts', async () => {
    const scope = { owner: 1 };
    /** Of the scope's items (by id order): every 10th is changed, every 20th (offset 7) is gone; 3 new. */
    const plan = <T extends { id: number }>(items: T[]) => ({
      changed: items.filter((_, k) => k % 10 === 0),
      gone: items.filter((_, k) => k % 20 === 7),
    });
    const newRow = (n: number) => ({ title: `new ${n}`, count: n, price: '3.30', active: true, owner: 1, tags: ['n'] });

    const flushEm = sides.flushOrm.em.fork();
    const flushItems = await flushEm.find(flushModel.Item, scope, { orderBy: { id: 'asc' } });
    const f = plan(flushItems);
    for (const item of f.changed) applyChange(flushEm, item, changeOf(item.id, 1));
    for (const item of f.gone) flushEm.remove(item);
    for (let n = 0; n < 3; n++) flushEm.create(flushModel.Item, newRow(n) as never);
    await flushEm.flush();

    const loader = sides.copyOrm.em.fork();
    const copyItems = await loader.find(copyModel.Item, scope, { orderBy: { id: 'asc' } });
    const c = plan(copyItems);
    for (const item of c.changed) applyChange(loader, item, changeOf(item.id, 1));
    const input = [...copyItems.filter(i => !c.gone.includes(i)), ...[0, 1, 2].map(n => loader.create(copyModel.Item, newRow(n) as never, { persist: false }))];
    const result = await copyEm().copySync(copyModel.Item, input, { where: scope });
    assert.deepEqual(result, { inserted: 3, updated: c.changed.length, unchanged: copyItems.length - c.changed.length - c.gone.length, deleted: c.gone.length });
    assert.ok(c.changed.length >= 2 && c.gone.length >= 1, 'the scope is too small for this test');
    // `touched` is an onUpdate property: the upsert path writes rows as given and does not run it
    await assertSameTable(sides.copyOrm, FLUSH, COPY, 'item', ['touched']);
  });

  it('the scope is translated by MikroORM (a condition on a relation): rows outside it stay', async () => {
    const outside = await countRows(sides.copyOrm, `"${COPY}".item`);
    const [{ n }] = await sides.copyOrm.em.getConnection().execute(`select count(*)::int as n from "${COPY}".item i join "${COPY}".owner o on o.id = i.owner_id where o.name = 'owner 2'`);
    const result = await copyEm().copySync(copyModel.Item, [{ title: 'only one', count: 1, price: '1.00', active: false }], { where: { owner: { name: 'owner 2' } } });
    assert.deepEqual(result, { inserted: 1, updated: 0, unchanged: 0, deleted: n });
    assert.equal(await countRows(sides.copyOrm, `"${COPY}".item`), outside - n + 1);
  });

  it('runs in the caller transaction; a failure writes nothing and leaves the pool healthy', async () => {
    const before = await tableHash();
    await assert.rejects(
      copyEm().transactional(async trx => {
        const result = await (trx as CopyEntityManager).copySync(copyModel.Item, [], { where: {} });
        assert.equal(result.deleted, 60);
        throw new Error('roll back');
      }),
      /roll back/,
    );
    assert.equal(await tableHash(), before);
    const items = await sides.copyOrm.em.fork().find(copyModel.Item, { id: { $lte: 2 } }, { orderBy: { id: 'asc' } });
    await assert.rejects(copyEm().copySync(copyModel.Item, [items[0], items[1], items[0]], { where: {} }), (e: unknown) => {
      assert.ok(e instanceof CopyPersistError);
      assert.deepEqual({ code: e.code, entity: e.entity, position: e.position }, { code: 'DUPLICATE_KEY', entity: 'Item', position: 2 });
      return true;
    });
    assert.equal(await tableHash(), before);
    await assertPoolHealthy(sides.copyOrm);
  });
});
