// copyDelete against flush: the same rows removed with em.remove() + flush in one schema and with
// copyDelete in another must leave equal tables; then its counts, key forms, transactions, errors.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { ForeignKeyConstraintViolationException } from '@mikro-orm/core';
import { CopyPersistError, copyDelete, type CopyEntityManager } from '../../src/index.js';
import { assertSameTable, flushAndCopySides } from '../support/bulk-model.js';
import { assertPoolHealthy, countRows } from '../support/orm.js';

const FLUSH = 'delete_flush';
const COPY = 'delete_copy';

describe('copyDelete deletes what flush deletes', () => {
  const sides = flushAndCopySides(FLUSH, COPY);
  const { flushModel, copyModel, copyEm } = sides;


  async function flushRemove(): Promise<void> {
    const em = sides.flushOrm.em.fork();
    em.remove(await em.find(flushModel.Item, { id: { $in: Array.from({ length: 15 }, (_, i) => (i + 1) * 4) } }));
    em.remove(await em.find(flushModel.Pair, { left: 2 }));
    await em.flush();
  }

  it('by primary key values and composite keys: equal tables, counts', async () => {
    await flushRemove();
    const em = copyEm();
    const items = await copyDelete(em, copyModel.Item, Array.from({ length: 15 }, (_, i) => (i + 1) * 4));
    assert.deepEqual(items, { deleted: 15, notFound: 0, byEntity: { Item: { deleted: 15, notFound: 0 } } });
    // composite keys as arrays in primary key order, and as objects
    const pairs = await em.copyDelete(copyModel.Pair, [[2, 'r2'], [2, 'r6'], { left: 2, right: 'r10' }, { left: 2, right: 'r14' }, [2, 'r18']]);
    assert.equal(pairs.deleted, 5);
    await assertSameTable(sides.copyOrm, FLUSH, COPY, 'item');
    await assertSameTable(sides.copyOrm, FLUSH, COPY, 'pair');
  });

  it('entities: equal tables; managed ones leave the identity map', async () => {
    await flushRemove();
    const em = copyEm();
    const items = await em.find(copyModel.Item, { id: { $in: Array.from({ length: 15 }, (_, i) => (i + 1) * 4) } });
    const pairs = await em.find(copyModel.Pair, { left: 2 });
    const result = await em.copyDelete([...items, ...pairs]);
    assert.deepEqual(result, { deleted: 20, notFound: 0, byEntity: { Item: { deleted: 15, notFound: 0 }, Pair: { deleted: 5, notFound: 0 } } });
    await assertSameTable(sides.copyOrm, FLUSH, COPY, 'item');
    await assertSameTable(sides.copyOrm, FLUSH, COPY, 'pair');
    assert.ok(!em.getUnitOfWork().getIdentityMap().values().includes(items[0]), 'a deleted entity is still in the identity map');
    await em.flush(); // nothing left to write for the deleted entities
  });

  it('counts keys that match no row; a key given twice is deleted once', async () => {
    const result = await copyEm().copyDelete(copyModel.Item, [1, 1, 2, 100_000, 100_001]);
    assert.deepEqual(result, { deleted: 2, notFound: 2, byEntity: { Item: { deleted: 2, notFound: 2 } } });
    assert.equal(await countRows(sides.copyOrm, `"${COPY}".item`), 58);
  });

  it('runs in the caller transaction and is rolled back with it', async () => {
    const em = copyEm();
    await assert.rejects(
      em.transactional(async trx => {
        assert.equal((await (trx as CopyEntityManager).copyDelete(copyModel.Item, [1, 2, 3])).deleted, 3);
        throw new Error('roll back');
      }),
      /roll back/,
    );
    assert.equal(await countRows(sides.copyOrm, `"${COPY}".item`), 60);
    await assertPoolHealthy(sides.copyOrm);
  });

  it('a row still referenced: MikroORM exception class naming the entity, nothing deleted, pool healthy', async () => {
    await assert.rejects(copyEm().copyDelete(copyModel.Owner, [1, 2, 3]), (e: unknown) => {
      assert.ok(e instanceof ForeignKeyConstraintViolationException, `got ${String(e)}`);
      assert.match((e as Error).message, /Owner/);
      return true;
    });
    assert.equal(await countRows(sides.copyOrm, `"${COPY}".owner`), 3);
    await assertPoolHealthy(sides.copyOrm);
  });

  it('a key of the wrong arity: entity and input position, nothing deleted', async () => {
    await assert.rejects(copyEm().copyDelete(copyModel.Pair, [[1, 'r1'], [1]]), (e: unknown) => {
      assert.ok(e instanceof CopyPersistError);
      assert.deepEqual({ code: e.code, entity: e.entity, position: e.position }, { code: 'MISSING_KEY', entity: 'Pair', position: 1 });
      return true;
    });
    assert.equal(await countRows(sides.copyOrm, `"${COPY}".pair`), 20);
    await assertPoolHealthy(sides.copyOrm);
  });
});
