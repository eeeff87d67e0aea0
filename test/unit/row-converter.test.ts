// The file loader's row converter (src/loaders/row-converter.ts) without a database: a CSV field's
// text (or an NDJSON value) → the value copyPersist takes for each column type, and each bad value
// reported as "property: reason", which the loader puts after the record's line.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { BigIntType, DecimalType, EntitySchema, type MikroORM } from '@mikro-orm/postgresql';
import type { EntityMetadata, EntityProperty } from '@mikro-orm/core';
import { LoadFileError } from '../../src/index.js';
import { csvRecords } from '../../src/loaders/csv-records.js';
import { RowConverter } from '../../src/loaders/row-converter.js';
import { initOrmWithoutDatabase } from '../support/orm.js';

class Owner {
  id!: number;
}

class Item {
  [prop: string]: unknown;
}

const OwnerSchema = new EntitySchema<Owner>({ class: Owner, properties: { id: { type: 'integer', primary: true } } });
const ItemSchema = new EntitySchema({
  class: Item,
  properties: {
    id: { type: 'integer', primary: true, autoincrement: true },
    name: { type: 'string', columnType: 'varchar(255)' },
    code: { type: 'string', columnType: 'varchar(4)', nullable: true },
    small: { type: 'smallint', columnType: 'smallint', nullable: true },
    count: { type: 'integer', columnType: 'integer', nullable: true },
    big: { type: new BigIntType('bigint'), columnType: 'bigint', nullable: true },
    bigText: { type: new BigIntType('string'), columnType: 'bigint', nullable: true },
    price: { type: new DecimalType('string'), columnType: 'numeric(10,2)', nullable: true },
    ratio: { type: 'double', columnType: 'double precision', nullable: true },
    flag: { type: 'boolean', nullable: true },
    at: { type: 'datetime', columnType: 'timestamptz', nullable: true },
    doc: { type: 'json', nullable: true },
    tags: { type: 'string[]', nullable: true },
    scores: { type: 'number[]', nullable: true },
    bytes: { type: 'blob', nullable: true },
    status: { enum: true, items: ['new', 'done'], nullable: true },
    owner: { kind: 'm:1', entity: () => Owner, nullable: true },
    note: { type: 'string', default: 'none' },
  },
} as never);

