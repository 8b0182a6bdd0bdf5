/**
 * `lmrt serve` as a user runs it: the built bin listens, answers OpenAI
 * requests, and on SIGTERM lets the request in flight finish before it
 * exits.
 */
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';

import { loadModel } from '../../ts/index.js';
import { HAVE_MODELS, modelPath } from './helpers/models.js';

const BIN = join(resolve(__dirname, '..', '..'), 'dist', 'cli.js');

describe.skipIf(!HAVE_MODELS)('lmrt serve', () => {
  it('serves, then drains the request in flight on SIGTERM and exits 0', async () => {
    expect(existsSync(BIN), 'dist/cli.js is missing: run `npm run build:ts`').toBe(true);
    const child = spawn(process.execPath, [BIN, 'serve', modelPath('stories260K-f32.gguf'), '--port', '0', '-t', '2', '--api-key', 'k'], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    let err = '';
    child.stdout.setEncoding('utf8').on('data', (d: string) => (out += d));
    child.stderr.setEncoding('utf8').on('data', (d: string) => (err += d));
    const exited = new Promise<number | null>((r) => child.on('close', (code) => r(code)));
    for (let i = 0; i < 500 && !/listening on (\S+) /.test(out); ++i) await new Promise((r) => setTimeout(r, 10));
    const url = /listening on (\S+) /.exec(out)?.[1];
    expect(url, `stdout: ${out}\nstderr: ${err}`).toBeDefined();

    const health = await fetch(`${url}/health`);
    expect(health.status).toBe(200);
    const res = await fetch(`${url}/v1/completions`, {
      method: 'POST',
      headers: { authorization: 'Bearer k', 'content-type': 'application/json' },
      body: JSON.stringify({ prompt: 'Once upon a time', max_tokens: 300, temperature: 0, stream: true, ignore_eos: true }),
    });
    expect(res.status).toBe(200);
    const reader = res.body!.getReader();
    const first = await reader.read();
    expect(first.done).toBe(false);
    child.kill('SIGTERM');
    let body = new TextDecoder().decode(first.value);
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      body += new TextDecoder().decode(value);
    }
    // the request in flight ran to its end
    expect(body.trimEnd().endsWith('data: [DONE]')).toBe(true);
    expect(body).toMatch(/"finish_reason":"length"/);
    expect(await exited).toBe(0);
    expect(err).toMatch(/draining/);
    // access log lines are JSON
    const line = err.split('\n').find((l) => l.includes('/v1/completions'));
    expect(JSON.parse(line!)).toMatchObject({ method: 'POST', path: '/v1/completions', status: 200 });
  });

  it('--draft: every request drafts with the smaller model and answers as without it', async () => {
    using model = await loadModel(modelPath('stories260K-f32.gguf'), { threads: 2 });
    const want = await model.generate('Once upon a time', { maxTokens: 48 });
    const child = spawn(process.execPath, [BIN, 'serve', modelPath('stories260K-f32.gguf'), '--port', '0', '-t', '2', '-q',
      '--draft', modelPath('stories260K-q4_0.gguf'), '--draft-max', '4'], { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    child.stdout.setEncoding('utf8').on('data', (d: string) => (out += d));
    const exited = new Promise<number | null>((r) => child.on('close', (code) => r(code)));
    for (let i = 0; i < 500 && !/listening on (\S+) /.test(out); ++i) await new Promise((r) => setTimeout(r, 10));
    const url = /listening on (\S+) /.exec(out)?.[1];
    expect(url).toBeDefined();
    const res = await fetch(`${url}/v1/completions`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ prompt: 'Once upon a time', max_tokens: 48, temperature: 0 }),
    });
    expect(res.status).toBe(200);
    expect(((await res.json()) as { choices: { text: string }[] }).choices[0]!.text).toBe(want.text);
    child.kill('SIGTERM');
    expect(await exited).toBe(0);
  });
});
