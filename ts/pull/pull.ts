/**
 * pullModel: downloads a model into the cache folder. The bytes go to
 * `<file>.part` first and only a complete, verified download is renamed to
 * the final name, so a half file never sits under it. An interrupted
 * download resumes from the part file with an HTTP range request; the size
 * is checked against the server's, and the SHA-256 when one is known.
 * @module
 */
import { createHash, type Hash } from 'node:crypto';
import { createReadStream, createWriteStream, existsSync, mkdirSync, renameSync, rmSync, statSync } from 'node:fs';
import { dirname, join } from 'node:path';

import { CancelledError, InvalidArgumentError, IoError } from '../errors.js';
import { defaultCacheDir, parseModelSource } from './source.js';

/**
 * Options of {@link pullModel}.
 *
 * @example
 * ```ts
 * await pullModel('hf:owner/repo/model.gguf', { cacheDir: '/models', onProgress: (n, total) => console.log(n, total) });
 * ```
 */
export interface PullOptions {
  /** Where models are kept (default: see {@link defaultCacheDir}). */
  cacheDir?: string;
  /** The expected SHA-256 of the file (hex). Hugging Face files give theirs; others are checked when this is set. */
  sha256?: string;
  /** Download again even when the file is already in the cache. */
  force?: boolean;
  /** How many times to resume after a broken connection (default 3). */
  retries?: number;
  /** Called as bytes arrive: received so far (including resumed bytes) and the total, when known. */
  onProgress?: (received: number, total: number | undefined) => void;
  signal?: AbortSignal;
}

/**
 * What {@link pullModel} did.
 *
 * @example
 * ```ts
 * const { path, cached, resumed } = await pullModel('https://example.com/model.gguf');
 * ```
 */
export interface PullResult {
  /** The model file, ready to load. */
  path: string;
  bytes: number;
  /** Whether the file was already in the cache (nothing downloaded). */
  cached: boolean;
  /** Whether a previous partial download was continued. */
  resumed: boolean;
  /** The file's SHA-256, when it was computed (a download with a known digest). */
  sha256?: string;
}

const HEX64 = /^[0-9a-f]{64}$/;

/**
 * Downloads `source` (a URL or `hf:owner/repo/file.gguf`) into the cache
 * folder, resuming a previous partial download, and returns its path.
 *
 * @throws {@link IoError} when the server refuses, the connection keeps
 *   failing, or the size or SHA-256 does not match (the bad bytes are
 *   removed); {@link CancelledError} when `signal` aborts (the partial file
 *   stays, to resume)
 *
 * @example
 * ```ts
 * const { path } = await pullModel('hf:ggml-org/models/tinyllamas/stories260K.gguf');
 * const model = await loadModel(path);
 * ```
 */
export async function pullModel(source: string, options: PullOptions = {}): Promise<PullResult> {
  const { url, cachePath } = parseModelSource(source);
  if (options.sha256 !== undefined && !HEX64.test(options.sha256.toLowerCase())) {
    throw new InvalidArgumentError(`pull: sha256 must be 64 hex digits, got '${options.sha256}'`);
  }
  const retries = options.retries ?? 3;
  if (!Number.isInteger(retries) || retries < 0) throw new InvalidArgumentError(`pull: retries must be a non-negative integer, got ${retries}`);
  const path = join(options.cacheDir ?? defaultCacheDir(), cachePath);
  if (!options.force && existsSync(path)) return { path, bytes: statSync(path).size, cached: true, resumed: false };
  mkdirSync(dirname(path), { recursive: true });
  const part = `${path}.part`;
  if (options.force) rmSync(part, { force: true });

  let resumed = false;
  for (let attempt = 0; ; ++attempt) {
    try {
      const r = await downloadOnce(url, part, options);
      resumed ||= r.resumed;
      renameSync(part, path);
      return { path, bytes: r.bytes, cached: false, resumed, ...(r.sha256 ? { sha256: r.sha256 } : {}) };
    } catch (err) {
      if (err instanceof Interrupted && attempt < retries && !options.signal?.aborted) {
        resumed = true;
        continue;
      }
      if (err instanceof Interrupted) {
        throw new IoError(`pull: ${url}: ${err.message}; ${existsSync(part) ? `${statSync(part).size} bytes kept in ${part}, ` : ''}run again to resume`, { cause: err.cause });
      }
      throw err;
    }
  }
}

