// Each column type family's text for its edge values, without a database: what a row encoder
// (column-types.ts → compiled row / pg-text.ts → chunk-writer.ts) writes into COPY's CSV for one
// property at a time, checked against CSV lines worked out by hand from PostgreSQL's input formats
// and CSV's quoting rules (or, for dates, MikroORM's own `formatDate`).
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { BigIntType, DecimalType, EntitySchema, type MikroORM } from '@mikro-orm/postgresql';
import type { AnyEntity, EntityClass, Platform } from '@mikro-orm/core';
import { ChunkWriter } from '../../src/encoding/chunk-writer.js';
import { COLUMN_FAMILIES, ISO_MAX_TIME, ISO_MIN_TIME, columnFamilyOf, columnTraits } from '../../src/encoding/column-types.js';
import { RowEncoder, csvField } from '../../src/encoding/row-encoder.js';
import { toPgText } from '../../src/encoding/pg-text.js';
import { planFor } from '../../src/plan/entity-plan.js';
import { initOrmWithoutDatabase } from '../support/orm.js';

class Column {
  [prop: string]: unknown;
}

const ColumnSchema = new EntitySchema({
  class: Column,
  properties: {
    id: { type: 'integer', primary: true, autoincrement: false },
    small: { type: 'smallint', nullable: true },
    int: { type: 'integer', nullable: true },
    big: { type: new BigIntType('bigint'), nullable: true },
    bigNumber: { type: new BigIntType('number'), nullable: true },
    bigString: { type: new BigIntType('string'), nullable: true },
    dec: { type: new DecimalType('string'), precision: 10, scale: 2, nullable: true },
    decNumber: { type: new DecimalType('number'), precision: 10, scale: 2, nullable: true },
    dbl: { type: 'double', nullable: true },
    real: { type: 'float', nullable: true },
    flag: { type: 'boolean', nullable: true },
    at: { type: 'datetime', nullable: true },
    day: { type: 'date', nullable: true },
    doc: { type: 'json', nullable: true },
    words: { type: 'string[]', nullable: true },
    numbers: { type: 'number[]', nullable: true },
    bytes: { type: 'blob', nullable: true },
    text: { type: 'text', nullable: true },
    uuid: { type: 'uuid', nullable: true },
  },
} as never);

/** What one property of a row turns into: its CSV field, or the error's code and message. */
type Written = string | { code: unknown; message: string };

let orm: MikroORM;
let platform: Platform;

before(async () => {
  // dates in UTC on both MikroORM versions (6 defaults to local time), so the expected text is fixed
  orm = await initOrmWithoutDatabase({ entities: [ColumnSchema], forceUtcTimezone: true });
  platform = orm.em.getPlatform();
});

after(async () => {
  await orm?.close(true);
});

