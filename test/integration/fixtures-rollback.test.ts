// Load once, roll back per test (issue 16.4): code under test that forks the EntityManager,
// begins its own transaction or uses the global `orm.em` still writes inside the test's transaction.
import { after, afterEach, before, beforeEach, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { RequestContext, type EntityManager, type MikroORM } from '@mikro-orm/postgresql';
import { TestEntityManager, beginTestTransaction, loadFixtures, truncateEntities, type TestTransaction } from '../../src/index.js';
import { assertPoolHealthy, countRows, initTestOrm } from '../support/orm.js';
import { Author, Book, libraryEntities } from '../support/library.js';

const SCHEMA = 'fixtures_rollback_test';

/** Code under test as applications write it: it forks the EM it is given. */
async function renameAuthor(em: EntityManager, id: number, name: string): Promise<void> {
  const fork = em.fork();
  const author = await fork.findOneOrFail(Author, id);
  author.name = name;
  await fork.flush();
}

async function addBookInTransaction(em: EntityManager, title: string): Promise<void> {
  await em.fork().transactional(async trx => {
    trx.create(Book, { title, author: trx.getReference(Author, 1) });
  });
}

async function addBookWithBeginCommit(em: EntityManager, title: string, fail: boolean): Promise<void> {
  const fork = em.fork();
  await fork.begin();
  try {
    fork.create(Book, { title, author: fork.getReference(Author, 1) });
    await fork.flush();
    if (fail) throw new Error('fails after writing');
    await fork.commit();
  } catch (error) {
    await fork.rollback();
    throw error;
  }
}

describe('fixtures: load once, roll back per test', () => {
  let orm: MikroORM;
  let tx: TestTransaction;

  before(async () => {
    orm = await initTestOrm({ schema: SCHEMA, entities: libraryEntities, entityManager: TestEntityManager });
    await truncateEntities(orm.em);
    // once per file: these rows stay for every test
    await loadFixtures(orm.em.fork(), {
      Book: Array.from({ length: 20 }, (_, i) => ({ id: i + 1, title: `book ${i + 1}`, author: (i % 2) + 1 })),
      Author: [{ id: 1, name: 'Frank' }, { id: 2, name: 'Ursula' }],
    });
  });
  beforeEach(async () => {
    tx = await beginTestTransaction(orm.em);
  });
  afterEach(async () => {
    await tx.rollback();
  });
  after(async () => {
    if (!orm) return;
    await assertPoolHealthy(orm);
    await orm.close(true);
  });

  // each test checks that the writes of the others were rolled back
  const fixturesIntact = async () => {
    assert.equal(await tx.em.count(Book), 20);
    assert.equal((await tx.em.findOneOrFail(Author, 1)).name, 'Frank');
  };

  it('a fork made by code under test writes inside the test transaction', async () => {
    await fixturesIntact();
    await renameAuthor(orm.em, 1, 'renamed through a fork of orm.em');
    await renameAuthor(tx.em, 2, 'renamed through a fork of the test em');
    tx.em.clear();
    assert.equal((await tx.em.findOneOrFail(Author, 1)).name, 'renamed through a fork of orm.em');
    assert.equal((await tx.em.findOneOrFail(Author, 2)).name, 'renamed through a fork of the test em');
    const [outside] = await orm.em.fork({ disableContextResolution: true }).getConnection().execute<{ name: string }[]>(`select name from ${SCHEMA}.author where id = 1`);
    assert.equal(outside.name, 'Frank', 'other connections do not see the uncommitted rename');
  });

  it('em.transactional() of a fork is a savepoint inside the test transaction', async () => {
    await fixturesIntact();
    await addBookInTransaction(orm.em, 'transactional');
    assert.equal(await tx.em.count(Book), 21);
    assert.equal(await countRows(orm, `${SCHEMA}.book`), 20, 'not committed');
  });

  it('begin() and commit() of a fork cannot commit the test transaction; its rollback undoes only its part', async () => {
    await fixturesIntact();
    await addBookWithBeginCommit(orm.em, 'committed to the savepoint', false);
    await assert.rejects(addBookWithBeginCommit(orm.em, 'rolled back', true), /fails after writing/);
    const titles = (await tx.em.find(Book, { id: { $gt: 20 } })).map(b => b.title);
    assert.deepEqual(titles, ['committed to the savepoint']);
    assert.equal(await countRows(orm, `${SCHEMA}.book`), 20, 'not committed');
  });

  it('the global orm.em and copyPersist in the test join it too', async () => {
    await fixturesIntact();
    await loadFixtures(orm.em, { Author: [{ name: 'loaded in the test' }] });
    orm.em.create(Author, { name: 'flushed through orm.em' });
    await orm.em.flush();
    assert.equal(await tx.em.count(Author), 4);
    assert.equal(await countRows(orm, `${SCHEMA}.author`), 2, 'not committed');
  });

  it('a request context opened by code under test keeps its own identity map, inside the test transaction', async () => {
    await fixturesIntact();
    const seen = await RequestContext.create(orm.em, async () => {
      const author = await orm.em.findOneOrFail(Author, 2);
      author.name = 'renamed in a request';
      await orm.em.flush();
      return orm.em.getUnitOfWork().getIdentityMap().values().length;
    });
    assert.equal(seen, 1, "the request's fork, not the test's EntityManager");
    assert.equal(tx.em.getUnitOfWork().getIdentityMap().values().length, 1, 'only what fixturesIntact loaded');
    tx.em.clear();
    assert.equal((await tx.em.findOneOrFail(Author, 2)).name, 'renamed in a request');
    const [outside] = await orm.em.fork({ disableContextResolution: true }).getConnection().execute<{ name: string }[]>(`select name from ${SCHEMA}.author where id = 2`);
    assert.equal(outside.name, 'Ursula', 'not committed');
  });

  it('a rolled-back test leaves the fixtures as loaded', async () => {
    await fixturesIntact();
    assert.equal(await countRows(orm, `${SCHEMA}.author`), 2);
  });
});
