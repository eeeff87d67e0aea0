// The input as the engine's loop takes it: batches (what is ordered together — a whole array, or a
// chunk of a stream), then chunks of a batch in write order (what hooks, keys and one write to the
// connection handle together), each row knowing its input position, which errors name.
import type { AnyEntity } from '@mikro-orm/core';
import type { SqlEntityManager } from '@mikro-orm/postgresql';
import type { CsvRowEncoder } from '../encoding/csv-row.js';
import { readChunks, type CopySource } from '../input/read-chunks.js';
import type { EntityPlan } from '../plan/entity-plan.js';
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

/** One row to write, with its class's encoder and the input position errors name. */
export interface Entry {
  entity: AnyEntity;
  encoder: CsvRowEncoder;
  plan: EntityPlan;
  position: number;
}

/** Rows whose hooks and keys run together and whose encoded bytes go to the connection together. */
export interface Chunk {
  entries: Entry[];
  /** Input rows left including this chunk, when known (an array written as given): caps key reservations. */
  remaining: number | undefined;
}

/**
 * Arrays are in memory, so their rows are ordered across the whole input, in any order flush
 * accepts; a stream is ordered a chunk at a time, so a row must not come in a later chunk than the
 * rows it references. Inputs whose rows cannot depend on each other (one class without
 * self-references or collections, no cascade) are streamed a chunk at a time either way.
 */
export async function* batchesOf(
  em: SqlEntityManager,
  source: CopySource<object>,
  reader: ItemReader,
  chunkSize: number,
  cascade: boolean,
): AsyncGenerator<Batch> {
  // rows that cannot depend on each other are written as they come, without ordering
  const isolated = (items: readonly object[]) => !cascade && (reader.rowMeta ? isIsolatedClass(reader.rowMeta) : needsNoOrdering(em, items as AnyEntity[]));
  if (Array.isArray(source) && !isolated(source)) {
    yield readBatch(reader, source, 0, true, cascade);
    return;
  }
  let first = 0;
  for await (const chunk of readChunks(source, chunkSize)) {
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
  let entities = items.map((item, i) => reader.toEntity(item, first + i));
  let links = reader.takeLinks();
  if (reader.rowMeta && reader.entityCount === before) ordered = false;
  else if (cascade && entities.some(isRowView)) {
    // cascade walks entities: beside an entity, every row becomes one
    entities = items.map((item, i) => reader.toEntity(item, first + i, false));
    links = reader.takeLinks();
  }
  const linked = links.rows.length > 0;
  const all = linked ? [...entities, ...links.rows] : entities;
  return { entities: all, inputs: entities.length, first, ordered, positions: linked ? links.positions : undefined };
}

/**
 * The rows of a batch — in `order` when it was ordered, else as given — cut into chunks of `size`.
 * `inputLength`: the whole input's length, when it is an array.
 */
export function* chunksOf(batch: Batch, order: WriteOrder | undefined, reader: ItemReader, size: number, inputLength: number | undefined): Generator<Chunk> {
  const entities = order?.entities ?? batch.entities;
  // pivot rows made from plain rows' keys follow the input items and have their row's position
  const itemPosition = (i: number) => (i < batch.inputs ? batch.first + i : batch.positions?.get(batch.entities[i]) ?? batch.first);
  const positionOf = order ? (i: number) => itemPosition(order.origins[i]) : itemPosition;
  for (let start = 0; start < entities.length; start += size) {
    const entries = entities.slice(start, start + size).map((entity, i): Entry => {
      const position = positionOf(start + i);
      const encoder = reader.encoderOf(entity, position);
      return { entity, encoder, plan: encoder.plan, position };
    });
    // an ordered batch may hold rows cascade reached, so its row count says nothing of the input's
    yield { entries, remaining: inputLength !== undefined && !order ? inputLength - batch.first - start : undefined };
  }
}
