// Values the database fills in (version, defaultRaw defaults, generated columns) are set on the
// entities after a copy, as flush sets them from INSERT ... RETURNING — compared with flush itself.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { EntitySchema, OptimisticLockError, type EventArgs, type MikroORM } from '@mikro-orm/postgresql';
import type { CopyEntityManager } from '../../src/index.js';
import { assertPoolHealthy, initTestOrm } from '../support/orm.js';

class Note {
  id?: number;
  title!: string;
  version?: number;
  createdAt?: Date;
  token?: string;
  shout?: string;
  given?: Date;
}
class Node {
  id?: number;
  name!: string;
  parent?: Node | null;
  version?: number;
  touched?: string;
}
/** beforeUpdate calls per node */
const updateCalls = new WeakMap<Node, number>();
class Stamp {
  id?: number;
  label!: string;
  version?: Date;
}

const schemas = [
  new EntitySchema<Note>({
    class: Note,
    properties: {
      id: { type: 'integer', primary: true, autoincrement: true },
      title: { type: 'string' },
      version: { type: 'integer', version: true },
      createdAt: { type: 'Date', columnType: 'timestamptz', defaultRaw: 'now()', nullable: true },
      token: { type: 'uuid', defaultRaw: 'gen_random_uuid()', nullable: true },
      shout: { type: 'string', generated: '(upper(title)) stored', nullable: true },
      given: { type: 'Date', columnType: 'timestamptz', defaultRaw: 'now()', nullable: true },
    },
  }),
  new EntitySchema<Node>({
    class: Node,
    hooks: { beforeUpdate: [(args: EventArgs<Node>) => void updateCalls.set(args.entity, (updateCalls.get(args.entity) ?? 0) + 1)] },
    properties: {
      id: { type: 'integer', primary: true, autoincrement: true },
      name: { type: 'string' },
      parent: { kind: 'm:1', entity: () => Node, nullable: true },
      version: { type: 'integer', version: true },
      touched: { type: 'string', nullable: true, onUpdate: (node: Node) => `updated ${node.name}` },
    },
  }),
  new EntitySchema<Stamp>({
    class: Stamp,
    properties: {
      id: { type: 'integer', primary: true, autoincrement: true },
      label: { type: 'string' },
      version: { type: 'Date', version: true },
    },
  }),
];

describe('values the database fills in', () => {
  let orm: MikroORM;
  before(async () => {
    orm = await initTestOrm({ schema: 'read_back', entities: schemas });
  });
  after(async () => orm?.close(true));

  const notes = (em: CopyEntityManager) => [1, 2, 3].map(i => em.create(Note, { title: `note ${i}`, ...(i === 2 ? { given: new Date('2020-01-02T03:04:05Z') } : {}) }, { persist: false }));

  it('are set on the entities as after flush', async () => {
    const viaFlush = notes(orm.em.fork() as CopyEntityManager);
    const flushEm = orm.em.fork();
    flushEm.persist(viaFlush);
    await flushEm.flush();
    const em = orm.em.fork() as CopyEntityManager;
    const viaCopy = notes(em);
    await em.copyPersist(viaCopy);
    for (const [i, copied] of viaCopy.entries()) {
      const flushed = viaFlush[i];
      assert.equal(copied.version, flushed.version);
      assert.equal(copied.version, 1);
      assert.ok(copied.createdAt instanceof Date && flushed.createdAt instanceof Date, 'defaultRaw timestamp read back');
      assert.match(copied.token!, /^[0-9a-f-]{36}$/);
      assert.equal(copied.shout, flushed.shout);
      assert.equal(copied.shout, `NOTE ${i + 1}`);
      assert.ok(copied.given instanceof Date);
    }
    // a value the entity held is kept, not overwritten
    assert.equal(viaCopy[1].given?.toISOString(), '2020-01-02T03:04:05.000Z');
    // the values are the stored ones
    const [row] = await orm.em.getConnection().execute(`select token, created_at from read_back.note where id = ${viaCopy[0].id}`);
    assert.equal(row.token, viaCopy[0].token);
    assert.equal(new Date(row.created_at).getTime(), viaCopy[0].createdAt!.getTime());
    await assertPoolHealthy(orm);
  });

  it('readBack: false leaves them unset', async () => {
    const em = orm.em.fork() as CopyEntityManager;
    const copied = notes(em);
    await em.copyPersist(copied, { readBack: false });
    assert.ok(copied.every(n => n.id !== undefined && n.version === undefined && n.createdAt === undefined && n.token === undefined && n.shout === undefined));
  });

  it('a Date version is set, and a managed copy then passes the optimistic lock check', async () => {
    const em = orm.em.fork() as CopyEntityManager;
    const stamps = ['a', 'b'].map(label => em.create(Stamp, { label }, { persist: false }));
    await em.copyPersist(stamps, { manage: true });
    assert.ok(stamps.every(s => s.version instanceof Date));
    stamps[0].label = 'changed';
    await em.flush();
    const stored = await orm.em.fork().findOneOrFail(Stamp, stamps[0].id!);
    assert.equal(stored.label, 'changed');
    // and a stale version is still caught
    await assert.rejects(em.lock(stamps[1], 1 as never, new Date(0)), OptimisticLockError);
  });

  it('references to new rows of the same table are set as flush sets them: an UPDATE with onUpdate, version and hooks', async () => {
    // a tree with a self-reference: flush inserts NULL keys and sets them with UPDATEs (F1)
    const tree = (em: CopyEntityManager) => {
      const root = em.create(Node, { name: 'root' }, { persist: false });
      const child = em.create(Node, { name: 'child', parent: root }, { persist: false });
      const self = em.create(Node, { name: 'self' }, { persist: false });
      self.parent = self;
      return [child, root, self];
    };
    const state = (nodes: Node[]) => nodes.map(n => [n.name, n.version, n.touched ?? null, updateCalls.get(n) ?? 0]);
    const flushed = tree(orm.em.fork() as CopyEntityManager);
    const flushEm = orm.em.fork();
    flushEm.persist(flushed);
    await flushEm.flush();
    const em = orm.em.fork() as CopyEntityManager;
    const copied = tree(em);
    await em.copyPersist(copied);
    assert.deepEqual(state(copied), state(flushed));
    assert.deepEqual(state(copied), [['child', 2, 'updated child', 1], ['root', 1, null, 0], ['self', 2, 'updated self', 1]]);
    const rows = await orm.em.getConnection().execute(`select name, parent_id = id as self, version, touched from read_back.node where id in (${copied.map(n => n.id).join(', ')}) order by name`);
    const want = await orm.em.getConnection().execute(`select name, parent_id = id as self, version, touched from read_back.node where id in (${flushed.map(n => n.id).join(', ')}) order by name`);
    assert.deepEqual(rows, want);
  });
});
