import { after, before, beforeEach, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { EntitySchema, type MikroORM } from '@mikro-orm/postgresql';
import { CopyPersistError, type CopyEntityManager } from '../../src/index.js';
import { copyError } from '../support/copy-error.js';
import { assertPoolHealthy, initTestOrm } from '../support/orm.js';

function productSchema() {
  class Product {
    id?: number;
    sku!: string;
    name!: string;
    price!: string;
    stock = 0;
    region?: string | null;
  }
  const schema = new EntitySchema<Product>({
    class: Product,
    properties: {
      id: { type: 'integer', primary: true, autoincrement: true },
      sku: { type: 'string', unique: true },
      name: { type: 'string' },
      price: { type: 'decimal', precision: 10, scale: 2 },
      stock: { type: 'integer' },
      region: { type: 'string', nullable: true },
    },
  });
  return { Product, schema };
}

const row = (i: number, version: number) => ({ sku: `sku-${i}`, name: `product ${i} v${version}`, price: `${i}.${version}0`, stock: i * version });

describe('upsert through a staging table', () => {
  const viaFlush = productSchema();
  const viaCopy = productSchema();
  let flushOrm: MikroORM;
  let copyOrm: MikroORM;
  const copyEm = () => copyOrm.em.fork() as CopyEntityManager;
  const table = (orm: MikroORM) => `${orm.config.get('schema')}.product`;
  const rows = (orm: MikroORM) => orm.em.fork().getConnection().execute(`select * from ${table(orm)} order by id`);

  before(async () => {
    flushOrm = await initTestOrm({ schema: 'upsert_flush', entities: [viaFlush.schema] });
    copyOrm = await initTestOrm({ schema: 'upsert_copy', entities: [viaCopy.schema] });
  });
  beforeEach(async () => {
    for (const orm of [flushOrm, copyOrm]) {
      await orm.em.getConnection().execute(`truncate ${table(orm)} restart identity`);
      // 500 existing rows, written the same way on both sides
      await orm.em.fork().insertMany(orm === flushOrm ? viaFlush.Product : viaCopy.Product, Array.from({ length: 500 }, (_, i) => row(i, 1)));
    }
  });
  after(async () => {
    await flushOrm?.close(true);
    await copyOrm?.close(true);
  });

  it('merge on a unique field: the same table as em.upsertMany, with counts', async () => {
    const input = Array.from({ length: 1000 }, (_, i) => row(i + 250, 2)); // 250 existing, 750 new
    await flushOrm.em.fork().upsertMany(viaFlush.Product, structuredClone(input), { onConflictFields: ['sku'], onConflictAction: 'merge' });
    const em = copyEm();
    const entities = input.map(r => em.create(viaCopy.Product, r, { persist: false }));
    const result = await em.copyPersist(entities, { onConflictFields: ['sku'], onConflictAction: 'merge' });
    assert.deepEqual(result.upserted, { inserted: 750, updated: 250, skipped: 0 });
    assert.equal(result.rows, 1000);
    const [a, b] = [await rows(flushOrm), await rows(copyOrm)];
    // ids: both sides take new keys from their own sequence, in input order
    assert.deepEqual(b, a);
    // entities that met an existing row carry that row's key
    const byId = new Map(b.map(r => [r.id, r.sku]));
    for (const e of entities) assert.equal(byId.get(e.id), e.sku);
    await assertPoolHealthy(copyOrm);
  });

  it('ignore keeps existing rows and reports them as skipped', async () => {
    const input = Array.from({ length: 100 }, (_, i) => row(i + 450, 3)); // 50 existing, 50 new
    // em.upsertMany writes keys back into the data objects: give each side its own copy
    await flushOrm.em.fork().upsertMany(viaFlush.Product, structuredClone(input), { onConflictFields: ['sku'], onConflictAction: 'ignore' });
    const result = await copyEm().copyPersist(viaCopy.Product, input, { onConflictFields: ['sku'], onConflictAction: 'ignore' });
    assert.deepEqual(result.upserted, { inserted: 50, updated: 0, skipped: 50 });
    assert.deepEqual(await rows(copyOrm), await rows(flushOrm));
  });

  it('only the listed merge fields change', async () => {
    const input = [row(1, 9), row(2, 9)];
    await copyEm().copyPersist(viaCopy.Product, input, { onConflictFields: ['sku'], onConflictMergeFields: ['price'] });
    const [r1] = (await rows(copyOrm)).filter(r => r.sku === 'sku-1');
    assert.deepEqual({ name: r1.name, price: r1.price, stock: r1.stock }, { name: 'product 1 v1', price: '1.90', stock: 1 });
  });

  it('duplicate keys in one input are an error naming both positions, and nothing is written', async () => {
    const before = await rows(copyOrm);
    const input = [row(900, 1), row(901, 1), row(7, 2), row(901, 2)];
    await assert.rejects(copyEm().copyPersist(viaCopy.Product, input, { onConflictFields: ['sku'] }), (e: unknown) => {
      assert.ok(e instanceof CopyPersistError);
      assert.equal(e.code, 'DUPLICATE_KEY');
      assert.match(e.message, /input positions 1 and 3/);
      assert.equal(e.position, 3);
      return true;
    });
    assert.deepEqual(await rows(copyOrm), before);
    await assertPoolHealthy(copyOrm);
  });

  it('a key met twice that exists already is an error naming both positions, within the caller transaction too, and nothing is written', async () => {
    const before = await rows(copyOrm);
    const input = [row(7, 2), row(900, 1), row(8, 2), row(7, 3)];
    await assert.rejects(
      copyEm().transactional(trx => (trx as CopyEntityManager).copyPersist(viaCopy.Product, input, { onConflictFields: ['sku'] })),
      (e: unknown) => {
        assert.ok(e instanceof CopyPersistError);
        assert.equal(e.code, 'DUPLICATE_KEY');
        assert.match(e.message, /input positions 0 and 3/);
        assert.equal(e.position, 3);
        return true;
      },
    );
    assert.deepEqual(await rows(copyOrm), before);
    await assertPoolHealthy(copyOrm);
  });

  it("onConflictDuplicates: 'last-wins' keeps the later row", async () => {
    const input = [row(901, 1), row(901, 2), row(5, 4), row(5, 3)];
    const result = await copyEm().copyPersist(viaCopy.Product, input, { onConflictFields: ['sku'], onConflictDuplicates: 'last-wins' });
    assert.deepEqual(result.upserted, { inserted: 1, updated: 1, skipped: 2 });
    const byS = new Map((await rows(copyOrm)).map(r => [r.sku, r.name]));
    assert.equal(byS.get('sku-901'), 'product 901 v2');
    assert.equal(byS.get('sku-5'), 'product 5 v3');
  });

  it('onConflictFields naming no property, or a name every object has, fails before anything is written', async () => {
    for (const field of ['nope', 'constructor']) {
      await assert.rejects(copyEm().copyPersist(viaCopy.Product, [row(6000, 1)], { onConflictFields: [field] as never }), copyError('UNKNOWN_PROPERTY', 'Product', field));
    }
    assert.equal((await rows(copyOrm)).filter(r => r.sku === 'sku-6000').length, 0);
  });

  it('the primary key is the default conflict target', async () => {
    const em = copyEm();
    const existing = await em.findOneOrFail(viaCopy.Product, { sku: 'sku-3' });
    const changed = em.create(viaCopy.Product, { ...row(3, 7), id: existing.id }, { persist: false });
    const fresh = em.create(viaCopy.Product, row(5000, 1), { persist: false });
    const result = await (copyEm()).copyPersist([changed, fresh], { onConflictAction: 'merge' });
    assert.deepEqual(result.upserted, { inserted: 1, updated: 1, skipped: 0 });
    assert.ok(fresh.id! > 500);
  });

  it('a named unique constraint as the target', async () => {
    await copyOrm.em.getConnection().execute(`alter table ${table(copyOrm)} add constraint product_name_region_unique unique (name, region)`);
    try {
      const input = [{ ...row(1, 1), sku: 'other-sku', stock: 99 }];
      const result = await copyEm().copyPersist(viaCopy.Product, input, { onConflictFields: { constraint: 'product_name_region_unique' }, onConflictMergeFields: ['stock'] });
      // region is NULL on both rows, so they do not conflict under a plain unique constraint
      assert.deepEqual(result.upserted, { inserted: 1, updated: 0, skipped: 0 });
    } finally {
      await copyOrm.em.getConnection().execute(`alter table ${table(copyOrm)} drop constraint product_name_region_unique`);
    }
  });

  it('a partial unique index, named by its predicate', async () => {
    await copyOrm.em.getConnection().execute(`create unique index product_region_name on ${table(copyOrm)} (name) where region is not null`);
    try {
      await copyEm().copyPersist(viaCopy.Product, [{ ...row(1000, 1), name: 'regional', region: 'eu' }]);
      const result = await copyEm().copyPersist(viaCopy.Product, [{ ...row(1001, 1), name: 'regional', region: 'eu', stock: 42 }], {
        onConflictFields: ['name'],
        onConflictIndexWhere: 'region is not null',
        onConflictMergeFields: ['stock'],
      });
      assert.deepEqual(result.upserted, { inserted: 0, updated: 1, skipped: 0 });
      const regional = (await rows(copyOrm)).filter(r => r.name === 'regional');
      assert.deepEqual(regional.map(r => [r.sku, r.stock]), [['sku-1000', 42]]);
    } finally {
      await copyOrm.em.getConnection().execute(`drop index ${copyOrm.config.get('schema')}.product_region_name`);
    }
  });

  it('inside the caller’s transaction, and no staging table outlives the call, even after an error', async () => {
    const stages = `select count(*)::int as n from pg_class where relname like 'mikro_orm_pg_copy_stage%' and relpersistence = 't'`;
    await copyOrm.em.fork().transactional(async em => {
      const cem = em as CopyEntityManager;
      await cem.copyPersist(viaCopy.Product, [row(1, 5)], { onConflictFields: ['sku'] });
      await assert.rejects(cem.copyPersist(viaCopy.Product, [row(2, 5), row(2, 6)], { onConflictFields: ['sku'] }), /DUPLICATE|same conflict key/);
      const [{ n }] = await em.getConnection().execute(stages, [], 'all', em.getTransactionContext());
      assert.equal(n, 0);
      const [updated] = await em.getConnection().execute(`select name from ${table(copyOrm)} where sku = 'sku-1'`, [], 'all', em.getTransactionContext());
      assert.equal(updated.name, 'product 1 v5');
    });
    await assertPoolHealthy(copyOrm);
  });
});
