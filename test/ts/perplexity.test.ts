/**
 * measurePerplexity() and Model.evaluate(): perplexity against llama.cpp's,
 * computed the same way (test/fixtures/perplexity, from bench/perplexity.mjs
 * with node-llama-cpp), KL divergence and top-token agreement against a
 * base model, and the rows evaluate() hands over.
 */
import { readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';

import { InvalidArgumentError, loadModel, measurePerplexity, synthModel } from '../../ts/index.js';
import { main } from '../../ts/cli/main.js';
import { HAVE_MODELS, modelPath, tempDir } from './helpers/models.js';

const ROOT = resolve(__dirname, '..', '..');
const TEXT_PATH = join(ROOT, 'test', 'fixtures', 'text', 'story.txt');
const TEXT = readFileSync(TEXT_PATH, 'utf8');
const FIXTURE = JSON.parse(readFileSync(join(ROOT, 'test', 'fixtures', 'perplexity', 'stories260K.json'), 'utf8')) as {
  contextSize: number;
  perplexity: Record<string, { value: number; tokens: number }>;
};
const tmp = tempDir();
afterAll(tmp.cleanup);
const report: string[] = [];
afterAll(() => console.log(`perplexity vs llama.cpp (chunks of ${FIXTURE.contextSize}):\n${report.join('\n')}`));

describe.skipIf(!HAVE_MODELS)('perplexity of stories260K', () => {
  for (const [file, reference] of Object.entries(FIXTURE.perplexity)) {
    it(`${file}: within 1% of llama.cpp's, over the same tokens`, async () => {
      using model = await loadModel(modelPath(file), { threads: 2, contextSize: 512 });
      const r = await measurePerplexity(model, TEXT, { contextSize: FIXTURE.contextSize });
      report.push(`  ${file.padEnd(24)} lmrt ${r.perplexity.toFixed(4)}  llama.cpp ${reference.value.toFixed(4)}  ratio ${(r.perplexity / reference.value).toFixed(5)}`);
      expect(r.tokens).toBe(reference.tokens);
      expect(Math.abs(r.perplexity / reference.value - 1)).toBeLessThan(0.01);
      expect(r.error).toBeGreaterThan(0);
      expect(r.chunks).toBe(Math.floor(model.tokenizer.tokenize(TEXT).length / FIXTURE.contextSize));
    });
  }

  it('KL divergence: none against itself, some for Q4_0 against F32, with the base\'s own perplexity', async () => {
    using f32 = await loadModel(modelPath('stories260K-f32.gguf'), { threads: 2, contextSize: 512 });
    using q4 = await loadModel(modelPath('stories260K-q4_0.gguf'), { threads: 2, contextSize: 512 });
    const self = await measurePerplexity(f32, TEXT, { contextSize: 128, base: f32, chunks: 4 });
    expect(self.kl!.mean).toBeLessThan(1e-6);
    expect(self.kl!.top1).toBe(1);
    expect(self.kl!.basePerplexity).toBeCloseTo(self.perplexity, 6); // from log-probabilities kept in float32
    const seen: number[] = [];
    const q = await measurePerplexity(q4, TEXT, { contextSize: 128, base: f32, chunks: 4, onProgress: (d, t) => seen.push(d / t) });
    expect(seen).toEqual([0.25, 0.5, 0.75, 1]);
    expect(q.kl!.mean).toBeGreaterThan(1e-3);
    expect(q.kl!.max).toBeGreaterThanOrEqual(q.kl!.mean);
    expect(q.kl!.top1).toBeGreaterThan(0.5);
    expect(q.kl!.top1).toBeLessThan(1);
    expect(q.kl!.basePerplexity).toBeCloseTo(self.perplexity, 6);
    expect(q.perplexity).toBeGreaterThan(self.perplexity);
  });

  it('refuses a text shorter than two chunks, bad options and a base of another vocabulary', async () => {
    using model = await loadModel(modelPath('stories260K-f32.gguf'), { threads: 2, contextSize: 512 });
    await expect(measurePerplexity(model, 'Once upon a time.', { contextSize: 128 })).rejects.toThrow(/needs at least 256 tokens/);
    await expect(measurePerplexity(model, TEXT, { contextSize: 2 })).rejects.toThrow(InvalidArgumentError);
    await expect(measurePerplexity(model, TEXT, { chunks: 0 })).rejects.toThrow(InvalidArgumentError);
    const other = join(tmp.dir, 'draft.gguf'); // Llama 3's vocabulary of 128256
    await synthModel(other, { arch: 'llama', preset: '1b-draft', type: 'Q4_0' });
    using draft = await loadModel(other, { threads: 2, contextSize: 256 });
    await expect(measurePerplexity(model, TEXT, { contextSize: 128, base: draft })).rejects.toThrow(/vocabulary \(128256 tokens\) is not this model's \(512\)/);
  });

  it('lmrt perplexity prints PPL, and KL against --kl-base', async () => {
    let out = '';
    const io = { out: (t: string) => (out += `${t}\n`), err: () => undefined };
    const code = await main(['perplexity', modelPath('stories260K-q4_0.gguf'), '--file', TEXT_PATH, '--ctx', '128', '--chunks', '3',
      '--kl-base', modelPath('stories260K-f32.gguf')], io);
    expect(code).toBe(0);
    expect(out).toMatch(/^perplexity: \d+\.\d{4} ± \d+\.\d{4} \(189 tokens scored, 3 chunks of 128\)\n/);
    expect(out).toMatch(/KL divergence from the base: mean \d+\.\d+ ± \d+\.\d+, max \d+\.\d+; same top token: \d+\.\d+%/);
    expect(await main(['perplexity', modelPath('stories260K-q4_0.gguf')], io)).toBe(2);
  });
});

describe('Model.evaluate', () => {
  it('hands over the rows from `from` on, in order, each the logits model.logits gives for that prefix', async () => {
    const path = join(tmp.dir, 'tiny.gguf');
    await synthModel(path, { arch: 'llama', preset: 'tiny', type: 'F32', seed: 3 });
    using model = await loadModel(path, { threads: 2, contextSize: 256 });
    const tokens = [1, 300, 301, 302, 303, 304, 305, 306, 307, 308];
    const rows = new Map<number, Float32Array>();
    await model.evaluate(tokens, { from: 4, onLogits: (pos, row) => rows.set(pos, Float32Array.from(row)) });
    expect([...rows.keys()]).toEqual([4, 5, 6, 7, 8, 9]);
    for (const pos of [4, 7, 9]) {
      const want = await model.logits(tokens.slice(0, pos + 1));
      let diff = 0;
      for (let i = 0; i < want.length; ++i) diff = Math.max(diff, Math.abs(want[i]! - rows.get(pos)![i]!));
      expect(diff, `row ${pos}`).toBeLessThan(1e-4);
    }
    // the same tokens again: their prefix is cached, the scored rows still computed
    const again: number[] = [];
    await model.evaluate(tokens, { from: 4, onLogits: (pos) => again.push(pos) });
    expect(again).toEqual([4, 5, 6, 7, 8, 9]);
    expect(() => model.evaluate(tokens, { from: 10, onLogits: () => undefined })).toThrow(InvalidArgumentError);
    expect(() => model.evaluate([], { onLogits: () => undefined })).toThrow(InvalidArgumentError);
  });
});
