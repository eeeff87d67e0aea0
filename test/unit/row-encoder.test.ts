// The compiled row encoder against the path it replaces, with no database: for thousands of
// generated entities per column type, `RowEncoder.writeEntity` (compiled per entity plan) must
// write the very bytes, in the same shape, that MikroORM's `prepareEntity` snapshot
// (`insertPayload`) + `shapeOf` + `encode` write — or throw the same error.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import fc from 'fast-check';
import { BigIntType, DecimalType, EntitySchema, type MikroORM } from '@mikro-orm/postgresql';
import type { AnyEntity, EntityClass, EntityProperty } from '@mikro-orm/core';
import { ChunkWriter } from '../../src/encoding/chunk-writer.js';
import { formatsDatesAsIso, writesArraysInPlace } from '../../src/encoding/column-types.js';
import { RowEncoder, type RowShape } from '../../src/encoding/row-encoder.js';
import { planFor } from '../../src/plan/entity-plan.js';
import { rowViewFactory } from '../../src/plan/row-view.js';
import { MIKRO_ORM_VERSION, initOrmWithoutDatabase } from '../support/orm.js';
import { insertPayload } from '../../src/plan/insert-payload.js';
import { bigint64, double, float32, int32, jsonValue, numberArray, stringArray, trickyString, validDate } from '../support/fuzz-arbitraries.js';

class Owner {
  id!: number;
  name?: string;
}

class Address {
  street?: string | null;
  zip?: number | null;
}

/** One property per built-in column type family, a relation and an inline embeddable (the snapshot's per-property path). */
class Sample {
  [prop: string]: unknown;
}

const OwnerSchema = new EntitySchema<Owner>({
  class: Owner,
  properties: { id: { type: 'integer', primary: true }, name: { type: 'string', nullable: true } },
});
const AddressSchema = new EntitySchema<Address>({
  class: Address,
  embeddable: true,
  properties: { street: { type: 'string', nullable: true }, zip: { type: 'integer', nullable: true } },
});
const SCALARS = {
    text: { type: 'text', nullable: true },
    varchar: { type: 'string', length: 40, nullable: true },
    uuid: { type: 'uuid', nullable: true },
    flag: { type: 'boolean', nullable: true },
    small: { type: 'smallint', nullable: true },
    int: { type: 'integer', nullable: true },
    dbl: { type: 'double', nullable: true },
    real: { type: 'float', nullable: true },
    big: { type: new BigIntType('bigint'), nullable: true },
    bigText: { type: new BigIntType('string'), nullable: true },
    dec: { type: new DecimalType('string'), precision: 20, scale: 6, nullable: true },
    decNumber: { type: new DecimalType('number'), precision: 20, scale: 6, nullable: true },
    at: { type: 'datetime', nullable: true },
    atLocal: { type: 'datetime', columnType: 'timestamp(3)', nullable: true },
    day: { type: 'date', nullable: true },
    doc: { type: 'json', nullable: true },
    words: { type: 'string[]', nullable: true },
    numbers: { type: 'number[]', nullable: true },
};
const SampleSchema = new EntitySchema({
  class: Sample,
  properties: {
    id: { type: 'integer', primary: true, autoincrement: false },
    ...SCALARS,
    title: { type: 'string' },
    status: { type: 'string', default: 'new' },
    owner: { kind: 'm:1', entity: () => Owner, nullable: true },
    address: { kind: 'embedded', entity: () => Address, nullable: true },
  },
} as never);

/**
 * Scalars and to-one relations only: the compiled read of a to-one key, with no snapshot taken
 * unless a value needs it, and flush's checks (a required to-one, a target without its key) left
 * to `checkInsert` only when that read does not let them pass.
 */
class Child {
  [prop: string]: unknown;
}
const ChildSchema = new EntitySchema({
  class: Child,
  properties: {
    id: { type: 'integer', primary: true, autoincrement: false },
    title: { type: 'string' },
    owner: { kind: 'm:1', entity: () => Owner, nullable: true },
    ownerRef: { kind: 'm:1', entity: () => Owner, ref: true, nullable: true },
    holder: { kind: 'm:1', entity: () => Owner },
  },
} as never);

/** Plain scalar columns only (one required), a generated key: what plain rows may be written from without an entity. */
class Plain {
  [prop: string]: unknown;
}
const PlainSchema = new EntitySchema({
  class: Plain,
  properties: { id: { type: 'bigint', primary: true, autoincrement: true }, ...SCALARS, title: { type: 'string' } },
} as never);

