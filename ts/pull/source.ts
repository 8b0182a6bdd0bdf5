/**
 * Where a model comes from: a URL or `hf:owner/repo/path/file.gguf`
 * (a file in a Hugging Face repository, main branch, or `@revision` after
 * the repository), and where it lands in the cache folder.
 * @module
 */
import { createHash } from 'node:crypto';
import { homedir } from 'node:os';
import { basename, join } from 'node:path';

import { InvalidArgumentError } from '../errors.js';

/**
 * A parsed model source.
 *
 * @example
 * ```ts
 * const { url, cachePath } = parseModelSource('hf:owner/repo/model.gguf');
 * ```
 */
export interface ModelSource {
  url: string;
  /** The file's path inside the cache folder. */
  cachePath: string;
}

const SAFE = /^[A-Za-z0-9._-]+$/;

/**
 * Parses `https://…`, `http://…` or `hf:owner/repo[@revision]/path/file`.
 *
 * @example
 * ```ts
 * parseModelSource('hf:ggml-org/models/tinyllamas/stories260K.gguf').url;
 * // 'https://huggingface.co/ggml-org/models/resolve/main/tinyllamas/stories260K.gguf'
 * ```
 */
export function parseModelSource(source: string): ModelSource {
  if (typeof source !== 'string' || source.length === 0) throw new InvalidArgumentError('pull: the source must be a URL or hf:owner/repo/file.gguf');
  if (source.startsWith('hf:')) {
    const parts = source.slice(3).split('/');
    if (parts.length < 3 || parts.some((p) => p.length === 0)) {
      throw new InvalidArgumentError(`pull: '${source}' is not hf:owner/repo/file (e.g. hf:ggml-org/models/tinyllamas/stories260K.gguf)`);
    }
    const [owner, repoRev, ...file] = parts as [string, string, ...string[]];
    const [repo, revision = 'main'] = repoRev.split('@') as [string, string?];
    for (const p of [owner, repo, revision, ...file]) {
      if (!SAFE.test(p) || p === '.' || p === '..') throw new InvalidArgumentError(`pull: '${p}' in '${source}' is not a plain name`);
    }
    return {
      url: `https://huggingface.co/${owner}/${repo}/resolve/${encodeURIComponent(revision)}/${file.join('/')}`,
      cachePath: join('hf', owner, repo, revision, ...file),
    };
  }
  let url: URL;
  try {
    url = new URL(source);
  } catch {
    throw new InvalidArgumentError(`pull: '${source}' is neither a URL nor hf:owner/repo/file`);
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:') throw new InvalidArgumentError(`pull: only http and https URLs are supported, got ${url.protocol}`);
  const name = basename(decodeURIComponent(url.pathname)) || 'model.gguf';
  const safeName = name.replace(/[^A-Za-z0-9._-]/g, '_');
  // one folder per URL: the same file name from two places never collides
  const key = createHash('sha256').update(url.href).digest('hex').slice(0, 16);
  return { url: url.href, cachePath: join('url', key, safeName) };
}

/**
 * The cache folder: `LMRT_CACHE_DIR`, else `$XDG_CACHE_HOME/lmrt/models`, else `~/.cache/lmrt/models`.
 *
 * @example
 * ```ts
 * defaultCacheDir(); // '/home/me/.cache/lmrt/models' unless LMRT_CACHE_DIR or XDG_CACHE_HOME is set
 * ```
 */
export function defaultCacheDir(): string {
  const env = process.env.LMRT_CACHE_DIR;
  if (env) return env;
  const xdg = process.env.XDG_CACHE_HOME;
  return join(xdg || join(homedir(), '.cache'), 'lmrt', 'models');
}
