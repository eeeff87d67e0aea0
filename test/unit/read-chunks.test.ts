// The input's chunking (src/input/read-chunks.ts) without a database: arrays, sync and async
// iterables cut at exact chunk boundaries, never read further ahead than one chunk, a source that
// throws reported with the position it reached, an abandoned source told to clean up.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { CopyPersistError } from '../../src/index.js';
import { readChunks, type CopySource } from '../../src/input/read-chunks.js';

async function chunks<T>(source: CopySource<T>, size: number): Promise<T[][]> {
  const out: T[][] = [];
  for await (const chunk of readChunks(source, size)) out.push(chunk);
  return out;
}

const range = (n: number) => Array.from({ length: n }, (_, i) => i);

function* syncItems(n: number): Generator<number> {
  for (let i = 0; i < n; i++) yield i;
}

async function* asyncItems(n: number): AsyncGenerator<number> {
  for (let i = 0; i < n; i++) yield i;
}

/** Each kind of input holding 0 ... n-1. */
const KINDS: [string, (n: number) => CopySource<number>][] = [
  ['an array', range],
  ['a sync iterable', syncItems],
  ['an async iterable', asyncItems],
  ['a Set (an Iterable that is not a generator)', n => new Set(range(n))],
];

describe('readChunks', () => {
  for (const [kind, make] of KINDS) {
    it(`cuts ${kind} into chunks of exactly the size, the last one shorter, none empty`, async () => {
      assert.deepEqual(await chunks(make(5), 2), [[0, 1], [2, 3], [4]]);
      assert.deepEqual(await chunks(make(4), 2), [[0, 1], [2, 3]]);
      assert.deepEqual(await chunks(make(3), 3), [[0, 1, 2]]);
      assert.deepEqual(await chunks(make(3), 10), [[0, 1, 2]]);
      assert.deepEqual(await chunks(make(3), 1), [[0], [1], [2]]);
      assert.deepEqual(await chunks(make(0), 2), []);
    });
  }

  for (const [kind, make] of KINDS.slice(1)) {
    it(`starts ${kind} at the first chunk's size, doubling up to the size`, async () => {
      const sizes = async (n: number, size: number, first: number) => {
        const out: number[] = [];
        let next = 0;
        for await (const chunk of readChunks(make(n), size, first)) {
          assert.deepEqual(chunk, range(chunk.length).map(i => i + next));
          next += chunk.length;
          out.push(chunk.length);
        }
        assert.equal(next, n);
        return out;
      };
      assert.deepEqual(await sizes(40, 10, 2), [2, 4, 8, 10, 10, 6]);
      assert.deepEqual(await sizes(5, 10, 2), [2, 3]);
      assert.deepEqual(await sizes(6, 10, 20), [6]);
    });
  }

  it('cuts an array into chunks of the size from the start', async () => {
    const out: number[][] = [];
    for await (const chunk of readChunks(range(5), 2, 1)) out.push(chunk);
    assert.deepEqual(out, [[0, 1], [2, 3], [4]]);
  });

  it('hands out slices of an array, leaving the array as it was', async () => {
    const items = [{ a: 1 }, { a: 2 }, { a: 3 }];
    const out = await chunks(items, 2);
    assert.notEqual(out[0], items);
    assert.equal(out[0][0], items[0]);
    assert.equal(out[1][0], items[2]);
    assert.equal(items.length, 3);
  });

  for (const kind of ['sync', 'async'] as const) {
    it(`reads a ${kind} iterable at most one chunk ahead of the consumer`, async () => {
      let pulled = 0;
      function* counted(): Generator<number> {
        for (let i = 0; i < 100; i++) {
          pulled++;
          yield i;
        }
      }
      const source: CopySource<number> = kind === 'sync' ? counted() : (async function* () { yield* counted(); })();
      const seen: number[] = [];
      for await (const _chunk of readChunks(source, 10)) {
        seen.push(pulled);
        if (seen.length === 3) break;
      }
      // the chunk is handed over as soon as it is full: nothing of the next one was read yet
      assert.deepEqual(seen, [10, 20, 30]);
    });

    it(`reports a ${kind} source that throws as SOURCE_FAILED, at the position it reached, with the thrown error as cause`, async () => {
      const thrown = new Error('disk on fire');
      function* failing(): Generator<number> {
        yield 0;
        yield 1;
        yield 2;
        throw thrown;
      }
      const source: CopySource<number> = kind === 'sync' ? failing() : (async function* () { yield* failing(); })();
      const got: number[][] = [];
      await assert.rejects(
        (async () => {
          for await (const chunk of readChunks(source, 2)) got.push(chunk);
        })(),
        (e: unknown) => {
          assert.ok(e instanceof CopyPersistError);
          assert.equal(e.code, 'SOURCE_FAILED');
          assert.equal(e.position, 3);
          assert.equal(e.cause, thrown);
          assert.match(e.message, /^the input threw: disk on fire/);
          return true;
        },
      );
      // the full chunk before the failure was handed out; the partial one was not
      assert.deepEqual(got, [[0, 1]]);
    });

    it(`tells a ${kind} source that the consumer stopped early (its finally block runs)`, async () => {
      let cleanedUp = false;
      function* guarded(): Generator<number> {
        try {
          for (let i = 0; i < 100; i++) yield i;
        } finally {
          cleanedUp = true;
        }
      }
      const source: CopySource<number> = kind === 'sync' ? guarded() : (async function* () { yield* guarded(); })();
      for await (const chunk of readChunks(source, 5)) {
        assert.deepEqual(chunk, [0, 1, 2, 3, 4]);
        break;
      }
      assert.equal(cleanedUp, true);
    });
  }

  it('leaves a source that ran to its end alone (no second return call)', async () => {
    let returns = 0;
    const iterable: Iterable<number> = {
      [Symbol.iterator]() {
        let i = 0;
        return {
          next: () => (i < 3 ? { value: i++, done: false } : { value: undefined, done: true }),
          return: () => {
            returns++;
            return { value: undefined, done: true };
          },
        };
      },
    };
    assert.deepEqual(await chunks(iterable, 2), [[0, 1], [2]]);
    assert.equal(returns, 0);
  });

  for (const [label, value] of [['a number', 42], ['a string', 'abc'], ['null', null], ['a plain object', { a: 1 }]] as const) {
    it(`refuses ${label} as input with INVALID_INPUT`, async () => {
      await assert.rejects(chunks(value as unknown as CopySource<unknown>, 2), (e: unknown) => {
        assert.ok(e instanceof CopyPersistError);
        assert.equal(e.code, 'INVALID_INPUT');
        return true;
      });
    });
  }
});