/** Values no column should accept, and the edges between: every one must take the same path out. */
const odd = fc.constantFrom<unknown>(
  undefined, new Date(0), null, NaN, Infinity, -Infinity, 1.5, -0, 2 ** 53, 1e21, '', 'a\0b', '{"a":"\\u0000"}', '\\u0000', 'x"y', new Date(NaN),
  new Date(-62135596800001), new Date(253402300800000), true, false, 0n, [], ['a\0'], { a: 1 },
);
const mixed = <T>(typed: fc.Arbitrary<T>, others = odd) => fc.oneof({ weight: 5, arbitrary: typed as fc.Arbitrary<unknown> }, { weight: 1, arbitrary: others });
const text = trickyString({ maxPieces: 6 });
// (a bigint makes MikroORM's JSON conversion throw inside its snapshot, which logs the whole generated function)
const jsonOdd = odd.filter(v => typeof v !== 'bigint');
/** Values of each column's own type. */
const typed: Record<string, fc.Arbitrary<unknown>> = {
  text: text,
  varchar: text,
  uuid: fc.uuid(),
  flag: fc.boolean(),
  small: fc.integer({ min: -32768, max: 32767 }),
  int: int32,
  dbl: double,
  real: float32,
  big: bigint64,
  bigText: bigint64.map(String),
  dec: fc.double({ min: -1e9, max: 1e9, noNaN: true }).map(n => n.toFixed(4)),
  decNumber: double,
  at: validDate,
  atLocal: validDate,
  day: validDate.map(d => d.toISOString().slice(0, 10)),
  doc: fc.oneof(jsonValue, fc.array(jsonValue, { maxLength: 3 }), fc.dictionary(text, jsonValue, { maxKeys: 3 })),
  words: stringArray,
  numbers: numberArray,
  title: text,
  status: text,
  owner: fc.constantFrom<unknown>(undefined, null, 'owner', 'reference', 'unsaved', 'key'),
  ownerRef: fc.constantFrom<unknown>(undefined, null, 'owner', 'reference', 'unsaved', 'key'),
  holder: fc.constantFrom<unknown>(undefined, null, 'owner', 'reference', 'unsaved', 'key'),
  address: fc.oneof(fc.constant<unknown>(undefined), fc.constant<unknown>(null), fc.record({ street: fc.option(text), zip: fc.option(int32) })),
};
/** The same with odd values mixed in. */
const values: Record<string, fc.Arbitrary<unknown>> = Object.fromEntries(Object.entries(typed).map(([key, arbitrary]) => [key, ['owner', 'ownerRef', 'holder', 'address'].includes(key) ? arbitrary : mixed(arbitrary, key === 'doc' ? jsonOdd : odd)]));

type Outcome = { shape: RowShape; bytes: string } | { error: string; code?: unknown };

