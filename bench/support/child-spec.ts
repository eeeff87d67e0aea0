// What the parent bench scripts (bench.ts, targets.ts) and a child process of bench.ts agree on:
// the paths a child can run, what it is given and what it reports.

export const PATHS = ['psql', 'copy-entities', 'copy-rows', 'insertMany', 'flush'] as const;
/** The stream paths, and the same generators walked with no copy: what a generator costs by itself. */
export const STREAM_PATHS = ['copy-stream', 'copy-rows-stream', 'generate-stream', 'generate-rows-stream'] as const;
export type PathName = (typeof PATHS)[number] | (typeof STREAM_PATHS)[number];

/** What a child process (`bench.js --child=JSON`) runs; bench/targets.ts spawns these too. */
export interface ChildSpec {
  path: PathName;
  entity: string;
  size: number;
  url: string;
  csv?: string;
  /** Where to write a CPU profile of the timed part. */
  profile?: string;
}

export interface ChildResult {
  rows: number;
  writeMs: number;
  buildMs: number;
  peakRssMb: number | null;
  rssAtStartMb: number | null;
  note?: string;
}
