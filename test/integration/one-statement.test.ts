// Small calls outside a transaction (issue 13, "10 rows no slower than insertMany") skip MikroORM's
// transaction and send their rows as one query (engine/one-statement.ts, copy/copy-at-once.ts;
// entities whose keys the database generates as INSERTs returning them, copy/insert-at-once.ts):
// these tests prove that path is taken, that it is still all or nothing, that a failure names the
// row and leaves the pool healthy, and that calls which need a transaction still get one.
import { after, afterEach, before, beforeEach, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { DriverException, UniqueConstraintViolationException, type MikroORM } from '@mikro-orm/postgresql';
import { CopyEntityManager, CopyPersistError } from '../../src/index.js';
import { Author, libraryEntities } from '../support/library.js';
import { assertPoolHealthy, countRows, initTestOrm } from '../support/orm.js';

const SCHEMA = 'one_statement_test';
const AUTHORS = `${SCHEMA}.author`;

/** MikroORM colours its log lines; the tests read the text. */
const stripColors = (message: string) => message.replace(/\u001b\[[0-9;]*m/g, '');

describe('small calls in one query', () => {
  let orm: MikroORM;
  /** What MikroORM's query logger printed since the last test began. */
  let logged: string[] = [];
  const fork = () => orm.em.fork() as CopyEntityManager;
  const authors = (em: CopyEntityManager, n: number, email = (i: number): string | undefined => `a${i}@example.org`) =>
    Array.from({ length: n }, (_, i) => em.create(Author, { name: `author ${i}`, email: email(i) }, { persist: false }));
  /** MikroORM logs the BEGIN and COMMIT of its transactions (and our savepoints); the session logs each COPY. */
  const transactionStatements = () => logged.filter(line => /\b(begin|commit|start transaction)\b/i.test(line));
  const copies = () => logged.filter(line => /\bcopy\b/i.test(line));
  /** The session logs the INSERT it sends in a COPY's place. */
  const inserts = () => logged.filter(line => /\binsert into\b/i.test(line));

  before(async () => {
    orm = await initTestOrm({ schema: SCHEMA, entities: libraryEntities, debug: ['query'], logger: (message: string) => logged.push(stripColors(message)) });
  });
  beforeEach(() => {
    logged = [];
  });
  afterEach(async () => {
    await orm.em.getConnection().execute(`truncate ${AUTHORS} restart identity cascade`);
  });
  after(async () => orm?.close(true));

  it('10 entities outside a transaction: no transaction of MikroORM, one INSERT returning the keys, in input order', async () => {
    const em = fork();
    const entities = authors(em, 10);
    logged = [];
    const result = await em.copyPersist(entities);
    assert.deepEqual(result, { rows: 10, byEntity: { Author: 10 } });
    assert.deepEqual(transactionStatements(), []);
    assert.deepEqual(copies(), []);
    assert.equal(inserts().length, 1);
    assert.match(inserts()[0], /values \(\$1, \$2\), .* returning "id"/);
    assert.deepEqual(entities.map(a => a.id), [1, 2, 3, 4, 5, 6, 7, 8, 9, 10]);
    const rows = await orm.em.fork().getConnection().execute<{ id: number; name: string }[]>(`select id, name from ${AUTHORS} order by id`);
    assert.deepEqual(rows.map(r => r.name), entities.map(a => a.name));
    await assertPoolHealthy(orm);
  });

  it('plain rows: keys from the column default, in input order, as the reserved keys would be', async () => {
    const rows = Array.from({ length: 10 }, (_, i) => ({ name: `row ${i}` }));
    const result = await fork().copyPersist(Author, rows);
    assert.equal(result.rows, 10);
    assert.deepEqual(transactionStatements(), []);
    const stored = await orm.em.fork().getConnection().execute<{ id: number; name: string }[]>(`select id, name from ${AUTHORS} order by id`);
    assert.deepEqual(stored.map(r => [r.id, r.name]), rows.map((r, i) => [i + 1, r.name]));
    // the sequence goes on after them, as after flush
    const next = authors(fork(), 1);
    await fork().copyPersist(next);
    assert.equal(next[0].id, 11);
  });

  it('a unique violation in row 10 of 10 writes nothing, names position 9, and leaves the pool healthy', async () => {
    const em = fork();
    const entities = authors(em, 10, i => (i === 9 ? 'a0@example.org' : `a${i}@example.org`));
    const error = await em.copyPersist(entities).then(() => assert.fail('no error'), (e: unknown) => e);
    assert.ok(error instanceof UniqueConstraintViolationException, String(error));
    assert.equal((error as { copyPersist?: { position?: number } }).copyPersist?.position, 9);
    assert.match((error as Error).message, /copyPersist into Author failed, input position 9/);
    assert.equal(await countRows(orm, AUTHORS), 0);
    await assertPoolHealthy(orm);
  });

  it('two column sets: a failure in the second set drops the first, and a success is one INSERT in input order', async () => {
    const em = fork();
    // rows without an email leave the column out (its default applies, as in flush's INSERT): other columns
    const entities = authors(em, 10, i => (i % 2 === 0 ? undefined : i === 9 ? 'a1@example.org' : `a${i}@example.org`));
    const error = await em.copyPersist(entities).then(() => assert.fail('no error'), (e: unknown) => e);
    assert.ok(error instanceof UniqueConstraintViolationException, String(error));
    assert.equal((error as { copyPersist?: { position?: number } }).copyPersist?.position, 9);
    assert.equal(await countRows(orm, AUTHORS), 0);
    await assertPoolHealthy(orm);

    // and without the duplicate both COPYs store their rows
    const good = authors(fork(), 10, i => (i % 2 === 0 ? undefined : `b${i}@example.org`));
    logged = [];
    await fork().copyPersist(good);
    assert.deepEqual(transactionStatements(), []);
    assert.equal(await countRows(orm, AUTHORS), 10);
    // one INSERT of both column sets, a column left out being DEFAULT: keys in input order, as flush's
    assert.equal(inserts().length, 1);
    assert.match(inserts()[0], /values \(\$1, default\), \(\$2, \$3\)/);
    assert.deepEqual(good.map(a => a.id - good[0].id), [0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
  });

  it('a failure while encoding, after the keys were reserved, rolls back and leaves no session in a transaction', async () => {
    const em = fork();
    const entities = authors(em, 10);
    (entities[9] as { name: string | null }).name = null;
    await assert.rejects(em.copyPersist(entities), (e: unknown) => e instanceof CopyPersistError && e.code === 'REQUIRED_VALUE' && e.position === 9);
    assert.equal(await countRows(orm, AUTHORS), 0);
    await assertPoolHealthy(orm);
  });

  it('plain rows the database rejects (too long for varchar(255)) fail with the row’s position, nothing written', async () => {
    const rows = Array.from({ length: 10 }, (_, i) => ({ name: i === 4 ? 'x'.repeat(300) : `row ${i}` }));
    const error = await fork().copyPersist(Author, rows).then(() => assert.fail('no error'), (e: unknown) => e);
    assert.ok(error instanceof DriverException, String(error));
    assert.equal((error as { copyPersist?: { position?: number } }).copyPersist?.position, 4);
    assert.equal(await countRows(orm, AUTHORS), 0);
    await assertPoolHealthy(orm);
  });

  it('inside em.transactional: 10 entities are one message with their savepoint; the rows stay in the transaction and its rollback drops them', async () => {
    const entities = authors(fork(), 10);
    await assert.rejects(
      fork().transactional(async tem => {
        logged = [];
        await (tem as CopyEntityManager).copyPersist(entities);
        // savepoint, INSERT, release: one Sync, logged by the session
        assert.deepEqual(logged.map(line => /^\[query\] (\w+( savepoint)?)/.exec(line)?.[1]), ['savepoint', 'insert', 'release savepoint'], logged.join('\n'));
        assert.deepEqual(entities.map(a => a.id), [1, 2, 3, 4, 5, 6, 7, 8, 9, 10]);
        const [{ n }] = await tem.getConnection().execute<{ n: string }[]>(`select count(*) as n from ${AUTHORS}`, [], 'all', tem.getTransactionContext());
        assert.equal(Number(n), 10);
        throw new Error('roll back');
      }),
      /roll back/,
    );
    assert.equal(await countRows(orm, AUTHORS), 0);
    await assertPoolHealthy(orm);
  });

  it('inside em.transactional: still a savepoint, and a failure leaves the caller’s transaction usable', async () => {
    await fork().transactional(async tem => {
      const em = tem as CopyEntityManager;
      const bad = authors(em, 10, i => (i === 9 ? 'a0@example.org' : `a${i}@example.org`));
      logged = [];
      await assert.rejects(em.copyPersist(bad), UniqueConstraintViolationException);
      assert.ok(logged.some(line => /savepoint "mikro_orm_pg_copy_\d+"/.test(line)), logged.join('\n'));
      assert.ok(logged.some(line => /rollback to savepoint/.test(line)), logged.join('\n'));
      // the position of the failing row, found after the savepoint's rollback
      assert.equal(await em.copyPersist(bad).then(() => undefined, (e: { copyPersist?: { position?: number } }) => e.copyPersist?.position), 9);
      // the transaction goes on
      await em.copyPersist(authors(em, 3, i => `c${i}@example.org`));
    });
    assert.equal(await countRows(orm, AUTHORS), 3);
    await assertPoolHealthy(orm);
  });

  it('calls that need a transaction still open one: a stream, more than one chunk', async () => {
    async function* stream() {
      yield* authors(fork(), 3);
    }
    await fork().copyPersist(stream());
    assert.ok(transactionStatements().length >= 2, logged.join('\n'));
    logged = [];
    await fork().copyPersist(authors(fork(), 5, i => `d${i}@example.org`), { chunkSize: 2 });
    assert.ok(transactionStatements().length >= 2, logged.join('\n'));
    assert.equal(await countRows(orm, AUTHORS), 8);
  });
});
