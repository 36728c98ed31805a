// A one-line terminal progress bar for long reads: bytes done / total and MB/s.
//
// It draws only on a terminal (stderr, else stdout) and only for jobs of at least `minBytes`
// (50 MB by default): small files load before a bar would be seen, and a bar in a log file or
// a pipe is noise.

export interface ProgressStream {
  readonly isTTY?: boolean;
  readonly columns?: number;
  write(s: string): unknown;
}

export interface ProgressOptions {
  /** Where to draw; by default stderr if it is a terminal, else stdout if it is one. */
  stream?: ProgressStream;
  minBytes?: number;
  /** Clock in milliseconds (tests pass a fake one). */
  now?: () => number;
}

export interface ProgressBar {
  update(done: number, total: number): void;
  /** Erases the bar. */
  finish(): void;
}

const MB = 1e6;
const REDRAW_MS = 100;

export function progressBar(label: string, opts: ProgressOptions = {}): ProgressBar {
  const stream = opts.stream ?? (process.stderr.isTTY ? process.stderr : process.stdout.isTTY ? process.stdout : undefined);
  const minBytes = opts.minBytes ?? 50 * MB;
  const now = opts.now ?? (() => performance.now());
  const start = now();
  let lastDraw = -Infinity;
  let drawn = false;
  return {
    update(done, total) {
      if (!stream?.isTTY || total < minBytes) return;
      const t = now();
      if (t - lastDraw < REDRAW_MS && done < total) return;
      lastDraw = t;
      const rate = done / MB / Math.max((t - start) / 1000, 1e-3);
      const figures = ` ${(done / MB).toFixed(1)}/${(total / MB).toFixed(1)} MB  ${rate.toFixed(0)} MB/s`;
      const width = Math.max(10, Math.min(40, (stream.columns ?? 80) - label.length - figures.length - 4));
      const filled = Math.round((width * done) / total);
      stream.write(`\r${label} [${'#'.repeat(filled)}${'.'.repeat(width - filled)}]${figures}`);
      drawn = true;
    },
    finish() {
      if (drawn) stream!.write('\r\x1b[K');
    },
  };
}
