// Binary COPY against CSV COPY, through the server: for thousands of generated values per column
// type (edges included), the same entities are copied once with `format: 'csv'` and once with
// `format: 'binary'`, and every stored value must be the same — compared as PostgreSQL's own text
// of each value, so -0 against 0 or a lost digit of scale shows. Also: the binary side really ran
// binary (the logged COPY statement), 'binary' refuses a table it cannot write, and a value
// without an exact binary form still fails or lands as in CSV.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import fc from 'fast-check';
import { ArrayType, BigIntType, DecimalType, EntitySchema, type MikroORM } from '@mikro-orm/postgresql';
import { CopyEntityManager, CopyPersistError } from '../../src/index.js';
import { initTestOrm } from '../support/orm.js';
import { formatDefaults } from '../../src/copy/copy-format.js';
import { bigint64, decimal20_6, double, int32, jsonValue, trickyString } from '../support/fuzz-arbitraries.js';

const ROWS = 3000;

/** One table per column type: `v` of that type. */
interface Kind {
  name: string;
  property: Record<string, unknown>;
  values: fc.Arbitrary<unknown>;
}

const f32 = new Float32Array(2);
/** Doubles halfway between two adjacent floats: where rounding text once and a double twice differ. */
const float4Ties = fc.float({ noNaN: true, noDefaultInfinity: true, min: Math.fround(-1e30), max: Math.fround(1e30) }).map(f => {
  f32[0] = f;
  new Uint32Array(f32.buffer)[1] = new Uint32Array(f32.buffer)[0] + 1;
  return (f32[0] + f32[1]) / 2;
}).filter(n => Number.isFinite(n) && Math.abs(n) >= 1.2e-38);
const edgeDates = fc.constantFrom(
  new Date('2000-01-01T00:00:00.000Z'), new Date('1999-12-31T23:59:59.999Z'), new Date('1970-01-01T00:00:00.000Z'), new Date('1969-12-31T23:59:59.999Z'),
  new Date('0001-01-01T00:00:00.000Z'), new Date('9999-12-31T23:59:59.999Z'), new Date('2024-02-29T12:00:00.500Z'), new Date('1900-02-28T00:00:00.001Z'),
);
const dates = fc.oneof(fc.date({ min: new Date('0001-01-01T00:00:00.000Z'), max: new Date('9999-12-31T23:59:59.999Z'), noInvalidDate: true }), edgeDates);
const text = trickyString({ maxPieces: 6 });
/** JSON without lone surrogates, which JSON.stringify escapes and json refuses in both formats. */
const json = <T>(values: fc.Arbitrary<T>) => values.filter(v => !/\\ud[89a-f]/i.test(JSON.stringify(v)));
/** Normal 32-bit floats: a subnormal's text is out of range for real on some servers, in both formats. */
const normalFloat32 = fc.float({ noNaN: true, noDefaultInfinity: true }).filter(n => n === 0 || Math.abs(n) >= 1.1754943508222875e-38);
const nullable = <T>(values: fc.Arbitrary<T>) => fc.oneof({ weight: 8, arbitrary: values as fc.Arbitrary<unknown> }, { weight: 1, arbitrary: fc.constant(null) });
const manyDigits = fc
  .tuple(fc.boolean(), fc.stringMatching(/^[0-9]{1,40}$/), fc.option(fc.stringMatching(/^[0-9]{1,40}$/)), fc.option(fc.integer({ min: -60, max: 60 })))
  .map(([minus, whole, fraction, exponent]) => `${minus ? '-' : ''}${whole}${fraction === null ? '' : `.${fraction}`}${exponent === null ? '' : `e${exponent}`}`);

