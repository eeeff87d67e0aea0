// Values the database fills in (version, defaultRaw defaults, generated columns) are set on the
// entities after a copy, as flush sets them from INSERT ... RETURNING — compared with flush itself.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { EntitySchema, OptimisticLockError, type MikroORM } from '@mikro-orm/postgresql';
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
});
