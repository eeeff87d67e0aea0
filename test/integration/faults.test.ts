// Faults injected while a COPY runs: each must leave zero rows, surface its cause, and return the
// connection to the pool healthy.
import { after, afterEach, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import pg from 'pg';
import { EntitySchema, type MikroORM } from '@mikro-orm/postgresql';
import type { CopyEntityManager } from '../../src/index.js';
import { Author, libraryEntities } from '../support/library.js';
import { assertPoolHealthy, connectionsInUse, countRows, databaseUrl, initTestOrm } from '../support/orm.js';

const SCHEMA = 'faults_test';
const AUTHORS = `${SCHEMA}.author`;

class Blob {
  id!: number;
  text!: string;
  data!: Buffer;
}
const BlobSchema = new EntitySchema<Blob>({
  class: Blob,
  properties: {
    id: { type: 'integer', primary: true },
    text: { type: 'text' },
    data: { type: 'blob' },
  },
});

const sleep = (ms: number) => new Promise<void>(resolve => setTimeout(resolve, ms));

describe('faults during a COPY', () => {
  let orm: MikroORM;
  let admin: pg.Client;
  const fork = () => orm.em.fork() as CopyEntityManager;

  /** Authors made lazily; calls `at(i)` before yielding row i, pausing now and then so the COPY is mid-stream. */
  async function* authorsWith(em: CopyEntityManager, n: number, at: (i: number) => Promise<void> | void) {
    for (let i = 1; i <= n; i++) {
      await at(i);
      if (i % 500 === 0) await sleep(5);
      yield em.create(Author, { id: i, name: `n${i}`, email: `${i}@x` }, { persist: false });
    }
  }

  before(async () => {
    orm = await initTestOrm({ schema: SCHEMA, entities: [...libraryEntities, BlobSchema], pool: { min: 0, max: 8 } });
    admin = new pg.Client({ connectionString: databaseUrl() });
    await admin.connect();
  });
  afterEach(async () => {
    await orm.em.getConnection().execute(`truncate ${AUTHORS}, ${SCHEMA}.book, ${SCHEMA}.blob cascade`);
  });
  after(async () => {
    await admin?.end();
    await orm?.close(true);
  });

  it('the backend running the COPY is killed mid-stream', async () => {
    const em = fork();
    const copying = em.copyPersist(
      authorsWith(em, 20_000, async i => {
        if (i !== 5000) return;
        const { rows } = await admin.query(`select pg_terminate_backend(pid) as killed from pg_stat_activity where query ilike 'copy %${SCHEMA}%' and pid <> pg_backend_pid()`);
        assert.equal(rows.length, 1, 'exactly one COPY backend to kill');
      }),
      { chunkSize: 1000 },
    );
    await assert.rejects(copying, (e: unknown) => {
      assert.match(String((e as Error).message), /terminat|Connection|closed|ended/i);
      return true;
    });
    assert.equal(await countRows(orm, AUTHORS), 0);
    await assertPoolHealthy(orm);
  });

  it('statement_timeout fires mid-stream inside the caller’s transaction', async () => {
    const em = fork();
    await em.begin();
    try {
      await em.getConnection().execute(`set local statement_timeout = '300ms'`, [], 'run', em.getTransactionContext());
      await assert.rejects(
        em.copyPersist(authorsWith(em, 5000, i => (i % 100 === 0 ? sleep(15) : undefined)), { chunkSize: 100 }),
        /statement timeout/,
      );
      // the savepoint kept the caller's transaction usable
      assert.equal(await em.count(Author), 0);
    } finally {
      await em.rollback();
    }
    assert.equal(await countRows(orm, AUTHORS), 0);
    await assertPoolHealthy(orm);
  });

  it('a constraint violation on the very last of 100k rows', async () => {
    const em = fork();
    const n = 100_000;
    const copying = em.copyPersist(
      (function* () {
        for (let i = 1; i <= n; i++) yield em.create(Author, { id: i === n ? 1 : i, name: `n${i}`, email: `${i}@x` }, { persist: false });
      })(),
      { chunkSize: 5000 },
    );
    await assert.rejects(copying, (e: unknown) => (e as { copyPersist?: { position?: number } }).copyPersist?.position === n - 1);
    assert.equal(await countRows(orm, AUTHORS), 0);
    await assertPoolHealthy(orm);
  });

  it('32 concurrent calls on a pool of 8, beside ordinary find and flush traffic', async () => {
    const perCall = 2000;
    const copies = Array.from({ length: 32 }, (_, c) => {
      const em = fork();
      const rows = Array.from({ length: perCall }, (_, i) => {
        const id = 1 + c * perCall + i;
        return em.create(Author, { id, name: `c${c}`, email: `${id}@x` }, { persist: false });
      });
      return em.copyPersist(rows, { chunkSize: 250 });
    });
    const traffic = Array.from({ length: 16 }, async (_, t) => {
      const em = orm.em.fork();
      em.create(Author, { id: 1_000_000 + t, name: 'flushed', email: `f${t}@x` });
      await em.flush();
      return em.find(Author, { name: 'flushed' });
    });
    const results = await Promise.all(copies);
    await Promise.all(traffic);
    for (const r of results) assert.equal(r.rows, perCall);
    assert.equal(await countRows(orm, AUTHORS), 32 * perCall + 16);
    assert.equal(await connectionsInUse(orm), 0);
    await assertPoolHealthy(orm);
  });

  it('a row holding a 50 MB text and a 50 MB bytea, larger than any chunk', async () => {
    const text = 'x"y,\n'.repeat(10 * 1024 * 1024);
    const data = Buffer.alloc(50 * 1024 * 1024, 7);
    data[12345] = 0;
    const em = fork();
    const blob = em.create(Blob, { id: 1, text, data }, { persist: false });
    const small = em.create(Blob, { id: 2, text: 'small', data: Buffer.from([1, 2, 3]) }, { persist: false });
    assert.equal((await em.copyPersist([blob, small], { chunkSize: 1 })).rows, 2);
    const [row] = await em.getConnection().execute(`select md5(text) as t, md5(data) as d, length(text) as tl, length(data) as dl from ${SCHEMA}.blob where id = 1`);
    assert.deepEqual(row, {
      t: createHash('md5').update(text).digest('hex'),
      d: createHash('md5').update(data).digest('hex'),
      tl: text.length,
      dl: data.length,
    });
  });
});
