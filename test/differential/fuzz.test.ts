// Property-based differential test: fast-check generates batches of entities with hostile values
// (CSV and COPY specials, astral and lone-surrogate Unicode, number and date edges, JSON, arrays);
// each batch is written once with persist + flush into schema fuzz_flush and once with copyPersist
// into fuzz_copy, and the two tables must hold the same rows (compared in SQL, as the
// differential test does). Values flush cannot write either must make copyPersist fail clearly:
// a CopyPersistError with a stable code, or the database's own error, and nothing written.
//
// FUZZ_SEED=<n> replays a seed (fast-check prints it on failure); FUZZ_RUNS=<factor> multiplies
// the number of runs (e.g. FUZZ_RUNS=10 for a long hunt). FUZZ_REPEAT=<n> repeats the
// out-of-range cases n times, copyPersist only: with n ≥ 15 it reproduces a hang of a COPY that
// the server failed (seen after 47 to 93 such failures in one process, MikroORM 6 and 7; the
// server keeps the COPY 'active'), which lies outside the encoding layer. FUZZ_SMALL_CHUNKS=1 makes
// the NUL property send earlier chunks before the NUL is met, which hung the same way (MikroORM 7).
import { after, before, describe, it, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { CopyPersistError, type CopyErrorCode } from '../../src/index.js';
import type { FuzzEntityName } from '../support/fuzz-entities.js';
import { FuzzPair, withIds } from '../support/fuzz-harness.js';
import {
  bigint64,
  decimal20_6,
  decimalNumber20_6,
  double,
  float32,
  int32,
  jsonValue,
  loneSurrogate,
  nullableText,
  numberArray,
  numericUnbounded,
  stringArray,
  trickyString,
  validDate,
} from '../support/fuzz-arbitraries.js';

const RUN_FACTOR = Number(process.env.FUZZ_RUNS ?? '1');
const SEED = process.env.FUZZ_SEED === undefined ? undefined : Number(process.env.FUZZ_SEED);
/** Entities per generated batch: one flush and one copyPersist per run. */
const BATCH = 50;

type Row = Record<string, unknown>;

function params<T>(runs: number): fc.Parameters<T> {
  return { numRuns: Math.max(1, Math.round(runs * RUN_FACTOR)), ...(SEED === undefined ? {} : { seed: SEED }) };
}

/** A batch of up to BATCH rows, each with its position as id. */
function batch<T extends object>(row: fc.Arbitrary<T>): fc.Arbitrary<(T & { id: number })[]> {
  return fc.array(row, { minLength: 1, maxLength: BATCH, size: 'max' }).map(withIds);
}

/** `fc.assert`, with the failing assertion's message in the error (fast-check 4 keeps it only as `cause`). */
async function check<T>(property: fc.IAsyncPropertyWithHooks<T>, runs: number): Promise<void> {
  try {
    await fc.assert(property, params(runs));
  } catch (e) {
    const cause = (e as { cause?: unknown }).cause;
    if (e instanceof Error && cause instanceof Error) e.message += `\n\nFailure of the shrunk counterexample:\n${cause.message}`;
    throw e;
  }
}

/** Undefined (left out: the column default applies), or the value. */
function maybe<T>(arb: fc.Arbitrary<T>): fc.Arbitrary<T | null | undefined> {
  return fc.oneof({ weight: 1, arbitrary: fc.constant(undefined) }, { weight: 1, arbitrary: fc.constant(null) }, { weight: 6, arbitrary: arb });
}

/** Drops undefined keys, so `em.create` sees them as not given. */
function defined<T extends Row>(row: T): T {
  return Object.fromEntries(Object.entries(row).filter(([, v]) => v !== undefined)) as T;
}

function isCopyError(e: unknown, code: CopyErrorCode): e is CopyPersistError {
  return e instanceof CopyPersistError && e.code === code;
}

describe('fuzz: copyPersist writes what persist + flush writes, for generated values', () => {
  let pair: FuzzPair;

  before(async () => {
    pair = await FuzzPair.start();
  });
  after(async () => pair?.close());

  /** Runs a differential property over batches of `entity` rows and reports the counts. */
  async function differential<T extends Row>(t: TestContext, entity: FuzzEntityName, row: fc.Arbitrary<T>, runs: number): Promise<void> {
    let batches = 0;
    let rows = 0;
    let bothFailed = 0;
    await check(
      fc.asyncProperty(batch(row.map(defined)), async generated => {
        batches++;
        rows += generated.length;
        await pair.truncate(entity);
        let flushError: unknown;
        await pair.flush(entity, generated).catch((e: unknown) => (flushError = e));
        if (flushError !== undefined) {
          // what flush cannot write, copyPersist must refuse too (never write something else)
          bothFailed++;
          await assert.rejects(pair.copy(entity, generated), `flush failed (${String(flushError)}), copyPersist did not`);
          assert.equal(await pair.count('copy', entity), 0, 'copyPersist wrote rows');
          return;
        }
        await pair.copy(entity, generated);
        const problem = await pair.compare(entity, generated.length);
        assert.equal(problem, undefined, problem);
      }),
      runs,
    );
    t.diagnostic(`${entity}: ${batches} runs, ${rows} generated entities (shrinking included), ${bothFailed} runs where flush and copyPersist both failed`);
  }

  /** Asserts that flush fails on `row` and copyPersist rejects it with `code`, naming entity, property and position. */
  async function rejectsLikeFlush(entity: FuzzEntityName, rows: Row[], position: number, property: string, code: CopyErrorCode): Promise<void> {
    await pair.truncate(entity);
    await assert.rejects(pair.flush(entity, rows), `flush should fail on ${describeRow(rows[position])}`);
    await assert.rejects(pair.copy(entity, rows), (e: unknown) => {
      assert.ok(isCopyError(e, code), `expected a CopyPersistError ${code} for ${describeRow(rows[position])}, got ${String(e)}`);
      assert.equal(e.entity, entity);
      assert.equal(e.property, property);
      assert.equal(e.position, position);
      return true;
    });
    assert.equal(await pair.count('flush', entity), 0, 'flush wrote rows');
    assert.equal(await pair.count('copy', entity), 0, 'copyPersist wrote rows');
  }

  // ---------------------------------------------------------------------------- text

  it('text: quotes, commas, CR/LF, tabs, backslashes, \\N, NULL, \\., empty next to null, astral and lone surrogates', async t => {
    await differential(t, 'FuzzText', fc.record({ textValue: maybe(nullableText()), varcharValue: maybe(nullableText()) }), 60);
  });

  it('text: lone surrogates are written as flush writes them (U+FFFD, from UTF-8 encoding)', async () => {
    const rows = withIds([{ textValue: 'a\ud800b' }, { textValue: '\udfff' }, { textValue: '\ud83d' }, { varcharValue: 'x\udc00\ud800y' }]);
    assert.equal(await pair.differential('FuzzText', rows), undefined);
    const stored = await pair.flushOrm.em.getConnection().execute<{ t: string | null }[]>(`select "text_value" as t from ${pair.table('copy', 'FuzzText')} where id = 1`);
    assert.equal(stored[0].t, 'a\ufffdb');
  });

  // ---------------------------------------------------------------------------- numbers

  it('numbers: int and bigint edges, -0, doubles, reals, numeric precision and rounding', async t => {
    await differential(
      t,
      'FuzzNumber',
      fc.record({
        intValue: maybe(int32),
        doubleValue: maybe(double),
        floatValue: maybe(float32),
        decimalAsString: maybe(decimal20_6),
        decimalAsNumber: maybe(decimalNumber20_6),
        numericUnbounded: maybe(numericUnbounded),
        bigintAsString: maybe(bigint64.map(String)),
        bigintAsBigint: maybe(bigint64),
      }),
      50,
    );
  });

  it('numbers: NaN and ±Infinity, which flush cannot write, are written as the entity holds them where the column stores them', async t => {
    let cases = 0;
    for (const property of ['doubleValue', 'floatValue', 'decimalAsNumber']) {
      for (const value of [NaN, Infinity, -Infinity]) {
        const rows = withIds([{ doubleValue: 1 }, { [property]: value }]);
        await pair.truncate('FuzzNumber');
        await assert.rejects(pair.flush('FuzzNumber', rows), `flush should fail on ${property} = ${value}`);
        if (property === 'decimalAsNumber' && !Number.isNaN(value)) {
          // numeric(20,6) holds NaN but no infinity: PostgreSQL refuses it (MikroORM's exception), nothing is written
          await assert.rejects(pair.copy('FuzzNumber', rows), (e: unknown) => !(e instanceof CopyPersistError) && /infinit|overflow/i.test(String(e)));
          assert.equal(await pair.count('copy', 'FuzzNumber'), 0);
        } else {
          await pair.copy('FuzzNumber', rows);
          // read back through MikroORM: the entity holds what was copied
          const loaded = (await pair.findCopied('FuzzNumber', 2)) as Record<string, unknown>;
          assert.ok(Object.is(loaded[property], value), `${property}: copied ${value}, read back ${String(loaded[property])}`);
        }
        cases++;
      }
    }
    // an integer column has no such values: rejected before anything is sent, as flush fails
    for (const value of [NaN, Infinity, -Infinity]) {
      await rejectsLikeFlush('FuzzNumber', withIds([{ doubleValue: 1 }, { intValue: value }]), 1, 'intValue', 'INVALID_VALUE');
      cases++;
    }
    t.diagnostic(`${cases} cases`);
  });

  it('numbers: values just past the int and bigint ranges fail on both sides, and nothing is written', async t => {
    const outOfRange: Row[] = [
      { intValue: 2 ** 31 },
      { intValue: -(2 ** 31) - 1 },
      { bigintAsString: '9223372036854775808' },
      { bigintAsString: '-9223372036854775809' },
      { bigintAsBigint: 2n ** 63n },
      { bigintAsBigint: -(2n ** 63n) - 1n },
      { decimalAsString: '99999999999999.9999995' }, // rounds to 15 integer digits: overflow
      { decimalAsNumber: 1e14 },
    ];
    const repeat = Number(process.env.FUZZ_REPEAT ?? '1');
    for (const row of Array.from({ length: repeat }, () => outOfRange).flat()) {
      const rows = withIds([{ intValue: 1 }, row]);
      await pair.truncate('FuzzNumber');
      if (repeat === 1) await assert.rejects(pair.flush('FuzzNumber', rows), `flush should fail on ${describeRow(row)}`);
      await assert.rejects(pair.copy('FuzzNumber', rows), `copyPersist should fail on ${describeRow(row)}`);
      assert.equal(await pair.count('flush', 'FuzzNumber'), 0);
      assert.equal(await pair.count('copy', 'FuzzNumber'), 0);
    }
    t.diagnostic(`${outOfRange.length * repeat} cases`);
  });

  // ---------------------------------------------------------------------------- dates

  it('dates: year 1 to 9999, before 1970, millisecond precision', async t => {
    await differential(t, 'FuzzDate', fc.record({ timestamptzValue: maybe(validDate), timestampValue: maybe(validDate) }), 40);
  });

  it('dates: an invalid Date fails flush and is rejected by copyPersist (INVALID_VALUE)', async t => {
    for (const property of ['timestamptzValue', 'timestampValue']) {
      await rejectsLikeFlush('FuzzDate', withIds([{ timestamptzValue: new Date(0) }, { [property]: new Date(NaN) }]), 1, property, 'INVALID_VALUE');
    }
    t.diagnostic('2 cases');
  });

  // ---------------------------------------------------------------------------- json

  const note = fc.record({ body: maybe(trickyString({ surrogates: false })), amount: maybe(double) }).map(defined);

  it('json: nested objects, Unicode, top-level strings, numbers and null, object embeddables', async t => {
    await differential(t, 'FuzzJson', fc.record({ jsonValue: fc.option(jsonValue, { nil: undefined }), note: maybe(note) }), 50);
  });

  it('json: a lone surrogate in JSON fails flush (jsonb rejects \\udXXX) and copyPersist alike, writing nothing', async t => {
    let runs = 0;
    await check(
      fc.asyncProperty(fc.tuple(trickyString({ surrogates: false, maxPieces: 2 }), loneSurrogate, fc.boolean()), async ([text, surrogate, inNote]) => {
        runs++;
        const row = inNote ? { note: { body: text + surrogate } } : { jsonValue: { [text]: surrogate } };
        const rows = withIds([{ jsonValue: 1 }, row]);
        await pair.truncate('FuzzJson');
        await assert.rejects(pair.flush('FuzzJson', rows));
        await assert.rejects(pair.copy('FuzzJson', rows));
        assert.equal(await pair.count('copy', 'FuzzJson'), 0);
      }),
      5,
    );
    t.diagnostic(`${runs} runs`);
  });

  // ---------------------------------------------------------------------------- arrays

  it('arrays: number arrays with empty arrays and null elements, as flush writes them', async t => {
    await differential(t, 'FuzzArray', fc.record({ numberArray: fc.option(numberArray, { nil: undefined }) }), 30);
  });

  // Where flush loses data (README: where the result differs): MikroORM's marshallArray leaves
  // 'NULL' and elements with spaces unquoted, so PostgreSQL stores NULL or trims them, and an
  // element of spaces only fails. copyPersist writes each element as the entity holds it.
  it('arrays: string elements are stored as the entity holds them (quotes, braces, backslashes, NULL, spaces, control characters), read back by em.find', async t => {
    const element = fc.oneof(
      fc.constantFrom<string | null>(null, '', 'NULL', 'null', ' ', ' a ', '\t', '\n', '\r\n', '  \t ', '"', '\\', '{', '}', ',', '\\N', 'a"b\\c'),
      nullableText({ maxPieces: 4 }),
    );
    let runs = 0;
    await check(
      fc.asyncProperty(fc.array(fc.option(fc.array(element, { maxLength: 6 }), { nil: null }), { minLength: 1, maxLength: 20 }), async arrays => {
        runs++;
        const rows = withIds(arrays.map(stringArray => ({ stringArray })));
        await pair.truncate('FuzzArray');
        await pair.copy('FuzzArray', rows);
        for (const row of rows) {
          const loaded = (await pair.findCopied('FuzzArray', row.id)) as { stringArray: unknown };
          // text travels as UTF-8, where a lone surrogate becomes U+FFFD (for flush too)
          const expected = row.stringArray?.map(e => (e === null ? e : Buffer.from(e, 'utf8').toString('utf8'))) ?? null;
          assert.deepEqual(loaded.stringArray, expected, `row ${row.id}`);
        }
      }),
      20,
    );
    t.diagnostic(`${runs} runs`);
  });

  it('arrays: a whitespace-only element fails flush (MikroORM leaves it unquoted); copyPersist stores it', async t => {
    const elements = [' ', '\n', '\r\n', '\t', '  \t '];
    for (const element of elements) {
      const rows = withIds([{ stringArray: ['a'] }, { stringArray: ['x', element] }]);
      await pair.truncate('FuzzArray');
      await assert.rejects(pair.flush('FuzzArray', rows), `flush should fail on ${JSON.stringify(element)}`);
      await pair.copy('FuzzArray', rows);
      assert.deepEqual(((await pair.findCopied('FuzzArray', 2)) as { stringArray: unknown }).stringArray, ['x', element]);
    }
    t.diagnostic(`${elements.length} cases`);
  });

  // ---------------------------------------------------------------------------- NUL

  /** Where a NUL can hide: entity, property label, and how to build a row carrying `text`. */
  // flushFails: false where flush is not asked. A raw NUL inlined into flush's SQL text cuts the
  // wire protocol's NUL-terminated query string short and can leave the connection waiting
  // forever (seen hanging this test), so flush is only tried where the NUL reaches SQL as the
  // JSON escape \u0000 (which jsonb rejects cleanly); quoted array elements: see the test below.
  const NUL_TARGETS: { entity: FuzzEntityName; property: string; row: (text: string) => Row; valid: fc.Arbitrary<Row>; flushFails?: false }[] = [
    { entity: 'FuzzText', property: 'textValue', row: text => ({ textValue: text }), valid: fc.record({ textValue: nullableText() }), flushFails: false },
    { entity: 'FuzzText', property: 'varcharValue', row: text => ({ varcharValue: text }), valid: fc.record({ varcharValue: nullableText() }), flushFails: false },
    { entity: 'FuzzJson', property: 'jsonValue', row: text => ({ jsonValue: text }), valid: fc.record({ jsonValue: jsonValue }) },
    { entity: 'FuzzJson', property: 'jsonValue', row: text => ({ jsonValue: { nested: [1, { deep: text }] } }), valid: fc.record({ jsonValue: jsonValue }) },
    { entity: 'FuzzJson', property: 'jsonValue', row: text => ({ jsonValue: { [text]: true } }), valid: fc.record({ jsonValue: jsonValue }) },
    { entity: 'FuzzJson', property: 'note', row: text => ({ note: { body: text, amount: 1 } }), valid: fc.record({ note }) },
    { entity: 'FuzzArray', property: 'stringArray', row: text => ({ stringArray: ['ok', text, null] }), valid: fc.record({ stringArray }), flushFails: false },
  ];

  it('NUL: a NUL anywhere in text is rejected before anything is written (NUL_CHARACTER, entity, property, position)', async t => {
    let runs = 0;
    const byTarget = new Map<string, number>();
    await check(
      fc.asyncProperty(
        fc.integer({ min: 0, max: NUL_TARGETS.length - 1 }).chain(target =>
          fc.record({
            target: fc.constant(target),
            valid: fc.array(NUL_TARGETS[target].valid, { minLength: 1, maxLength: BATCH }),
            text: trickyString({ surrogates: false }),
            offset: fc.nat(),
            at: fc.nat(),
            // the default chunk size encodes the whole batch before anything is sent; FUZZ_SMALL_CHUNKS=1
            // sends earlier chunks first, so the abort of a COPY in flight is exercised (see the header)
            chunkSize: process.env.FUZZ_SMALL_CHUNKS === '1' ? fc.integer({ min: 1, max: 60 }) : fc.constant(undefined),
          }),
        ),
        async ({ target, valid, text, offset, at, chunkSize }) => {
          runs++;
          const { entity, property, row, flushFails } = NUL_TARGETS[target];
          const cut = offset % (text.length + 1);
          const position = at % (valid.length + 1);
          const rows = withIds([...valid.slice(0, position), row(`${text.slice(0, cut)}\0${text.slice(cut)}`), ...valid.slice(position)]);
          const key = `${entity}.${property}`;
          byTarget.set(key, (byTarget.get(key) ?? 0) + 1);
          await pair.truncate(entity);
          await assert.rejects(pair.copy(entity, rows, chunkSize === undefined ? {} : { chunkSize }), (e: unknown) => {
            assert.ok(isCopyError(e, 'NUL_CHARACTER'), `expected a CopyPersistError NUL_CHARACTER, got ${String(e)}`);
            assert.equal(e.entity, entity);
            assert.equal(e.property, property);
            assert.equal(e.position, position);
            return true;
          });
          assert.equal(await pair.count('copy', entity), 0, 'copyPersist wrote rows');
          // flush cannot write it either
          if (flushFails !== false) {
            await assert.rejects(pair.flush(entity, rows));
            assert.equal(await pair.count('flush', entity), 0, 'flush wrote rows');
          }
        },
      ),
      80,
    );
    t.diagnostic(`${runs} runs: ${[...byTarget].map(([k, n]) => `${k} ${n}`).join(', ')}`);
  });

  it('NUL: in a quoted array element flush silently stores "u0000"; copyPersist refuses instead', async () => {
    const rows = withIds([{ stringArray: ['a"\0b'] }]);
    await pair.truncate('FuzzArray');
    await pair.flush('FuzzArray', rows);
    const [stored] = await pair.flushOrm.em.getConnection().execute<{ v: string }[]>(`select string_array[1] as v from ${pair.table('flush', 'FuzzArray')}`);
    assert.equal(stored.v, 'a"u0000b', 'MikroORM\'s marshallArray turns NUL into the text u0000 (if this changes, revisit the array check)');
    await assert.rejects(pair.copy('FuzzArray', rows), (e: unknown) => isCopyError(e, 'NUL_CHARACTER') && e.property === 'stringArray' && e.position === 0);
    assert.equal(await pair.count('copy', 'FuzzArray'), 0);
  });
});

function describeRow(row: Row | undefined): string {
  return JSON.stringify(row, (_, v: unknown) => (typeof v === 'bigint' ? `${v}n` : typeof v === 'number' && !Number.isFinite(v) ? String(v) : v));
}
