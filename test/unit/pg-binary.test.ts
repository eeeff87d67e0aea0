// The direct binary writers (text or value straight to the field's bytes) against an independent
// way to the same bytes, with no database: uuid against Node's hex decoder, int8 against
// `writeBigInt64BE`, and numeric and date against the general path of the same value written in
// another form (an exponent, a time of day), which the regular expressions of pg-binary.ts read.
// binary-copy.test.ts proves that those bytes store what the server's text input stores; this
// file proves the canonical forms really take the binary path (a writer that gave up on every
// value would pass there, as every row would go as CSV).
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import fc from 'fast-check';
import { ChunkWriter } from '../../src/encoding/chunk-writer.js';
import { dateFromText, int8FromBigInt, int8FromText, numericFromNumber, numericFromText, uuidFromText } from '../../src/encoding/pg-binary.js';

const RUNS = 3000;

/** The bytes a writer leaves in a fresh ChunkWriter (small, so it grows while writing), or false when it wrote none. */
function bytesOf(write: (out: ChunkWriter) => boolean): Buffer | false {
  const out = new ChunkWriter(4);
  const written = write(out);
  const bytes = out.take();
  if (!written) assert.equal(bytes.length, 0, 'a writer that gives up leaves nothing behind');
  return written && Buffer.from(bytes);
}

function field(payload: Buffer): Buffer {
  const length = Buffer.alloc(4);
  length.writeInt32BE(payload.length);
  return Buffer.concat([length, payload]);
}

describe('uuid from its text', () => {
  test(`${RUNS} uuids in any case: the 16 bytes of their hex digits`, () => {
    const cases = fc.tuple(fc.uuid(), fc.integer({ min: 0, max: 2 ** 31 - 1 })).map(([u, bits]) => u.replace(/[a-f]/g, (c, at: number) => ((bits >> at % 31) & 1 ? c.toUpperCase() : c)));
    for (const text of fc.sample(cases, { numRuns: RUNS, seed: 1 })) {
      assert.deepEqual(bytesOf(out => uuidFromText(text, out)), field(Buffer.from(text.replaceAll('-', ''), 'hex')), text);
    }
  });

  test('other forms and broken text are left to the server', () => {
    for (const text of ['a0eebc999c0b4ef8bb6d6bb9bd380a11', '{a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11}', 'a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a1g', 'a0eebc99-9c0b-4ef8-bb6d_6bb9bd380a11', 'a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a1', '']) {
      assert.equal(bytesOf(out => uuidFromText(text, out)), false, text);
    }
  });
});

describe('int8 from text and from a bigint', () => {
  const int8 = fc.oneof(
    fc.bigInt({ min: -(2n ** 63n), max: 2n ** 63n - 1n }),
    fc.bigInt({ min: -(2n ** 54n), max: 2n ** 54n }),
    fc.constantFrom(0n, -1n, 2n ** 53n - 1n, 2n ** 53n, 2n ** 53n + 1n, -(2n ** 53n) - 1n, -(2n ** 63n), 2n ** 63n - 1n),
  );
  const expected = (value: bigint) => {
    const bytes = Buffer.alloc(8);
    bytes.writeBigInt64BE(value);
    return field(bytes);
  };

  test(`${RUNS} values on both sides of 2^53: the two's complement of the value`, () => {
    for (const value of fc.sample(int8, { numRuns: RUNS, seed: 2 })) {
      assert.deepEqual(bytesOf(out => int8FromText(String(value), out)), expected(value), String(value));
      assert.deepEqual(bytesOf(out => int8FromBigInt(value, out)), expected(value), `${value}n`);
    }
  });

  test('leading zeros and -0 read as int8in reads them; other forms, more digits and values out of range are left to the server', () => {
    assert.deepEqual(bytesOf(out => int8FromText('007', out)), expected(7n));
    assert.deepEqual(bytesOf(out => int8FromText('-0', out)), expected(0n));
    for (const text of ['', '-', '+1', ' 1', '1 ', '1.0', '1e3', '9223372036854775808', '-9223372036854775809', '00000000000000000001']) {
      assert.equal(bytesOf(out => int8FromText(text, out)), false, text);
    }
    assert.equal(bytesOf(out => int8FromBigInt(2n ** 63n, out)), false);
    assert.equal(bytesOf(out => int8FromBigInt(-(2n ** 63n) - 1n, out)), false);
  });
});

