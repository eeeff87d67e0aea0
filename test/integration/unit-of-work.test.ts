// The unit of work around a copy, as in real MikroORM apps (issues #11, #16, #17): entities made
// with em.create(), many-to-many collections, lifecycle hooks and subscribers, tenant schemas.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { Collection, EntitySchema, wrap, type EventArgs, type EventSubscriber, type MikroORM } from '@mikro-orm/postgresql';
import { CopyPersistError, type CopyEntityManager } from '../../src/index.js';
import { MIKRO_ORM_VERSION, assertPoolHealthy, initTestOrm } from '../support/orm.js';

function model() {
  class Label {
    id?: number;
    name!: string;
    items = new Collection<Item>(this);
  }
  class Item {
    id?: number;
    name!: string;
    slug?: string;
    labels = new Collection<Label>(this);
  }
  const calls: string[] = [];
  const schemas = [
    new EntitySchema<Label>({
      class: Label,
      properties: {
        id: { type: 'integer', primary: true, autoincrement: true },
        name: { type: 'string' },
        items: { kind: 'm:n', entity: () => Item, mappedBy: 'labels' },
      },
    }),
    new EntitySchema<Item>({
      class: Item,
      hooks: {
        // a hook that fills a required column: flush runs it before its required check
        beforeCreate: [(args: EventArgs<Item>) => {
          args.entity.slug ??= args.entity.name.toLowerCase().replaceAll(' ', '-');
          calls.push(`hook beforeCreate ${args.entity.name}`);
        }],
        afterCreate: [(args: EventArgs<Item>) => void calls.push(`hook afterCreate ${args.entity.name} #${args.entity.id}`)],
      },
      properties: {
        id: { type: 'integer', primary: true, autoincrement: true },
        name: { type: 'string' },
        slug: { type: 'string' },
        labels: { kind: 'm:n', entity: () => Label, owner: true, inversedBy: 'items' },
      },
    }),
  ];
  return { Label, Item, schemas, calls };
}

