// Run first by `npm start` and `npm run bench`: stops before compiling when the embedded
// PostgreSQL could not start (see checkReachableByServerUser), with what to do instead.
import { checkReachableByServerUser } from './postgres.mjs';

try {
  await checkReachableByServerUser();
} catch (e) {
  console.error(e instanceof Error ? e.message : e);
  process.exit(1);
}