describe('numeric from plain decimal text and from a number', () => {
  const plain = fc
    .tuple(fc.boolean(), fc.stringMatching(/^[0-9]{1,30}$/), fc.option(fc.stringMatching(/^[0-9]{1,30}$/)))
    .map(([minus, whole, fraction]) => `${minus ? '-' : ''}${whole}${fraction === null ? '' : `.${fraction}`}`);
  const edges = fc.constantFrom('0', '-0', '0.00', '-0.000', '10000', '1.0001', '10000.0001', '0.00010000', '000123.4500', '99999999.99999999', '12.50', '100000000');

  test(`${RUNS} decimals: the same digits, weight, sign and scale as the text with an exponent of 0`, () => {
    for (const text of fc.sample(fc.oneof(plain, edges), { numRuns: RUNS, seed: 3 })) {
      const direct = bytesOf(out => numericFromText(text, out));
      assert.ok(direct, `${text} takes the binary path`);
      assert.deepEqual(direct, bytesOf(out => numericFromText(`${text}e0`, out)), text);
    }
  });

  test(`${RUNS} safe integers and doubles: what String(n) reads as`, () => {
    const numbers = fc.oneof(fc.maxSafeInteger(), fc.integer({ min: -100_000, max: 100_000 }), fc.double({ noNaN: true, noDefaultInfinity: true }), fc.constantFrom(0, -0, 1e8, 10000, -10000, Number.MAX_SAFE_INTEGER, Number.MIN_SAFE_INTEGER));
    for (const n of fc.sample(numbers, { numRuns: RUNS, seed: 4 })) {
      const direct = bytesOf(out => numericFromNumber(n, out));
      assert.ok(direct, `${n} takes the binary path`);
      assert.deepEqual(direct, bytesOf(out => numericFromText(`${String(n)}${String(n).includes('e') ? '' : 'e0'}`, out)), String(n));
    }
  });

  test("forms the plain scan does not take go to the general path or the server: '.5', '5.', '+5', ' 5'", () => {
    for (const text of ['.5', '5.', '+5', ' 5', '-', '']) assert.equal(bytesOf(out => numericFromText(text, out)), false, text);
  });
});

describe('date from YYYY-MM-DD', () => {
  test(`${RUNS} days of years 1 to 9999: the same day as the general path reads from the text with a time`, () => {
    const days = fc.date({ min: new Date('0001-01-01T00:00:00.000Z'), max: new Date('9999-12-31T23:59:59.999Z'), noInvalidDate: true }).map(d => d.toISOString().slice(0, 10));
    for (const text of fc.sample(fc.oneof(days, fc.constantFrom('2024-02-29', '2000-02-29', '1900-02-28', '0001-01-01', '9999-12-31', '2000-01-01', '1999-12-31')), { numRuns: RUNS, seed: 5 })) {
      const direct = bytesOf(out => dateFromText(text, out));
      assert.ok(direct, `${text} takes the binary path`);
      assert.deepEqual(direct, bytesOf(out => dateFromText(`${text}T12:00:00Z`, out)), text);
    }
    assert.deepEqual(bytesOf(out => dateFromText('2000-01-01', out)), field(Buffer.alloc(4)));
  });

  test('days the calendar lacks and year 0 are left to the server', () => {
    for (const text of ['1900-02-29', '2023-02-29', '2024-04-31', '2024-13-01', '2024-00-10', '0000-01-01', '2024-1-01', '2024/01/01']) {
      assert.equal(bytesOf(out => dateFromText(text, out)), false, text);
    }
  });
});