/** A broken transfer that a range request can continue. */
class Interrupted extends Error {}

async function downloadOnce(url: string, part: string, options: PullOptions): Promise<{ bytes: number; resumed: boolean; sha256?: string }> {
  const have = existsSync(part) ? statSync(part).size : 0;
  let response: Response;
  try {
    response = await fetch(url, { headers: have > 0 ? { Range: `bytes=${have}-` } : {}, signal: options.signal, redirect: 'follow' });
  } catch (err) {
    if (options.signal?.aborted) throw new CancelledError(`pull: ${url}: cancelled`, { cause: err });
    throw new Interrupted(`cannot connect (${(err as Error).message})`, { cause: err });
  }
  if (response.status === 416 && have > 0) {
    // the part file already holds everything (or more): start over to be sure
    rmSync(part, { force: true });
    await response.body?.cancel();
    throw new Interrupted('the partial file did not match the server\'s; starting over');
  }
  if (response.status !== 200 && response.status !== 206) {
    await response.body?.cancel();
    throw new IoError(`pull: ${url}: the server answered ${response.status} ${response.statusText}`);
  }
  const resuming = response.status === 206 && have > 0;
  const start = resuming ? have : 0;
  const total = totalSize(response, start);
  const expected = (options.sha256 ?? hfDigest(response))?.toLowerCase();
  const hash = expected !== undefined ? createHash('sha256') : undefined;
  if (hash !== undefined && resuming) await hashFile(part, hash);

  const out = createWriteStream(part, { flags: resuming ? 'a' : 'w' });
  let received = start;
  try {
    if (response.body === null) throw new Interrupted('the response has no body');
    const reader = response.body.getReader();
    for (;;) {
      let chunk: Awaited<ReturnType<typeof reader.read>>;
      try {
        chunk = await reader.read();
      } catch (err) {
        if (options.signal?.aborted) throw new CancelledError(`pull: ${url}: cancelled`, { cause: err });
        throw new Interrupted(`the connection broke after ${received} of ${total ?? 'unknown'} bytes`, { cause: err });
      }
      if (chunk.done) break;
      hash?.update(chunk.value);
      received += chunk.value.length;
      if (!out.write(chunk.value)) await new Promise<void>((resolve) => out.once('drain', () => resolve()));
      options.onProgress?.(received, total);
    }
  } finally {
    await new Promise<void>((resolve, reject) => out.end((err?: Error | null) => (err ? reject(err) : resolve())));
  }
  if (total !== undefined && received !== total) {
    if (received < total) throw new Interrupted(`the connection ended after ${received} of ${total} bytes`);
    rmSync(part, { force: true });
    throw new IoError(`pull: ${url}: received ${received} bytes but the server announced ${total}; the download was removed`);
  }
  const digest = hash?.digest('hex');
  if (expected !== undefined && digest !== expected) {
    rmSync(part, { force: true });
    throw new IoError(`pull: ${url}: SHA-256 ${digest} does not match the expected ${expected}; the download was removed`);
  }
  return { bytes: received, resumed: resuming, ...(digest ? { sha256: digest } : {}) };
}

// The whole file's size: from Content-Range on a partial answer, else Content-Length.
function totalSize(response: Response, start: number): number | undefined {
  const range = response.headers.get('content-range');
  const m = range ? /\/(\d+)\s*$/.exec(range) : null;
  if (m) return Number(m[1]);
  const length = response.headers.get('content-length');
  return length !== null && /^\d+$/.test(length) ? start + Number(length) : undefined;
}

// Hugging Face serves large files with their SHA-256 as the linked ETag.
function hfDigest(response: Response): string | undefined {
  const tag = response.headers.get('x-linked-etag')?.replace(/^W\//, '').replace(/"/g, '').toLowerCase();
  return tag !== undefined && HEX64.test(tag) ? tag : undefined;
}

async function hashFile(path: string, hash: Hash): Promise<void> {
  for await (const chunk of createReadStream(path)) hash.update(chunk as Buffer);
}
