// A chunk of input, encoded and grouped by entity class and column set. Each group (a segment)
// goes to the connection as one write, in the order the segments were opened.
//
// Rows of one segment go into one COPY statement, and PostgreSQL checks a COPY's foreign keys at
// the end of the statement, so rows of a segment may reference each other in any order. A row
// that references a row of another segment must come in a later one: `writerFor` is told the
// earliest segment a row may join, and opens a new segment when the latest one of the row's kind
// is too early. Rows of a table written in binary go to segments of their own (`binary`); a row
// that turns out to have no exact binary form is taken back (`unplace`) and written as CSV.
import { ChunkWriter } from '../encoding/chunk-writer.js';
import type { AnyEntity } from '@mikro-orm/core';
import type { RowEncoder, RowShape, RowSink } from '../encoding/row-encoder.js';

export interface Segment {
  encoder: RowEncoder;
  shape: RowShape;
  /** Binary tuples rather than CSV lines. */
  binary: boolean;
  /** CSV lines or binary tuples, written by the encoder; handed over as bytes by `take()`. */
  writer: ChunkWriter;
  bytes?: Buffer;
  rows: number;
  /** Input positions of the lines, as runs: [firstPosition, length, ...]. */
  positions: number[];
}

/** Collects the encoded rows of one chunk into segments. */
export class SegmentBuilder implements RowSink {
  #segments: Segment[] = [];
  /** The latest segment of each encoder and shape in this chunk, CSV [0] and binary [1]. */
  #latest = [new Map<RowEncoder, Map<RowShape, number>>(), new Map<RowEncoder, Map<RowShape, number>>()];
  /** Writers outlive chunks, so a buffer grown to a chunk's size stays that size. */
  #spare = new Map<RowEncoder, Map<RowShape, ChunkWriter[]>>();
  // the last placement, for `unplace`, in fields rather than an object per row: its segment's
  // index (-1: none), whether its position run was opened for it, whether `#placed` holds it
  #lastIndex = -1;
  #lastNewRun = false;
  #lastPlaced = false;

  /** Same-table rows each entity references (write-order.ts), for the batch being written. */
  #refs: Map<AnyEntity, AnyEntity[]> | undefined;
  /** The segment index of each entity of this chunk that other rows reference. */
  #placed = new Map<AnyEntity, number>();
  /** The entity whose row the next `writerFor` call is for. */
  row: AnyEntity | undefined;

  /** Follow these references when placing rows (undefined: rows reference no row of the chunk). */
  follow(refs: Map<AnyEntity, AnyEntity[]> | undefined): void {
    this.#refs = refs?.size ? refs : undefined;
  }

  /**
   * The writer the row of `row` at `position` is to be encoded into (the encoder calls it once per
   * row, once it knows the row's shape): the latest segment of its encoder and shape, unless that
   * comes before a segment holding a row it references.
   */
  writerFor(encoder: RowEncoder, shape: RowShape, position: number, binary = false): ChunkWriter {
    if (!this.#refs) return this.#segments[this.place(encoder, shape, position, 0, binary)].writer;
    let earliest = 0;
    for (const target of this.#refs.get(this.row!) ?? []) {
      const index = this.#placed.get(target);
      if (index === undefined) continue;
      const segment = this.#segments[index];
      // the same COPY statement may hold both (foreign keys are checked at its end); another must come later
      earliest = Math.max(earliest, segment.encoder === encoder && segment.shape === shape && segment.binary === binary ? index : index + 1);
    }
    const index = this.place(encoder, shape, position, earliest, binary);
    this.#placed.set(this.row!, index);
    this.#lastPlaced = true;
    return this.#segments[index].writer;
  }

  /** Takes back the row placed last (its bytes are the encoder's to drop). */
  unplace(): void {
    const segment = this.#segments[this.#lastIndex];
    this.#lastIndex = -1;
    segment.rows--;
    const runs = segment.positions;
    if (this.#lastNewRun) runs.length -= 2;
    else runs[runs.length - 1]--;
    if (this.#lastPlaced) this.#placed.delete(this.row!);
  }

  /**
   * Puts a row into the latest segment of its encoder and shape at or after `earliest`, opening a
   * new segment when there is none. Returns the segment's index.
   */
  place(encoder: RowEncoder, shape: RowShape, position: number, earliest: number, binary = false): number {
    const latest = this.#latest[binary ? 1 : 0];
    let byShape = latest.get(encoder);
    if (!byShape) latest.set(encoder, (byShape = new Map()));
    let index = byShape.get(shape);
    if (index === undefined || index < earliest) {
      index = this.#segments.length;
      this.#segments.push({ encoder, shape, binary, writer: this.#writerOf(encoder, shape, binary), rows: 0, positions: [] });
      byShape.set(shape, index);
    }
    const segment = this.#segments[index];
    segment.rows++;
    const runs = segment.positions;
    const last = runs.length - 2;
    const newRun = !(last >= 0 && runs[last] + runs[last + 1] === position);
    if (newRun) runs.push(position, 1);
    else runs[last + 1]++;
    this.#lastIndex = index;
    this.#lastNewRun = newRun;
    this.#lastPlaced = false;
    return index;
  }

  #writerOf(encoder: RowEncoder, shape: RowShape, binary: boolean): ChunkWriter {
    let byShape = this.#spare.get(encoder);
    if (!byShape) this.#spare.set(encoder, (byShape = new Map()));
    // a binary segment's writers are kept apart from the CSV ones: their sizes differ
    const key = binary ? `b${shape}` : shape;
    let spare = byShape.get(key);
    if (!spare) byShape.set(key, (spare = []));
    const writer = spare.pop() ?? new ChunkWriter();
    return writer;
  }

  /** The segments in write order, and a fresh builder state. */
  take(): Segment[] {
    // a segment whose every row went as CSV after all holds nothing to send
    const segments = this.#segments.filter(s => s.rows > 0);
    for (const segment of this.#segments) {
      segment.bytes = segment.writer.take();
      this.#spare.get(segment.encoder)!.get(segment.binary ? `b${segment.shape}` : segment.shape)!.push(segment.writer);
    }
    this.#segments = [];
    this.#latest = [new Map(), new Map()];
    this.#placed = new Map();
    this.#lastIndex = -1;
    return segments;
  }
}