/** int8 values on every side of 2^53, where the direct writers switch from a double to a BigInt, and of int8's ends. */
const int8Edges = fc.oneof(
  bigint64,
  fc.bigInt({ min: -(2n ** 54n), max: 2n ** 54n }),
  fc.bigInt({ min: -100_000n, max: 100_000n }),
  fc.constantFrom(2n ** 53n - 1n, 2n ** 53n, 2n ** 53n + 1n, -(2n ** 53n) + 1n, -(2n ** 53n), -(2n ** 53n) - 1n, 10n ** 15n, 10n ** 16n - 1n, 10n ** 18n, -(2n ** 63n), 2n ** 63n - 1n),
);
/** Safe integers of every length (numeric takes them straight to base-10000 digits), powers of 10000 and doubles. */
const numericNumbers = fc.oneof(
  fc.maxSafeInteger(),
  fc.integer({ min: -100_000, max: 100_000 }),
  fc.double({ noNaN: true, noDefaultInfinity: true, min: -1e30, max: 1e30 }),
  fc.constantFrom(0, -0, 1, -1, 9999, 10000, -10000, 10001, 1e8, 100000000, 1e12, 1e15, Number.MAX_SAFE_INTEGER, Number.MIN_SAFE_INTEGER, 2 ** 53, 0.5, 1e-20, 1e21, NaN),
);
/** Decimal text without an exponent (the hand-scanned form), with zeros around and inside, and forms only the server reads. */
const plainDecimals = fc.oneof(
  fc.tuple(fc.boolean(), fc.stringMatching(/^[0-9]{1,25}$/), fc.option(fc.stringMatching(/^[0-9]{1,25}$/))).map(([minus, whole, fraction]) => `${minus ? '-' : ''}${whole}${fraction === null ? '' : `.${fraction}`}`),
  fc.constantFrom('000123.4500', '-0.0001', '0.00', '-0', '-0.000', '10000', '1.0001', '10000.0001', '0.00010000', '99999999.99999999', '.5', '5.', '-.5', '+5', ' 5'),
);
/** uuid text in other cases and in the forms uuid_in also reads (no hyphens, braces), which go as CSV. */
const uuids = fc.oneof(
  fc.uuid(),
  fc.uuid().map(u => u.toUpperCase()),
  fc.tuple(fc.uuid(), fc.integer({ min: 0, max: 2 ** 31 - 1 })).map(([u, bits]) => u.replace(/[a-f]/g, (c, at: number) => ((bits >> at % 31) & 1 ? c.toUpperCase() : c))),
  fc.constantFrom('00000000-0000-0000-0000-000000000000', 'ffffffff-ffff-ffff-ffff-ffffffffffff', 'a0eebc999c0b4ef8bb6d6bb9bd380a11', '{a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11}', 'a0ee-bc99-9c0b-4ef8-bb6d-6bb9-bd38-0a11'),
);
/** Date text: the `YYYY-MM-DD` read by hand (leap days, the ends of the range) and other forms date_in reads. */
const dateTexts = fc.oneof(
  dates.map(d => d.toISOString().slice(0, 10)),
  fc.constantFrom('2024-02-29', '2000-02-29', '1900-02-28', '0001-01-01', '9999-12-31', '2000-01-01', '1999-12-31', '1970-01-01', '2024-2-3', '2024-02-03T10:00:00Z', '20240203'),
);

