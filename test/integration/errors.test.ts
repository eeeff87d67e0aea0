import { after, afterEach, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import {
  CheckConstraintViolationException,
  DriverException,
  ForeignKeyConstraintViolationException,
  NotNullConstraintViolationException,
  UniqueConstraintViolationException,
  type MikroORM,
} from '@mikro-orm/postgresql';
import { Readable } from 'node:stream';
import { EntitySchema } from '@mikro-orm/postgresql';
import {
  CopyParallelError,
  CopyPersistError,
  LoadFileError,
  PgCopyError,
  TestEntityManager,
  beginTestTransaction,
  copyParallel,
  loadFile,
  loadFixtures,
  type CopyEntityManager,
  type LoadFileErrorCode,
} from '../../src/index.js';
import { Author, Book, libraryEntities } from '../support/library.js';
import { copyError } from '../support/copy-error.js';
import { MIKRO_ORM_VERSION, assertPoolHealthy, countRows, initTestOrm } from '../support/orm.js';

const SCHEMA = 'errors_test';
const AUTHORS = `${SCHEMA}.author`;
const BOOKS = `${SCHEMA}.book`;

/** A bad option: the package's own error (never a bare TypeError) with code INVALID_OPTION, naming the option in `option` and the message. */
function invalidOption(option: string, type: typeof CopyPersistError | typeof LoadFileError = CopyPersistError) {
  return (e: unknown) => {
    assert.ok(e instanceof type, `expected a ${type.name}, got ${String(e)}`);
    assert.ok(e instanceof PgCopyError);
    assert.equal(e.code, 'INVALID_OPTION');
    assert.equal(e.option, option);
    assert.match(e.message, new RegExp(`\\b${option}\\b`));
    return true;
  };
}

/** A LoadFileError of `code`. */
function loadFileError(code: LoadFileErrorCode) {
  return (e: unknown) => {
    assert.ok(e instanceof LoadFileError, `expected a LoadFileError, got ${String(e)}`);
    assert.equal(e.code, code);
    return true;
  };
}

/** Two new rows of one table referencing each other through a non-nullable key. */
class Node {
  id!: number;
  next!: Node;
}
const NodeSchema = new EntitySchema<Node>({
  class: Node,
  properties: { id: { type: 'integer', primary: true }, next: { kind: 'm:1', entity: () => Node } },
});

/** A MikroORM exception of `type` whose message and `copyPersist` field name the entity and the input position. */
function databaseError(type: new (...args: never[]) => Error, entity: string, position: number | undefined, detail?: RegExp) {
  return (e: unknown) => {
    assert.ok(e instanceof type, `expected ${type.name}, got ${(e as Error)?.constructor?.name}: ${String(e)}`);
    const context = (e as Error & { copyPersist?: { entity: string; position?: number } }).copyPersist;
    assert.deepEqual({ entity: context?.entity, position: context?.position }, { entity, position });
    assert.match(e.message, new RegExp(position === undefined ? `${entity} failed:` : `${entity} failed, input position ${position}:`));
    if (detail) assert.match(e.message, detail);
    return true;
  };
}

describe('bad input and database errors: a clear error, nothing written, a healthy pool', () => {
  let orm: MikroORM;
  const fork = () => orm.em.fork() as CopyEntityManager;
  const authors = (em: CopyEntityManager, n: number) =>
    Array.from({ length: n }, (_, i) => em.create(Author, { id: i + 1, name: `author ${i + 1}`, email: `a${i + 1}@example.com` }, { persist: false }));

  before(async () => {
    orm = await initTestOrm({ schema: SCHEMA, entities: [...libraryEntities, NodeSchema] });
    // constraints MikroORM's metadata does not know, to provoke the database's own errors
    await orm.em.getConnection().execute(`alter table ${BOOKS} add constraint pages_positive check (pages > 0)`);
    await orm.em.getConnection().execute(`alter table ${AUTHORS} alter column email set not null`);
  });
  afterEach(async () => {
    assert.equal(await countRows(orm, AUTHORS), 0, 'rows were written despite the error');
    assert.equal(await countRows(orm, BOOKS), 0, 'rows were written despite the error');
    await assertPoolHealthy(orm);
  });
  after(async () => orm?.close(true));

  it('a NUL character in text', async () => {
    const em = fork();
    const list = authors(em, 5);
    list[3].name = 'bad\u0000name';
    await assert.rejects(em.copyPersist(list), copyError('NUL_CHARACTER', 'Author', 'name', 3));
  });

  it('a referenced entity without a primary key', async () => {
    const em = fork();
    const unsaved = new Author();
    unsaved.name = 'no key yet';
    const list = authors(em, 2);
    const book = em.create(Book, { title: 't', author: unsaved }, { persist: false });
    await assert.rejects(em.copyPersist([...list, book]), copyError('MISSING_REFERENCE_KEY', 'Book', 'author', 2));
  });

  it('a plain object among entities', async () => {
    const em = fork();
    await assert.rejects(em.copyPersist([...authors(em, 2), { name: 'plain' }]), copyError('UNREGISTERED_ENTITY', 'Object', undefined, 2));
  });

  it('plain objects only, without an entity class', async () => {
    const em = fork();
    await assert.rejects(em.copyPersist([{ name: 'plain' }, { name: 'plain too' }]), copyError('UNREGISTERED_ENTITY', 'Object', undefined, 0));
  });

  it('an instance of a class the ORM does not know', async () => {
    class Stranger {
      name = 'x';
    }
    const em = fork();
    await assert.rejects(em.copyPersist([...authors(em, 1), new Stranger()]), copyError('UNREGISTERED_ENTITY', 'Stranger', undefined, 1));
  });

  it('a class the ORM does not know, with plain rows', async () => {
    class Stranger {}
    await assert.rejects(fork().copyPersist(Stranger, [{}]), copyError('UNREGISTERED_ENTITY', 'Stranger', undefined, 0));
  });

  it('a plain row with an unknown property', async () => {
    const rows = [{ id: 1, name: 'a', email: 'a@x' }, { id: 2, name: 'b', email: 'b@x', nmae: 'typo' }];
    await assert.rejects(fork().copyPersist(Author, rows), copyError('UNKNOWN_PROPERTY', 'Author', 'nmae', 1));
  });

  it('a plain row whose unknown key every object has (toString, constructor), after rows with the right keys', async () => {
    // the key check remembers the keys of the row before: a new key at a known place is still checked
    const good = (id: number) => ({ id, name: `a${id}`, email: `a${id}@x` });
    const withKey = (key: string) => ({ id: 9, name: 'z', [key]: 'x' });
    for (const key of ['toString', 'constructor', 'hasOwnProperty']) {
      await assert.rejects(fork().copyPersist(Author, [good(1), good(2), withKey(key)]), copyError('UNKNOWN_PROPERTY', 'Author', key, 2));
    }
  });

  it('a missing required value', async () => {
    const em = fork();
    const list = authors(em, 3);
    (list[2] as { name?: string }).name = undefined;
    await assert.rejects(em.copyPersist(list), copyError('REQUIRED_VALUE', 'Author', 'name', 2));
  });

  it('a value of the wrong type', async () => {
    const em = fork();
    const list = authors(em, 3);
    (list[1] as unknown as { name: unknown }).name = { not: 'a string' };
    if (MIKRO_ORM_VERSION >= 7) {
      // MikroORM 7 type-checks scalars before inserting; so does copyPersist
      await assert.rejects(em.copyPersist(list), copyError('INVALID_VALUE', 'Author', 'name', 1));
    } else {
      // MikroORM 6 sends the value; PostgreSQL takes the JSON text for a varchar, as flush's INSERT does
      await em.copyPersist(list);
      const [row] = await em.getConnection().execute(`select name from ${AUTHORS} where id = 2`);
      assert.equal(row.name, '{"not":"a string"}');
      await em.getConnection().execute(`truncate ${AUTHORS} cascade`);
    }
  });

  it('a non-integer number for an integer column', async () => {
    const em = fork();
    const list = authors(em, 2);
    const book = em.create(Book, { title: 't', author: list[0], pages: 1.5 }, { persist: false });
    await assert.rejects(em.copyPersist([...list, book]), copyError('INVALID_VALUE', 'Book', 'pages', 2));
  });

  it('NaN in an integer column', async () => {
    const em = fork();
    const list = authors(em, 1);
    const book = em.create(Book, { title: 't', author: list[0], pages: Number.NaN }, { persist: false });
    await assert.rejects(em.copyPersist([...list, book]), copyError('INVALID_VALUE', 'Book', 'pages', 1));
  });

  it('input that is not iterable', async () => {
    await assert.rejects(fork().copyPersist(42 as never), copyError('INVALID_INPUT'));
  });

  it('a unique violation deep in the input names its position', async () => {
    const em = fork();
    const list = authors(em, 5000);
    list[4321].email = list[17].email;
    await assert.rejects(em.copyPersist(list, { chunkSize: 1000 }), databaseError(UniqueConstraintViolationException, 'Author', 4321));
  });

  it('a not-null violation from the database', async () => {
    const em = fork();
    const list = authors(em, 10);
    list[7].email = undefined;
    // the column is nullable in the metadata, so only PostgreSQL objects; email left out means NULL here
    await assert.rejects(em.copyPersist(list), (e: unknown) => {
      assert.ok(e instanceof NotNullConstraintViolationException, String(e));
      return true;
    });
  });

  it('a foreign key violation names the entity and the missing key', async () => {
    const em = fork();
    const list = authors(em, 3);
    const books = [0, 1, 2, 3].map(i => em.create(Book, { title: `t${i}`, author: i === 2 ? em.getReference(Author, 77) : list[0] }, { persist: false }));
    // PostgreSQL checks foreign keys after the last row of the COPY, so it reports the key, not a line
    await assert.rejects(em.copyPersist([...list, ...books]), databaseError(ForeignKeyConstraintViolationException, 'Book', undefined, /\(author_id\)=\(77\)/));
  });

  it('a check constraint violation names the book', async () => {
    const em = fork();
    const list = authors(em, 1);
    const books = [5, 10, -1].map(pages => em.create(Book, { title: 'x', author: list[0], pages }, { persist: false }));
    await assert.rejects(em.copyPersist([...list, ...books]), databaseError(CheckConstraintViolationException, 'Book', 3));
  });

  it('text PostgreSQL rejects becomes a MikroORM DriverException', async () => {
    // rows that reached the server with a bad value: the database's error, converted, with the position
    await assert.rejects(fork().copyPersist(Author, [{ id: 1, name: 'x'.repeat(300), email: 'e' }]), databaseError(DriverException, 'Author', 0));
  });

  it('a signal aborted before the call', async () => {
    const controller = new AbortController();
    controller.abort(new Error('user cancelled'));
    const em = fork();
    await assert.rejects(em.copyPersist(authors(em, 3), { signal: controller.signal }), copyError('ABORTED'));
  });

  it('a signal aborted in the middle of the stream', async () => {
    const controller = new AbortController();
    const em = fork();
    async function* slow() {
      for (let i = 1; i <= 10_000; i++) {
        if (i === 6000) controller.abort();
        if (i % 1000 === 0) await new Promise(resolve => setImmediate(resolve));
        yield em.create(Author, { id: i, name: `n${i}`, email: `${i}@x` }, { persist: false });
      }
    }
    await assert.rejects(em.copyPersist(slow(), { chunkSize: 500, signal: controller.signal }), copyError('ABORTED'));
  });

  it('a signal aborted after the last row', async () => {
    const controller = new AbortController();
    const em = fork();
    const list = authors(em, 100);
    await assert.rejects(
      em.copyPersist(list, { chunkSize: 50, signal: controller.signal, onProgress: p => p.rows === 100 && controller.abort() }),
      copyError('ABORTED'),
    );
  });

  it('a source iterator that throws', async () => {
    const em = fork();
    function* failing() {
      for (let i = 1; i <= 3000; i++) {
        if (i === 2500) throw new Error('disk on fire');
        yield em.create(Author, { id: i, name: `n${i}`, email: `${i}@x` }, { persist: false });
      }
    }
    await assert.rejects(em.copyPersist(failing(), { chunkSize: 1000 }), (e: unknown) => {
      copyError('SOURCE_FAILED', undefined, undefined, 2499)(e);
      assert.equal(((e as Error).cause as Error).message, 'disk on fire');
      return true;
    });
  });

  it('an async source that rejects', async () => {
    const em = fork();
    async function* failing() {
      yield em.create(Author, { id: 1, name: 'n', email: '1@x' }, { persist: false });
      throw new Error('network gone');
    }
    await assert.rejects(em.copyPersist(failing()), copyError('SOURCE_FAILED', undefined, undefined, 1));
  });

  it('a bad chunkSize is INVALID_OPTION naming chunkSize', async () => {
    const em = fork();
    await assert.rejects(em.copyPersist(authors(em, 1), { chunkSize: 0 }), invalidOption('chunkSize'));
  });

  it('bad parallel, batchSize and loadId are INVALID_OPTION naming each', async () => {
    const em = fork();
    await assert.rejects(copyParallel(em, authors(em, 1), { parallel: 1.5 }), invalidOption('parallel'));
    await assert.rejects(copyParallel(em, authors(em, 1), { parallel: 2, batchSize: -1 }), invalidOption('batchSize'));
    await assert.rejects(copyParallel(em, Author, [], { parallel: 2, loadId: '' }), invalidOption('loadId'));
  });

  it('parallel with manage is INVALID_OPTION naming manage', async () => {
    const em = fork();
    await assert.rejects(em.copyPersist(authors(em, 1), { parallel: 2, manage: true }), invalidOption('manage'));
  });

  it('a factory fixture with a bad count is INVALID_OPTION naming count (not SOURCE_FAILED)', async () => {
    const factory = { makeEntity: () => new Author() };
    await assert.rejects(loadFixtures(fork(), { factory: factory as never, count: -1 }), invalidOption('count'));
    await assert.rejects(loadFixtures(fork(), [{ factory: factory as never, count: 1.5 }]), invalidOption('count'));
  });

  it('loadFile without path or stream, with a bad batchSize or delimiter: LoadFileError INVALID_OPTION', async () => {
    await assert.rejects(loadFile(fork(), { entity: Author }), invalidOption('path', LoadFileError));
    const stream = () => Readable.from(['name\nx\n']);
    await assert.rejects(loadFile(fork(), { entity: Author, stream: stream(), format: 'csv', batchSize: 0 }), invalidOption('batchSize', LoadFileError));
    await assert.rejects(loadFile(fork(), { entity: Author, stream: stream(), format: 'csv', delimiter: ';;' }), invalidOption('delimiter', LoadFileError));
  });

  it('loadFile of an entity the ORM does not know: LoadFileError UNKNOWN_ENTITY', async () => {
    await assert.rejects(loadFile(fork(), { entity: 'Writer', stream: Readable.from(['{}\n']) }), loadFileError('UNKNOWN_ENTITY'));
  });

  it('beginTestTransaction on an ORM without TestEntityManager is INVALID_OPTION naming entityManager', async () => {
    await assert.rejects(beginTestTransaction(orm.em), invalidOption('entityManager'));
  });

  it('a cycle of new rows in one table through a non-nullable key is REFERENCE_CYCLE', async () => {
    const em = fork();
    const a = em.create(Node, { id: 1, next: 2 }, { persist: false });
    const b = em.create(Node, { id: 2, next: a }, { persist: false });
    a.next = b;
    await assert.rejects(em.copyPersist([a, b]), copyError('REFERENCE_CYCLE', 'Node', 'next'));
    assert.equal(await countRows(orm, `${SCHEMA}.node`), 0);
  });

  it('an upsert on a constraint the table does not have is UNKNOWN_CONSTRAINT', async () => {
    const rows = [{ id: 1, name: 'a', email: 'a@x' }];
    await assert.rejects(fork().copyPersist(Author, rows, { onConflictFields: { constraint: 'no_such_constraint' } }), (e: unknown) => {
      copyError('UNKNOWN_CONSTRAINT', 'Author')(e);
      assert.match((e as Error).message, /no_such_constraint/);
      return true;
    });
  });

  it('the abort message is the same from a single and a parallel load', async () => {
    const controller = new AbortController();
    controller.abort();
    const em = fork();
    const single = await em.copyPersist(authors(em, 1), { signal: controller.signal }).catch((e: unknown) => e);
    const parallel = await em.copyPersist(authors(em, 1), { parallel: 2, signal: controller.signal }).catch((e: unknown) => e);
    assert.ok(single instanceof CopyPersistError && parallel instanceof CopyPersistError);
    assert.deepEqual([single.code, parallel.code], ['ABORTED', 'ABORTED']);
    assert.equal(parallel.message, single.message);
  });

  it('one family: every error class of the package is a PgCopyError with a code, and keeps its name', () => {
    const persist = new CopyPersistError('INVALID_VALUE', 'x');
    const parallel = new CopyParallelError(persist, [], undefined, undefined);
    const file = new LoadFileError('BAD_ROW', 'line 1: x', 1, 'x');
    for (const e of [persist, parallel, file]) assert.ok(e instanceof PgCopyError && e instanceof Error);
    assert.ok(parallel instanceof CopyPersistError);
    assert.ok(!(file instanceof CopyPersistError));
    // names users match on across two copies of the package (import and require)
    assert.deepEqual([persist.name, parallel.name, file.name], ['CopyPersistError', 'CopyPersistError', 'LoadFileError']);
    assert.deepEqual([persist.code, parallel.code, file.code], ['INVALID_VALUE', 'PARALLEL_FAILED', 'BAD_ROW']);
  });
});

describe('test transactions: one per ORM at a time', () => {
  let orm: MikroORM;
  before(async () => {
    orm = await initTestOrm({ schema: `${SCHEMA}_tx`, entities: libraryEntities, entityManager: TestEntityManager });
  });
  after(async () => orm?.close(true));

  it('a second test transaction while the first is open is IN_TRANSACTION', async () => {
    const first = await beginTestTransaction(orm.em);
    try {
      await assert.rejects(beginTestTransaction(orm.em), copyError('IN_TRANSACTION'));
    } finally {
      await first.rollback();
    }
    await assertPoolHealthy(orm);
  });
});