describe('column types: the text of each family', () => {
  let encoder: RowEncoder;

  before(() => {
    const em = orm.em.fork();
    encoder = new RowEncoder(em, planFor(em, orm.getMetadata().find(Column)!, undefined, new Map()));
  });

  /** The field written for `value` in `property` of a row whose key is 1 (the line is `1,<field>\n`). */
  function field(property: string, value: unknown): Written {
    const entity = orm.em.create(Column as EntityClass<Column>, { id: 1 } as never, { persist: false }) as AnyEntity;
    entity[property] = value;
    const out = new ChunkWriter(8);
    try {
      encoder.writeEntity(entity, 0, undefined, { writerFor: () => out });
    } catch (e) {
      return { code: (e as { code?: unknown }).code, message: (e as Error).message };
    }
    const line = out.take().toString('utf8');
    assert.ok(line.startsWith('1,') && line.endsWith('\n'), JSON.stringify(line));
    return line.slice(2, -1);
  }

  function check(property: string, cases: [unknown, Written][]): void {
    for (const [value, expected] of cases) {
      const got = field(property, value);
      if (typeof expected === 'string') assert.equal(got, expected, `${property} = ${String(value)}`);
      else {
        assert.equal(typeof got, 'object', `${property} = ${String(value)} should fail, wrote ${String(got)}`);
        assert.equal((got as { code: unknown }).code, expected.code);
        assert.match((got as { message: string }).message, new RegExp(expected.message));
      }
    }
  }

  const invalid = (message: string) => ({ code: 'INVALID_VALUE', message });
  const nul = { code: 'NUL_CHARACTER', message: 'NUL' };

  it('NULL is an empty field in every family', () => {
    for (const property of ['small', 'int', 'big', 'dec', 'dbl', 'flag', 'at', 'day', 'doc', 'words', 'bytes', 'text', 'uuid']) {
      assert.equal(field(property, null), '', property);
    }
  });

  it('integers: their digits, range left to PostgreSQL, fractions and non-finite numbers refused', () => {
    check('small', [[0, '0'], [-32768, '-32768'], [32767, '32767']]);
    check('int', [
      [-2147483648, '-2147483648'],
      [2147483647, '2147483647'],
      // -0 is the integer 0; an out-of-range value is PostgreSQL's to refuse, as for flush
      [-0, '0'],
      [2147483648, '2147483648'],
      [1.5, invalid('1.5 is not an integer')],
      [NaN, invalid('NaN has no integer value')],
      [Infinity, invalid('Infinity has no integer value')],
    ]);
  });

  it('bigint in each BigIntType mode: the digits, beyond 2^53 without loss', () => {
    // MikroORM's BigIntType hands flush a string in every mode (`'' + value`), and a string is
    // text to the CSV layer, quoted; PostgreSQL reads the same number from it
    check('big', [[9223372036854775807n, '"9223372036854775807"'], [-9223372036854775808n, '"-9223372036854775808"'], [0n, '"0"']]);
    check('bigNumber', [[9007199254740991, '"9007199254740991"'], [-1, '"-1"']]);
    check('bigString', [['9223372036854775807', '"9223372036854775807"'], ['-9223372036854775808', '"-9223372036854775808"']]);
  });

  it('decimal: the text as given (string mode), the number (number mode), NaN and ±Infinity as PostgreSQL spells them', () => {
    check('dec', [['12345678.91', '"12345678.91"'], ['-0.5', '"-0.5"'], ['0.10', '"0.10"']]);
    check('decNumber', [
      [0.1, '0.1'],
      [-12.5, '-12.5'],
      [NaN, 'NaN'],
      [Infinity, 'Infinity'],
      [-Infinity, '-Infinity'],
    ]);
  });

  it('floats: shortest round-trip digits, exponents, NaN and ±Infinity', () => {
    for (const property of ['dbl', 'real']) {
      check(property, [
        [0.1 + 0.2, '0.30000000000000004'],
        [1e21, '1e+21'],
        [5e-324, '5e-324'],
        [-1.5, '-1.5'],
        [NaN, 'NaN'],
        [Infinity, 'Infinity'],
        [-Infinity, '-Infinity'],
      ]);
    }
  });

  it('booleans: true and false, never an empty field', () => {
    check('flag', [[true, 'true'], [false, 'false']]);
  });

  it('timestamps: ISO text in UTC before 1970, at 0, at the ends of four-digit years and beyond; an invalid Date refused', () => {
    check('at', [
      [new Date(Date.UTC(1969, 11, 31, 23, 59, 59, 999)), '1969-12-31T23:59:59.999Z'],
      [new Date(0), '1970-01-01T00:00:00.000Z'],
      [new Date(Date.UTC(1900, 1, 28, 12, 0, 0, 1)), '1900-02-28T12:00:00.001Z'],
      [new Date(Date.UTC(2024, 1, 29, 23, 59, 58, 7)), '2024-02-29T23:59:58.007Z'],
      [new Date(ISO_MIN_TIME), '0001-01-01T00:00:00.000Z'],
      [new Date(ISO_MAX_TIME), '9999-12-31T23:59:59.999Z'],
      [new Date(NaN), invalid('invalid Date')],
    ]);
    // outside four-digit years the text is MikroORM's own (what flush sends)
    for (const date of [new Date(ISO_MIN_TIME - 1), new Date(ISO_MAX_TIME + 1)]) {
      const text = (platform as Platform & { formatDate(d: Date): string }).formatDate(date);
      assert.equal(field('at', date), text);
    }
    assert.equal(field('at', new Date(ISO_MAX_TIME + 1)), '+010000-01-01T00:00:00.000Z');
  });

  it('dates held as text: quoted as given', () => {
    check('day', [['1969-07-20', '"1969-07-20"'], ['0001-01-01', '"0001-01-01"']]);
  });

  it('json: JSON.stringify text, quoted with inner quotes doubled; a NUL escape refused for jsonb', () => {
    check('doc', [
      [{ a: 'x"y', n: null, list: [1, 'two'] }, '"{""a"":""x\\""y"",""n"":null,""list"":[1,""two""]}"'],
      [[1, 2], '"[1,2]"'],
      [{ path: 'C:\\dir' }, '"{""path"":""C:\\\\dir""}"'],
      [{ text: 'a\u0000b' }, nul],
    ]);
  });

  it('text arrays: every element quoted and escaped, so quotes, backslashes, "NULL" and empty strings stay what they are', () => {
    check('words', [
      [['plain'], '"{""plain""}"'],
      [['a"b'], '"{""a\\""b""}"'],
      [['back\\slash'], '"{""back\\\\slash""}"'],
      [['NULL'], '"{""NULL""}"'],
      [[''], '"{""""}"'],
      [[' padded '], '"{"" padded ""}"'],
      [['a,b', '{c}'], '"{""a,b"",""{c}""}"'],
      [[], '"{}"'],
      [['a\0b'], nul],
    ]);
  });

  it('number arrays: the elements quoted like any element', () => {
    check('numbers', [[[1, -2.5, 0], '"{""1"",""-2.5"",""0""}"']]);
  });

  it('bytea: \\x and lowercase hex, unquoted', () => {
    check('bytes', [
      [Buffer.from([0x00, 0xff, 0x10, 0xab]), '\\x00ff10ab'],
      [Buffer.alloc(0), '\\x'],
    ]);
  });

  it('text: always quoted, so the empty string is not NULL; quotes doubled; commas, newlines and UTF-8 kept; NUL refused', () => {
    const long = `${'"'.repeat(3)}${'x'.repeat(300)}é`;
    check('text', [
      ['', '""'],
      ['plain', '"plain"'],
      ['a,b\n"c"', '"a,b\n""c"""'],
      ['\\N', '"\\N"'],
      ['é😀"', '"é😀"""'],
      [long, `"${'""'.repeat(3)}${'x'.repeat(300)}é"`],
      ['a\0b', nul],
    ]);
    check('uuid', [['123e4567-e89b-12d3-a456-426614174000', '"123e4567-e89b-12d3-a456-426614174000"']]);
  });

  it('names the entity, the property and the input position in a value error', () => {
    const entity = orm.em.create(Column as EntityClass<Column>, { id: 1 } as never, { persist: false }) as AnyEntity;
    entity.int = 0.5;
    assert.throws(
      () => encoder.writeEntity(entity, 41, undefined, { writerFor: () => new ChunkWriter() }),
      (e: unknown) => {
        const error = e as { code: string; entity: string; property: string; position: number };
        assert.deepEqual([error.code, error.entity, error.property, error.position], ['INVALID_VALUE', 'Column', 'int', 41]);
        return true;
      },
    );
  });
});