const KINDS: Kind[] = [
  { name: 'int2', property: { type: 'smallint' }, values: fc.oneof(fc.integer({ min: -32768, max: 32767 }), fc.constantFrom(-32768, 32767, -0)) },
  { name: 'int4', property: { type: 'integer' }, values: int32 },
  { name: 'int8_bigint', property: { type: new BigIntType('bigint') }, values: int8Edges },
  { name: 'int8_string', property: { type: new BigIntType('string') }, values: fc.oneof(int8Edges.map(String), fc.constantFrom('007', '-0', '-007', '0000000000000000000001')) },
  { name: 'int8_number', property: { type: new BigIntType('number') }, values: fc.oneof(fc.maxSafeInteger(), fc.constantFrom(Number.MAX_SAFE_INTEGER, Number.MIN_SAFE_INTEGER, 2 ** 53 + 2, -(2 ** 60))) },
  { name: 'float4', property: { type: 'float' }, values: fc.oneof(normalFloat32, float4Ties, fc.double({ min: -3e38, max: 3e38, noNaN: true }).filter(n => n === 0 || Math.abs(n) > 1e-37), fc.constantFrom(NaN, Infinity, -Infinity, -0, 1.17549435e-38)) },
  { name: 'float8', property: { type: 'double' }, values: fc.oneof(double, fc.constantFrom(NaN, Infinity, -Infinity, 5e-324, -2.2250738585072e-308)) },
  { name: 'numeric_string', property: { type: new DecimalType('string'), precision: 20, scale: 6 }, values: decimal20_6 },
  { name: 'numeric_number', property: { type: new DecimalType('number'), precision: 20, scale: 6 }, values: fc.oneof(fc.double({ min: -1e13, max: 1e13, noNaN: true }), fc.constantFrom(-0, 0.1, 1e-7, 5e-7, NaN)) },
  { name: 'numeric_free', property: { type: new DecimalType('string'), columnType: 'numeric' }, values: fc.oneof(manyDigits, fc.constantFrom('NaN', '0.000', '-0.0', '1e-20', '12.50', '100', '1e3')) },
  { name: 'numeric_free_number', property: { type: new DecimalType('number'), columnType: 'numeric' }, values: numericNumbers },
  { name: 'numeric_plain', property: { type: new DecimalType('string'), columnType: 'numeric' }, values: plainDecimals },
  { name: 'numeric_plain_12_2', property: { type: new DecimalType('string'), precision: 12, scale: 2 }, values: plainDecimals.filter(t => /^-?0*\d{0,10}(\.\d*)?$/.test(t) && !/^-?9{10}\.99[5-9]/.test(t)) },
  { name: 'bool', property: { type: 'boolean' }, values: fc.boolean() },
  { name: 'text', property: { type: 'text' }, values: fc.oneof(text, fc.constantFrom('', 'NULL', '\\N', '\\.', ' ')) },
  { name: 'varchar', property: { type: 'string', length: 200 }, values: text },
  { name: 'bpchar', property: { type: 'string', columnType: 'char(12)' }, values: fc.oneof(fc.string({ maxLength: 12 }).map(s => s.replaceAll('\0', '')), fc.constantFrom('', ' a ', 'é')) },
  { name: 'uuid', property: { type: 'uuid' }, values: uuids },
  { name: 'timestamptz', property: { type: 'datetime' }, values: dates },
  { name: 'timestamp', property: { type: 'datetime', columnType: 'timestamp(3)' }, values: dates },
  { name: 'date_string', property: { type: 'date' }, values: dateTexts },
  { name: 'date_of_date', property: { type: 'datetime', columnType: 'date' }, values: dates },
  { name: 'json', property: { type: 'json', columnType: 'json' }, values: json(fc.oneof(jsonValue, fc.dictionary(text, jsonValue, { maxKeys: 3 }))) },
  { name: 'jsonb', property: { type: 'json' }, values: json(fc.oneof(jsonValue, fc.array(jsonValue, { maxLength: 3 }), fc.dictionary(text, jsonValue, { maxKeys: 3 }))) },
  { name: 'bytea', property: { type: 'blob' }, values: fc.oneof(fc.uint8Array({ maxLength: 40 }).map(a => Buffer.from(a)), fc.constant(Buffer.alloc(0))) },
  { name: 'text_array', property: { type: 'string[]' }, values: fc.array(fc.oneof(text, fc.constantFrom('NULL', '', '"', '\\', '{}', ' , ')), { maxLength: 5 }) },
  { name: 'int4_array', property: { type: new ArrayType(i => +i), columnType: 'int[]' }, values: fc.array(int32, { maxLength: 5 }) },
  { name: 'int8_array', property: { type: new ArrayType(i => +i), columnType: 'bigint[]' }, values: fc.array(fc.maxSafeInteger(), { maxLength: 5 }) },
  { name: 'float8_array', property: { type: new ArrayType(i => +i), columnType: 'double precision[]' }, values: fc.array(fc.oneof(double, fc.constantFrom(NaN, -0, Infinity)), { maxLength: 5 }) },
  { name: 'bool_array', property: { type: new ArrayType(i => i === 'true' || i === 't'), columnType: 'boolean[]' }, values: fc.array(fc.boolean(), { maxLength: 5 }) },
];

