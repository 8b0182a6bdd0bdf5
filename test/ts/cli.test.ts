import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';

import { inspectGguf } from '../../ts/index.js';
import { main } from '../../ts/cli/main.js';
import { llamaCppLastLogits } from './helpers/llamacpp.js';
import { HAVE_MODELS, modelPath, tempDir } from './helpers/models.js';

const tmp = tempDir();
afterAll(tmp.cleanup);
const ROOT = resolve(__dirname, '..', '..');
const BIN = join(ROOT, 'dist', 'cli.js');

async function run(...argv: string[]): Promise<{ code: number; out: string; err: string }> {
  let out = '';
  let err = '';
  const code = await main(argv, { out: (t) => (out += `${t}\n`), err: (t) => (err += `${t}\n`) });
  return { code, out, err };
}

describe('lmrt CLI', () => {
  it('the built `lmrt` bin runs', () => {
    expect(existsSync(BIN), 'dist/cli.js is missing: run `npm run build:ts` (npm test does)').toBe(true);
    const out = execFileSync(process.execPath, [BIN, '--help'], { encoding: 'utf8' });
    expect(out).toContain('Usage: lmrt <command>');
  });

  describe.skipIf(!HAVE_MODELS)('lmrt info', () => {
    it('prints architecture, parameter count, file type, context length and the tensor table', async () => {
      const r = await run('info', modelPath('stories260K-q4_0.gguf'));
      expect(r.code).toBe(0);
      expect(r.out).toMatch(/architecture:\s+llama/);
      expect(r.out).toMatch(/parameters:\s+260\.03K \(260,032\)/);
      expect(r.out).toMatch(/file type:\s+Q4_0/);
      expect(r.out).toMatch(/context length:\s+512/);
      expect(r.out).toMatch(/tensors \(47\)/);
      expect(r.out).toMatch(/blk\.4\.ffn_down\.weight\s+F32\s+\[172, 64\]/);
    });

    it('--json prints {architecture, metadata, tensors:[{name,type,shape,offset}]}', async () => {
      const path = modelPath('stories260K-q8_0.gguf');
      const r = await run('info', path, '--json');
      expect(r.code).toBe(0);
      const doc = JSON.parse(r.out) as {
        architecture: string; metadata: Record<string, unknown>;
        tensors: { name: string; type: string; shape: number[]; offset: number }[];
      };
      const g = await inspectGguf(path);
      expect(doc.architecture).toBe('llama');
      expect(Object.keys(doc.metadata)).toEqual(Object.keys(g.metadata));
      expect((doc.metadata['tokenizer.ggml.tokens'] as string[]).length).toBe(512);
      expect(doc.tensors.map(({ name, type, shape, offset }) => ({ name, type, shape, offset })))
        .toEqual(g.tensors.map(({ name, type, shape, offset }) => ({ name, type, shape, offset })));
    });
  });

  it('lmrt info on a broken file exits 1 with the code and no stack trace', async () => {
    const r = await run('info', join(tmp.dir, 'nope.gguf'));
    expect(r.code).toBe(1);
    expect(r.err).toMatch(/nope\.gguf.*\[E_IO\]/);
    expect(r.err).not.toMatch(/\bat /);
    const usage = await run('info');
    expect(usage.code).toBe(2);
  });

  it('lmrt synth writes a model llama.cpp loads, through the real bin', async () => {
    expect(existsSync(BIN), 'dist/cli.js is missing: run `npm run build:ts`').toBe(true);
    const out = join(tmp.dir, 'cli-synth.gguf');
    const r = spawnSync(process.execPath, [BIN, 'synth', '--arch', 'gpt2', '--preset', 'tiny', '--type', 'q4_k', '--out', out],
      { encoding: 'utf8' });
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
    expect(r.stdout).toMatch(/wrote .*gpt2 tiny/);
    const g = await inspectGguf(out);
    expect(g.architecture).toBe('gpt2');
    expect(g.fileType).toBe('Q4_K_S');
    const logits = await llamaCppLastLogits(out, [511, 300, 301]);
    expect(logits.every(Number.isFinite)).toBe(true);
  });

  it('lmrt synth rejects unknown presets and types with their names', async () => {
    const bad = await run('synth', '--out', join(tmp.dir, 'x.gguf'), '--preset', 'huge');
    expect(bad.code).toBe(1);
    expect(bad.err).toMatch(/unknown llama preset 'huge'.*tiny, micro, 100m, 1b, 1b-draft, 8b/);
    const badType = await run('synth', '--out', join(tmp.dir, 'x.gguf'), '--type', 'iq2_xxs');
    expect(badType.err).toMatch(/synth writes F32, F16/);
    const unknownFlag = await run('synth', '--bogus');
    expect(unknownFlag.code).toBe(2);
  });

  it.skipIf(!HAVE_MODELS)('lmrt tokenize prints ids; --json, --no-add-special and --parse-special work', async () => {
    const gpt2 = modelPath('vocab/ggml-vocab-gpt-2.gguf');
    const json = await run('tokenize', '--model', gpt2, '--text', 'Hello <|endoftext|>', '--parse-special', '--json');
    expect(json.code).toBe(0);
    expect(JSON.parse(json.out)).toEqual({ tokens: [15496, 220, 50256] });
    const stories = modelPath('stories260K-f32.gguf');
    const withBos = await run('tokenize', '--model', stories, '--text', 'Hello');
    const without = await run('tokenize', '--model', stories, '--text', 'Hello', '--no-add-special');
    expect(withBos.out.trim().split(' ')[0]).toBe('1');
    expect(withBos.out.trim().split(' ').slice(1).join(' ')).toBe(without.out.trim());
    const missing = await run('tokenize', '--text', 'x');
    expect(missing.code).toBe(2);
  });

  it('same arguments give the same file, byte for byte', async () => {
    const a = join(tmp.dir, 'det-a.gguf');
    const b = join(tmp.dir, 'det-b.gguf');
    for (const out of [a, b]) expect((await run('synth', '--out', out, '--type', 'q5_k', '--seed', '9')).code).toBe(0);
    const { readFileSync } = await import('node:fs');
    expect(readFileSync(a).equals(readFileSync(b))).toBe(true);
  });
});
