// The input as the engine's loop takes it: batches (what is ordered together — a whole array, or a
// chunk of a stream), then chunks of a batch in write order (what hooks, keys and one write to the
// connection handle together), each row knowing its input position, which errors name.
import type { AnyEntity } from '@mikro-orm/core';
import type { SqlEntityManager } from '@mikro-orm/postgresql';
import type { RowEncoder } from '../encoding/row-encoder.js';
import { readChunks, type CopySource } from '../input/read-chunks.js';
import { isRowView } from '../plan/row-view.js';
import { isIsolatedClass, needsNoOrdering, type WriteOrder } from '../plan/write-order.js';
import type { ItemReader } from './item-reader.js';

/** A run of input to order and write together: a whole array, or a chunk of a stream. */
export interface Batch {
  entities: AnyEntity[];
  /** Input position of the first entity. */
  first: number;
  /** Whether rows of this batch may depend on each other (else they are written as given). */
  ordered: boolean;
  /** How many of `entities` are the input items (the rest: pivot rows made from their keys). */
  inputs: number;
  /** Input positions of the rows after the input items (pivot rows made from plain rows' keys). */
  positions?: Map<AnyEntity, number>;
}

/**
 * Rows whose hooks and keys run together and whose encoded bytes go to the connection together:
 * the `i`th row is `entities[i]`, written by `encoders[i]` (its class's; copy-format.ts may swap
 * it for its binary twin), and `positions[i]` is the input position errors name. Parallel arrays
 * rather than an object per row: a chunk's rows outlive young-generation collections.
 */
export interface Chunk {
  entities: AnyEntity[];
  encoders: RowEncoder[];
  positions: number[];
  /** Input rows left including this chunk, when known (an array written as given): caps key reservations. */
  remaining: number | undefined;
}

/**
 * Arrays are in memory, so their rows are ordered across the whole input, in any order flush
 * accepts; a stream is ordered a chunk at a time, so a row must not come in a later chunk than the
 * rows it references. Inputs whose rows cannot depend on each other (one class without
 * self-references or collections, no cascade) are streamed a chunk at a time either way.
 * `firstChunkSize`: a stream's first chunk, the later ones doubling up to `chunkSize`.
 */
export async function* batchesOf(
  em: SqlEntityManager,
  source: CopySource<object>,
  reader: ItemReader,
  chunkSize: number,
  cascade: boolean,
  firstChunkSize = chunkSize,
): AsyncGenerator<Batch> {
  // rows that cannot depend on each other are written as they come, without ordering
  const isolated = (items: readonly object[]) => !cascade && (reader.rowMeta ? isIsolatedClass(reader.rowMeta) : needsNoOrdering(em, items as AnyEntity[]));
  if (Array.isArray(source) && !isolated(source)) {
    yield readBatch(reader, source, 0, true, cascade);
    return;
  }
  let first = 0;
  for await (const chunk of readChunks(source, chunkSize, firstChunkSize)) {
    yield readBatch(reader, chunk, first, !isolated(chunk), cascade);
    first += chunk.length;
  }
}

/**
 * The entities (or row views) of `items`, then the pivot rows of the views' many-to-many keys.
 * Views reference no row of the call but their own (their keys reference rows written before), so
 * a batch of views alone needs no ordering: its pivot rows come after the rows they link.
 */
function readBatch(reader: ItemReader, items: readonly object[], first: number, ordered: boolean, cascade: boolean): Batch {
  const before = reader.entityCount;
  let entities = toEntities(reader, items, first, true);
  let links = reader.takeLinks();
  if (reader.rowMeta && reader.entityCount === before) ordered = false;
  else if (cascade && entities.some(isRowView)) {
    // cascade walks entities: beside an entity, every row becomes one
    entities = toEntities(reader, items, first, false);
    links = reader.takeLinks();
  }
  const linked = links.rows.length > 0;
  const all = linked ? [...entities, ...links.rows] : entities;
  return { entities: all, inputs: entities.length, first, ordered, positions: linked ? links.positions : undefined };
}

/** The entities `items` stand for; `items` itself when they are entities already (no copy per chunk). */
function toEntities(reader: ItemReader, items: readonly object[], first: number, views: boolean): AnyEntity[] {
  let entities: AnyEntity[] | undefined;
  for (let i = 0; i < items.length; i++) {
    const entity = reader.toEntity(items[i], first + i, views);
    if (entities) entities[i] = entity;
    else if (entity !== items[i]) {
      entities = items.slice(0, i) as AnyEntity[];
      entities[i] = entity;
    }
  }
  return entities ?? (items as AnyEntity[]);
}

/**
 * The rows of a batch — in `order` when it was ordered, else as given — cut into chunks of `size`.
 * `inputLength`: the whole input's length, when it is an array.
 */
export function* chunksOf(batch: Batch, order: WriteOrder | undefined, reader: ItemReader, size: number, inputLength: number | undefined): Generator<Chunk> {
  const entities = order?.entities ?? batch.entities;
  for (let start = 0; start < entities.length; start += size) {
    // a loop, not slice and map: no closure and no intermediate array per chunk
    const end = Math.min(start + size, entities.length);
    const encoders = new Array<RowEncoder>(end - start);
    const positions = new Array<number>(end - start);
    for (let i = start; i < end; i++) {
      const position = positionOf(batch, order, i);
      encoders[i - start] = reader.encoderOf(entities[i], position);
      positions[i - start] = position;
    }
    // an ordered batch may hold rows cascade reached, so its row count says nothing of the input's
    yield { entities: start === 0 && end === entities.length ? entities : entities.slice(start, end), encoders, positions, remaining: inputLength !== undefined && !order ? inputLength - batch.first - start : undefined };
  }
}

/** Input position of the `i`th row of `batch` in write order. */
function positionOf(batch: Batch, order: WriteOrder | undefined, i: number): number {
  const item = order ? order.origins[i] : i;
  // pivot rows made from plain rows' keys follow the input items and have their row's position
  return item < batch.inputs ? batch.first + item : (batch.positions?.get(batch.entities[item]) ?? batch.first);
}
