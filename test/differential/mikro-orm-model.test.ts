// MikroORM's own SQL test model (test/support/mikro-orm-model.ts), in realistic graphs built
// identically on two ORMs: one side written by persist + flush, the other by copyPersist — once
// flat (every entity in the input, shuffled) and once as roots with `cascade: true` — and every
// table compared row by row. Ids are compared as they are where flush's ids match; a cascaded
// graph may be discovered in another order than flush's, so there ids and keys that point at
// generated ids are compared through natural keys instead.
import { after, before, describe, it, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { ref, type MikroORM } from '@mikro-orm/postgresql';
import type { CopyEntityManager } from '../../src/index.js';
import { assertPoolHealthy, initTestOrm } from '../support/orm.js';
import { Enum2, mikroOrmModel, PublisherType, type MikroOrmModel } from '../support/mikro-orm-model.js';

type Row = Record<string, unknown>;
type Tables = Map<string, Row[]>;

/** A graph: every entity of it, and the roots flush's persist cascade reaches all of it from. */
interface Graph {
  all: object[];
  roots: object[];
}
type Build = (m: MikroOrmModel) => Graph;

/** Generated-key tables and the column that identifies a row of each in the graphs below. */
const NATURAL: Record<string, string> = {
  author2: 'email',
  publisher2: 'name',
  book_tag2: 'name',
  test2: 'name',
  foo_bar2: 'name',
  foo_baz2: 'name',
  sandwich: 'name',
  base_user2: 'first_name',
  car_owner2: 'name',
};
/** Fixed-order pivot tables: their serial order column and the owner column it orders within. */
const FIXED_ORDER: Record<string, [string, string]> = {
  book2_tags: ['order', 'book2_uuid_pk'],
  label2_tests: ['id', 'label2_uuid'],
};
/** Version columns the database fills with the current time: compared as set or not. */
const CLOCK_COLUMNS = new Set(['foo_bar2.version', 'foo_baz2.version', 'foo_param2.version']);

const CREATED = new Date('2020-01-01T10:00:00.123Z');
const UPDATED = new Date('2020-01-02T10:00:00.456Z');

/** Deterministic Fisher–Yates shuffle (same permutation on both sides). */
function shuffled<T>(items: T[], seed: number): T[] {
  const out = [...items];
  let s = seed;
  for (let i = out.length - 1; i > 0; i--) {
    s = (s * 1103515245 + 12345) % 2 ** 31;
    const j = s % (i + 1);
    [out[i], out[j]] = [out[j], out[i]];
  }
  return out;
}

const uuid = (kind: number, i: number) => `00000000-0000-4000-8000-${String(kind * 1000 + i).padStart(12, '0')}`;

function author(m: MikroOrmModel, name: string, extra: Partial<InstanceType<MikroOrmModel['Author2']>> = {}) {
  const a = new m.Author2(name, `${name.toLowerCase().replaceAll(' ', '.')}@example.com`);
  a.createdAt = new Date(CREATED);
  a.updatedAt = new Date(UPDATED);
  return Object.assign(a, extra);
}

function book(m: MikroOrmModel, i: number, title: string, writer: InstanceType<MikroOrmModel['Author2']>) {
  const b = new m.Book2(title, writer);
  b.uuid = uuid(1, i);
  b.createdAt = new Date(CREATED);
  writer.books.add(b);
  return b;
}

/** Authors, books, tags (ordered and unordered M:N), publishers, the favourite-book cycle, self-references, addresses. */
const library: Build = m => {
  const a1 = author(m, 'Jon Snow', { age: 30, identities: ['a', 'b c', ''], born: '1990-05-17', bornTime: '10:20:30', optional: true });
  a1.identity = new m.Identity('foo', 123);
  const a2 = author(m, 'Daenerys', { termsAccepted: true, identities: [] });
  const a3 = author(m, 'Tyrion');
  const a4 = author(m, 'Arya', { age: 11, optional: false });
  const p1 = new m.Publisher2('Bantam', PublisherType.GLOBAL);
  p1.enum1 = 1;
  p1.enum2 = Enum2.PROP2;
  p1.enum3 = 3;
  p1.enum4 = 'b';
  p1.enum5 = 'a';
  const p2 = new m.Publisher2('Voyager');
  const b1 = book(m, 1, 'A Game of Thrones', a1);
  b1.isbn = '0553103547123';
  b1.price = 19.99;
  b1.double = 1.5;
  b1.meta = { category: 'fantasy', items: 3, valid: true, nested: { foo: 'x', deep: { baz: 1, qux: false } } };
  b1.perex = 'Winter is coming';
  b1.publisher = ref(p1);
  const b2 = book(m, 2, 'A Clash of Kings', a1);
  b2.publisher = ref(p1);
  const b3 = book(m, 3, 'A Storm of Swords', a2);
  b3.publisher = ref(p2);
  b3.price = 25;
  const b4 = book(m, 4, 'A Feast for Crows', a2);
  const b5 = book(m, 5, 'A Dance with Dragons', a3);
  b5.title = null;
  const tags = ['silly', 'funny', 'sick', 'strange', 'sexy'].map(n => new m.BookTag2(n));
  b1.tags.add(tags[0], tags[1], tags[2]);
  b2.tags.add(tags[2], tags[0]);
  b3.tags.add(tags[4]);
  b1.tagsUnordered.add(tags[3], tags[1]);
  b4.tagsUnordered.add(tags[0]);
  // the cycle Author2.favouriteBook ↔ Book2.author, across authors, and self-references
  a1.favouriteBook = b3;
  a2.favouriteBook = b1;
  a3.favouriteBook = b5;
  a1.favouriteAuthor = a2;
  a2.favouriteAuthor = a1;
  a3.favouriteAuthor = a3;
  a1.friends.add(a2, a3);
  a3.friends.add(a1);
  a1.following.add(a3, a4);
  a4.following.add(a1);
  // inverse one-to-ones (Author2.address cascades ALL), keyed by the author
  a1.address = new m.Address2(a1, 'Winterfell');
  a2.address = new m.Address2(a2, 'Dragonstone');
  const addresses = [a1.address, a2.address];
  return {
    all: [a1, a2, a3, a4, p1, p2, b1, b2, b3, b4, b5, ...tags, ...addresses],
    // Book2.tags has `cascade: []`: its tags are roots of their own
    roots: [a1, a2, a3, a4, ...tags],
  };
};

/** Tests with configuration rows (composite key), the pivot entity PublisherTest, FooBar2/FooBaz2 one-to-ones, FooParam2, Label2's fixed-order pivot. */
const tests: Build = m => {
  const a1 = author(m, 'Sam');
  const b1 = book(m, 11, 'The Citadel', a1);
  const p1 = new m.Publisher2('Pub One');
  const p2 = new m.Publisher2('Pub Two', PublisherType.GLOBAL);
  b1.publisher = ref(p1);
  const t1 = new m.Test2('t1');
  const t2 = new m.Test2('t2');
  const t3 = new m.Test2('t3');
  t1.book = b1;
  b1.test = t1;
  p1.tests.add(t1, t2);
  p2.tests.add(t2, t3);
  const configs = [new m.Configuration2(t1, 'foo', '1'), new m.Configuration2(t1, 'bar', '2'), new m.Configuration2(t3, 'foo', '3')];
  for (const c of configs) c.test.config.add(c);
  const bars = ['bar 1', 'bar 2', 'bar 3'].map(n => m.FooBar2.create(n));
  const bazs = ['baz 1', 'baz 2'].map(n => new m.FooBaz2(n));
  bars[0].baz = bazs[0];
  bazs[0].bar = bars[0];
  bars[1].baz = bazs[1];
  bazs[1].bar = bars[1];
  bars[0].fooBar = bars[2];
  bars[2].fooBar = bars[1];
  bars[0].nameWithSpace = 'with space';
  bars[0].blob = Buffer.from([0, 1, 2, 255]);
  bars[1].blob2 = new Uint8Array([9, 8, 7]);
  bars[1].array = [1, 2, 3];
  bars[2].objectProperty = { foo: 'bar', bar: 3, list: [1, { x: null }] };
  t1.bars.add(bars[0], bars[1]);
  t2.bars.add(bars[2]);
  const params = [new m.FooParam2(bars[0], bazs[0], 'p1'), new m.FooParam2(bars[1], bazs[0], 'p2')];
  const l1 = new m.Label2('label 1');
  l1.uuid = uuid(2, 1);
  const l2 = new m.Label2('label 2');
  l2.uuid = uuid(2, 2);
  l1.tests.add(t3, t1, t2);
  l2.tests.add(t2);
  return {
    all: [a1, b1, p1, p2, t1, t2, t3, ...configs, ...bars, ...bazs, ...params, l1, l2],
    roots: [a1, p2, ...params, l1, l2],
  };
};

/** The single-table hierarchy with references between its subclasses (owners to employees and managers, owners to owners). */
const users: Build = m => {
  const employee = (first: string, prop: number) => Object.assign(new m.Employee2(first, 'E'), { employeeProp: prop });
  const manager = (first: string, prop: string) => Object.assign(new m.Manager2(first, 'M'), { managerProp: prop });
  const owner = (first: string, prop: string) => Object.assign(new m.CompanyOwner2(first, 'O'), { managerProp: `m-${prop}`, ownerProp: prop });
  const e1 = employee('Emma', 1);
  const e2 = employee('Eric', 2);
  const m1 = manager('Mia', 'one');
  const m2 = manager('Max', 'two');
  const o1 = owner('Olga', 'first');
  const o2 = owner('Oscar', 'second');
  const o3 = owner('Otto', 'third');
  o1.favouriteEmployee = e2;
  o1.favouriteManager = m2;
  o2.favouriteManager = o1;
  o2.favouriteEmployee = e1;
  o3.favouriteManager = null;
  return { all: [o2, o1, e1, m1, e2, o3, m2], roots: [o2, o3, m1] };
};

/** Composite keys: cars, users (M:N both ways, a one-to-one to a car), car owners, sandwiches. */
const cars: Build = m => {
  const c1 = new m.Car2('Audi A8', 2011, 100_000);
  const c2 = new m.Car2('Audi A8', 2012, 120_000);
  const c3 = new m.Car2('BMW 3', 2015, 50_000);
  const u1 = new m.User2('John', 'Doe');
  const u2 = new m.User2('Jane', 'Doe');
  u2.foo = 42;
  u1.cars.add(c1, c3);
  u2.cars.add(c2);
  u1.favouriteCar = c1;
  u2.favouriteCar = c3;
  const s1 = new m.Sandwich('Fish Sandwich', 100);
  const s2 = new m.Sandwich('Fried Egg Sandwich', 200);
  u1.sandwiches.add(s1, s2);
  u2.sandwiches.add(s2);
  const o1 = new m.CarOwner2('Owner A');
  o1.car = c2;
  const o2 = new m.CarOwner2('Owner B');
  o2.car = c1;
  return { all: [u1, u2, c1, c2, c3, s1, s2, o1, o2], roots: [u1, u2, o1, o2] };
};

const everything: Build = m => {
  const graphs = [library(m), tests(m), users(m), cars(m)];
  return { all: graphs.flatMap(g => g.all), roots: graphs.flatMap(g => g.roots) };
};

describe('MikroORM’s own SQL test model: copyPersist writes what flush writes', () => {
  const flushSide = mikroOrmModel();
  const copySide = mikroOrmModel();
  let flushOrm: MikroORM;
  let copyOrm: MikroORM;
  let tables: string[] = [];
  let foreignKeys: Map<string, string> = new Map();

  before(async () => {
    flushOrm = await initTestOrm({ schema: 'mm_flush', entities: flushSide.schemas });
    copyOrm = await initTestOrm({ schema: 'mm_copy', entities: copySide.schemas });
    const conn = flushOrm.em.getConnection();
    const names = await conn.execute<{ table_name: string }[]>(
      `select table_name from information_schema.tables where table_schema = 'mm_flush' order by 1`,
    );
    tables = names.map(r => r.table_name);
    // single-column foreign keys to generated-key tables: compared through the target's natural key
    const fks = await conn.execute<{ tbl: string; col: string; target: string }[]>(
      `select t.relname as tbl, a.attname as col, r.relname as target
         from pg_constraint c
         join pg_class t on t.oid = c.conrelid
         join pg_class r on r.oid = c.confrelid
         join pg_attribute a on a.attrelid = c.conrelid and a.attnum = c.conkey[1]
        where c.contype = 'f' and c.connamespace = 'mm_flush'::regnamespace and cardinality(c.conkey) = 1`,
    );
    foreignKeys = new Map(fks.filter(f => NATURAL[f.target]).map(f => [`${f.tbl}.${f.col}`, f.target]));
  });
  after(async () => {
    await flushOrm?.close(true);
    await copyOrm?.close(true);
  });

  async function reset(): Promise<void> {
    for (const [orm, schema] of [[flushOrm, 'mm_flush'], [copyOrm, 'mm_copy']] as const) {
      await orm.em.getConnection().execute(`truncate ${tables.map(t => `"${schema}"."${t}"`).join(', ')} restart identity cascade`);
    }
  }

  async function snapshot(orm: MikroORM, schema: string): Promise<Tables> {
    const out: Tables = new Map();
    for (const table of tables) {
      const rows = await orm.em.getConnection().execute<Row[]>(`select * from "${schema}"."${table}"`);
      out.set(table, rows.map(row => {
        const copy: Row = {};
        for (const [col, value] of Object.entries(row)) {
          copy[col] = CLOCK_COLUMNS.has(`${table}.${col}`) ? value !== null : value;
        }
        return copy;
      }));
    }
    return out;
  }

  const sortRows = (rows: Row[]) => rows.map(r => JSON.stringify(r)).sort();

  /** Replaces generated keys, and keys pointing at them, by the natural key of their row. */
  function natural(snap: Tables): Map<string, string[]> {
    const names = new Map<string, Map<string, string>>();
    for (const [table, column] of Object.entries(NATURAL)) {
      const rows = snap.get(table) ?? [];
      names.set(table, new Map(rows.map(r => [String(r.id), `${table}:${String(r[column])}`])));
      assert.equal(new Set(rows.map(r => r[column])).size, rows.length, `${table}.${column} identifies its rows`);
    }
    const out = new Map<string, string[]>();
    for (const [table, rows] of snap) {
      const mapped = rows.map(row => {
        const copy: Row = {};
        for (const [col, value] of Object.entries(row)) {
          const target = col === 'id' && NATURAL[table] ? table : foreignKeys.get(`${table}.${col}`);
          copy[col] = target && value !== null ? names.get(target)!.get(String(value)) ?? `unknown ${String(value)}` : value;
        }
        return copy;
      });
      // a fixed-order pivot's serial column only orders the rows of one owner
      const fixedOrder = FIXED_ORDER[table];
      if (fixedOrder && mapped.length > 0 && fixedOrder[0] in mapped[0]) {
        const [orderColumn, ownerColumn] = fixedOrder;
        const seen = new Map<unknown, number>();
        for (const row of [...mapped].sort((x, y) => Number(x[orderColumn]) - Number(y[orderColumn]))) {
          const rank = seen.get(row[ownerColumn]) ?? 0;
          seen.set(row[ownerColumn], rank + 1);
          row[orderColumn] = rank;
        }
      }
      out.set(table, sortRows(mapped));
    }
    return out;
  }

  function rowCount(snap: Tables): number {
    let n = 0;
    for (const rows of snap.values()) n += rows.length;
    return n;
  }

  /**
   * Writes `build`'s graph with persist + flush on one side and copyPersist on the other, and
   * compares every table: as written where flush's ids agree, else through natural keys.
   */
  async function sameAsFlush(t: TestContext, build: Build, mode: 'flat' | 'cascade', seed = 7): Promise<Tables> {
    await reset();
    const fem = flushOrm.em.fork() as CopyEntityManager;
    const fg = build(flushSide);
    fem.persist(mode === 'flat' ? shuffled(fg.all, seed) : fg.roots);
    await fem.flush();
    const cem = copyOrm.em.fork() as CopyEntityManager;
    const cg = build(copySide);
    const result = mode === 'flat' ? await cem.copyPersist(shuffled(cg.all, seed)) : await cem.copyPersist(cg.roots, { cascade: true });

    const [want, got] = [await snapshot(flushOrm, 'mm_flush'), await snapshot(copyOrm, 'mm_copy')];
    const differingIds: string[] = [];
    for (const table of tables) {
      const [w, g] = [sortRows(want.get(table)!), sortRows(got.get(table)!)];
      if (JSON.stringify(w) !== JSON.stringify(g)) differingIds.push(table);
    }
    if (differingIds.length > 0) {
      t.diagnostic(`ids differ from flush's in ${differingIds.join(', ')}: compared through natural keys`);
      const [nw, ng] = [natural(want), natural(got)];
      for (const table of tables) assert.deepEqual(ng.get(table), nw.get(table), `table ${table}`);
    }
    assert.ok(rowCount(want) > 0);
    assert.equal(result.rows, rowCount(want), 'rows reported');

    // the hooks ran on the copied entities as they did on the flushed ones
    const hooked = (m: MikroOrmModel, e: object) => e instanceof m.Author2 || e instanceof m.Publisher2 || e instanceof m.Employee2 || e instanceof m.Manager2;
    const hookState = (m: MikroOrmModel, g: Graph) => g.all.filter(e => hooked(m, e)).map(e => {
      const o = e as { hookTest?: boolean; version?: number; versionAsString?: string; baseState?: string; state?: string };
      // version and versionAsString are also set by the update hooks that flush's cycle-closing UPDATEs fire (F1)
      return [o.hookTest, o.baseState, o.state, o.version, o.versionAsString];
    });
    assert.deepEqual(hookState(copySide, cg), hookState(flushSide, fg), 'state set by lifecycle hooks');
    // version properties the database filled are set on the entities, as flush's RETURNING sets them (F3)
    const versions = (m: MikroOrmModel, g: Graph) => g.all.filter(e => e instanceof m.Test2 || e instanceof m.FooBar2).map(e => {
      const version = (e as { version?: unknown }).version;
      return version instanceof Date ? 'a Date' : version;
    });
    assert.deepEqual(versions(copySide, cg), versions(flushSide, fg), 'version properties on the entities');
    await assertPoolHealthy(copyOrm);
    return want;
  }

  const graphs: [string, Build][] = [
    ['authors, books, tags, publishers, the favourite-book cycle, self-references, addresses', library],
    ['tests, configurations, the PublisherTest pivot entity, FooBar2/FooBaz2 one-to-ones, FooParam2, Label2', tests],
    ['the BaseUser2 single-table hierarchy with references between subclasses', users],
    ['composite keys: cars, users, car owners, sandwiches', cars],
    ['all of the above in one call', everything],
  ];
  for (const mode of ['flat', 'cascade'] as const) {
    for (const [name, build] of graphs) {
      it(`${name} (${mode === 'flat' ? 'flat, shuffled' : 'roots, cascade: true'})`, async t => {
        const written = await sameAsFlush(t, build, mode);
        if (build === everything) {
          assert.deepEqual([...written].filter(([, rows]) => rows.length === 0).map(([table]) => table), [], 'tables flush left empty');
        }
      });
    }
  }

  it('flat input in several shuffled orders', async t => {
    for (const seed of [1, 2, 3, 4]) await sameAsFlush(t, everything, 'flat', seed);
  });

  it('Test2.parent (mapToPk) pointing at a test already in the database', async () => {
    // the parent is written by flush on both sides first: a mapToPk key needs the id
    await reset();
    for (const [orm, side] of [[flushOrm, flushSide], [copyOrm, copySide]] as const) {
      const em = orm.em.fork();
      em.persist(new side.Test2('parent'));
      await em.flush();
    }
    const fem = flushOrm.em.fork() as CopyEntityManager;
    const cem = copyOrm.em.fork() as CopyEntityManager;
    const children = (m: MikroOrmModel) => [1, 2].map(i => Object.assign(new m.Test2(`child ${i}`), { parent: 1 }));
    fem.persist(children(flushSide));
    await fem.flush();
    const result = await cem.copyPersist(children(copySide));
    assert.equal(result.rows, 2);
    const query = (schema: string) => `select * from "${schema}".test2 order by id`;
    const want = await flushOrm.em.getConnection().execute<Row[]>(query('mm_flush'));
    assert.deepEqual(want.map(r => r.parent_id), [null, 1, 1]);
    assert.deepEqual(await copyOrm.em.getConnection().execute(query('mm_copy')), want);
  });
});
