// What copyPersist allocates per row, and where (issue 13: garbage collection under 10% of the
// copy window): V8's sampling heap profiler over the call alone, keeping the samples of objects
// already collected, so short-lived garbage counts too. Bytes per row do not depend on the
// machine's load, unlike a CPU profile's GC share. Book entities, from an array built before the
// call (as the `gc` target) or, with --stream, made lazily by an async generator (`stream-memory`).
//
//   npm run build:test && node build/bench/alloc-profile.js [--rows=200k] [--stream] [--top=25]
import { Session } from 'node:inspector/promises';
import type { EntityClass } from '@mikro-orm/core';
import type { CopyEntityManager } from '../src/index.js';
import { BOOK } from './support/data.js';
import { createBenchSchema, initBenchOrm } from './support/orm.js';
import { startPostgres } from './support/postgres.js';
import { category } from './profile-summary.js';
import { parseFlags, parseSize } from './support/runner.js';

interface HeapNode {
  callFrame: { functionName: string; url: string; lineNumber: number };
  selfSize: number;
  children: HeapNode[];
}

const flags = parseFlags(process.argv.slice(2), ['rows', 'stream', 'top']);
const rows = parseSize(flags.get('rows') ?? '200k');
const top = Number(flags.get('top') ?? 25);

const server = await startPostgres();
const orm = await initBenchOrm(server.url);
try {
  await createBenchSchema(orm);
  const em = orm.em.fork() as CopyEntityManager;
  const make = (i: number) => em.create(BOOK.cls as EntityClass<object>, BOOK.row(i) as never, { persist: false });
  async function* lazily() {
    for (let i = 0; i < rows; i++) yield make(i);
  }
  const source = flags.has('stream') ? lazily() : Array.from({ length: rows }, (_, i) => make(i));

  const session = new Session();
  session.connect();
  await session.post('HeapProfiler.enable');
  await session.post('HeapProfiler.startSampling', { samplingInterval: 16384, includeObjectsCollectedByMajorGC: true, includeObjectsCollectedByMinorGC: true });
  await em.copyPersist(source);
  const { profile } = (await session.post('HeapProfiler.stopSampling')) as unknown as { profile: { head: HeapNode } };
  session.disconnect();

  // a frame without a url (a builtin, a compiled row writer) counts for its nearest caller with one
  const bySite = new Map<string, { bytes: number; category: string }>();
  const walk = (node: HeapNode, owner: { site: string; category: string } | undefined) => {
    const { functionName, url, lineNumber } = node.callFrame;
    if (url) owner = { site: `${functionName || '(anonymous)'}  ${url.replace(/^.*(node_modules|build)\//, '')}:${lineNumber + 1}`, category: category(functionName, url) };
    if (node.selfSize && owner) {
      const entry = bySite.get(owner.site) ?? { bytes: 0, category: owner.category };
      entry.bytes += node.selfSize;
      bySite.set(owner.site, entry);
    }
    for (const child of node.children) walk(child, owner);
  };
  walk(profile.head, undefined);
  const byCategory = new Map<string, number>();
  let total = 0;
  for (const { bytes, category: c } of bySite.values()) {
    total += bytes;
    byCategory.set(c, (byCategory.get(c) ?? 0) + bytes);
  }
  const line = (bytes: number, label: string) => `${(bytes / rows).toFixed(0).padStart(6)} B/row ${((100 * bytes) / total).toFixed(1).padStart(5)}%  ${label}`;
  console.log(`Book ${rows} ${flags.has('stream') ? 'streamed from an async generator' : 'from an array'}: ${(total / rows).toFixed(0)} bytes allocated per row (sampled)\n`);
  for (const [c, bytes] of [...byCategory].sort((a, b) => b[1] - a[1])) if (bytes >= total / 200) console.log(line(bytes, c));
  console.log('');
  for (const [site, { bytes }] of [...bySite].sort((a, b) => b[1].bytes - a[1].bytes).slice(0, top)) console.log(line(bytes, site));
} finally {
  await orm.close(true);
  await server.stop();
}