describe('column types: the generic path (toPgText) and the column facts it reads', () => {
  const traits = (columnType: string) => columnTraits(columnType);
  const codeOf = (f: () => unknown) => {
    try {
      f();
    } catch (e) {
      return (e as { code?: unknown }).code;
    }
    return 'no error';
  };

  it('the family of each column type', () => {
    const family = (columnType: string) => columnFamilyOf({ columnTypes: [columnType] } as never).name;
    const expected: [string, string][] = [
      ['int2', 'integer'], ['smallint', 'integer'], ['int', 'integer'], ['integer', 'integer'], ['int4', 'integer'], ['serial', 'integer'],
      // bigint reaches the encoder as a string or a bigint, not as a number family
      ['bigint', 'text'], ['int8', 'text'], ['bigserial', 'text'],
      ['real', 'float'], ['float4', 'float'], ['float8', 'float'], ['double precision', 'float'],
      ['boolean', 'boolean'], ['bool', 'boolean'],
      ['timestamptz', 'timestamp'], ['timestamptz(3)', 'timestamp'], ['timestamp(6)', 'timestamp'], ['date', 'timestamp'], ['time(0)', 'timestamp'],
      ['timestamptz[]', 'text'], ['numeric(10,2)', 'text'], ['varchar(255)', 'text'], ['text[]', 'text'], ['jsonb', 'text'], ['uuid', 'text'], ['bytea', 'text'],
    ];
    for (const [columnType, name] of expected) assert.equal(family(columnType), name, columnType);
    assert.deepEqual(COLUMN_FAMILIES.map(f => f.name), ['integer', 'float', 'boolean', 'timestamp', 'text']);
  });

  it('the facts of each column type', () => {
    assert.deepEqual(traits('int4'), { integer: true, jsonb: false, array: false, nonFinite: false });
    assert.deepEqual(traits('bigint'), { integer: true, jsonb: false, array: false, nonFinite: false });
    assert.deepEqual(traits('numeric(10,2)'), { integer: false, jsonb: false, array: false, nonFinite: true });
    assert.deepEqual(traits('double precision'), { integer: false, jsonb: false, array: false, nonFinite: true });
    assert.deepEqual(traits('jsonb'), { integer: false, jsonb: true, array: false, nonFinite: false });
    assert.deepEqual(traits('float8[]'), { integer: false, jsonb: false, array: true, nonFinite: false });
    assert.deepEqual(traits('text[3]'), { integer: false, jsonb: false, array: true, nonFinite: false });
    assert.deepEqual(columnTraits(undefined), { integer: false, jsonb: false, array: false, nonFinite: false });
  });

  it('numbers: digits, non-finite only where the column stores it, no fraction into an integer', () => {
    assert.equal(toPgText(42, platform, traits('int4')), '42');
    assert.equal(toPgText(-0, platform, traits('int4')), '0');
    assert.equal(toPgText(1e21, platform, traits('float8')), '1e+21');
    assert.equal(toPgText(NaN, platform, traits('numeric')), 'NaN');
    assert.equal(toPgText(-Infinity, platform, traits('float4')), '-Infinity');
    assert.equal(codeOf(() => toPgText(NaN, platform, traits('text'))), 'INVALID_VALUE');
    assert.equal(codeOf(() => toPgText(Infinity, platform, traits('float8[]'))), 'INVALID_VALUE');
    assert.equal(codeOf(() => toPgText(2.5, platform, traits('int2'))), 'INVALID_VALUE');
    assert.equal(toPgText(2.5, platform, traits('numeric')), '2.5');
    assert.equal(toPgText(12345678901234567890n, platform, traits('int8')), '12345678901234567890');
  });

  it('booleans, NULL and undefined', () => {
    assert.equal(toPgText(true, platform, traits('bool')), 'true');
    assert.equal(toPgText(false, platform, traits('bool')), 'false');
    assert.equal(toPgText(null, platform, traits('text')), null);
    assert.equal(toPgText(undefined, platform, traits('text')), null);
  });

  it('dates through the platform, invalid ones refused', () => {
    assert.equal(toPgText(new Date(Date.UTC(1950, 5, 1, 1, 2, 3, 4)), platform, traits('timestamptz')), '1950-06-01T01:02:03.004Z');
    assert.equal(codeOf(() => toPgText(new Date('nope'), platform, traits('timestamptz'))), 'INVALID_VALUE');
  });

  it('strings as they are; NUL refused, and its JSON escape refused where jsonb or an array would read it', () => {
    assert.equal(toPgText('a"b\\c', platform, traits('text')), 'a"b\\c');
    assert.equal(codeOf(() => toPgText('a\0', platform, traits('text'))), 'NUL_CHARACTER');
    assert.equal(codeOf(() => toPgText('{"a":"\\u0000"}', platform, traits('jsonb'))), 'NUL_CHARACTER');
    assert.equal(codeOf(() => toPgText('{"\\u0000"}', platform, traits('text[]'))), 'NUL_CHARACTER');
    // an escaped backslash before u0000 is the text \u0000, not NUL
    assert.equal(toPgText('{"a":"\\\\u0000"}', platform, traits('jsonb')), '{"a":"\\\\u0000"}');
    // json (not jsonb) stores the escape as written
    assert.equal(toPgText('{"a":"\\u0000"}', platform, traits('json')), '{"a":"\\u0000"}');
  });

  it('objects: Buffers and typed arrays as bytea hex, plain objects as JSON, bare arrays and symbols refused', () => {
    assert.equal(toPgText(Buffer.from('hi'), platform, traits('bytea')), '\\x6869');
    assert.equal(toPgText(new Uint8Array([1, 2, 255]), platform, traits('bytea')), '\\x0102ff');
    assert.equal(toPgText(new Uint8Array([9, 1, 2, 3]).subarray(1, 3), platform, traits('bytea')), '\\x0102');
    assert.equal(toPgText({ a: [1, { b: null }] }, platform, traits('jsonb')), '{"a":[1,{"b":null}]}');
    assert.equal(codeOf(() => toPgText({ a: '\u0000' }, platform, traits('jsonb'))), 'NUL_CHARACTER');
    assert.equal(codeOf(() => toPgText([1, 2], platform, traits('int4'))), 'UNSUPPORTED_PROPERTY');
    assert.equal(codeOf(() => toPgText(Symbol('s'), platform, traits('text'))), 'INVALID_VALUE');
  });
});

