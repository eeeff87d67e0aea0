// Parallel streams: batches on several connections, each committed on its own; the first failure
// stops every stream and says what stays committed; `loadId` makes a re-run write every row once.
import { after, afterEach, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import pg from 'pg';
import { ForeignKeyConstraintViolationException, type MikroORM } from '@mikro-orm/postgresql';
import { copyPersist, CopyPersistError, type CopyEntityManager } from '../../src/index.js';
import { copyParallel, CopyParallelError, type CopyParallelOptions, type InputRange } from '../../src/loaders/parallel.js';
import { Author, Book, libraryEntities } from '../support/library.js';
import { assertPoolHealthy, countRows, databaseUrl, initTestOrm } from '../support/orm.js';

const SCHEMA = 'parallel_test';
const AUTHORS = `${SCHEMA}.author`;
const BOOKS = `${SCHEMA}.book`;
const LOADS = `${SCHEMA}.loads`;

const sleep = (ms: number) => new Promise<void>(resolve => setTimeout(resolve, ms));

describe('parallel streams', () => {
  let orm: MikroORM;
  let admin: pg.Client;
  const fork = () => orm.em.fork() as CopyEntityManager;
  const author = (em: CopyEntityManager, id: number) => em.create(Author, { id, name: `a${id}`, email: `${id}@x` }, { persist: false });

  /** Authors 1..n made lazily; `at(i)` runs before row i, and a short pause every 250 rows keeps COPYs mid-stream. */
  async function* authors(em: CopyEntityManager, n: number, at?: (i: number) => Promise<void> | void) {
    for (let i = 1; i <= n; i++) {
      await at?.(i);
      if (i % 250 === 0) await sleep(1);
      yield author(em, i);
    }
  }

  /** Ids in the table, as sorted ranges of input positions (id = position + 1). */
  async function storedRanges(): Promise<InputRange[]> {
    const ids = (await orm.em.fork().getConnection().execute<{ id: number }[]>(`select id from ${AUTHORS} order by id`)).map(r => Number(r.id));
    const ranges: InputRange[] = [];
    for (const id of ids) {
      const last = ranges.at(-1);
      if (last && last[1] === id - 1) last[1] = id;
      else ranges.push([id - 1, id]);
    }
    return ranges;
  }

  before(async () => {
    orm = await initTestOrm({ schema: SCHEMA, entities: libraryEntities, pool: { min: 0, max: 8 } });
    admin = new pg.Client({ connectionString: databaseUrl() });
    await admin.connect();
  });
  afterEach(async () => {
    await orm.em.getConnection().execute(`truncate ${BOOKS}, ${AUTHORS} restart identity cascade`);
    await orm.em.getConnection().execute(`drop table if exists ${LOADS}`);
  });
  after(async () => {
    await admin?.end();
    await orm?.close(true);
  });

  for (const streams of [1, 2, 4]) {
    it(`${streams} stream(s) write every row once`, async () => {
      const em = fork();
      const n = 10_000;
      const options: CopyParallelOptions = { parallel: streams, batchSize: 999 };
      const result = await em.copyPersist(authors(em, n), options);
      assert.deepEqual(result, { rows: n, byEntity: { Author: n }, batches: 11, skippedBatches: 0 });
      const [row] = await em.getConnection().execute<{ n: string; d: string; lo: number; hi: number }[]>(
        `select count(*) as n, count(distinct id) as d, min(id) as lo, max(id) as hi from ${AUTHORS}`,
      );
      assert.deepEqual([Number(row.n), Number(row.d), row.lo, row.hi], [n, n, 1, n]);
      await assertPoolHealthy(orm);
    });
  }

  it('takes arrays, plain rows of one class, and generated keys from the sequence', async () => {
    const em = fork();
    const list = Array.from({ length: 3000 }, (_, i) => em.create(Author, { name: `x${i}` }, { persist: false }));
    const options: CopyParallelOptions = { parallel: 3, batchSize: 700 };
    assert.equal((await copyPersist(em, list, options)).rows, 3000);
    // keys were reserved per batch from the one sequence: all distinct, all set on the entities
    assert.equal(new Set(list.map(a => a.id)).size, 3000);
    const rows = Array.from({ length: 2500 }, (_, i) => ({ title: `t${i}`, author: list[i % 10].id }));
    const result = await copyParallel(em, Book, rows, { parallel: 2, batchSize: 1000 });
    assert.deepEqual(result, { rows: 2500, byEntity: { Book: 2500 }, batches: 3, skippedBatches: 0 });
    assert.equal(await countRows(orm, BOOKS), 2500);
    await assertPoolHealthy(orm);
  });

  it('an invalid row stops every stream and the error names the committed ranges', async () => {
    const em = fork();
    const batchSize = 500;
    const bad = 7 * batchSize + 123; // input position of the bad row, in batch 7
    let closed = false;
    let read = 0;
    async function* input() {
      try {
        for (let i = 0; i < 40 * batchSize; i++) {
          read++;
          if (i % 100 === 0) await sleep(1);
          // a null name is caught before it reaches the database (REQUIRED_VALUE)
          yield em.create(Author, { id: i + 1, name: i === bad ? (null as unknown as string) : `a${i}` }, { persist: false });
        }
      } finally {
        closed = true;
      }
    }
    const error = await copyParallel(em, input(), { parallel: 3, batchSize }).then(
      () => assert.fail('expected the load to fail'),
      (e: unknown) => e,
    );
    assert.ok(error instanceof CopyParallelError, String(error));
    assert.equal(error.code, 'PARALLEL_FAILED');
    assert.deepEqual(error.failed, [7 * batchSize, 8 * batchSize]);
    assert.equal(error.position, bad, 'the position is counted in the whole input');
    assert.ok(error.cause instanceof CopyPersistError && error.cause.code === 'REQUIRED_VALUE');
    assert.match(error.message, /committed input positions: /);
    // exactly what the error calls committed is in the table; the failed batch is not
    assert.deepEqual(await storedRanges(), error.committed);
    assert.ok(!error.committed.some(([from, to]) => from < bad + 1 && bad < to));
    // every stream stopped: the input was closed, not read to its end
    assert.ok(closed, 'the input iterator was closed');
    assert.ok(read < 40 * batchSize, `read ${read} rows of ${40 * batchSize}`);
    await assertPoolHealthy(orm);
  });

  it('a database error in one batch: the cause keeps MikroORM’s class', async () => {
    const em = fork();
    const owner = author(em, 1);
    await em.copyPersist([owner]);
    const books = Array.from({ length: 4000 }, (_, i) =>
      em.create(Book, { id: i + 1, title: `b${i}`, author: i === 2500 ? em.getReference(Author, 999) : owner }, { persist: false }),
    );
    const error = await copyPersist(em, books, { parallel: 2, batchSize: 1000 } as CopyParallelOptions).then(
      () => assert.fail('expected the load to fail'),
      (e: unknown) => e,
    );
    assert.ok(error instanceof CopyParallelError, String(error));
    assert.ok(error.cause instanceof ForeignKeyConstraintViolationException, String(error.cause));
    assert.deepEqual(error.failed, [2000, 3000]);
    const ids = (await em.getConnection().execute<{ id: number }[]>(`select id from ${BOOKS} order by id`)).map(r => Number(r.id));
    const expected = error.committed.flatMap(([from, to]) => Array.from({ length: to - from }, (_, i) => from + i + 1));
    assert.deepEqual(ids, expected);
    await assertPoolHealthy(orm);
  });

  it('inside a transaction it refuses, and the transaction stays usable', async () => {
    await fork().transactional(async em => {
      const cem = em as CopyEntityManager;
      await assert.rejects(
        cem.copyPersist([author(cem, 1)], { parallel: 2 }),
        (e: unknown) => e instanceof CopyPersistError && e.code === 'IN_TRANSACTION' && /outside/.test(e.message),
      );
      await cem.copyPersist([author(cem, 2)]);
    });
    assert.equal(await countRows(orm, AUTHORS), 1);
    await assertPoolHealthy(orm);
  });

  it('the caller’s signal aborts every stream', async () => {
    const em = fork();
    const controller = new AbortController();
    const loading = copyParallel(em, authors(em, 30_000, i => (i === 6000 ? controller.abort() : undefined)), { parallel: 2, batchSize: 1000, signal: controller.signal });
    const error = await loading.then(() => assert.fail('expected an abort'), (e: unknown) => e);
    assert.ok(error instanceof CopyParallelError && error.code === 'ABORTED', String(error));
    assert.deepEqual(await storedRanges(), error.committed);
    await assertPoolHealthy(orm);
  });

  it('reads at most parallel + 1 batches ahead of what is committed', async () => {
    const em = fork();
    const batchSize = 400;
    const parallel = 3;
    let read = 0;
    let committed = 0;
    let furthest = 0;
    async function* input() {
      for (let i = 1; i <= 20_000; i++) {
        read++;
        furthest = Math.max(furthest, read - committed);
        if (i % 200 === 0) await sleep(1);
        yield author(em, i);
      }
    }
    const result = await copyParallel(em, input(), { parallel, batchSize, onProgress: p => (committed = p.rows) });
    assert.equal(result.rows, 20_000);
    assert.ok(furthest <= (parallel + 1) * batchSize, `read ${furthest} rows ahead of the commits`);
    // and it does read ahead: more than one batch is in flight at a time
    assert.ok(furthest > batchSize, `read only ${furthest} rows ahead`);
  });

  it('loadId: a stream killed mid-load, then re-runs write every row exactly once', async () => {
    const n = 24_000;
    const batchSize = 1000;
    const options = (): CopyParallelOptions => ({ parallel: 2, batchSize, loadId: 'authors-1', loadTable: LOADS });
    let killed = false;
    // from row 9000 on, terminate the backend of one running COPY (the first one found active)
    const killOne = async (i: number) => {
      if (killed || i < 9000 || i % 100 !== 0) return;
      const { rows } = await admin.query(
        `select pg_terminate_backend(pid) as killed from pg_stat_activity
          where pid = (select pid from pg_stat_activity where query ilike 'copy %${SCHEMA}%' and state = 'active' and pid <> pg_backend_pid() limit 1)`,
      );
      killed = rows.length === 1;
    };
    const em1 = fork();
    const error = await em1.copyPersist(authors(em1, n, killOne), options()).then(() => assert.fail('expected the kill to fail the load'), (e: unknown) => e);
    assert.ok(killed, 'a COPY backend was killed');
    assert.ok(error instanceof CopyParallelError, String(error));
    // the killed backend shows as the server's termination notice, or as the socket failing under a write (EPIPE, ECONNRESET)
    assert.match(String((error.cause as Error).message), /terminat|Connection|closed|ended|EPIPE|ECONNRESET/i);
    const stored = await storedRanges();
    assert.deepEqual(stored, error.committed);
    assert.ok(stored.length > 0 && (await countRows(orm, AUTHORS)) < n, 'the first run stopped partway');
    // the bookkeeping matches the table: a batch is recorded exactly when its rows are there
    const recorded = await orm.em.fork().getConnection().execute<{ batch: number; first_position: string; row_count: number }[]>(
      `select batch, first_position, row_count from ${LOADS} where load_id = 'authors-1' order by batch`,
    );
    const fromBook = recorded.map(r => [Number(r.first_position), Number(r.first_position) + r.row_count] as InputRange);
    assert.deepEqual(fromBook.reduce<InputRange[]>((acc, [f, t]) => (acc.at(-1)?.[1] === f ? (acc.at(-1)![1] = t) : acc.push([f, t]), acc), []), stored);
    await assertPoolHealthy(orm);

    // the re-run skips what is recorded and writes the rest
    const em2 = fork();
    const second = await copyParallel(em2, authors(em2, n), options());
    assert.equal(second.rows, n - recorded.length * batchSize);
    assert.equal(second.skippedBatches, recorded.length);
    const [row] = await em2.getConnection().execute<{ n: string; d: string }[]>(`select count(*) as n, count(distinct id) as d from ${AUTHORS}`);
    assert.deepEqual([Number(row.n), Number(row.d)], [n, n]);

    // once complete, a third run writes nothing
    const em3 = fork();
    const third = await copyParallel(em3, authors(em3, n), options());
    assert.deepEqual([third.rows, third.batches, third.skippedBatches], [0, 0, n / batchSize]);
    // another batchSize would renumber the batches: refused
    await assert.rejects(
      copyParallel(em3, authors(em3, n), { ...options(), batchSize: 500 }),
      (e: unknown) => e instanceof CopyPersistError && e.code === 'INVALID_OPTION' && e.option === 'batchSize' && /batchSize 1000/.test(e.message),
    );
    assert.equal(await countRows(orm, AUTHORS), n);
    await assertPoolHealthy(orm);
  });
});
