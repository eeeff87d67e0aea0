// The model of the bulk update / delete / sync tests: one entity with a column of each kind the
// insert differential covers where an update makes sense (scalars, bigint, decimal, dates, json,
// arrays, enums, a custom type, inline and object embeddables, a to-one relation), with an
// `onUpdate` property and a version; and an entity with a composite key. `createBulkModel()` builds
// fresh classes on every call, so a flushing ORM and a copying ORM never share metadata.
import assert from 'node:assert/strict';
import { after, before, beforeEach } from 'node:test';
import { BigIntType, EntitySchema, type EntityManager } from '@mikro-orm/core';
import type { MikroORM } from '@mikro-orm/postgresql';
import type { CopyEntityManager } from '../../src/index.js';
import { initTestOrm } from './orm.js';
import { Color, PointType, type Point } from './zoo.js';

export function createBulkModel() {
  class Owner {
    id!: number;
    name!: string;
  }
  class Place {
    street!: string | null;
    city!: string;
  }
  class Item {
    id!: number;
    title!: string;
    count!: number;
    big?: string | null;
    price!: string;
    active!: boolean;
    at?: Date | null;
    meta?: Record<string, unknown> | null;
    tags?: string[] | null;
    color?: Color | null;
    point?: Point | null;
    place?: Place | null;
    spec?: Place | null;
    owner?: Owner | null;
    touched?: number;
    createdBy?: string;
    version?: number;
  }
  class Pair {
    left!: number;
    right!: string;
    value!: string;
  }
  const OwnerSchema = new EntitySchema<Owner>({
    class: Owner,
    properties: {
      id: { type: 'integer', primary: true, autoincrement: true },
      name: { type: 'string' },
    },
  });
  const PlaceSchema = new EntitySchema<Place>({
    class: Place,
    embeddable: true,
    properties: {
      street: { type: 'string', nullable: true },
      city: { type: 'string' },
    },
  });
  const ItemSchema = new EntitySchema<Item>({
    class: Item,
    properties: {
      id: { type: 'integer', primary: true, autoincrement: true },
      title: { type: 'text' },
      count: { type: 'integer' },
      big: { type: new BigIntType('string'), nullable: true },
      price: { type: 'decimal', precision: 10, scale: 2 },
      active: { type: 'boolean' },
      at: { type: 'datetime', nullable: true },
      meta: { type: 'json', nullable: true },
      tags: { type: 'string[]', nullable: true },
      color: { enum: true, items: Object.values(Color), nullable: true },
      point: { type: PointType, nullable: true },
      place: { kind: 'embedded', entity: () => Place, nullable: true },
      spec: { kind: 'embedded', entity: () => Place, object: true, nullable: true },
      // a referenced owner cannot go: the delete tests' foreign key error
      owner: { kind: 'm:1', entity: () => Owner, nullable: true, deleteRule: 'no action' },
      // flush sets it on every update; it reads the entity (its key, which every input carries)
      touched: { type: 'integer', nullable: true, onUpdate: (item: Item) => item.id * 2 },
      createdBy: { type: 'string', nullable: true, onCreate: () => 'creator' },
      version: { type: 'integer', version: true },
    },
  });
  const PairSchema = new EntitySchema<Pair>({
    class: Pair,
    properties: {
      left: { type: 'integer', primary: true },
      right: { type: 'string', primary: true },
      value: { type: 'string' },
    },
  });
  return { Owner, Item, Pair, entities: [OwnerSchema, PlaceSchema, ItemSchema, PairSchema] };
}

export type BulkModel = ReturnType<typeof createBulkModel>;

/**
 * The two sides of a differential test, for use inside a `describe`: an ORM for flush and one for
 * the copy, each on its own schema with its own model, seeded alike before every test.
 */
export function flushAndCopySides(flushSchema: string, copySchema: string) {
  const flushModel = createBulkModel();
  const copyModel = createBulkModel();
  const orms: { flush?: MikroORM; copy?: MikroORM } = {};
  before(async () => {
    orms.flush = await initTestOrm({ schema: flushSchema, entities: flushModel.entities });
    orms.copy = await initTestOrm({ schema: copySchema, entities: copyModel.entities });
  });
  beforeEach(async () => {
    for (const [orm, model] of [[orms.flush!, flushModel], [orms.copy!, copyModel]] as const) {
      const schema = orm.config.get('schema');
      await orm.em.getConnection().execute(`truncate "${schema}".item, "${schema}".owner, "${schema}".pair restart identity`);
      await seedBulkModel(orm.em.fork(), model);
    }
  });
  after(async () => {
    await orms.flush?.close(true);
    await orms.copy?.close(true);
  });
  return {
    flushModel,
    copyModel,
    get flushOrm(): MikroORM {
      return orms.flush!;
    },
    get copyOrm(): MikroORM {
      return orms.copy!;
    },
    copyEm: () => orms.copy!.em.fork() as CopyEntityManager,
  };
}