/** Array columns with NULL elements: MikroORM's ArrayType writes a null element as NULL. */
const NULL_ELEMENTS: Kind = { name: 'text_array_nulls', property: { type: 'string[]' }, values: fc.array(fc.option(text), { maxLength: 5 }) };

function schemaOf(kind: Kind): EntitySchema {
  class Row {}
  Object.defineProperty(Row, 'name', { value: `Row_${kind.name}` });
  return new EntitySchema({
    class: Row as never,
    tableName: `t_${kind.name}`,
    properties: { id: { type: 'integer', primary: true, autoincrement: false }, v: { ...kind.property, nullable: true } },
  } as never);
}

describe('binary COPY stores what CSV COPY stores', () => {
  const kinds = [...KINDS, NULL_ELEMENTS];
  const schemas = kinds.map(schemaOf);
  let csv: MikroORM;
  let binary: MikroORM;
  const statements: string[] = [];

  before(async () => {
    csv = await initTestOrm({ schema: 'bin_csv', entities: schemas });
    binary = await initTestOrm({
      schema: 'bin_binary',
      entities: schemas,
      debug: ['query'],
      logger: (message: string) => statements.push(message),
    });
  });
  after(async () => {
    await csv?.close(true);
    await binary?.close(true);
  });

  for (const [k, kind] of kinds.entries()) {
    it(`${kind.name}: ${ROWS} generated values, edges included`, async () => {
      const values = fc.sample(nullable(kind.values), { numRuns: ROWS, seed: 42 + k });
      const rows = values.map((v, id) => ({ id, v }));
      const schema = schemas[k];
      const csvEm = csv.em.fork() as CopyEntityManager;
      const binaryEm = binary.em.fork() as CopyEntityManager;
      statements.length = 0;
      await csvEm.copyPersist(schema, rows.map(r => ({ ...r })) as never, { format: 'csv' });
      await binaryEm.copyPersist(schema, rows.map(r => ({ ...r })) as never, { format: 'binary' });
      assert.ok(statements.some(s => s.includes(`"t_${kind.name}"`) && s.includes('format binary')), 'the binary side wrote binary');
      const table = `t_${kind.name}`;
      const differ = await csv.em.getConnection().execute(
        `select 'csv' as side, id, v::text from bin_csv.${table} except all select 'csv', id, v::text from bin_binary.${table}
         union all
         select 'binary', id, v::text from bin_binary.${table} except all select 'binary', id, v::text from bin_csv.${table}
         order by 2 limit 10`,
      );
      assert.deepEqual(differ, [], `stored values differ: ${JSON.stringify(differ.map(d => ({ ...d, input: String(values[(d as { id: number }).id]) })))}`);
      const [{ n }] = await binary.em.getConnection().execute(`select count(*)::int as n from bin_binary.${table}`);
      assert.equal(n, ROWS);
    });
  }
});

