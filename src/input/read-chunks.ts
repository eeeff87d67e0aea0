// The caller's input (array, Iterable or AsyncIterable) → arrays of at most `size` items, so that
// the rest of the pipeline works a chunk at a time and never reads further ahead than that.
import { notIterable, sourceFailed } from '../errors.js';

/** What `copyPersist` accepts as input. */
export type CopySource<T> = Iterable<T> | AsyncIterable<T>;

/**
 * `first`: the size of an iterable's first chunk, each later one twice the one before, up to `size`
 * (an array is cut into chunks of `size` throughout).
 */
export async function* readChunks<T>(source: CopySource<T>, size: number, first = size): AsyncGenerator<T[]> {
  if (Array.isArray(source)) {
    for (let i = 0; i < source.length; i += size) yield source.slice(i, i + size);
    return;
  }
  let position = 0;
  const failed = (e: unknown) => sourceFailed(e, position);

  if (isAsyncIterable(source)) {
    const iterator = source[Symbol.asyncIterator]();
    let chunk: T[] = [];
    let limit = Math.min(first, size);
    let finished = false;
    try {
      while (true) {
        let step: IteratorResult<T>;
        try {
          step = await iterator.next();
        } catch (e) {
          throw failed(e);
        }
        if (step.done) {
          finished = true;
          break;
        }
        chunk.push(step.value);
        position++;
        if (chunk.length >= limit) {
          yield chunk;
          chunk = [];
          limit = Math.min(size, limit * 2);
        }
      }
      if (chunk.length) yield chunk;
    } finally {
      // tell a generator source we stopped early (error or abort), so it can clean up
      if (!finished) await iterator.return?.()?.catch(() => undefined);
    }
    return;
  }

  if (isIterable(source)) {
    const iterator = source[Symbol.iterator]();
    let limit = Math.min(first, size);
    let finished = false;
    try {
      while (!finished) {
        const chunk: T[] = [];
        try {
          while (chunk.length < limit) {
            const step = iterator.next();
            if (step.done) {
              finished = true;
              break;
            }
            chunk.push(step.value);
            position++;
          }
        } catch (e) {
          throw failed(e);
        }
        if (chunk.length) yield chunk;
        limit = Math.min(size, limit * 2);
      }
    } finally {
      if (!finished) iterator.return?.();
    }
    return;
  }

  throw notIterable();
}

function isAsyncIterable<T>(value: unknown): value is AsyncIterable<T> {
  return value != null && typeof (value as AsyncIterable<T>)[Symbol.asyncIterator] === 'function';
}

function isIterable<T>(value: unknown): value is Iterable<T> {
  return value != null && typeof value !== 'string' && typeof (value as Iterable<T>)[Symbol.iterator] === 'function';
}