describe('CSV quoting (csvField) and the chunk writer', () => {
  it('csvField: NULL empty, everything else quoted with inner quotes doubled', () => {
    assert.equal(csvField(null), '');
    assert.equal(csvField(''), '""');
    assert.equal(csvField('a"b""c'), '"a""b""""c"');
    assert.equal(csvField('x,\ny'), '"x,\ny"');
  });

  it('writes fields, separators and lines byte for byte', () => {
    const out = new ChunkWriter();
    out.integer(-905);
    out.comma();
    out.quoted('say "hi"');
    out.comma();
    out.plain('\\x00');
    out.comma();
    out.ascii('true');
    out.newline();
    assert.equal(out.take().toString('utf8'), '-905,"say ""hi""",\\x00,true\n');
  });

  it('integer(): every digit of safe integers, zero and negative zero', () => {
    for (const [value, text] of [[0, '0'], [-0, '0'], [7, '7'], [10, '10'], [-1, '-1'], [Number.MAX_SAFE_INTEGER, '9007199254740991'], [Number.MIN_SAFE_INTEGER, '-9007199254740991']] as const) {
      const out = new ChunkWriter(1);
      out.integer(value);
      assert.equal(out.take().toString(), text);
    }
  });

  it('isoDate(): the text of Date.prototype.toISOString for four-digit years', () => {
    for (const time of [ISO_MIN_TIME, -1, 0, 1, Date.UTC(1969, 6, 20, 20, 17, 40), Date.UTC(2000, 0, 1), Date.UTC(2024, 1, 29, 23, 59, 59, 999), ISO_MAX_TIME]) {
      const out = new ChunkWriter(2);
      out.isoDate(new Date(time));
      assert.equal(out.take().toString(), new Date(time).toISOString());
    }
  });

  it('quotedArray(): NULL for null elements, quotes and backslashes escaped; nothing written for a NUL element', () => {
    const out = new ChunkWriter(4);
    assert.equal(out.quotedArray(['a"b', null, 'c\\d', 'NULL'], v => v), true);
    assert.equal(out.take().toString(), '"{""a\\""b"",NULL,""c\\\\d"",""NULL""}"');
    out.quoted('before');
    assert.equal(out.quotedArray(['ok', 'x\0y'], v => v), false);
    assert.equal(out.take().toString(), '"before"');
  });

  it('grows its buffer past the capacity it started with, keeping every byte', () => {
    const out = new ChunkWriter(1);
    let expected = '';
    for (let i = 0; i < 2000; i++) {
      const text = i % 3 === 0 ? `é"${i}` : i % 3 === 1 ? 'x'.repeat(i % 400) : `"${'q'.repeat(300)}`;
      out.quoted(text);
      out.newline();
      expected += `"${text.replaceAll('"', '""')}"\n`;
    }
    assert.equal(out.length, Buffer.byteLength(expected));
    assert.equal(out.take().toString('utf8'), expected);
  });

  it('never reuses a buffer it handed out: bytes taken stay as they were while the next chunk is written', () => {
    const out = new ChunkWriter(16);
    out.quoted('first chunk');
    const first = out.take();
    assert.equal(out.length, 0);
    out.quoted('second chunk, longer than the first');
    const second = out.take();
    assert.equal(first.toString(), '"first chunk"');
    assert.equal(second.toString(), '"second chunk, longer than the first"');
    // an empty chunk is an empty buffer
    assert.equal(out.take().length, 0);
  });
});
