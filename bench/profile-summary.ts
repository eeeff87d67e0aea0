// Summarises a V8 .cpuprofile (node --cpu-prof, or the inspector profile `npm run bench -- --profile`
// writes): self time by category (this library's encoder, MikroORM, pg, GC, ...) and the top
// functions by self and by inclusive time.
//
//   node build/bench/profile-summary.js FILE.cpuprofile
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { repoRoot } from './support/postgres.js';

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  children?: number[];
}
interface Profile {
  nodes: ProfileNode[];
  samples: number[];
  timeDeltas: number[];
}

/** Where a function lives, in the terms the team optimises by. */
export function category(fn: string, url: string): string {
  if (fn === '(garbage collector)') return 'GC';
  if (fn === '(idle)') return 'idle (waiting for the socket/server)';
  if (fn === '(program)') return 'V8/native (program)';
  if (fn === '(root)') return 'root';
  const src = /build\/src\/(.+)$/.exec(url);
  if (src) {
    const file = src[1];
    if (file.startsWith('encoding/')) return `library: encoder (${file})`;
    return `library: ${file}`;
  }
  if (/build\/bench\//.test(url)) return 'bench script (entity/row generation)';
  if (url.includes('@mikro-orm/')) {
    const file = url.slice(url.indexOf('@mikro-orm/') + '@mikro-orm/'.length);
    if (file.includes('EntityHelper')) return 'MikroORM: entity property accessors (EntityHelper)';
    if (file.includes('EntityComparator')) return 'MikroORM: EntityComparator (prepareEntity/snapshot)';
    return `MikroORM: ${file}`;
  }
  if (/node_modules\/(pg|pg-protocol|pg-pool|pg-copy-streams|pg-types)\//.test(url)) return `pg: ${/node_modules\/([^/]+)\//.exec(url)![1]}`;
  if (url.startsWith('node:')) return `node: ${url.slice(5)}`;
  if (url.includes('node_modules/kysely')) return 'kysely';
  return url ? `other: ${url}` : `other: ${fn || '(anonymous)'}`;
}

export interface ProfileSummary {
  /** Microseconds sampled, the profiler's own stop left out. */
  totalUs: number;
  profilerUs: number;
  samples: number;
  /** Self time by category (`GC`, `idle (...)`, `library: ...`, ...), in microseconds. */
  byCategory: Map<string, number>;
  selfByFn: Map<string, number>;
  inclusiveByFn: Map<string, number>;
}

/** Self and inclusive time of a profile, by category and by function. */
export function summariseProfile(file: string, root = repoRoot()): ProfileSummary {
  const profile = JSON.parse(readFileSync(file, 'utf8')) as Profile;
  const byId = new Map(profile.nodes.map(n => [n.id, n]));
  const self = new Map<number, number>();
  for (let i = 0; i < profile.samples.length; i++) self.set(profile.samples[i], (self.get(profile.samples[i]) ?? 0) + (profile.timeDeltas[i] ?? 0));
  const parent = new Map<number, number>();
  for (const n of profile.nodes) for (const c of n.children ?? []) parent.set(c, n.id);
  const keyOf = (n: ProfileNode) => {
    const url = n.callFrame.url.replace(`file://${root}/`, '').replace(/^.*node_modules\//, '').replace(/^\.tmp\/[^/]+\//, 'build/');
    return `${n.callFrame.functionName || '(anonymous)'}  ${url}${url ? `:${n.callFrame.lineNumber + 1}` : ''}`;
  };

  // a frame without a url (a builtin, native code, a function MikroORM compiled with new Function)
  // counts for the nearest caller that has one
  const categoryOf = (n: ProfileNode): string => {
    const { functionName: fn, url } = n.callFrame;
    if (url || fn.startsWith('(')) return category(fn, url);
    for (let cur = parent.get(n.id); cur !== undefined; cur = parent.get(cur)) {
      const c = byId.get(cur)!.callFrame;
      if (c.url) return `${category(c.functionName, c.url)} › native/compiled`;
    }
    return `other: ${fn || '(anonymous)'}`;
  };
  // the profiler's own stop (serialising the profile) lands in node:inspector: not part of the write
  let profilerUs = 0;
  for (const [id, us] of self) if (byId.get(id)!.callFrame.url === 'node:inspector') profilerUs += us;
  for (const id of [...self.keys()]) if (byId.get(id)!.callFrame.url === 'node:inspector') self.delete(id);
  const total = [...self.values()].reduce((a, b) => a + b, 0);

  const byCategory = new Map<string, number>();
  const selfByFn = new Map<string, number>();
  const inclusiveByFn = new Map<string, number>();
  for (const [id, us] of self) {
    const n = byId.get(id)!;
    const cat = categoryOf(n);
    byCategory.set(cat, (byCategory.get(cat) ?? 0) + us);
    selfByFn.set(keyOf(n), (selfByFn.get(keyOf(n)) ?? 0) + us);
    // inclusive: count the sample once for every distinct function on its stack
    const seen = new Set<string>();
    for (let cur: number | undefined = id; cur !== undefined; cur = parent.get(cur)) {
      const k = keyOf(byId.get(cur)!);
      if (seen.has(k)) continue;
      seen.add(k);
      inclusiveByFn.set(k, (inclusiveByFn.get(k) ?? 0) + us);
    }
  }
  return { totalUs: total, profilerUs, samples: profile.samples.length, byCategory, selfByFn, inclusiveByFn };
}

export function printProfileSummary(file: string, root = repoRoot()): void {
  const { totalUs: total, profilerUs, samples, byCategory, selfByFn, inclusiveByFn } = summariseProfile(file, root);
  const pct = (us: number) => `${((100 * us) / total).toFixed(1).padStart(5)}%`;
  const ms = (us: number) => `${(us / 1000).toFixed(0).padStart(6)} ms`;
  const top = (m: Map<string, number>, n: number) => [...m].sort((a, b) => b[1] - a[1]).slice(0, n);

  console.log(`profiled ${(total / 1e6).toFixed(2)} s, ${samples} samples (left out: ${(profilerUs / 1e6).toFixed(2)} s in the profiler's own stop)`);
  console.log('\nself time by category:');
  for (const [k, us] of top(byCategory, 30)) console.log(`  ${pct(us)} ${ms(us)}  ${k}`);
  console.log('\ntop functions by self time:');
  for (const [k, us] of top(selfByFn, 25)) console.log(`  ${pct(us)} ${ms(us)}  ${k}`);
  console.log('\ntop functions by inclusive time (library and MikroORM frames):');
  const interesting = new Map([...inclusiveByFn].filter(([k]) => /build\/src\/|@mikro-orm\//.test(k) || k.includes('mikro-orm/')));
  for (const [k, us] of top(interesting, 25)) console.log(`  ${pct(us)} ${ms(us)}  ${k}`);
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const files = process.argv.slice(2);
  if (!files.length) {
    console.error('usage: node build/bench/profile-summary.js FILE.cpuprofile ...');
    process.exit(2);
  }
  for (const f of files) printProfileSummary(f);
}
