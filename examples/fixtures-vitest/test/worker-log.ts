// Not part of the recipe: records which worker ran a file, so .ci/fixtures-example.sh can check
// that the run really used several workers (each on its own database).
import { appendFileSync } from 'node:fs';

export function logWorker(file: string, dbName: string): void {
  const log = process.env.FIXTURES_EXAMPLE_WORKER_LOG;
  if (log) appendFileSync(log, `${process.env.VITEST_POOL_ID} ${dbName} ${file}\n`);
}
