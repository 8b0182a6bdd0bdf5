/** Where the CLI reads and writes: injectable so tests run commands in-process. */
export interface CliIo {
  /** A line to standard output. */
  out(text: string): void;
  /** A line to standard error. */
  err(text: string): void;
  /** Text to standard output as it streams (no newline added). Defaults to `out`. */
  write?(text: string): void;
  /** A transient status line (progress bars) on an interactive terminal; `undefined` clears it. */
  progress?(line: string | undefined): void;
  /** Where `lmrt chat` reads turns and `lmrt run` a missing prompt. */
  stdin?: NodeJS.ReadableStream & { isTTY?: boolean };
  /** Calls `handler` on Ctrl-C (SIGINT) until the returned function is called. */
  onInterrupt?(handler: () => void): () => void;
}

export const processIo: CliIo = {
  out: (text) => process.stdout.write(`${text}\n`),
  err: (text) => process.stderr.write(`${text}\n`),
  write: (text) => process.stdout.write(text),
  progress: (line) => {
    if (!process.stderr.isTTY) return;
    process.stderr.write(line === undefined ? '\r\x1b[K' : `\r\x1b[K${line.slice(0, Math.max(10, (process.stderr.columns ?? 80) - 1))}`);
  },
  stdin: process.stdin,
  onInterrupt: (handler) => {
    process.on('SIGINT', handler);
    return () => process.off('SIGINT', handler);
  },
};

/** Streams text through `io.write`, or `io.out` when the sink has no raw writer. */
export function writer(io: CliIo): (text: string) => void {
  if (io.write) return (text) => io.write!(text);
  let pending = '';
  return (text) => {
    pending += text;
    const lines = pending.split('\n');
    pending = lines.pop()!;
    for (const line of lines) io.out(line);
  };
}
