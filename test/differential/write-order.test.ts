// Which rows a call writes, and in which order: the graphs MikroORM's own test model showed
// broken (issue #11), each written once by persist + flush and once by copyPersist, compared
// table by table — ids included where flush's ids are deterministic.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { Cascade, Collection, EntitySchema, type MikroORM } from '@mikro-orm/postgresql';
import { CopyPersistError, type CopyEntityManager } from '../../src/index.js';
import { assertPoolHealthy, initTestOrm } from '../support/orm.js';

/** Fresh classes per ORM, so each side has its own metadata. */
function model() {
  class Node {
    id?: number;
    note?: string | null;
    parent?: Node | null;
  }
  class BaseUser {
    id?: number;
    name!: string;
    type?: string;
  }
  class Manager extends BaseUser {}
  class Owner extends BaseUser {
    favouriteManager?: Manager | null;
  }
  class Tenant {
    id?: number;
    name!: string;
  }
  class Event {
    id?: number;
    tenant!: Tenant;
    kind!: string;
  }
  class Writer {
    id?: number;
    name!: string;
    books = new Collection<Work>(this);
    favourite?: Work | null;
    address?: Address | null;
    pet?: Pet | null;
  }
  class Work {
    id?: number;
    title!: string;
    writer!: Writer;
  }
  class Address {
    id?: number;
    street!: string;
    writer!: Writer;
  }
  class Pet {
    id?: number;
    name!: string;
    writer!: Writer;
  }
  const schemas = [
    new EntitySchema<Node>({
      class: Node,
      properties: {
        id: { type: 'integer', primary: true, autoincrement: true },
        note: { type: 'string', nullable: true },
        parent: { kind: 'm:1', entity: () => Node, nullable: true },
      },
    }),
    new EntitySchema<BaseUser>({
      class: BaseUser,
      tableName: 'user',
      discriminatorColumn: 'type',
      discriminatorMap: { manager: 'Manager', owner: 'Owner' } as never,
      abstract: true,
      properties: {
        id: { type: 'integer', primary: true, autoincrement: true },
        name: { type: 'string' },
        type: { type: 'string' },
      },
    }),
    new EntitySchema<Manager, BaseUser>({ class: Manager, discriminatorValue: 'manager', properties: {} }),
    new EntitySchema<Owner, BaseUser>({
      class: Owner,
      discriminatorValue: 'owner',
      properties: { favouriteManager: { kind: 'm:1', entity: () => Manager, nullable: true } },
    }),
    new EntitySchema<Tenant>({ class: Tenant, properties: { id: { type: 'integer', primary: true, autoincrement: true }, name: { type: 'string' } } }),
    new EntitySchema<Event>({
      class: Event,
      properties: { id: { type: 'integer', primary: true, autoincrement: true }, tenant: { kind: 'm:1', entity: () => Tenant }, kind: { type: 'string' } },
    }),
    new EntitySchema<Writer>({
      class: Writer,
      properties: {
        id: { type: 'integer', primary: true, autoincrement: true },
        name: { type: 'string' },
        books: { kind: '1:m', entity: () => Work, mappedBy: 'writer' },
        favourite: { kind: 'm:1', entity: () => Work, nullable: true },
        address: { kind: '1:1', entity: () => Address, mappedBy: 'writer', cascade: [Cascade.ALL], nullable: true },
        pet: { kind: '1:1', entity: () => Pet, mappedBy: 'writer', cascade: [], nullable: true },
      },
    }),
    new EntitySchema<Work>({
      class: Work,
      properties: { id: { type: 'integer', primary: true, autoincrement: true }, title: { type: 'string' }, writer: { kind: 'm:1', entity: () => Writer } },
    }),
    new EntitySchema<Address>({
      class: Address,
      properties: {
        id: { type: 'integer', primary: true, autoincrement: true },
        street: { type: 'string' },
        writer: { kind: '1:1', entity: () => Writer, owner: true, inversedBy: 'address' },
      },
    }),
    new EntitySchema<Pet>({
      class: Pet,
      properties: {
        id: { type: 'integer', primary: true, autoincrement: true },
        name: { type: 'string' },
        writer: { kind: '1:1', entity: () => Writer, owner: true, inversedBy: 'pet' },
      },
    }),
  ];
  return { Node, Manager, Owner, Tenant, Event, Writer, Work, Address, Pet, schemas };
}

type Model = ReturnType<typeof model>;
type Build = (em: CopyEntityManager, m: Model) => object[];

const TABLES = ['node', 'user', 'tenant', 'event', 'writer', 'work', 'address', 'pet'];

