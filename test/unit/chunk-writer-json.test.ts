// JSON text written straight into the chunk (`ChunkWriter.quotedJson`, `jsonField`) against
// `JSON.stringify`, which MikroORM's JsonType calls for flush, with no database: the same UTF-8
// bytes for every plain object or array — escapes, lone surrogates, -0, numbers past 2^53, holes,
// left-out properties — and nothing written (so the string path decides) where the writer cannot
// be sure: a toJSON, a class instance, a bigint, a NUL, a cycle. The row-encoder unit test and the
// differential suites check the same through whole rows.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import fc from 'fast-check';
import { ChunkWriter, isPlainJson } from '../../src/encoding/chunk-writer.js';
import { double, trickyString } from '../support/fuzz-arbitraries.js';

const RUNS = 3000;

/** Values JSON.stringify writes, with strings that hold lone surrogates and control characters. */
const value: fc.Arbitrary<unknown> = fc.letrec<{ value: unknown }>(tie => ({
  value: fc.oneof(
    { depthSize: 'small', withCrossShrink: true },
    fc.constantFrom(null, true, false, undefined, -0, 0, Number.MAX_SAFE_INTEGER + 2, -(2 ** 60), 1e21, 5e-324, NaN, Infinity),
    fc.integer(),
    double,
    trickyString(),
    fc.string({ unit: 'binary', maxLength: 20 }).map(s => s.replaceAll('\0', '')),
    fc.array(tie('value'), { maxLength: 4 }),
    fc.dictionary(trickyString({ maxPieces: 3 }), tie('value'), { maxKeys: 4 }),
    fc.dictionary(fc.constantFrom('0', '10', '2', 'b', 'a', '-1', '__proto__x'), tie('value'), { maxKeys: 4 }),
  ),
})).value;
const container = fc.oneof(fc.array(value, { maxLength: 5 }), fc.dictionary(trickyString({ maxPieces: 3 }), value, { maxKeys: 5 }));

function written(write: (out: ChunkWriter) => boolean): Buffer | false {
  const out = new ChunkWriter(4);
  out.ascii('x');
  const ok = write(out);
  const bytes = Buffer.from(out.take());
  if (!ok) assert.deepEqual(bytes, Buffer.from('x'), 'a writer that gives up leaves nothing behind');
  return ok && bytes.subarray(1);
}

function binaryField(text: string, version?: number): Buffer {
  const payload = Buffer.concat([version === undefined ? Buffer.alloc(0) : Buffer.from([version]), Buffer.from(text, 'utf8')]);
  const length = Buffer.alloc(4);
  length.writeInt32BE(payload.length);
  return Buffer.concat([length, payload]);
}

describe('JSON text written in place', () => {
  test('the bytes of JSON.stringify, as a CSV field and as json and jsonb fields', () => {
    fc.assert(
      fc.property(container, v => {
        const text = JSON.stringify(v);
        assert.deepEqual(written(out => out.quotedJson(v)), Buffer.from(`"${text.replaceAll('"', '""')}"`, 'utf8'));
        assert.deepEqual(written(out => out.jsonField(v)), binaryField(text));
        assert.deepEqual(written(out => out.jsonField(v, 1)), binaryField(text, 1));
      }),
      { numRuns: RUNS },
    );
  });

  test('sparse arrays, functions, symbols, null prototypes and long text', () => {
    const sparse = [1, , 3]; // eslint-disable-line no-sparse-arrays
    const bare = Object.assign(Object.create(null) as object, { b: 1, a: [() => 1, Symbol('s')] });
    const long = { text: 'é"\\\n'.repeat(5000), list: Array.from({ length: 300 }, (_, i) => ({ i })) };
    for (const v of [sparse, bare, long, { f: () => 1, s: Symbol('s'), u: undefined, n: null }, [], {}]) {
      assert.deepEqual(written(out => out.jsonField(v, 1)), binaryField(JSON.stringify(v), 1));
    }
  });

  test('left to JSON.stringify: toJSON, class instances, bigints, NUL, cycles, deep nesting', () => {
    const cycle: Record<string, unknown> = { a: 1 };
    cycle.self = cycle;
    let deep: unknown = 1;
    for (let i = 0; i < 100; i++) deep = [deep];
    const refused = [
      { at: new Date(0) },
      { toJSON: () => 'x' },
      [new Map()],
      { n: 1n },
      { text: 'a\0b' },
      { 'key\0': 1 },
      cycle,
      deep,
      [Object.assign(Object.create({ inherited: 1 }) as object, { own: 2 })],
    ];
    for (const v of refused) {
      assert.equal(written(out => out.quotedJson(v as object)), false);
      assert.equal(written(out => out.jsonField(v as object, 1)), false);
    }
    assert.equal(isPlainJson(new Date(0)), false);
    assert.equal(isPlainJson({ toJSON: () => 1 }), false);
    assert.equal(isPlainJson('text'), false);
    assert.equal(isPlainJson([1]), true);
  });
});