/** Texts that COPY's CSV and PostgreSQL's literals treat specially. */
const TEXTS = ['plain', '', 'a "quoted", comma', 'new\nline', 'back\\slash', 'ünïcødé ✓', ' padded '];

/** The same starting rows on any side: owners, then items using every kind, then pairs. */
export async function seedBulkModel(em: EntityManager, model: BulkModel, items = 60): Promise<void> {
  const owners = [0, 1, 2].map(i => em.create(model.Owner, { name: `owner ${i}` }));
  await em.flush();
  for (let i = 0; i < items; i++) {
    em.create(model.Item, {
      title: TEXTS[i % TEXTS.length] + i,
      count: i,
      big: i % 5 === 0 ? null : String(9007199254740993n + BigInt(i)),
      price: `${i}.${i % 100}`.padEnd(4, '0'),
      active: i % 2 === 0,
      at: i % 4 === 0 ? null : new Date(Date.UTC(2020, 0, 1 + i, 12, 30, 15, 123)),
      meta: i % 3 === 0 ? null : { n: i, text: TEXTS[i % TEXTS.length], list: [1, 'two', null] },
      tags: i % 6 === 0 ? null : ['a', TEXTS[i % TEXTS.length], 'x,y'],
      color: i % 4 === 0 ? null : Object.values(Color)[i % 3],
      point: i % 5 === 0 ? null : { x: i, y: -i },
      place: i % 7 === 0 ? null : { street: i % 2 ? null : `street ${i}`, city: `city ${i}` },
      spec: i % 8 === 0 ? null : { street: `s ${i}`, city: TEXTS[i % TEXTS.length] },
      owner: i % 9 === 0 ? null : owners[i % 3],
    } as never);
  }
  await em.flush();
  for (let i = 0; i < 20; i++) em.create(model.Pair, { left: i % 4, right: `r${i}`, value: `v${i}` });
  await em.flush();
}

/**
 * A change of 3 properties of item `i`, from one seed: the same on both sides. Covers the kinds in
 * turn, so every kind is written with a new value by some item.
 */
export function changeOf(i: number, ownerId: number | null): Record<string, unknown> {
  const kinds: Record<string, unknown>[] = [
    { title: `changed "${i}"\n`, count: i + 1000, price: '1.50' },
    { big: String(-9007199254740993n - BigInt(i)), active: i % 2 !== 0, at: new Date(Date.UTC(2030, 5, 1, 0, 0, 0, i)) },
    { meta: { changed: true, i }, tags: [`t${i}`, '"q"', 'NULL'], color: Color.Blue },
    { point: { x: -i, y: i * 10 }, place: { street: `new ${i}`, city: 'Zürich' }, spec: null },
    { owner: ownerId, at: null, title: '' },
    { spec: { street: null, city: `c${i}` }, meta: null, tags: [] },
  ];
  return kinds[i % kinds.length];
}

/** Applies a change to a loaded item: through `em.assign` (relations by key), the custom-typed point directly (assign would check it against the column's string type). */
export function applyChange(em: EntityManager, item: object, change: Record<string, unknown>): void {
  const { point, ...rest } = change;
  em.assign(item as never, rest as never);
  if ('point' in change) (item as { point?: unknown }).point = point;
}

/**
 * Asserts that a table holds the same rows in both schemas (`EXCEPT ALL` both ways on every column
 * as text, plus counts), printing the differing rows when not.
 */
export async function assertSameTable(orm: MikroORM, schemaA: string, schemaB: string, table: string, skip: string[] = []): Promise<void> {
  const conn = orm.em.getConnection();
  const columns = (
    await conn.execute<{ column_name: string }[]>(
      'select column_name from information_schema.columns where table_schema = ? and table_name = ? order by ordinal_position',
      [schemaA, table],
    )
  )
    .map(c => c.column_name)
    .filter(c => !skip.includes(c));
  assert.ok(columns.length > 0, `no columns for ${schemaA}.${table}`);
  const list = columns.map(c => `"${c}"::text as "${c}"`).join(', ');
  const a = `"${schemaA}"."${table}"`;
  const b = `"${schemaB}"."${table}"`;
  const onlyA = await conn.execute(`select ${list} from ${a} except all select ${list} from ${b}`);
  const onlyB = await conn.execute(`select ${list} from ${b} except all select ${list} from ${a}`);
  assert.deepEqual({ table, onlyA, onlyB }, { table, onlyA: [], onlyB: [] });
}
