// The benchmark chart: rows/s of every path at every size, with the ratio to psql \copy, as an SVG
// next to the JSON the benchmarks wrote. Vega-Lite lays it out and Vega renders it to SVG without a
// browser or canvas. Same files in, same SVG out (no timestamp of its own).
//   npm run bench:chart                        those of bench/results/{latest,wide,graph,upsert,stream}.json that exist
//   node build/bench/chart.js FILE.json ...    these files (each must exist), in this order
//   --out=FILE                                 write there instead of bench/results/chart.svg
// A file of another shape stops it with the field that differs, rather than drawing a wrong chart.
import { readFileSync, writeFileSync, existsSync } from 'node:fs';
import { basename, dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import * as vega from 'vega';
import { compile, type TopLevelSpec } from 'vega-lite';

/** One bar: a path at a size, as read from a results file. */
interface Bar {
  /** The panel's title; with panelNote, which panel the bar is in. */
  panel: string;
  panelNote: string;
  size: string;
  sizeOrder: number;
  path: string;
  rowsPerSec: number;
  label: string;
  /** Where the x scale of this bar's size must reach so the labels fit: its fastest path × ROOM. */
  room: number;
}

/** One results file, checked: what the chart needs from it and nothing else. */
interface ResultsFile {
  file: string;
  generatedAt: string;
  complete: boolean;
  machine: string;
  node: string;
  mikroOrm: string;
  postgres: string;
  reference: string | undefined;
  bars: Bar[];
}

/** Legend names and colours of the paths the benchmarks know; unknown paths keep their own label. */
const PATHS: { name: string; color: string }[] = [
  { name: 'psql \\copy', color: '#8c8c8c' },
  { name: 'copyPersist(entities)', color: '#1d4f91' },
  { name: 'copyPersist(Class, rows)', color: '#4f8fd6' },
  { name: 'copyPersist(rows), assignKeys: false', color: '#9cc2ee' },
  { name: 'copyPersist(async gen)', color: '#2a9d8f' },
  { name: 'insertMany / upsertMany ×1000', color: '#e08a1e' },
  { name: 'persist + flush', color: '#c0392b' },
];
const OTHER_COLORS = ['#8e6bbf', '#b5651d', '#5b8c3a', '#d45d9c'];

/** The x scale of a size ends at its fastest path × ROOM, leaving space for the text after the bar. */
const ROOM = 1.6;

const DEFAULT_FILES = ['latest.json', 'wide.json', 'graph.json', 'upsert.json', 'stream.json'];

class ShapeError extends Error {
  constructor(file: string, what: string) {
    super(`${file}: not a benchmark results file this chart knows (${what}). ` +
      'Expected { generatedAt, machine: { cpus, cpuModel, memoryMb }, postgres, results: [{ path, label, rows, rowsPerSec, size | authors }] }.');
  }
}

function field<T>(file: string, where: string, value: unknown, check: (v: unknown) => v is T, expected: string): T {
  if (!check(value)) throw new ShapeError(file, `${where} is ${JSON.stringify(value) ?? 'missing'}, expected ${expected}`);
  return value;
}
const isString = (v: unknown): v is string => typeof v === 'string';
const isNumber = (v: unknown): v is number => typeof v === 'number' && Number.isFinite(v);
const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

/** 10, 1k, 100k, 1M, 1.1M. */
function fmtCount(n: number): string {
  if (n >= 1e6) return `${+(n / 1e6).toFixed(1)}M`;
  if (n >= 1e3) return `${+(n / 1e3).toFixed(1)}k`;
  return String(n);
}

function fmtRate(n: number): string {
  return n >= 100 ? Math.round(n).toLocaleString('en-US') : n.toFixed(1);
}

/**
 * Which legend entry a result belongs to. `copy` means entities with cascade in the graph
 * benchmark but plain rows in the upsert one, so the file's kind decides.
 */
function pathName(path: string, label: string, kind: 'graph' | 'upsert' | 'plain'): string {
  switch (path) {
    case 'psql': return 'psql \\copy';
    case 'copy-entities': return 'copyPersist(entities)';
    case 'copy-rows': return 'copyPersist(Class, rows)';
    case 'copy': return kind === 'upsert' ? 'copyPersist(Class, rows)' : kind === 'graph' ? 'copyPersist(entities)' : label;
    case 'copy-nokeys': return 'copyPersist(rows), assignKeys: false';
    case 'copy-stream': return 'copyPersist(async gen)';
    case 'insertMany':
    case 'upsertMany': return 'insertMany / upsertMany ×1000';
    case 'flush': return 'persist + flush';
    default: return label;
  }
}

function capitalize(s: string): string {
  return s.charAt(0).toUpperCase() + s.slice(1);
}

function readResults(source: string): ResultsFile {
  const file = basename(source);
  let json: unknown;
  try {
    json = JSON.parse(readFileSync(source, 'utf8'));
  } catch (e) {
    throw new Error(`${source}: cannot read it as JSON (${(e as Error).message})`);
  }
  if (!isObject(json)) throw new ShapeError(source, 'the top level is not an object');
  const results = field(source, 'results', json.results, (v): v is unknown[] => Array.isArray(v), 'an array');
  const machine = field(source, 'machine', json.machine, isObject, 'an object');
  const cpus = field(source, 'machine.cpus', machine.cpus, isNumber, 'a number');
  const cpuModel = field(source, 'machine.cpuModel', machine.cpuModel, isString, 'a string');
  const memoryMb = field(source, 'machine.memoryMb', machine.memoryMb, isNumber, 'a number');
  const postgres = field(source, 'postgres', json.postgres, isString, 'a string');
  const generatedAt = field(source, 'generatedAt', json.generatedAt, isString, 'a date string');

  const rows = results.map((r, i) => field(source, `results[${i}]`, r, isObject, 'an object'));
  // The machine is shared: the load during the runs says how far the figures may be off.
  const loads = rows.map(r => r.loadAvg1m ?? (Array.isArray(r.loadAvg) ? r.loadAvg[0] : undefined)).filter(isNumber);
  const load = loads.length ? ` · load ${(loads.reduce((a, b) => a + b, 0) / loads.length).toFixed(1)}` : '';
  const kind = rows.some(r => r.authors !== undefined) ? 'graph' : rows.some(r => r.inserted !== undefined) ? 'upsert' : 'plain';
  const bars = rows.flatMap((r, i): Bar[] => {
    const at = `results[${i}]`;
    const path = field(source, `${at}.path`, r.path, isString, 'a string');
    const label = field(source, `${at}.label`, r.label, isString, 'a string');
    const count = field(source, `${at}.rows`, r.rows, isNumber, 'a number');
    // A failed path is recorded with rowsPerSec NaN, which JSON writes as null: no bar for it.
    if (r.rowsPerSec === null) return [];
    const rowsPerSec = field(source, `${at}.rowsPerSec`, r.rowsPerSec, isNumber, 'a number');
    const ratio = r.ratioToPsql === null || r.ratioToPsql === undefined
      ? null : field(source, `${at}.ratioToPsql`, r.ratioToPsql, isNumber, 'a number or null');
    let size: string;
    let sizeOrder: number;
    if (kind === 'graph') {
      sizeOrder = field(source, `${at}.authors`, r.authors, isNumber, 'a number');
      size = `${fmtCount(sizeOrder)} authors, ${fmtCount(count)} rows`;
    } else {
      sizeOrder = field(source, `${at}.size`, r.size, isNumber, 'a number');
      size = `${fmtCount(sizeOrder)} rows`;
    }
    let panel: string;
    let note = `${file}, ${generatedAt.slice(0, 10)}${load}`;
    if (kind === 'graph') {
      panel = 'Object graph: authors and their books';
      note += ' · copyPersist(authors, { cascade: true })';
    } else if (kind === 'upsert') {
      panel = `Upsert into ${isNumber(json.seedRows) ? fmtCount(json.seedRows) : '?'} rows`;
      note += ' · onConflictFields: [isbn] · psql: into an empty table';
    } else {
      const entity = capitalize(field(source, `${at}.entity`, r.entity, isString, 'a string'));
      if (results.every(x => isObject(x) && x.path === 'copy-stream')) {
        panel = `${entity}, streamed`;
        note += ' · no psql run';
      } else panel = entity;
    }
    const isPsql = path === 'psql';
    const ratioText = isPsql ? 'reference' : ratio === null ? '' : `${ratio.toFixed(2)}×`;
    return [{
      panel,
      panelNote: note,
      size,
      sizeOrder,
      path: pathName(path, label, kind),
      rowsPerSec,
      label: ratioText ? `${fmtRate(rowsPerSec)} · ${ratioText}` : fmtRate(rowsPerSec),
      room: 0,
    }];
  });
  for (const b of bars) b.room = ROOM * Math.max(...bars.filter(o => o.panel === b.panel && o.panelNote === b.panelNote && o.size === b.size).map(o => o.rowsPerSec));
  if (bars.length === 0) throw new ShapeError(source, 'no result with rows/s');
  return {
    file,
    generatedAt,
    complete: json.complete !== false,
    machine: `${cpus}-core ${cpuModel}, ${Math.round(memoryMb / 1024)} GB`,
    node: isString(json.node) ? json.node : '?',
    mikroOrm: isString(json.mikroOrm) ? json.mikroOrm : '?',
    postgres: (postgres.match(/^PostgreSQL [\d.]+/)?.[0] ?? postgres) +
      (isString(json.postgresSource) && json.postgresSource.startsWith('embedded') ? ' (embedded, fsync off)' : ''),
    reference: isString(json.reference) ? json.reference.replace(/\(psql \(PostgreSQL\) ([\d.]+).*\)$/, '(psql $1)') : undefined,
    bars,
  };
}

/** "a" when every file says "a", else "a / b" in order of first appearance. */
function distinct(values: (string | undefined)[]): string {
  return [...new Set(values.filter((v): v is string => v !== undefined))].join(' / ');
}

function buildSpec(files: ResultsFile[]): TopLevelSpec {
  const bars = files.flatMap(f => f.bars);
  const known = PATHS.filter(p => bars.some(b => b.path === p.name));
  const others = [...new Set(bars.map(b => b.path))].filter(p => !PATHS.some(k => k.name === p));
  const domain = [...known.map(p => p.name), ...others];
  const range = [...known.map(p => p.color), ...others.map((_, i) => OTHER_COLORS[i % OTHER_COLORS.length]!)];
  const dates = files.map(f => f.generatedAt.slice(0, 10)).sort();
  const incomplete = files.filter(f => !f.complete).map(f => f.file);
  const subtitle = [
    `${distinct(files.map(f => f.machine))} · Node ${distinct(files.map(f => f.node))} · MikroORM ${distinct(files.map(f => f.mikroOrm))}`,
    `${distinct(files.map(f => f.postgres))} · reference: ${distinct(files.map(f => f.reference)) || 'psql \\copy'}`,
    `runs of ${dates[0] === dates.at(-1) ? dates[0] : `${dates[0]} to ${dates.at(-1)}`}` +
      (incomplete.length ? ` · INCOMPLETE: ${incomplete.join(', ')}` : '') +
      ' · bars compare paths within one size; labels: rows/s · × psql \\copy',
  ];
  // Two columns, each panel going to the shorter one, so the chart is about as wide as it is tall.
  const columns: string[][] = [[], []];
  const heights = [0, 0];
  const panelOf = (b: Bar) => `${b.panel}\n${b.panelNote}`;
  for (const panel of new Set(bars.map(panelOf))) {
    const i = heights[0]! <= heights[1]! ? 0 : 1;
    columns[i]!.push(panel);
    heights[i]! += 2 + bars.filter(b => panelOf(b) === panel).length;
  }
  return {
    $schema: 'https://vega.github.io/schema/vega-lite/v6.json',
    title: { text: 'mikro-orm-pg-copy: rows written per second (longer is faster)', subtitle, anchor: 'start', fontSize: 16, subtitleFontSize: 11, subtitlePadding: 6, offset: 14 },
    background: 'white',
    padding: 12,
    config: {
      font: 'DejaVu Sans, Helvetica, Arial, sans-serif',
      view: { stroke: null },
      axis: { labelFontSize: 11, titleFontSize: 11 },
      header: { labelFontSize: 11, titleFontSize: 13 },
      concat: { spacing: 28 },
    },
    hconcat: columns.filter(column => column.length).map(column => ({ vconcat: column.map(panel => ({
      title: { text: panel.split('\n')[0]!, subtitle: panel.split('\n')[1]!, anchor: 'start', fontSize: 14, subtitleFontSize: 10, subtitleColor: '#555', offset: 8 },
      data: { values: bars.filter(b => panelOf(b) === panel) },
      facet: {
        row: {
          field: 'size', type: 'ordinal', sort: { field: 'sizeOrder', op: 'min' }, title: null,
          header: { labelAngle: 0, labelAlign: 'left', labelAnchor: 'start', labelOrient: 'top', labelFontWeight: 'bold', labelPadding: 4 },
        },
      },
      spacing: 8,
      resolve: { scale: { x: 'independent', y: 'independent' } },
      spec: {
        width: 260,
        height: { step: 17 },
        layer: [
          {
            mark: { type: 'bar', height: { band: 0.8 } },
            encoding: {
              y: { field: 'path', type: 'nominal', sort: domain, title: null, axis: { labelLimit: 320, ticks: false, domain: false, minExtent: 230 } },
              // Each size has its own scale (10 rows and 1M rows differ by 1000×); the end is padded
              // so the label after the longest bar stays inside the plot.
              x: { field: 'rowsPerSec', type: 'quantitative', axis: null, scale: { nice: false } },
              color: { field: 'path', type: 'nominal', scale: { domain, range }, legend: null },
            },
          },
          {
            mark: { type: 'text', align: 'left', baseline: 'middle', dx: 4, fontSize: 11 },
            encoding: {
              y: { field: 'path', type: 'nominal', sort: domain },
              x: { field: 'rowsPerSec', type: 'quantitative' },
              text: { field: 'label' },
            },
          },
          {
            // Invisible: stretches each size's scale past its fastest path, room for the labels.
            mark: { type: 'point', opacity: 0 },
            encoding: { y: { field: 'path', type: 'nominal', sort: domain }, x: { field: 'room', type: 'quantitative' } },
          },
        ],
      },
    })) })),
  };
}

/** The text of a mark as Vega's text metrics see it. */
interface TextItem {
  text?: unknown;
  fontSize?: number;
  fontWeight?: string | number;
}

/**
 * Without a canvas Vega estimates every character as 0.8 em wide, which lays the chart out about a
 * third wider than its text and truncates labels that fit. Vega reads text widths through its
 * exported textMetrics.width (vl-convert replaces it the same way, vega/vega#3792): this one uses
 * per-character widths of DejaVu Sans, the widest of the fonts the SVG names, so text never
 * overflows where Helvetica or Arial are used instead.
 */
function useFontWidths(): void {
  const metrics = (vega as unknown as { textMetrics?: { width: (item: TextItem, text?: unknown) => number } }).textMetrics;
  if (!metrics) throw new Error('vega no longer exports textMetrics; see useFontWidths() in bench/chart.ts');
  metrics.width = (item, text) => {
    const value = String(text ?? item.text ?? '');
    const em = [...value].reduce((sum, c) => sum + charEm(c), 0);
    const bold = item.fontWeight === 'bold' || Number(item.fontWeight) >= 600;
    return Math.ceil(em * (item.fontSize ?? 11) * (bold ? 1.1 : 1));
  };
}

/** Advance widths in em of DejaVu Sans, by class of character. */
function charEm(c: string): number {
  if (/[ilj.,:;'|!]/.test(c)) return 0.3;
  if (/[ ()[\]{}ftrI\\/-]/.test(c)) return 0.4;
  if (/[mwMW×]/.test(c)) return 0.9;
  if (/[A-Z]/.test(c)) return 0.72;
  return 0.62;
}

async function main(): Promise<void> {
  const args = process.argv.slice(2);
  const resultsDir = join(dirname(fileURLToPath(import.meta.url)), '..', '..', 'bench', 'results');
  const out = args.find(a => a.startsWith('--out='))?.slice('--out='.length) || join(resultsDir, 'chart.svg');
  const named = args.filter(a => !a.startsWith('--'));
  const paths = named.length ? named : DEFAULT_FILES.map(f => join(resultsDir, f)).filter(p => existsSync(p));
  if (paths.length === 0) throw new Error(`no results files: none of ${DEFAULT_FILES.join(', ')} in ${resultsDir}`);
  const files = paths.map(readResults);
  useFontWidths();
  // Vega-Lite warns that the independent scales of a facet come from different sources; here every
  // layer reads the same rows, which is the case it then assumes, so that warning alone is dropped.
  const log = vega.logger(vega.Warn, undefined, (method, _level, messages) => {
    if (!String(messages[0]).startsWith('Detected faceted independent scales')) console[method](...messages);
  });
  const view = new vega.View(vega.parse(compile(buildSpec(files), { logger: log }).spec), { renderer: 'none', logger: log });
  const svg = await view.toSVG();
  view.finalize();
  writeFileSync(out, svg.endsWith('\n') ? svg : `${svg}\n`);
  const shown = relative(process.cwd(), out);
  console.log(`${shown.startsWith('..') ? out : shown}: ${files.reduce((n, f) => n + f.bars.length, 0)} bars from ${files.map(f => f.file).join(', ')}`);
}

main().catch((e: unknown) => {
  console.error(`bench:chart: ${e instanceof Error ? e.message : String(e)}`);
  process.exitCode = 1;
});