describe('the unit of work around a copy', () => {
  const m = model();
  let orm: MikroORM;
  const subscriber: EventSubscriber<object> = {
    beforeCreate: async args => void m.calls.push(`subscriber beforeCreate ${(args.entity as { name: string }).name}`),
    afterCreate: async args => void m.calls.push(`subscriber afterCreate ${(args.entity as { name: string }).name}`),
  };

  before(async () => {
    orm = await initTestOrm({ schema: 'uow', extraSchemas: ['uow_tenant'], entities: m.schemas, subscribers: [subscriber] });
    // a tenant schema with the same tables, as schema-per-tenant apps have
    await orm.em.getConnection().execute(`create table uow_tenant.label (like uow.label including all); create table uow_tenant.item (like uow.item including all)`);
  });
  after(async () => orm?.close(true));

  const count = async (table: string) => Number((await orm.em.getConnection().execute(`select count(*) as n from ${table}`))[0].n);
  const reset = () => orm.em.getConnection().execute('truncate uow.label, uow.item, uow.item_labels, uow_tenant.label, uow_tenant.item restart identity cascade');

  it('entities made with em.create() are not inserted again by the next flush', async () => {
    await reset();
    const em = orm.em.fork() as CopyEntityManager;
    const items = [1, 2, 3].map(i => em.create(m.Item, { name: `created ${i}` }));
    await em.copyPersist(items);
    await em.flush();
    assert.equal(await count('uow.item'), 3);
  });

  // MikroORM 6's transactional fork does not receive its parent's schedule, so a copy inside it cannot
  // see (nor unschedule) what the parent's em.create() scheduled: a documented limitation (README)
  const v6Limitation = MIKRO_ORM_VERSION === 6 && 'MikroORM 6: a transactional fork cannot reach its parent’s persist stack (README: Semantics)';
  it('entities made with em.create() on the outer EntityManager, copied inside em.transactional(), are not inserted again', { skip: v6Limitation }, async () => {
    await reset();
    const em = orm.em.fork() as CopyEntityManager;
    const items = [1, 2].map(i => em.create(m.Item, { name: `outer ${i}` }));
    await em.transactional(async tx => {
      await tx.copyPersist(items);
    });
    await em.flush();
    assert.equal(await count('uow.item'), 2);
  });

  it('many-to-many collections of entity instances become pivot rows without cascade', async () => {
    await reset();
    const em = orm.em.fork() as CopyEntityManager;
    const labels = [1, 2].map(i => em.create(m.Label, { name: `label ${i}` }, { persist: false }));
    await em.copyPersist(labels);
    const items = [1, 2, 3].map(i => em.create(m.Item, { name: `item ${i}` }, { persist: false }));
    items.forEach((item, i) => item.labels.add(labels.slice(0, i % 2 + 1)));
    const result = await em.copyPersist(items);
    // the pivot entity's name differs between MikroORM versions; the rows do not
    assert.equal(result.byEntity.Item, 3);
    assert.equal(result.rows, 7);
    assert.equal(await count('uow.item_labels'), 4);
  });

  it('many-to-many links in plain rows, by key, are written', async () => {
    await reset();
    const em = orm.em.fork() as CopyEntityManager;
    await em.copyPersist(m.Label, [{ id: 1, name: 'a' }, { id: 2, name: 'b' }]);
    await em.copyPersist(m.Item, [{ name: 'x', slug: 'x', labels: [1, 2] }, { name: 'y', slug: 'y', labels: [2] }] as never);
    const links = await orm.em.getConnection().execute(`select i.name, l.name as label from uow.item_labels il join uow.item i on i.id = il.item_id join uow.label l on l.id = il.label_id order by 1, 2`);
    assert.deepEqual(links, [{ name: 'x', label: 'a' }, { name: 'x', label: 'b' }, { name: 'y', label: 'b' }]);
  });

  it('a many-to-many item that is new and not copied is an error naming the property', async () => {
    const em = orm.em.fork() as CopyEntityManager;
    const item = em.create(m.Item, { name: 'orphan link' }, { persist: false });
    item.labels.add(em.create(m.Label, { name: 'never copied' }, { persist: false }));
    await assert.rejects(em.copyPersist([item]), (e: unknown) => e instanceof CopyPersistError && e.code === 'MISSING_REFERENCE_KEY' && e.property === 'labels');
    await assertPoolHealthy(orm);
  });

  it('manage + cascade with many-to-many: the next flush writes nothing', async () => {
    await reset();
    const em = orm.em.fork() as CopyEntityManager;
    const item = em.create(m.Item, { name: 'managed' }, { persist: false });
    item.labels.add(em.create(m.Label, { name: 'l' }, { persist: false }));
    await em.copyPersist([item], { cascade: true, manage: true });
    await em.flush();
    assert.equal(await count('uow.item_labels'), 1);
    assert.equal(await em.findOne(m.Item, item.id!), item);
  });

  it('runs beforeCreate and afterCreate hooks and subscribers as flush does; hooks: false skips them', async () => {
    await reset();
    m.calls.length = 0;
    const em = orm.em.fork() as CopyEntityManager;
    await em.copyPersist(m.Item, [{ name: 'Hooked Item' }]);
    assert.deepEqual(await orm.em.getConnection().execute('select slug from uow.item'), [{ slug: 'hooked-item' }]);
    assert.deepEqual(m.calls.sort(), ['hook afterCreate Hooked Item #1', 'hook beforeCreate Hooked Item', 'subscriber afterCreate Hooked Item', 'subscriber beforeCreate Hooked Item']);
    m.calls.length = 0;
    await assert.rejects(em.copyPersist(m.Item, [{ name: 'no hooks' }], { hooks: false }), (e: unknown) => e instanceof CopyPersistError && e.code === 'REQUIRED_VALUE');
    assert.deepEqual(m.calls, []);
    await assertPoolHealthy(orm);
  });

  it('writes into the fork’s schema, as flush does (schema per tenant)', async () => {
    await reset();
    const em = orm.em.fork({ schema: 'uow_tenant' }) as CopyEntityManager;
    await em.copyPersist(m.Label, [{ name: 'tenant label' }]);
    await em.copyPersist([em.create(m.Label, { name: 'tenant entity' }, { persist: false })], { manage: true });
    assert.equal(await count('uow_tenant.label'), 2);
    assert.equal(await count('uow.label'), 0);
  });

  it('an upsert in a tenant fork merges into the tenant’s table; an entity’s own schema wins over the fork’s', async () => {
    await reset();
    const tenant = orm.em.fork({ schema: 'uow_tenant' }) as CopyEntityManager;
    await tenant.copyPersist(m.Label, [{ id: 1, name: 'first' }]);
    const result = await tenant.copyPersist(m.Label, [{ id: 1, name: 'merged' }, { id: 2, name: 'new' }], { onConflictAction: 'merge' });
    assert.deepEqual(result.upserted, { inserted: 1, updated: 1, skipped: 0 });
    assert.deepEqual(await orm.em.getConnection().execute('select id, name from uow_tenant.label order by id'), [{ id: 1, name: 'merged' }, { id: 2, name: 'new' }]);
    const label = tenant.create(m.Label, { name: 'own schema' }, { persist: false });
    wrap(label).setSchema('uow');
    await tenant.copyPersist([label]);
    assert.deepEqual(await orm.em.getConnection().execute('select name from uow.label'), [{ name: 'own schema' }]);
  });
});
