// What the CLI shows while loading: a bar (cli-progress) over the bytes of the file the COPY has
// consumed, on a terminal; a line every few seconds otherwise; nothing with --no-progress.
import cliProgress from 'cli-progress';
import type { LoadFileProgress } from '../loaders/load-file.js';

export interface ProgressView {
  update(progress: LoadFileProgress): void;
  /** A message above the bar (a rejected row). */
  log(message: string): void;
  stop(): void;
}

/** The view for `out`: a bar drawn by cli-progress on a terminal, a line every `plainEveryMs` otherwise. */
export function progressView(out: NodeJS.WriteStream, enabled: boolean, plainEveryMs = 5000): ProgressView {
  if (!enabled) return { update() {}, log: message => void out.write(`${message}\n`), stop() {} };
  if (!out.isTTY) return plainView(out, plainEveryMs);
  const started = performance.now();
  const create = () => new cliProgress.MultiBar(
    {
      stream: out,
      format: (options, params, payload: { rows: number; rejected: number }) => {
        const seconds = (performance.now() - started) / 1000;
        const rate = seconds > 0 ? Math.round(payload.rows / seconds) : 0;
        const bar = options.barCompleteString!.slice(0, Math.round(params.progress * options.barsize!)) + options.barIncompleteString!.slice(0, options.barsize! - Math.round(params.progress * options.barsize!));
        const eta = params.progress > 0 && params.progress < 1 ? `, ETA ${formatSeconds(params.eta)}` : '';
        return `[${bar}] ${String(Math.floor(params.progress * 100)).padStart(3)}% ${payload.rows} rows, ${rate} rows/s${payload.rejected ? `, ${payload.rejected} rejected` : ''}${eta}`;
      },
      // the ETA of the last 100 updates: steady, yet it follows a change of pace
      etaBuffer: 100,
      fps: 5,
      hideCursor: false,
      barsize: 30,
    },
    cliProgress.Presets.legacy,
  );
  // created on the first update, so that an error before it prints no empty bar
  let multi: cliProgress.MultiBar | undefined;
  let bar: cliProgress.SingleBar | undefined;
  return {
    update(p) {
      const payload = { rows: p.rows, rejected: p.rejected };
      if (!bar) bar = (multi = create()).create(p.totalBytes ?? 0, p.bytes, payload);
      else bar.update(p.bytes, payload);
    },
    log(message) {
      if (multi) multi.log(`${message}\n`);
      else out.write(`${message}\n`);
    },
    stop() {
      multi?.stop();
    },
  };
}

/** Not a terminal (a log file, CI): a plain line now and then, nothing to redraw. */
function plainView(out: NodeJS.WritableStream, everyMs: number): ProgressView {
  const started = performance.now();
  let last = started;
  return {
    update(p) {
      const now = performance.now();
      if (now - last < everyMs) return;
      last = now;
      const percent = p.totalBytes ? `${Math.floor((p.bytes / p.totalBytes) * 100)}% ` : '';
      out.write(`${percent}${p.rows} rows, ${Math.round(p.rows / ((now - started) / 1000))} rows/s${p.rejected ? `, ${p.rejected} rejected` : ''}\n`);
    },
    log: message => void out.write(`${message}\n`),
    stop() {},
  };
}

function formatSeconds(s: number): string {
  if (!Number.isFinite(s)) return '?';
  if (s < 60) return `${Math.ceil(s)}s`;
  const m = Math.floor(s / 60);
  return m < 60 ? `${m}m${String(Math.round(s % 60)).padStart(2, '0')}s` : `${Math.floor(m / 60)}h${String(m % 60).padStart(2, '0')}m`;
}
