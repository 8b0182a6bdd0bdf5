/**
 * lmrt pull against a local HTTP server on 127.0.0.1 serving a real model:
 * a plain download, a connection cut in the middle and the resume, a server
 * that ignores ranges, SHA-256 checks, and the CLI.
 */
import { createHash } from 'node:crypto';
import { existsSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { main } from '../../ts/cli/main.js';
import { pullModel } from '../../ts/index.js';
import { parseModelSource } from '../../ts/pull/source.js';
import { HAVE_MODELS, modelPath, tempDir } from './helpers/models.js';

const tmp = tempDir();
let server: Server;
let base = '';
let file = Buffer.alloc(0);
const requests: { path: string; range: string | undefined }[] = [];
// per path: how the next requests are answered
const behaviour = new Map<string, ('cut' | 'ignore-range' | 'corrupt' | 'normal')[]>();

function serve(req: IncomingMessage, res: ServerResponse): void {
  const path = req.url ?? '/';
  requests.push({ path, range: req.headers.range });
  const mode = behaviour.get(path)?.shift() ?? 'normal';
  if (path.startsWith('/missing')) {
    res.writeHead(404).end('no such file');
    return;
  }
  const body = mode === 'corrupt' ? Buffer.from(file.map((b, i) => (i === file.length - 10 ? b ^ 0xff : b))) : file;
  const range = mode === 'ignore-range' ? undefined : /^bytes=(\d+)-$/.exec(req.headers.range ?? '');
  if (range) {
    const start = Number(range[1]);
    if (start >= body.length) {
      res.writeHead(416, { 'Content-Range': `bytes */${body.length}` }).end();
      return;
    }
    res.writeHead(206, { 'Content-Length': body.length - start, 'Content-Range': `bytes ${start}-${body.length - 1}/${body.length}` });
    res.end(body.subarray(start));
    return;
  }
  res.writeHead(200, { 'Content-Length': body.length });
  if (mode === 'cut') {
    // a third of the file, then the connection drops
    res.write(body.subarray(0, Math.floor(body.length / 3)), () => res.socket?.destroy());
    return;
  }
  res.end(body);
}

beforeAll(async () => {
  if (!HAVE_MODELS) return;
  file = readFileSync(modelPath('stories260K-q8_0.gguf'));
  server = createServer(serve);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(async () => {
  await new Promise<void>((resolve) => (server ? server.close(() => resolve()) : resolve()));
  tmp.cleanup();
});

const sha = (b: Buffer): string => createHash('sha256').update(b).digest('hex');

describe('model sources', () => {
  it('hf: names map to the resolve URL and a cache path; bad names are refused', () => {
    expect(parseModelSource('hf:ggml-org/models/tinyllamas/stories260K.gguf')).toEqual({
      url: 'https://huggingface.co/ggml-org/models/resolve/main/tinyllamas/stories260K.gguf',
      cachePath: join('hf', 'ggml-org', 'models', 'main', 'tinyllamas', 'stories260K.gguf'),
    });
    expect(parseModelSource('hf:a/b@v1.0/c.gguf').url).toBe('https://huggingface.co/a/b/resolve/v1.0/c.gguf');
    expect(() => parseModelSource('hf:a/b')).toThrow(/hf:owner\/repo\/file/);
    expect(() => parseModelSource('hf:a/../c.gguf')).toThrow(/not a plain name/);
    expect(() => parseModelSource('ftp://x/y.gguf')).toThrow(/only http and https/);
    expect(() => parseModelSource('not a url')).toThrow(/neither a URL/);
    const a = parseModelSource('https://a.example/m/model.gguf'), b = parseModelSource('https://b.example/m/model.gguf');
    expect(a.cachePath).not.toBe(b.cachePath);
    expect(a.cachePath.endsWith('model.gguf')).toBe(true);
  });
});

describe.skipIf(!HAVE_MODELS)('pullModel over HTTP', () => {
  it('downloads into the cache folder with progress, and a second pull uses the cache', async () => {
    const cacheDir = join(tmp.dir, 'plain');
    const progress: number[] = [];
    const r = await pullModel(`${base}/plain/stories.gguf`, { cacheDir, onProgress: (n, total) => { progress.push(n); expect(total).toBe(file.length); } });
    expect(r).toMatchObject({ bytes: file.length, cached: false, resumed: false });
    expect(sha(readFileSync(r.path))).toBe(sha(file));
    expect(progress.at(-1)).toBe(file.length);
    expect(existsSync(`${r.path}.part`)).toBe(false);
    const again = await pullModel(`${base}/plain/stories.gguf`, { cacheDir });
    expect(again).toMatchObject({ path: r.path, cached: true });
  });

  it('a connection cut in the middle leaves only a .part file; the next pull resumes from it', async () => {
    const cacheDir = join(tmp.dir, 'cut');
    behaviour.set('/cut/stories.gguf', ['cut']);
    const url = `${base}/cut/stories.gguf`;
    await expect(pullModel(url, { cacheDir, retries: 0 })).rejects.toThrow(/broke after \d+ of \d+ bytes.*run again to resume/);
    const { cachePath } = parseModelSource(url);
    const path = join(cacheDir, cachePath);
    expect(existsSync(path)).toBe(false);
    const kept = statSync(`${path}.part`).size;
    expect(kept).toBeGreaterThan(0);
    expect(kept).toBeLessThan(file.length);
    requests.length = 0;
    const r = await pullModel(url, { cacheDir, sha256: sha(file) });
    expect(requests).toEqual([{ path: '/cut/stories.gguf', range: `bytes=${kept}-` }]);
    expect(r).toMatchObject({ resumed: true, bytes: file.length, sha256: sha(file) });
    expect(sha(readFileSync(r.path))).toBe(sha(file));
  });

  it('retries resume by themselves after a cut', async () => {
    const cacheDir = join(tmp.dir, 'retry');
    behaviour.set('/retry/stories.gguf', ['cut']);
    requests.length = 0;
    const r = await pullModel(`${base}/retry/stories.gguf`, { cacheDir });
    expect(r.resumed).toBe(true);
    expect(requests.map((q) => q.range)).toEqual([undefined, expect.stringMatching(/^bytes=\d+-$/)]);
    expect(sha(readFileSync(r.path))).toBe(sha(file));
  });

  it('a server that ignores the range gets a fresh download, still correct', async () => {
    const cacheDir = join(tmp.dir, 'ignore');
    const url = `${base}/ignore/stories.gguf`;
    const path = join(cacheDir, parseModelSource(url).cachePath);
    await pullModel(`${base}/plain/stories.gguf`, { cacheDir: join(tmp.dir, 'seed') });
    // a stale part file: the server answers 200 with the whole file
    const { mkdirSync } = await import('node:fs');
    mkdirSync(join(path, '..'), { recursive: true });
    writeFileSync(`${path}.part`, Buffer.from('stale bytes'));
    behaviour.set('/ignore/stories.gguf', ['ignore-range']);
    const r = await pullModel(url, { cacheDir });
    expect(r.resumed).toBe(false);
    expect(sha(readFileSync(r.path))).toBe(sha(file));
  });

  it('a SHA-256 mismatch removes the download and never leaves a file under the final name', async () => {
    const cacheDir = join(tmp.dir, 'corrupt');
    const url = `${base}/corrupt/stories.gguf`;
    behaviour.set('/corrupt/stories.gguf', ['corrupt']);
    await expect(pullModel(url, { cacheDir, sha256: sha(file) })).rejects.toThrow(/SHA-256 [0-9a-f]{64} does not match/);
    const path = join(cacheDir, parseModelSource(url).cachePath);
    expect(existsSync(path)).toBe(false);
    expect(existsSync(`${path}.part`)).toBe(false);
    await expect(pullModel(url, { cacheDir, sha256: 'xyz' })).rejects.toThrow(/64 hex digits/);
  });

  it('server errors are reported with their status', async () => {
    await expect(pullModel(`${base}/missing/x.gguf`, { cacheDir: join(tmp.dir, 'missing') })).rejects.toThrow(/answered 404/);
  });

  it('lmrt pull prints the path; --help lists its flags', async () => {
    let out = '';
    let err = '';
    const io = { out: (t: string) => (out += `${t}\n`), err: (t: string) => (err += `${t}\n`) };
    const code = await main(['pull', `${base}/cli/stories.gguf`, '--cache-dir', join(tmp.dir, 'cli')], io);
    expect(code).toBe(0);
    const path = out.trim();
    expect(sha(readFileSync(path))).toBe(sha(file));
    out = '';
    expect(await main(['pull', '--help'], io)).toBe(0);
    for (const flag of ['--cache-dir', '--sha256', '--force', '--retries', '--quiet']) expect(out).toContain(flag);
    void err;
  });
});