describe('write order: what flush writes, in an order PostgreSQL accepts', () => {
  const flushSide = model();
  const copySide = model();
  let flushOrm: MikroORM;
  let copyOrm: MikroORM;

  before(async () => {
    flushOrm = await initTestOrm({ schema: 'order_flush', entities: flushSide.schemas });
    copyOrm = await initTestOrm({ schema: 'order_copy', entities: copySide.schemas });
  });
  after(async () => {
    await flushOrm?.close(true);
    await copyOrm?.close(true);
  });

  async function reset(): Promise<void> {
    for (const [orm, schema] of [[flushOrm, 'order_flush'], [copyOrm, 'order_copy']] as const) {
      await orm.em.getConnection().execute(`truncate ${TABLES.map(t => `${schema}."${t}"`).join(', ')} restart identity cascade`);
    }
  }

  async function rows(orm: MikroORM, schema: string, table: string, columns = '*'): Promise<unknown[]> {
    return orm.em.getConnection().execute(`select ${columns} from ${schema}."${table}" order by 1`);
  }

  /** Writes the graph both ways and compares every table, ids included. */
  async function sameAsFlush(build: Build, options: { cascade?: boolean } = {}): Promise<void> {
    await reset();
    const fem = flushOrm.em.fork() as CopyEntityManager;
    fem.persist(build(fem, flushSide));
    await fem.flush();
    const cem = copyOrm.em.fork() as CopyEntityManager;
    const input = build(cem, copySide);
    const result = await cem.copyPersist(input, options);
    let expected = 0;
    for (const table of TABLES) {
      const want = await rows(flushOrm, 'order_flush', table);
      assert.deepEqual(await rows(copyOrm, 'order_copy', table), want, `table ${table}`);
      expected += want.length;
    }
    assert.equal(result.rows, expected, 'rows reported');
    await assertPoolHealthy(copyOrm);
  }

  const make = <T extends object>(em: CopyEntityManager, cls: new () => T, data: object) => em.create(cls, data as never, { persist: false }) as T;

  for (const cascade of [false, true]) {
    it(`a self-referencing table with rows of different column sets (cascade: ${cascade})`, async () => {
      await sameAsFlush((em, m) => {
        const r0 = make(em, m.Node, {});
        const r1 = make(em, m.Node, { note: 'one', parent: r0 });
        const r2 = make(em, m.Node, { parent: r0 });
        const r3 = make(em, m.Node, { note: 'three', parent: r2 });
        return [r0, r1, r2, r3];
      }, { cascade });
    });

    it(`single-table inheritance with references between subclasses (cascade: ${cascade})`, async () => {
      await sameAsFlush((em, m) => {
        const owner1 = make(em, m.Owner, { name: 'owner 1', favouriteManager: null });
        const manager = make(em, m.Manager, { name: 'manager' });
        const owner2 = make(em, m.Owner, { name: 'owner 2', favouriteManager: manager });
        return [owner1, manager, owner2];
      }, { cascade });
    });
  }

  it('a referenced row after the rows referencing it, across many chunks', async () => {
    await sameAsFlush((em, m) => {
      const tenants = [0, 1].map(i => make(em, m.Tenant, { name: `tenant ${i}` }));
      const events = Array.from({ length: 4500 }, (_, i) => make(em, m.Event, { tenant: tenants[i % 2], kind: `k${i}` }));
      return [...events, ...tenants];
    });
  });

  it('a stream is ordered a chunk at a time: references to earlier chunks work, to a later chunk fail clearly', async () => {
    await reset();
    const cem = copyOrm.em.fork() as CopyEntityManager;
    const nodes = Array.from({ length: 10 }, (_, i) => make(cem, copySide.Node, i % 3 ? { note: `n${i}` } : {}));
    // each node's parent comes earlier (a chunk or more before, or within its chunk)
    nodes.forEach((node, i) => {
      if (i > 0) node.parent = nodes[Math.floor(i / 2)];
    });
    async function* stream() {
      yield* nodes;
    }
    const result = await cem.copyPersist(stream(), { chunkSize: 3 });
    assert.equal(result.rows, 10);
    const written = await copyOrm.em.getConnection().execute(`select count(*)::int as n from order_copy.node where parent_id is not null`);
    assert.equal(written[0].n, 9);

    const late = make(cem, copySide.Node, { note: 'late parent' });
    const child = make(cem, copySide.Node, { note: 'early child', parent: late });
    await assert.rejects(cem.copyPersist((function* () { yield child; yield make(cem, copySide.Node, {}); yield late; })(), { chunkSize: 2 }), (e: unknown) => {
      assert.ok(e instanceof CopyPersistError);
      assert.equal(e.code, 'MISSING_REFERENCE_KEY');
      assert.equal(e.position, 0);
      return true;
    });
    assert.equal((await rows(copyOrm, 'order_copy', 'node')).length, 10, 'nothing of the failed call written');
    await assertPoolHealthy(copyOrm);
  });

  it('keys in input order across the subclasses of one table', async () => {
    await sameAsFlush((em, m) => [0, 1, 2, 3, 4].map(i => make(em, i % 2 ? m.Manager : m.Owner, { name: `user ${i}` })));
  });

  it('a cycle between tables without cascade: the nullable key is set after the rows', async () => {
    await sameAsFlush((em, m) => {
      const writer = make(em, m.Writer, { name: 'w' });
      const work = make(em, m.Work, { title: 't', writer });
      writer.favourite = work;
      return [writer, work];
    });
  });

  it('cascade writes every entity of a graph whose cycle is unwound (none dropped)', async () => {
    const build: Build = (em, m) => {
      const a1 = make(em, m.Writer, { name: 'a1' });
      const a2 = make(em, m.Writer, { name: 'a2' });
      const b1 = make(em, m.Work, { title: 'b1', writer: a1 });
      const b2 = make(em, m.Work, { title: 'b2', writer: a2 });
      const b3 = make(em, m.Work, { title: 'b3', writer: a2 });
      a1.books.add(b1);
      a2.books.add(b2, b3);
      a1.favourite = b2;
      a2.favourite = b1;
      return [a1];
    };
    await reset();
    const cem = copyOrm.em.fork() as CopyEntityManager;
    const result = await cem.copyPersist(build(cem, copySide), { cascade: true });
    const fem = flushOrm.em.fork() as CopyEntityManager;
    fem.persist(build(fem, flushSide));
    await fem.flush();
    const natural = (s: string) =>
      `select w.title, a.name as writer, (select f.name from ${s}.writer f where f.favourite_id = w.id) as favourite_of from ${s}.work w join ${s}.writer a on a.id = w.writer_id order by 1`;
    const [flushRows, copyRows] = [await flushOrm.em.getConnection().execute(natural('order_flush')), await copyOrm.em.getConnection().execute(natural('order_copy'))];
    assert.equal(flushRows.length, 3);
    assert.deepEqual(copyRows, flushRows);
    assert.equal(result.rows, 5);
  });

  it('cascade follows inverse one-to-ones as flush does (with cascade persist, and with cascade: [])', async () => {
    await sameAsFlush((em, m) => {
      const writer = make(em, m.Writer, { name: 'with address' });
      writer.address = make(em, m.Address, { street: 'Main St', writer });
      return [writer];
    }, { cascade: true });
    // flush's findNewEntities follows every to-one that is not managed, whatever its cascade
    await sameAsFlush((em, m) => {
      const writer = make(em, m.Writer, { name: 'with pet' });
      writer.pet = make(em, m.Pet, { name: 'Rex', writer });
      return [writer];
    }, { cascade: true });
  });

  it('without cascade, a new entity held by a cascading collection is an error, not a silent loss', async () => {
    const cem = copyOrm.em.fork() as CopyEntityManager;
    const writer = make(cem, copySide.Writer, { name: 'lonely' });
    writer.books.add(make(cem, copySide.Work, { title: 'unwritten', writer }));
    await assert.rejects(cem.copyPersist([writer]), (e: unknown) => {
      assert.ok(e instanceof CopyPersistError);
      assert.equal(e.code, 'MISSING_REFERENCE_KEY');
      assert.equal(e.property, 'books');
      assert.match(e.message, /cascade: true/);
      return true;
    });
    await assertPoolHealthy(copyOrm);
  });

  it('uses the copying ORM’s metadata when another ORM was initialised with the same classes', async () => {
    const other = await initTestOrm({ schema: 'order_other', entities: copySide.schemas });
    try {
      await reset();
      const cem = copyOrm.em.fork() as CopyEntityManager;
      const writer = make(cem, copySide.Writer, { name: 'w' });
      const works = [1, 2].map(i => make(cem, copySide.Work, { title: `t${i}`, writer }));
      await cem.copyPersist([...works, writer]);
      assert.equal((await rows(copyOrm, 'order_copy', 'work')).length, 2);
    } finally {
      await other.close(true);
    }
  });

  it('accepts an EntitySchema where an entity class is expected', async () => {
    await reset();
    const cem = copyOrm.em.fork() as CopyEntityManager;
    const tenantSchema = copySide.schemas.find(s => s.meta.className === 'Tenant')!;
    const result = await cem.copyPersist(tenantSchema as EntitySchema<object>, [{ name: 'from a schema' }]);
    assert.equal(result.rows, 1);
    assert.deepEqual(await rows(copyOrm, 'order_copy', 'tenant', 'name'), [{ name: 'from a schema' }]);
  });
});

describe('defineEntity (MikroORM 7) where an entity class is expected', () => {
  it('copies plain rows into an entity defined with defineEntity and no class', async t => {
    const core = (await import('@mikro-orm/core')) as unknown as { defineEntity?: (meta: object) => EntitySchema<object> };
    if (!core.defineEntity) {
      t.skip('MikroORM 6 has no defineEntity');
      return;
    }
    const p = (core as unknown as { p: Record<string, () => { primary(): unknown; autoincrement(): unknown }> }).p;
    const Gadget = core.defineEntity({
      name: 'Gadget',
      properties: { id: (p.integer() as { primary(): { autoincrement(): unknown } }).primary().autoincrement(), label: p.string() },
    });
    const orm = await initTestOrm({ schema: 'order_define', entities: [Gadget] });
    try {
      const em = orm.em.fork() as CopyEntityManager;
      const result = await em.copyPersist(Gadget, [{ label: 'a' }, { label: 'b' }]);
      assert.equal(result.rows, 2);
      assert.deepEqual(await orm.em.getConnection().execute('select id, label from order_define.gadget order by id'), [{ id: 1, label: 'a' }, { id: 2, label: 'b' }]);
    } finally {
      await orm.close(true);
    }
  });
});
