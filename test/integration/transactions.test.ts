import { after, afterEach, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { ForeignKeyConstraintViolationException, type MikroORM } from '@mikro-orm/postgresql';
import { CopyEntityManager, copyPersist } from '../../src/index.js';
import { Author, Book, libraryEntities } from '../support/library.js';
import { assertPoolHealthy, countRows, initTestOrm } from '../support/orm.js';

const SCHEMA = 'tx_test';
const AUTHORS = `${SCHEMA}.author`;
const BOOKS = `${SCHEMA}.book`;

describe('transactions and the unit of work', () => {
  let orm: MikroORM;
  const fork = () => orm.em.fork() as CopyEntityManager;
  const authors = (em: CopyEntityManager, n: number, from = 1) =>
    Array.from({ length: n }, (_, i) => em.create(Author, { id: from + i, name: `author ${from + i}` }, { persist: false }));

  before(async () => {
    orm = await initTestOrm({ schema: SCHEMA, entities: libraryEntities });
  });
  afterEach(async () => {
    await orm.em.getConnection().execute(`truncate ${BOOKS}, ${AUTHORS} restart identity cascade`);
  });
  after(async () => orm?.close(true));

  it('forks and the EM inside transactional() are CopyEntityManagers', async () => {
    assert.ok(orm.em.fork() instanceof CopyEntityManager);
    await orm.em.fork().transactional(em => {
      assert.ok(em instanceof CopyEntityManager);
    });
  });

  it('outside a transaction commits its own, visible to other connections', async () => {
    const em = fork();
    const result = await em.copyPersist(authors(em, 5));
    assert.deepEqual(result, { rows: 5, byEntity: { Author: 5 } });
    assert.equal(await countRows(orm, AUTHORS), 5);
    await assertPoolHealthy(orm);
  });

  it('inside transactional() uses its connection: visible inside, invisible outside until commit', async () => {
    await fork().transactional(async em => {
      await (em as CopyEntityManager).copyPersist(authors(em as CopyEntityManager, 3));
      // the transaction's next query sees the rows ...
      const [inside] = await em.getConnection().execute<{ n: string }[]>(`select count(*) as n from ${AUTHORS}`, [], 'all', em.getTransactionContext());
      assert.equal(Number(inside.n), 3);
      assert.equal(await em.count(Author), 3);
      // ... another connection does not, which also proves the COPY did not run on another connection
      assert.equal(await countRows(orm, AUTHORS), 0);
    });
    assert.equal(await countRows(orm, AUTHORS), 3);
    await assertPoolHealthy(orm);
  });

  it('rows copied in transactional() are gone when the callback throws', async () => {
    await assert.rejects(
      fork().transactional(async em => {
        await (em as CopyEntityManager).copyPersist(authors(em as CopyEntityManager, 3));
        throw new Error('caller changed its mind');
      }),
      /caller changed its mind/,
    );
    assert.equal(await countRows(orm, AUTHORS), 0);
    await assertPoolHealthy(orm);
  });

  it('after em.begin(): commit keeps the rows, rollback drops them', async () => {
    const em = fork();
    await em.begin();
    await em.copyPersist(authors(em, 2));
    assert.equal(await countRows(orm, AUTHORS), 0);
    await em.commit();
    assert.equal(await countRows(orm, AUTHORS), 2);

    const em2 = fork();
    await em2.begin();
    await em2.copyPersist(authors(em2, 2, 10));
    assert.equal(await em2.count(Author), 4);
    await em2.rollback();
    assert.equal(await countRows(orm, AUTHORS), 2);
    await assertPoolHealthy(orm);
  });

  it('a failed copy inside the caller’s transaction writes nothing and leaves the transaction usable', async () => {
    await fork().transactional(async em => {
      const cem = em as CopyEntityManager;
      await cem.copyPersist(authors(cem, 2));
      const orphan = cem.create(Book, { title: 'orphan', author: cem.getReference(Author, 999) }, { persist: false });
      await assert.rejects(cem.copyPersist([...authors(cem, 2, 50), orphan]), ForeignKeyConstraintViolationException);
      // the earlier copy survives, the failed one left nothing, and the transaction still works
      assert.equal(await cem.count(Author), 2);
    });
    assert.equal(await countRows(orm, AUTHORS), 2);
    await assertPoolHealthy(orm);
  });

  it('a call with two classes is atomic: a failure in the second class drops the first', async () => {
    const em = fork();
    const good = authors(em, 3);
    const books = [
      em.create(Book, { title: 'ok', author: good[0] }, { persist: false }),
      em.create(Book, { title: 'bad', author: em.getReference(Author, 12345) }, { persist: false }),
    ];
    await assert.rejects(em.copyPersist([...books, ...good]), ForeignKeyConstraintViolationException);
    assert.equal(await countRows(orm, AUTHORS), 0);
    assert.equal(await countRows(orm, BOOKS), 0);
    await assertPoolHealthy(orm);
  });

  it('writes referenced entities first, whatever the input order', async () => {
    const em = fork();
    const [a, b] = authors(em, 2);
    const books = [1, 2, 3].map(i => em.create(Book, { title: `b${i}`, author: i % 2 ? a : b }, { persist: false }));
    const result = await em.copyPersist([...books, a, b]);
    assert.deepEqual(result.byEntity, { Author: 2, Book: 3 });
  });

  it('skips the unit of work: nothing managed, nothing to flush, identity map unchanged', async () => {
    const em = fork();
    const list = authors(em, 3);
    await em.copyPersist(list);
    assert.equal(em.getUnitOfWork().getIdentityMap().values().length, 0);
    const before = await countRows(orm, AUTHORS);
    await em.flush();
    assert.equal(await countRows(orm, AUTHORS), before);
  });

  it('the plain function works with any PostgreSQL EntityManager, and plain rows', async () => {
    const em = orm.em.fork();
    const result = await copyPersist(em, Author, [{ id: 1, name: 'x' }, { id: 2, name: 'y', email: 'y@example.com' }]);
    assert.equal(result.rows, 2);
    const rows = await em.getConnection().execute(`select id, name, email from ${AUTHORS} order by id`);
    assert.deepEqual(rows, [{ id: 1, name: 'x', email: null }, { id: 2, name: 'y', email: 'y@example.com' }]);
  });

  it('takes sync iterables and async iterables, and reports progress', async () => {
    const em = fork();
    function* gen() {
      for (let i = 1; i <= 25; i++) yield em.create(Author, { id: i, name: `g${i}` }, { persist: false });
    }
    async function* agen() {
      for (let i = 101; i <= 125; i++) yield em.create(Author, { id: i, name: `a${i}` }, { persist: false });
    }
    const progress: number[] = [];
    await em.copyPersist(gen(), { chunkSize: 10, onProgress: p => progress.push(p.rows) });
    assert.deepEqual(progress, [10, 20, 25]);
    assert.equal((await em.copyPersist(agen(), { chunkSize: 7 })).rows, 25);
    assert.equal(await countRows(orm, AUTHORS), 50);
  });

  it('an empty input writes nothing and succeeds', async () => {
    assert.deepEqual(await fork().copyPersist([]), { rows: 0, byEntity: {} });
    await assertPoolHealthy(orm);
  });
});
