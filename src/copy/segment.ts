// A chunk of input, encoded and grouped by entity class and column set. Each group (a segment)
// goes to the connection as one write; segments are ordered so referenced entities come first.
import { ChunkWriter } from '../encoding/chunk-writer.js';
import type { CsvRowEncoder, RowShape } from '../encoding/csv-row.js';

export interface Segment {
  encoder: CsvRowEncoder;
  shape: RowShape;
  /** CSV lines, written by the encoder; handed over as bytes by `take()`. */
  writer: ChunkWriter;
  bytes?: Buffer;
  rows: number;
  /** Input positions of the lines, as runs: [firstPosition, length, ...]. */
  positions: number[];
  /** Order of first appearance in the chunk, to keep input order among equal ranks. */
  seen: number;
}

/** Collects the encoded rows of one chunk into segments. */
export class SegmentBuilder {
  #segments = new Map<CsvRowEncoder, Map<RowShape, Segment>>();
  /** Writers outlive chunks, so a buffer grown to a chunk's size stays that size. */
  #writers = new Map<CsvRowEncoder, Map<RowShape, ChunkWriter>>();
  #count = 0;

  /** The writer the row at `position` is to be encoded into (call once per row). */
  writerFor(encoder: CsvRowEncoder, shape: RowShape, position: number): ChunkWriter {
    let byShape = this.#segments.get(encoder);
    if (!byShape) this.#segments.set(encoder, (byShape = new Map()));
    let segment = byShape.get(shape);
    if (!segment) byShape.set(shape, (segment = { encoder, shape, writer: this.#writerOf(encoder, shape), rows: 0, positions: [], seen: this.#count++ }));
    segment.rows++;
    const runs = segment.positions;
    const last = runs.length - 2;
    if (last >= 0 && runs[last] + runs[last + 1] === position) runs[last + 1]++;
    else runs.push(position, 1);
    return segment.writer;
  }

  #writerOf(encoder: CsvRowEncoder, shape: RowShape): ChunkWriter {
    let byShape = this.#writers.get(encoder);
    if (!byShape) this.#writers.set(encoder, (byShape = new Map()));
    let writer = byShape.get(shape);
    if (!writer) byShape.set(shape, (writer = new ChunkWriter()));
    return writer;
  }

  /**
   * The segments in write order (dependency rank, then first appearance), and a fresh builder
   * state. `rankOf` replaces the rank the plans derive from metadata alone.
   */
  take(rankOf: (plan: Segment['encoder']['plan']) => number = plan => plan.rank): Segment[] {
    const segments = [...this.#segments.values()].flatMap(byShape => [...byShape.values()]);
    this.#segments = new Map();
    this.#count = 0;
    for (const segment of segments) segment.bytes = segment.writer.take();
    return segments.sort((a, b) => rankOf(a.encoder.plan) - rankOf(b.encoder.plan) || a.seen - b.seen);
  }
}
