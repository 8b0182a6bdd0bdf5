/** Progress bars for downloads and model loading, drawn through `CliIo.progress`. */
import type { CliIo } from './io.js';

const WIDTH = 24;

function size(bytes: number): string {
  if (bytes >= 1e9) return `${(bytes / 1e9).toFixed(2)} GB`;
  if (bytes >= 1e6) return `${(bytes / 1e6).toFixed(1)} MB`;
  return `${(bytes / 1e3).toFixed(0)} kB`;
}

/** One line: label, bar, percentage, bytes done of total, rate. */
export function progressLine(label: string, done: number, total: number | undefined, elapsedMs: number): string {
  const rate = elapsedMs > 0 ? `${size((done / elapsedMs) * 1000)}/s` : '';
  if (total === undefined || total <= 0) return `${label}  ${size(done)}  ${rate}`;
  const frac = Math.min(1, done / total);
  const filled = Math.round(frac * WIDTH);
  return `${label}  [${'#'.repeat(filled)}${'.'.repeat(WIDTH - filled)}] ${(frac * 100).toFixed(0).padStart(3)}%  ${size(done)}/${size(total)}  ${rate}`;
}

/** A throttled progress reporter (at most ~10 redraws a second); call `done()` to clear it. */
export function progressBar(io: CliIo, label: string): { update(done: number, total: number | undefined): void; done(): void } {
  const start = performance.now();
  let last = 0;
  return {
    update(done, total) {
      const now = performance.now();
      if (now - last < 100 && !(total !== undefined && done >= total)) return;
      last = now;
      io.progress?.(progressLine(label, done, total, now - start));
    },
    done() {
      io.progress?.(undefined);
    },
  };
}
