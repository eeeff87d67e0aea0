// A chunk of input, encoded and grouped by entity class and column set. Each group (a segment)
// goes to the connection as one write; segments are ordered so referenced entities come first.
import type { CsvRowEncoder, RowShape } from '../encoding/csv-row.js';

export interface Segment {
  encoder: CsvRowEncoder;
  shape: RowShape;
  /** CSV lines. */
  text: string;
  rows: number;
  /** Input positions of the lines, as runs: [firstPosition, length, ...]. */
  positions: number[];
  /** Order of first appearance in the chunk, to keep input order among equal ranks. */
  seen: number;
}

/** Collects the encoded rows of one chunk into segments. */
export class SegmentBuilder {
  #segments = new Map<CsvRowEncoder, Map<RowShape, Segment>>();
  #count = 0;

  add(encoder: CsvRowEncoder, shape: RowShape, line: string, position: number): void {
    let byShape = this.#segments.get(encoder);
    if (!byShape) this.#segments.set(encoder, (byShape = new Map()));
    let segment = byShape.get(shape);
    if (!segment) byShape.set(shape, (segment = { encoder, shape, text: '', rows: 0, positions: [], seen: this.#count++ }));
    segment.text += line;
    segment.rows++;
    const runs = segment.positions;
    const last = runs.length - 2;
    if (last >= 0 && runs[last] + runs[last + 1] === position) runs[last + 1]++;
    else runs.push(position, 1);
  }

  /**
   * The segments in write order (dependency rank, then first appearance), and a fresh builder
   * state. `rankOf` replaces the rank the plans derive from metadata alone.
   */
  take(rankOf: (plan: Segment['encoder']['plan']) => number = plan => plan.rank): Segment[] {
    const segments = [...this.#segments.values()].flatMap(byShape => [...byShape.values()]);
    this.#segments = new Map();
    this.#count = 0;
    return segments.sort((a, b) => rankOf(a.encoder.plan) - rankOf(b.encoder.plan) || a.seen - b.seen);
  }
}
