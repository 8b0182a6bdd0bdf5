/**
 * `lmrt run` and `lmrt chat` as a user runs them: the built bin spawned with
 * arguments and piped standard input, Ctrl-C sent as SIGINT; the output is
 * checked against the library's result for the same request.
 */
import { spawn } from 'node:child_process';
import { existsSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { chatCommand } from '../../ts/cli/chat.js';
import { generateCommand } from '../../ts/cli/generate.js';
import { main } from '../../ts/cli/main.js';
import { pullCommand } from '../../ts/cli/pull.js';
import { runCommand } from '../../ts/cli/run.js';
import { serveCommand } from '../../ts/cli/serve.js';
import { loadModel, type Model } from '../../ts/index.js';
import { HAVE_MODELS, modelPath, tempDir } from './helpers/models.js';

const BIN = join(resolve(__dirname, '..', '..'), 'dist', 'cli.js');
const tmp = tempDir();
const TEMPLATE = join(tmp.dir, 'plain.jinja');
writeFileSync(TEMPLATE, '{{ bos_token }}{% for m in messages %}{{ m.content }}{% endfor %}');
let model: Model | undefined;
beforeAll(async () => {
  if (HAVE_MODELS) model = await loadModel(modelPath('stories260K-f32.gguf'), { threads: 2 });
});
afterAll(() => {
  model?.dispose();
  tmp.cleanup();
});

interface Spawned { code: number | null; signal: NodeJS.Signals | null; out: string; err: string }

/** Runs the bin; `drive` may write to stdin and send signals once output starts. */
function lmrt(args: string[], drive?: (child: ReturnType<typeof spawn>, out: () => string) => void, input?: string): Promise<Spawned> {
  return new Promise((done, fail) => {
    const child = spawn(process.execPath, [BIN, ...args], { stdio: ['pipe', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    child.stdout!.setEncoding('utf8').on('data', (d: string) => (out += d));
    child.stderr!.setEncoding('utf8').on('data', (d: string) => (err += d));
    child.on('error', fail);
    child.on('close', (code, signal) => done({ code, signal, out, err }));
    if (drive) drive(child, () => out);
    else child.stdin!.end(input ?? '');
  });
}

describe('help', () => {
  it('lmrt --help lists the commands; each command --help lists every flag', async () => {
    let out = '';
    const io = { out: (t: string) => (out += `${t}\n`), err: () => undefined };
    expect(await main(['--help'], io)).toBe(0);
    for (const c of ['run', 'chat', 'serve', 'generate', 'pull', 'info', 'tokenize', 'synth']) expect(out).toMatch(new RegExp(`\\n  ${c} `));
    for (const command of [runCommand, chatCommand, serveCommand, generateCommand, pullCommand]) {
      out = '';
      expect(await main([command.name, '--help'], io)).toBe(0);
      for (const f of command.flags) expect(out, `${command.name} --help`).toContain(`--${f.name}`);
      expect(out).toContain(`Usage: ${command.usage}`);
    }
  });
});

describe.skipIf(!HAVE_MODELS)('lmrt run and lmrt chat, spawned', () => {
  beforeAll(() => {
    expect(existsSync(BIN), 'dist/cli.js is missing: run `npm run build:ts` (npm test does)').toBe(true);
  });

  it('lmrt run streams the continuation, then a summary on standard error', async () => {
    const want = await model!.generate('Once upon a time', { maxTokens: 40 });
    const r = await lmrt(['run', modelPath('stories260K-f32.gguf'), 'Once upon a time', '-n', '40', '-t', '2']);
    expect(r.code).toBe(0);
    expect(r.out).toBe(`${want.text}\n`);
    expect(r.err).toMatch(new RegExp(`\\[${want.tokens.length} tokens, .* tok/s, prefill \\d+ ms, finish: ${want.finishReason}\\]`));
  });

  it('lmrt run reads the prompt from standard input and samples with the flags', async () => {
    const want = await model!.generate('Lily and Ben', { maxTokens: 30, temperature: 0.8, seed: 4 });
    const r = await lmrt(['run', modelPath('stories260K-f32.gguf'), '-n', '30', '--temperature', '0.8', '--seed', '4', '-q'], undefined, 'Lily and Ben\n');
    expect(r.code).toBe(0);
    expect(r.out).toBe(`${want.text}\n`);
    expect(r.err).toBe('');
  });

  it('Ctrl-C stops lmrt run mid-generation', async () => {
    const full = await model!.generate('Once upon a time', { maxTokens: 480, ignoreEos: true });
    const r = await lmrt(['run', modelPath('stories260K-f32.gguf'), 'Once upon a time', '-n', '480', '--ignore-eos'], (child, out) => {
      child.stdin!.end();
      const poll = setInterval(() => {
        if (out().length > 0) {
          clearInterval(poll);
          child.kill('SIGINT');
        }
      }, 1);
    });
    expect(r.code).toBe(130);
    expect(r.err).toMatch(/finish: abort/);
    expect(full.text.startsWith(r.out.trimEnd())).toBe(true);
    expect(r.out.length).toBeLessThan(full.text.length);
  });

  it('lmrt chat answers each piped line, keeping the history', async () => {
    const path = modelPath('stories260K-f32.gguf');
    const opts = { maxTokens: 24, template: '{{ bos_token }}{% for m in messages %}{{ m.content }}{% endfor %}' };
    const first = await model!.chat([{ role: 'user', content: 'Once upon a time' }], opts);
    const second = await model!.chat([
      { role: 'user', content: 'Once upon a time' }, { role: 'assistant', content: first.text }, { role: 'user', content: 'Lily went' },
    ], opts);
    const r = await lmrt(['chat', path, '--template', TEMPLATE, '-n', '24'], undefined, 'Once upon a time\nLily went\n');
    expect(r.code).toBe(0);
    expect(r.out).toBe(`${first.text}\n${second.text}\n`);
  });

  it('Ctrl-C in lmrt chat stops the current answer, not the program', async () => {
    const path = modelPath('stories260K-f32.gguf');
    const after = await model!.chat([{ role: 'user', content: 'Lily went' }], {
      maxTokens: 16, template: '{{ bos_token }}{% for m in messages %}{{ m.content }}{% endfor %}',
    });
    const r = await lmrt(['chat', path, '--template', TEMPLATE, '-n', '480', '--ignore-eos'], (child, out) => {
      child.stdin!.write('Once upon a time\n');
      const poll = setInterval(() => {
        if (out().length > 0) {
          clearInterval(poll);
          child.kill('SIGINT');
          const wait = setInterval(() => {
            if (out().includes('[stopped]\n')) {
              clearInterval(wait);
              // a fresh conversation, then a short answer, then end of input
              child.stdin!.end('/clear\nLily went\n');
            }
          }, 1);
        }
      }, 1);
    });
    expect(r.code).toBe(0);
    expect(r.out).toMatch(/ \[stopped\]\n/);
    // the program went on: the next turn was answered (its length capped by -n 480, so compare the start)
    const rest = r.out.slice(r.out.indexOf('[stopped]\n') + '[stopped]\n'.length);
    expect(rest.startsWith(after.text)).toBe(true);
  });

  it('--kv-cache-type picks how the cache stores K/V, and says why a type cannot work', async () => {
    using bf16 = await loadModel(modelPath('stories260K-f32.gguf'), { threads: 2, kvCacheType: 'bf16' });
    const want = await bf16.generate('Once upon a time', { maxTokens: 20 });
    const r = await lmrt(['run', modelPath('stories260K-f32.gguf'), 'Once upon a time', '-n', '20', '-t', '2', '-q', '--kv-cache-type', 'bf16']);
    expect(r.code).toBe(0);
    expect(r.out).toBe(`${want.text}\n`);
    const q8 = await lmrt(['run', modelPath('stories260K-f32.gguf'), 'Hi', '--kv-cache-type', 'q8_0']);
    expect(q8.code).toBe(1);
    expect(q8.err).toMatch(/head dimension is 8; use f16 or bf16 \[E_INVALID_ARGUMENT\]/);
    const bad = await lmrt(['run', modelPath('stories260K-f32.gguf'), 'Hi', '--kv-cache-type', 'f8']);
    expect(bad.code).toBe(1);
    expect(bad.err).toMatch(/--kv-cache-type must be f16, bf16 or q8_0, got 'f8'/);
  });

  it('--draft and --prompt-lookup guess ahead and print exactly what plain decoding prints', async () => {
    const want = await model!.generate('Once upon a time', { maxTokens: 40 });
    const drafted = await lmrt(['run', modelPath('stories260K-f32.gguf'), 'Once upon a time', '-n', '40', '-t', '2', '-q',
      '--draft', modelPath('stories260K-q4_0.gguf'), '--draft-max', '4']);
    expect(drafted.code).toBe(0);
    expect(drafted.out).toBe(`${want.text}\n`);
    const looked = await lmrt(['generate', '-m', modelPath('stories260K-f32.gguf'), '-p', 'Once upon a time', '-n', '40', '-t', '2',
      '--prompt-lookup', '--ngram', '2', '--json']);
    expect(looked.code).toBe(0);
    const r = JSON.parse(looked.out) as { tokens: number[]; speculation: { drafted: number } };
    expect(r.tokens).toEqual(want.tokens);
    expect(r.speculation.drafted).toBeGreaterThanOrEqual(0);
    const both = await lmrt(['run', modelPath('stories260K-f32.gguf'), 'Hi', '--prompt-lookup', '--draft', modelPath('stories260K-q4_0.gguf')]);
    expect(both.code).toBe(1);
    expect(both.err).toMatch(/--draft and --prompt-lookup are two ways to guess: pick one/);
  });

  it('chat on a model without a template says so', async () => {
    const r = await lmrt(['chat', modelPath('stories260K-f32.gguf')], undefined, 'hi\n');
    expect(r.code).toBe(1);
    expect(r.err).toMatch(/has no chat template: pass one with --template <file> \[E_INVALID_ARGUMENT\]/);
  });
});
