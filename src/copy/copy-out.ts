// A small `COPY (SELECT ...) TO STDOUT` of one column, read whole: for the few values the
// session needs from the server between two COPYs (such as reserved sequence values).
import { to as copyTo } from 'pg-copy-streams';
import type { Submittable } from '../adapters/mikro-orm.js';

/** Runs `sql` and returns its single text column per row; `\N` (NULL) becomes `null`. */
export async function copyOut(sql: string, submit: (query: Submittable) => void): Promise<(string | null)[]> {
  const stream = copyTo(sql);
  const chunks: Buffer[] = [];
  const done = new Promise<void>((resolve, reject) => {
    stream.on('data', (chunk: Buffer) => chunks.push(chunk));
    stream.once('end', resolve);
    stream.once('error', reject);
  });
  submit(stream as unknown as Submittable);
  await done;
  const text = Buffer.concat(chunks).toString('utf8');
  if (text === '') return [];
  return text
    .slice(0, -1)
    .split('\n')
    .map(line => (line === '\\N' ? null : line));
}
