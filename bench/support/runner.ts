// Shared plumbing of bench/graph.ts and bench/upsert.ts: each measured path runs in a child
// process of its own (the script itself, spawned with --child=JSON), so its peak RSS is its own;
// psql runs as a process whose high-water mark is sampled from /proc; a CPU profile of the timed
// part can be taken through the inspector; results print as a markdown table.
import { spawn } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { loadavg } from 'node:os';

export const RESULT_TAG = 'BENCH_RESULT ';

export const mb = (bytes: number) => Math.round((bytes / 1024 / 1024) * 10) / 10;
export const fmtInt = (n: number) => (Number.isFinite(n) ? Math.round(n).toLocaleString('en-US') : '—');
export const fmtSize = (n: number) => (n >= 1e6 && n % 1e6 === 0 ? `${n / 1e6}M` : n >= 1e3 && n % 1e3 === 0 ? `${n / 1e3}k` : String(n));
/** The three load averages, rounded. */
export const load = () => loadavg().map(l => Math.round(l * 100) / 100);
export const peakRssMb = () => mb(process.resourceUsage().maxRSS * 1024);

/** Runs `script --child=JSON(spec)` and returns what the child printed after RESULT_TAG. */
export function runChild<R>(script: string, spec: object, nodeArgs: string[] = []): Promise<R> {
  return new Promise((resolve, reject) => {
    const proc = spawn(process.execPath, [...nodeArgs, script, `--child=${JSON.stringify(spec)}`], { stdio: ['ignore', 'pipe', 'inherit'] });
    let out = '';
    proc.stdout.setEncoding('utf8');
    proc.stdout.on('data', (d: string) => (out += d));
    proc.on('error', reject);
    proc.on('exit', code => {
      const line = out.split('\n').find(l => l.startsWith(RESULT_TAG));
      if (code !== 0 || !line) reject(new Error(`child ${JSON.stringify(spec)} exited with ${code}\n${out}`));
      else resolve(JSON.parse(line.slice(RESULT_TAG.length)) as R);
    });
  });
}

/** In a child: runs `fn` and prints its result for the parent. */
export function childMain<S, R>(fn: (spec: S) => Promise<R>): boolean {
  const arg = process.argv.find(a => a.startsWith('--child='));
  if (!arg) return false;
  fn(JSON.parse(arg.slice('--child='.length)) as S).then(
    r => process.stdout.write(`${RESULT_TAG}${JSON.stringify(r)}\n`),
    e => {
      console.error(e);
      process.exit(1);
    },
  );
  return true;
}

/**
 * Runs psql with the given `-c` commands (in one process, one after the other) and times the whole
 * process: start, connect, read the CSV files, COPY. Peak RSS is the psql process's VmHWM.
 */
export async function runPsql(url: string, commands: string[]): Promise<{ ms: number; peakRssMb: number | null }> {
  const args = ['-X', '-q', '-v', 'ON_ERROR_STOP=1', '-d', url, ...commands.flatMap(c => ['-c', c])];
  const t0 = performance.now();
  const proc = spawn('psql', args, { stdio: ['ignore', 'ignore', 'inherit'] });
  let peakKb = 0;
  const sample = () => {
    try {
      const m = /VmHWM:\s+(\d+) kB/.exec(readFileSync(`/proc/${proc.pid}/status`, 'utf8'));
      if (m) peakKb = Math.max(peakKb, Number(m[1]));
    } catch {
      // exited
    }
  };
  const timer = setInterval(sample, 10);
  const code = await new Promise<number | null>((resolve, reject) => {
    proc.on('error', reject);
    proc.on('exit', c => resolve(c));
  });
  const ms = performance.now() - t0;
  clearInterval(timer);
  if (code !== 0) throw new Error(`psql exited with ${code}`);
  return { ms, peakRssMb: peakKb ? Math.round(peakKb / 102.4) / 10 : null };
}

/** A CPU profile of what runs between start and stop (the inspector, in this process). */
export async function startProfiler(): Promise<{ stop(file: string): Promise<void> }> {
  const { Session } = await import('node:inspector/promises');
  const session = new Session();
  session.connect();
  await session.post('Profiler.enable');
  await session.post('Profiler.start');
  return {
    async stop(file: string) {
      const { profile } = await session.post('Profiler.stop');
      writeFileSync(file, JSON.stringify(profile));
      session.disconnect();
    },
  };
}

/** Parses `--flag[=value]` arguments, rejecting unknown ones. */
export function parseFlags(argv: string[], known: string[]): Map<string, string> {
  const flags = new Map<string, string>();
  for (const a of argv) {
    if (a.startsWith('--child=')) continue;
    const m = /^--([^=]+)(?:=(.*))?$/.exec(a);
    if (!m) throw new Error(`unknown argument ${a}`);
    if (!known.includes(m[1])) throw new Error(`unknown flag --${m[1]}; known: ${known.map(k => `--${k}`).join(', ')}`);
    flags.set(m[1], m[2] ?? '');
  }
  return flags;
}

/** `100000`, `100k`, `1.5m`. */
export function parseSize(s: string): number {
  const m = /^(\d+(?:\.\d+)?)([km]?)$/i.exec(s.trim());
  if (!m) throw new Error(`not a size: ${s}`);
  return Math.round(Number(m[1]) * { '': 1, k: 1e3, m: 1e6 }[m[2].toLowerCase() as '' | 'k' | 'm']);
}

/** A markdown table; columns listed in `right` are right-aligned. */
export function printTable(head: string[], body: string[][], right: Set<number>): void {
  const widths = head.map((h, i) => Math.max(h.length, ...body.map(row => row[i].length)));
  const line = (cells: string[]) => `| ${cells.map((c, i) => (right.has(i) ? c.padStart(widths[i]) : c.padEnd(widths[i]))).join(' | ')} |`;
  console.log(line(head));
  console.log(`|${widths.map((w, i) => (right.has(i) ? `${'-'.repeat(w + 1)}:` : '-'.repeat(w + 2))).join('|')}|`);
  for (const row of body) console.log(line(row));
}