describe('binary COPY: choice and errors', () => {
  class Item {
    id!: number;
    label!: string;
    span?: string | null;
    small?: number | null;
    at?: Date | null;
  }
  const ItemSchema = new EntitySchema<Item>({
    class: Item,
    properties: {
      id: { type: 'integer', primary: true, autoincrement: false },
      label: { type: 'string', length: 10 },
      span: { type: 'string', columnType: 'interval', nullable: true },
      small: { type: 'smallint', nullable: true },
      at: { type: 'datetime', nullable: true },
    },
  });
  class Plain {
    id!: number;
    small?: number | null;
    uid?: string | null;
    note?: string | null;
    at?: Date | null;
  }
  const PlainSchema = new EntitySchema<Plain>({
    class: Plain,
    properties: {
      id: { type: 'integer', primary: true, autoincrement: false },
      small: { type: 'smallint', nullable: true },
      uid: { type: 'uuid', nullable: true },
      note: { type: 'text', nullable: true },
      at: { type: 'datetime', nullable: true },
    },
  });
  let orm: MikroORM;
  const statements: string[] = [];
  before(async () => {
    orm = await initTestOrm({ schema: 'bin_choice', entities: [ItemSchema, PlainSchema], debug: ['query'], logger: (m: string) => statements.push(m) });
  });
  after(async () => orm?.close(true));

  it("'binary' on a table with a column without a binary form fails with INVALID_OPTION naming the column and its type, writing nothing", async () => {
    const em = orm.em.fork() as CopyEntityManager;
    await assert.rejects(em.copyPersist(Item, [{ id: 1, label: 'a', span: '1 day' }], { format: 'binary' }), (e: unknown) => {
      assert.ok(e instanceof CopyPersistError);
      assert.equal(e.code, 'INVALID_OPTION');
      assert.equal(e.option, 'format');
      assert.match(e.message, /column "span" of type interval/);
      assert.equal(e.entity, 'Item');
      return true;
    });
    const [{ n }] = await orm.em.getConnection().execute('select count(*)::int as n from bin_choice.item');
    assert.equal(n, 0);
  });

  it("'auto' writes that table as CSV, and a table of binary types as binary once a chunk holds enough rows", async () => {
    const em = orm.em.fork() as CopyEntityManager;
    statements.length = 0;
    // the package's own threshold, whatever PG_COPY_FORMAT set for the rest of the suite
    const minRows = formatDefaults.autoMinRows;
    formatDefaults.autoMinRows = 200;
    try {
      await em.copyPersist(Item, Array.from({ length: 300 }, (_, id) => ({ id, label: 'a', span: '1 day' })), { format: 'auto' });
      await em.copyPersist(Plain, Array.from({ length: 300 }, (_, id) => ({ id, small: id })), { format: 'auto' });
      await em.copyPersist(Plain, [{ id: 1000, small: 1 }], { format: 'auto' });
    } finally {
      formatDefaults.autoMinRows = minRows;
    }
    const copies = statements.filter(s => /copy "/.test(s));
    assert.ok(copies.some(s => s.includes('"item"') && s.includes('format csv')));
    assert.ok(!copies.some(s => s.includes('"item"') && s.includes('format binary')));
    assert.equal(copies.filter(s => s.includes('"plain"') && s.includes('format binary')).length, 1, 'the 300 rows went binary');
    assert.equal(copies.filter(s => s.includes('"plain"') && s.includes('format csv')).length, 1, 'the single row went as CSV');
  });

  it('a value out of range fails as in CSV: the database error names the entity and the input position', async () => {
    const rows = Array.from({ length: 50 }, (_, id) => ({ id: 2000 + id, small: id === 37 ? 40000 : id }));
    for (const format of ['csv', 'binary'] as const) {
      const em = orm.em.fork() as CopyEntityManager;
      await assert.rejects(em.copyPersist(Plain, rows, { format }), (e: unknown) => {
        const context = (e as { copyPersist?: { entity?: string; position?: number } }).copyPersist;
        assert.equal(context?.entity, 'Plain', format);
        assert.equal(context?.position, 37, format);
        assert.match((e as Error).message, /out of range for type smallint/);
        return true;
      });
    }
  });

  it('a value the server rejects only as text (an invalid uuid) fails with the same error in both formats', async () => {
    const rows = Array.from({ length: 20 }, (_, id) => ({ id: 3000 + id, uid: id === 11 ? 'not-a-uuid' : '6f1b0a52-8d8c-4a5e-9f3a-0f5b2d8e9c11' }));
    const messages: string[] = [];
    for (const format of ['csv', 'binary'] as const) {
      const em = orm.em.fork() as CopyEntityManager;
      await assert.rejects(em.copyPersist(Plain, rows, { format }), (e: unknown) => {
        assert.equal((e as { copyPersist?: { position?: number } }).copyPersist?.position, 11, format);
        messages.push((e as Error).message.replace(/line \d+/, 'line N'));
        return true;
      });
    }
    assert.equal(messages[0], messages[1]);
  });

  it('a NUL in text fails with NUL_CHARACTER in both formats, naming the property and position', async () => {
    for (const format of ['csv', 'binary'] as const) {
      const em = orm.em.fork() as CopyEntityManager;
      await assert.rejects(em.copyPersist(Plain, [{ id: 1, note: 'ok' }, { id: 2, note: 'a\0b' }], { format }), (e: unknown) => {
        assert.ok(e instanceof CopyPersistError);
        assert.equal(e.code, 'NUL_CHARACTER', format);
        assert.equal(e.property, 'note');
        assert.equal(e.position, 1);
        return true;
      });
    }
  });

  it('an invalid Date fails with INVALID_VALUE in binary as in CSV, naming the property and position', async () => {
    for (const format of ['csv', 'binary'] as const) {
      const em = orm.em.fork() as CopyEntityManager;
      await assert.rejects(em.copyPersist(Plain, [{ id: 1, at: new Date() }, { id: 2, at: new Date(NaN) }], { format }), (e: unknown) => {
        assert.ok(e instanceof CopyPersistError);
        assert.equal(e.code, 'INVALID_VALUE', format);
        assert.equal(e.property, 'at');
        assert.equal(e.position, 1);
        return true;
      });
    }
  });

  it('rejects an unknown format', async () => {
    const em = orm.em.fork() as CopyEntityManager;
    await assert.rejects(em.copyPersist(Plain, [{ id: 1 }], { format: 'text' as never }), (e: unknown) => e instanceof CopyPersistError && e.code === 'INVALID_OPTION' && e.option === 'format');
  });
});

describe("binary COPY: an upsert's staging table", () => {
  class Stock {
    id!: number;
    code!: string;
    label?: string | null;
    qty?: number | null;
    price?: string | null;
    at?: Date | null;
    flag?: boolean | null;
  }
  const StockSchema = new EntitySchema<Stock>({
    class: Stock,
    properties: {
      id: { type: 'integer', primary: true, autoincrement: true },
      code: { type: 'string', length: 40, unique: true },
      label: { type: 'text', nullable: true },
      qty: { type: 'integer', nullable: true },
      price: { type: new DecimalType('string'), precision: 20, scale: 6, nullable: true },
      at: { type: 'datetime', nullable: true },
      flag: { type: 'boolean', nullable: true },
    },
  });
  const N = 600;
  /** Version `v` of the row with key `k`: generated values, edges included, the same for each side. */
  const rowsOf = (keys: number[], v: number) => {
    const sample = <T>(values: fc.Arbitrary<T>) => fc.sample(nullable(values), { numRuns: keys.length, seed: 7 * v + 1 });
    const labels = sample(fc.oneof(text, fc.constantFrom('', 'NULL', '\\N', '\\.')));
    const qtys = sample(int32);
    const prices = sample(decimal20_6);
    const ats = sample(dates);
    const flags = sample(fc.boolean());
    return keys.map((k, i) => ({
      code: `k-${k}`,
      label: labels[i] as string | null,
      qty: qtys[i] as number | null,
      price: prices[i] as string | null,
      at: ats[i] as Date | null,
      flag: flags[i] as boolean | null,
    }));
  };
  let csv: MikroORM;
  let binary: MikroORM;
  const statements: string[] = [];
  /** Rows of either side missing from the other, every column as PostgreSQL's text. */
  const differences = () => {
    const columns = 'id, code, label, qty, price::text, at::text, flag';
    return csv.em.getConnection().execute(
      `select 'csv' as side, ${columns} from bin_upsert_csv.stock except all select 'csv', ${columns} from bin_upsert_binary.stock
       union all
       select 'binary', ${columns} from bin_upsert_binary.stock except all select 'binary', ${columns} from bin_upsert_csv.stock
       order by 2 limit 10`,
    );
  };
  before(async () => {
    csv = await initTestOrm({ schema: 'bin_upsert_csv', entities: [StockSchema], debug: ['query'], logger: (m: string) => statements.push(`csv ${m}`) });
    binary = await initTestOrm({ schema: 'bin_upsert_binary', entities: [StockSchema], debug: ['query'], logger: (m: string) => statements.push(`binary ${m}`) });
  });
  after(async () => {
    await csv?.close(true);
    await binary?.close(true);
  });

  it("goes binary under 'auto' and leaves the rows, ids included, that the CSV staging leaves", async () => {
    const seed = rowsOf(Array.from({ length: N / 2 }, (_, i) => 2 * i), 1);
    // half the keys exist (even), half are new (odd), interleaved
    const input = rowsOf(Array.from({ length: N }, (_, i) => i), 2);
    const minRows = formatDefaults.autoMinRows;
    formatDefaults.autoMinRows = 200;
    statements.length = 0;
    try {
      for (const [orm, format] of [[csv, 'csv'], [binary, 'auto']] as const) {
        const em = orm.em.fork() as CopyEntityManager;
        await em.copyPersist(Stock, seed.map(r => ({ ...r })), { format });
        const result = await em.copyPersist(Stock, input.map(r => ({ ...r })), { format, onConflictFields: ['code'] });
        assert.deepEqual(result.upserted, { inserted: N / 2, updated: N / 2, skipped: 0 }, format);
      }
    } finally {
      formatDefaults.autoMinRows = minRows;
    }
    const stageCopies = statements.filter(s => /copy "mikro_orm_pg_copy_stage_\d+"/.test(s));
    assert.ok(stageCopies.some(s => s.startsWith('binary') && s.includes('format binary')), "the 'auto' side staged binary");
    assert.ok(!stageCopies.some(s => s.startsWith('binary') && s.includes('format csv')), "the 'auto' side staged no row as CSV");
    assert.ok(stageCopies.every(s => !s.startsWith('csv') || s.includes('format csv')), 'the csv side staged CSV');
    assert.deepEqual(await differences(), []);
    const [{ n }] = await binary.em.getConnection().execute('select count(*)::int as n from bin_upsert_binary.stock');
    assert.equal(n, N);
  });

  it("copyUpdate's and copyDelete's staging go binary too, and leave the rows the CSV staging leaves", async () => {
    // the ids the upsert gave (a merge takes a sequence value for every row, met or not), the same on both sides
    const ids = (await csv.em.getConnection().execute<{ id: number }[]>('select id from bin_upsert_csv.stock order by id')).map(r => r.id);
    const changes = rowsOf(Array.from({ length: N }, (_, i) => i), 3).map(({ code: _code, ...r }, i) => ({ ...r, id: ids[i] }));
    const gone = ids.filter((_, i) => i % 3 === 0);
    const { format, autoMinRows } = formatDefaults;
    formatDefaults.autoMinRows = 200;
    statements.length = 0;
    try {
      for (const [orm, side] of [[csv, 'csv'], [binary, 'auto']] as const) {
        formatDefaults.format = side;
        const em = orm.em.fork() as CopyEntityManager;
        assert.equal((await em.copyUpdate(Stock, changes.map(r => ({ ...r })))).updated, N, side);
        assert.equal((await em.copyDelete(Stock, gone)).deleted, gone.length, side);
      }
    } finally {
      Object.assign(formatDefaults, { format, autoMinRows });
    }
    const stageCopies = statements.filter(s => /copy "mikro_orm_pg_copy_stage_\d+"/.test(s));
    assert.equal(stageCopies.filter(s => s.startsWith('binary') && s.includes('format binary')).length, 2, "the 'auto' side staged its update and its delete binary");
    assert.ok(stageCopies.every(s => s.includes(s.startsWith('csv') ? 'format csv' : 'format binary')), 'each side staged in its format only');
    assert.deepEqual(await differences(), []);
  });
});