describe('RowConverter', () => {
  let orm: MikroORM;
  let meta: EntityMetadata;
  /** Converter of CSV text; of NDJSON values. */
  let csv: RowConverter;
  let ndjson: RowConverter;
  let header: (EntityProperty | undefined)[];

  before(async () => {
    // never connects: the converter reads metadata and the platform's array parser only
    orm = await initOrmWithoutDatabase({ entities: [OwnerSchema, ItemSchema] });
    meta = orm.getMetadata().find(Item)!;
    csv = new RowConverter(orm.em, meta, {}, true);
    ndjson = new RowConverter(orm.em, meta, {}, false);
    header = csv.header(Object.keys(meta.properties).filter(name => name !== 'id'), 1);
  });

  after(async () => {
    await orm?.close(true);
  });

  /** The row converted from one CSV field of `property` (beside the required name), or the reason it is refused. */
  function fromCsv(property: string, text: string | null): unknown {
    const fields = header.map(prop => (prop!.name === 'name' ? 'n' : prop!.name === property ? text : null));
    const row = csv.convertFields(header, fields);
    return typeof row === 'string' ? row : (row as Record<string, unknown>)[property];
  }

  function check(property: string, cases: [string, unknown][]): void {
    for (const [text, expected] of cases) assert.deepEqual(fromCsv(property, text), expected, `${property} from ${JSON.stringify(text)}`);
  }

  it('integers: trimmed digits to numbers, within the column type range', () => {
    check('count', [
      ['42', 42],
      [' -7 ', -7],
      ['2147483647', 2147483647],
      ['-2147483648', -2147483648],
      ['2147483648', 'count: out of range for integer (-2147483648 to 2147483647): "2147483648"'],
      ['1.5', 'count: not an integer: "1.5"'],
      ['abc', 'count: not a number: "abc"'],
      ['', 'count: not a number: ""'],
    ]);
    check('small', [['32767', 32767], ['-32769', 'small: out of range for smallint (-32768 to 32767): "-32769"']]);
  });

  it('bigint: to a bigint (bigint mode) or kept as text (string mode), both range-checked over 64 bits', () => {
    check('big', [
      ['9223372036854775807', 9223372036854775807n],
      ['-9223372036854775808', -9223372036854775808n],
      ['9223372036854775808', 'big: out of range for bigint: "9223372036854775808"'],
      ['1e3', 'big: not an integer: "1e3"'],
    ]);
    check('bigText', [
      ['9223372036854775807', '9223372036854775807'],
      [' 12 ', ' 12 '],
      ['-9223372036854775809', 'bigText: out of range for bigint: "-9223372036854775809"'],
      ['x', 'bigText: not an integer: "x"'],
    ]);
  });

  it('numeric: the text kept, refused beyond the integer digits of its precision (extra decimals PostgreSQL rounds)', () => {
    check('price', [
      ['12345678.999', '12345678.999'],
      ['.5', '.5'],
      ['-00012345678', '-00012345678'],
      ['1e20', '1e20'],
      ['123456789', 'price: more than 8 digits before the decimal point for numeric(10,2): "123456789"'],
      ['1,5', 'price: not a number: "1,5"'],
      ['-', 'price: not a number: "-"'],
    ]);
  });

  it('floats: any JavaScript number text, NaN text refused', () => {
    check('ratio', [['1e-3', 0.001], ['-0.25', -0.25], ['Infinity', Infinity], ['NaN', 'ratio: not a number: "NaN"']]);
  });

  it('booleans: true/false, t/f, 1/0, yes/no, y/n in any case', () => {
    check('flag', [
      ['true', true], ['T', true], [' yes ', true], ['1', true], ['Y', true],
      ['false', false], ['f', false], ['NO', false], ['0', false], ['n', false],
      ['maybe', 'flag: not a boolean: "maybe" (true/false, t/f, 1/0, yes/no)'],
    ]);
  });

  it('dates: parsed by Date, before 1970 included; unparsable text refused', () => {
    check('at', [
      ['1969-07-20T20:17:40Z', new Date(Date.UTC(1969, 6, 20, 20, 17, 40))],
      ['2024-02-29T12:00:00.123+02:00', new Date(Date.UTC(2024, 1, 29, 10, 0, 0, 123))],
      ['tomorrow', 'at: not a date: "tomorrow"'],
    ]);
  });

  it('json: parsed from CSV text; refused when it is not JSON', () => {
    check('doc', [['{"a":[1,null],"b":"x"}', { a: [1, null], b: 'x' }], ['"text"', 'text'], ['3', 3]]);
    assert.match(fromCsv('doc', '{bad') as string, /^doc: not JSON: /);
  });

  it('arrays: a JSON array or a PostgreSQL array literal (read by the platform), numbers converted', () => {
    check('tags', [
      ['["a","b c"]', ['a', 'b c']],
      ['{a,"b c",""}', ['a', 'b c', '']],
      ['{}', []],
      ['a,b', 'tags: expected a JSON array ["a","b"] or an array literal {a,b}'],
      ['"[]"', 'tags: expected a JSON array ["a","b"] or an array literal {a,b}'],
      ['["a\\u0000"]', 'tags: holds a NUL character (U+0000), which PostgreSQL text cannot store'],
    ]);
    check('scores', [['[1,2.5]', [1, 2.5]], ['{3,-4}', [3, -4]]]);
    assert.match(fromCsv('tags', '["a"') as string, /^tags: not JSON: /);
  });

  it('bytea: \\x and hex digits to a Buffer', () => {
    check('bytes', [
      ['\\x00ff10', Buffer.from([0x00, 0xff, 0x10])],
      ['\\x', Buffer.alloc(0)],
      ['00ff', 'bytes: binary values are written as \\x followed by hex digits'],
      ['\\x0', 'bytes: binary values are written as \\x followed by hex digits'],
    ]);
  });

  it('text: kept as given; NUL refused; varchar length counted in characters', () => {
    check('code', [
      ['abcd', 'abcd'],
      ['😀😀😀😀', '😀😀😀😀'],
      ['abcde', 'code: longer than 4 characters for varchar(4)'],
      ['a\0', 'code: holds a NUL character (U+0000), which PostgreSQL text cannot store'],
      ['', ''],
    ]);
  });

  it('enums: one of the items', () => {
    check('status', [['done', 'done'], ['other', 'status: not one of new, done: "other"']]);
  });

  it('to-one relations: the target key, converted as the key type', () => {
    check('owner', [['5', 5], ['x', 'owner: not a number: "x"']]);
  });

  it('NULL (an unquoted empty CSV field) leaves the property out; a required one is then missing', () => {
    assert.deepEqual(csv.convertFields(header, header.map(prop => (prop!.name === 'name' ? 'n' : null))), { name: 'n' });
    assert.equal(csv.convertFields(header, header.map(() => null)), 'name: missing required value');
  });

  it('NDJSON: JSON values pass as they are, text is checked as in CSV', () => {
    assert.deepEqual(ndjson.convert({ name: 'n', count: 3, doc: '{"a":1}', flag: 'yes', tags: ['x'], owner: 2 }), { name: 'n', count: 3, doc: '{"a":1}', flag: true, tags: ['x'], owner: 2 });
    assert.equal(ndjson.convert({ name: 'n', count: 1.5 }), 'count: not an integer: 1.5');
    assert.equal(ndjson.convert({ name: 'n', nope: 1 }), 'unknown key "nope" (not a property of Item)');
    // a key every object has is no property either (the metadata is a plain object)
    assert.equal(ndjson.convert({ name: 'n', toString: 1 }), 'unknown key "toString" (not a property of Item)');
    assert.equal(ndjson.convert({ name: 'n', tags: 7 }), 'tags: expected an array, got number');
  });

  it('header: property names, column names, or names mapped by the caller; unknown and missing columns name the line', () => {
    const props = (converter: RowConverter, names: string[]) => converter.header(names, 1).map(p => p?.name);
    assert.deepEqual(props(csv, ['name', 'owner_id', ' count ']), ['name', 'owner', 'count']);
    assert.deepEqual(props(new RowConverter(orm.em, meta, { Title: 'name' }, true), ['Title']), ['name']);
    assert.throws(() => csv.header(['name', 'bogus', 'nope'], 1), (e: unknown) => {
      assert.ok(e instanceof LoadFileError);
      assert.equal(e.code, 'BAD_HEADER');
      assert.equal(e.message, 'line 1: unknown columns "bogus", "nope" (not a property of Item; map it with the option map: { header: \'property\' })');
      return true;
    });
    assert.throws(() => csv.header(['count'], 3), (e: unknown) => {
      assert.ok(e instanceof LoadFileError);
      assert.equal(e.message, 'line 3: no column for required property name');
      return true;
    });
  });

  it('a bad value is found on its record: the record line from the CSV reader, the property from the converter', async () => {
    const text = 'name,count,flag\nfirst,1,t\nsecond,x,f\n"third\nline",3,maybe\n';
    const reasons: string[] = [];
    let columns: (EntityProperty | undefined)[] | undefined;
    async function* input() {
      yield text;
    }
    for await (const record of csvRecords(input())) {
      if (!columns) {
        columns = csv.header(record.fields.map(f => f ?? ''), record.line);
        continue;
      }
      const row = csv.convertFields(columns, record.fields);
      if (typeof row === 'string') reasons.push(`line ${record.line}: ${row}`);
    }
    assert.deepEqual(reasons, ['line 3: count: not a number: "x"', 'line 4: flag: not a boolean: "maybe" (true/false, t/f, 1/0, yes/no)']);
  });
});