describe('compiled row encoder', () => {
  let orm: MikroORM;
  let owner: Owner;

  before(async () => {
    // never connects: metadata, the platform and the comparator are all the encoder needs
    orm = await initOrmWithoutDatabase({ entities: [OwnerSchema, AddressSchema, SampleSchema, PlainSchema, ChildSchema] });
    owner = orm.em.create(Owner, { id: 7, name: 'o' }, { persist: false });
  });

  after(async () => {
    await orm?.close(true);
  });

  /** A to-one's value: the entity, a reference, a target without its key, a bare key, null. */
  function targetOf(value: unknown): unknown {
    if (value === 'owner') return owner;
    if (value === 'reference') return orm.em.getReference(Owner, 8);
    if (value === 'unsaved') return orm.em.create(Owner, { name: 'new' } as never, { persist: false });
    return value === 'key' ? 9 : null;
  }

  function entityOf(cls: typeof Sample | typeof Plain | typeof Child, row: Record<string, unknown>): AnyEntity {
    const entity = orm.em.create(cls as EntityClass<Sample>, { id: 1 } as never, { persist: false }) as AnyEntity;
    for (const [key, value] of Object.entries(row)) {
      if (value === undefined) continue;
      if (key === 'owner' || key === 'ownerRef' || key === 'holder') entity[key] = targetOf(value);
      else if (key === 'address') entity.address = value === null ? null : Object.assign(new Address(), value);
      else entity[key] = value;
    }
    return entity;
  }

  function outcome(write: (out: ChunkWriter) => RowShape): Outcome {
    const out = new ChunkWriter(16);
    try {
      const shape = write(out);
      return { shape, bytes: out.take().toString('latin1') };
    } catch (e) {
      return { error: String(e), code: (e as { code?: unknown }).code };
    }
  }

  // Sample has a relation, so flush's checks run before the reads; Plain's are compiled into a guard
  // arrays are left out here: the compiled encoder writes them as the entity holds them, not as
  // MikroORM's marshallArray does (see the array test below)
  const ARRAYS = ['words', 'numbers'];
  const withoutArrays = (keys: string[]) => keys.filter(key => !ARRAYS.includes(key));
  const ENTITIES = [
    ['with a relation and an embeddable', Sample, withoutArrays(Object.keys(values).filter(key => key !== 'ownerRef'))],
    ['of plain scalar columns', Plain, withoutArrays([...Object.keys(SCALARS), 'title'])],
    ['with to-one relations only', Child, ['title', 'owner', 'ownerRef', 'holder']],
  ] as const;
  for (const [name, cls, keys] of ENTITIES) {
    test(`writes the bytes and shape of prepareEntity + encode, or throws the same error, for generated rows of every column type (entity ${name})`, () => {
      const em = orm.em.fork();
      const plan = planFor(em, orm.getMetadata().find(cls)!, undefined, new Map());
      const slow = new RowEncoder(em, plan);
      const compiled = new RowEncoder(em, plan);
      const record = fc.record(Object.fromEntries(keys.map(key => [key, values[key]])), { requiredKeys: [] });
      let rows = 0;
      let errors = 0;
      fc.assert(
        fc.property(record, fc.boolean(), fc.subarray(plan.toOneProps), (row, upsert, deferredProps) => {
          const ordinal = upsert ? rows : undefined;
          // relations the cycle breaker defers are written as NULL, whatever they hold
          const deferred = deferredProps.length ? deferredProps : undefined;
          const before = outcome(out => {
            const data = insertPayload(em, plan, entityOf(cls, row), rows, deferred);
            const shape = slow.shapeOf(data);
            slow.encode(data, shape, rows, out, ordinal);
            return shape;
          });
          const after = outcome(out => {
            let shape: RowShape = -1;
            compiled.writeEntity(entityOf(cls, row), rows, deferred, { writerFor: (_, s) => ((shape = s), out) }, ordinal);
            return shape;
          });
          rows++;
          if ('error' in before) errors++;
          assert.deepEqual(after, before);
        }),
        { numRuns: 4000 },
      );
      // the generator must reach both the written and the rejected paths
      assert.ok(errors > rows / 20 && errors < rows * 0.9, `${errors} of ${rows} rows rejected`);
    });
  }

  test('a plain row written through its view gives the bytes of the entity em.create makes of it', () => {
    const em = orm.em.fork();
    const plan = planFor(em, orm.getMetadata().find(Plain)!, undefined, new Map());
    const encoder = new RowEncoder(em, plan);
    const view = rowViewFactory(em, plan, { keysOnly: false, allowed: () => true, planOf: meta => planFor(em, meta, undefined, new Map()) });
    assert.ok(view, 'an entity of plain scalar columns has views');
    const scalars = (from: Record<string, fc.Arbitrary<unknown>>) => fc.record(Object.fromEntries([...Object.keys(SCALARS), 'title'].map(key => [key, from[key]])), { requiredKeys: [] });
    let viewed = 0;
    let rows = 0;
    fc.assert(
      fc.property(fc.oneof(scalars(typed), scalars(values)), fc.oneof({ weight: 19, arbitrary: fc.constant(undefined) }, { weight: 1, arbitrary: fc.integer({ min: 1, max: 1e6 }) }), (row: Record<string, unknown>, id) => {
        if (id !== undefined) row.id = id;
        const write = (entity: AnyEntity) => (out: ChunkWriter) => {
          let shape: RowShape = -1;
          encoder.writeEntity(entity, 0, undefined, { writerFor: (_, s) => ((shape = s), out) });
          return shape;
        };
        rows++;
        const rowView = view(row, []);
        if (!rowView) return;
        viewed++;
        const entity = em.create(Plain as EntityClass<Plain>, row as never, { persist: false }) as AnyEntity;
        assert.deepEqual(outcome(write(rowView)), outcome(write(entity)));
      }),
      { numRuns: 3000 },
    );
    assert.ok(viewed > rows / 20, `${viewed} of ${rows} rows viewed`);
  });

  test('rows of an entity with relations, embeddables or defaults get no views', () => {
    const em = orm.em.fork();
    assert.equal(rowViewFactory(em, planFor(em, orm.getMetadata().find(Sample)!, undefined, new Map()), { keysOnly: false, allowed: () => true, planOf: meta => planFor(em, meta, undefined, new Map()) }), undefined);
  });

  test('the PostgreSQL platform takes the in-place paths: ISO dates, and arrays written element by element', () => {
    const platform = orm.em.getPlatform();
    const props = orm.getMetadata().find(Sample)!.properties as Record<string, EntityProperty>;
    // MikroORM 7 writes dates in UTC by default (forceUtcTimezone); 6 in the process's time zone
    if (MIKRO_ORM_VERSION >= 7) assert.equal(formatsDatesAsIso(platform), true);
    assert.equal(writesArraysInPlace(props.words), true);
    assert.equal(writesArraysInPlace(props.numbers), true);
    assert.equal(writesArraysInPlace(props.doc), false);
  });

  test('arrays are written as the entity holds them: every element back from the PostgreSQL array literal, NULL only for null', () => {
    const em = orm.em.fork();
    const plan = planFor(em, orm.getMetadata().find(Sample)!, undefined, new Map());
    const encoder = new RowEncoder(em, plan);
    const element = fc.oneof(
      fc.constantFrom<string | null>(null, '', 'NULL', 'null', ' ', ' a ', '\t', '\n', '\r\n', '"', '\\', '{', '}', ',', '\\N', 'a"b\\c'),
      trickyString().filter(t => !t.includes('\0')),
    );
    fc.assert(
      fc.property(fc.array(element, { maxLength: 6 }), words => {
        const out = new ChunkWriter(16);
        encoder.writeEntity(entityOf(Sample, { title: 't', words }), 0, undefined, { writerFor: () => out });
        const line = out.take().toString('utf8');
        // the words column's CSV field: a quoted field holding the array literal
        const field = /"\{(?:[^"]|"")*\}"/.exec(line)?.[0];
        assert.ok(field, `no array field in ${JSON.stringify(line)}`);
        // text goes to PostgreSQL as UTF-8, where a lone surrogate becomes U+FFFD (for flush too)
        const utf8 = words.map(w => (w === null ? w : Buffer.from(w, 'utf8').toString('utf8')));
        assert.deepEqual(parseArrayLiteral(field.slice(1, -1).replaceAll('""', '"')), utf8);
      }),
      { numRuns: 2000 },
    );
  });

  test('ChunkWriter.quoted doubles quotes and encodes non-ASCII text as Buffer.write does, at any length', () => {
    fc.assert(
      fc.property(fc.oneof(text, fc.string({ unit: 'binary', maxLength: 600 }), fc.string({ maxLength: 300 }).map(s => s.repeat(2))), value => {
        const out = new ChunkWriter(4);
        out.quoted(value);
        assert.deepEqual(out.take(), Buffer.from(`"${value.replaceAll('"', '""')}"`, 'utf8'));
      }),
      { numRuns: 3000 },
    );
  });

  test('ChunkWriter.integer and isoDate write what String and toISOString write', () => {
    fc.assert(
      fc.property(fc.oneof(fc.maxSafeInteger(), int32, fc.constantFrom(-0, 0, Number.MAX_SAFE_INTEGER, Number.MIN_SAFE_INTEGER)), validDate, (n, date) => {
        const out = new ChunkWriter(1);
        out.integer(n);
        out.comma();
        if (date.getUTCFullYear() >= 1) out.isoDate(date);
        assert.equal(out.take().toString('latin1'), `${String(n)},${date.getUTCFullYear() >= 1 ? date.toISOString() : ''}`);
      }),
      { numRuns: 5000 },
    );
  });
});

/** PostgreSQL's reading of a one-dimensional array literal (`array_in`): quoted elements with backslash escapes, bare NULL. */
function parseArrayLiteral(literal: string): (string | null)[] {
  assert.ok(literal.startsWith('{') && literal.endsWith('}'), literal);
  const body = literal.slice(1, -1);
  const out: (string | null)[] = [];
  let i = 0;
  while (i < body.length) {
    if (body[i] === '"') {
      let value = '';
      i++;
      while (body[i] !== '"') {
        if (body[i] === '\\') i++;
        value += body[i++];
      }
      i++;
      out.push(value);
    } else {
      const end = body.indexOf(',', i);
      const bare = body.slice(i, end === -1 ? body.length : end);
      assert.equal(bare, 'NULL', `an unquoted element other than NULL: ${bare}`);
      out.push(null);
      i += bare.length;
    }
    if (body[i] === ',') i++;
  }
  return out;
}
