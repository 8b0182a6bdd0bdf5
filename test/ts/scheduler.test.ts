/**
 * Continuous batching through the public API: concurrent requests share
 * forward steps and each gives exactly the tokens it gives alone, greedy or
 * seeded; with a KV cache too small for all of them, requests are preempted
 * and still give the same tokens; cancellations and limits behave.
 */
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { loadModel, synthModel, type GenerateOptions, type GenerationResult, type Model } from '../../ts/index.js';
import { Rng } from '../../ts/sampling/rng.js';
import { HAVE_MODELS, modelPath, tempDir } from './helpers/models.js';

const tmp = tempDir();
let tinyF32 = '';
beforeAll(async () => {
  tinyF32 = join(tmp.dir, 'llama-tiny-f32.gguf');
  await synthModel(tinyF32, { arch: 'llama', preset: 'tiny', type: 'F32', seed: 5 });
});
afterAll(tmp.cleanup);

function prompts(n: number, seed: number): number[][] {
  const rng = new Rng(seed);
  return Array.from({ length: n }, () => [1, ...Array.from({ length: 1 + Math.floor(rng.next() * 40) }, () => 3 + Math.floor(rng.next() * 500))]);
}

async function alone(model: Model, ps: number[][], options: (i: number) => GenerateOptions): Promise<GenerationResult[]> {
  const out: GenerationResult[] = [];
  for (const [i, p] of ps.entries()) out.push(await model.generate(p, options(i)));
  return out;
}

describe('continuous batching', () => {
  it('32 concurrent greedy requests give exactly the tokens each gives alone, in shared steps', async () => {
    const models: [string, string][] = [['llama-tiny F32', tinyF32]];
    if (HAVE_MODELS) models.push(['stories260K-q8_0', modelPath('stories260K-q8_0.gguf')]);
    for (const [name, path] of models) {
      using model = await loadModel(path, { threads: 2, contextSize: 4096, maxSequences: 32, batchSize: 64 });
      const ps = prompts(32, 1);
      const options = (_i: number): GenerateOptions => ({ maxTokens: 24, ignoreEos: true });
      const expected = await alone(model, ps, options);
      const stepsAlone = model.schedulerStats.steps;
      const together = await Promise.all(ps.map((p, i) => model.generate(p, options(i))));
      together.forEach((r, i) => expect(r.tokens, `${name}: request ${i}`).toEqual(expected[i]!.tokens));
      // they shared steps: far fewer than running them one by one
      expect(model.schedulerStats.steps - stepsAlone).toBeLessThan(stepsAlone / 4);
      expect(model.kvStats.blocksUsed).toBe(0);
    }
  });

  it('seeded sampling gives the same tokens concurrently as alone', async () => {
    using model = await loadModel(tinyF32, { threads: 2, contextSize: 2048, maxSequences: 8 });
    const ps = prompts(12, 2);
    const options = (i: number): GenerateOptions => ({ maxTokens: 20, temperature: 0.9, topK: 0, seed: 100 + i, ignoreEos: true });
    const expected = await alone(model, ps, options);
    const together = await Promise.all(ps.map((p, i) => model.generate(p, options(i))));
    together.forEach((r, i) => expect(r.tokens, `request ${i}`).toEqual(expected[i]!.tokens));
  });

  it('a KV cache too small for all requests preempts and requeues, and every request still gives its own tokens', async () => {
    // 8 blocks of 16 positions; six requests of ~50 positions each cannot all be resident
    using model = await loadModel(tinyF32, { threads: 2, contextSize: 128, maxSequences: 6, batchSize: 16 });
    const ps = prompts(6, 3).map((p) => p.slice(0, 20));
    const options = (_i: number): GenerateOptions => ({ maxTokens: 30, ignoreEos: true });
    const expected = await alone(model, ps, options);
    const together = await Promise.all(ps.map((p, i) => model.generate(p, options(i))));
    together.forEach((r, i) => expect(r.tokens, `request ${i}`).toEqual(expected[i]!.tokens));
    expect(model.schedulerStats.preemptions).toBeGreaterThan(0);
    expect(model.kvStats.blocksUsed).toBe(0);
  });

  it('only a request that could never fit gets E_KV_FULL, at once, with the numbers', async () => {
    using model = await loadModel(tinyF32, { threads: 2, contextSize: 64 });
    const running = model.generate([1, 2, 3], { maxTokens: 40, ignoreEos: true });
    await expect(model.generate([1, 2, 3], { maxTokens: 100 })).rejects.toThrow(/needs room for 103 tokens .* holds 64/);
    expect((await running).tokens).toHaveLength(40);
    // an open maxTokens is fitted to the context instead
    const open = await model.generate([1, 2, 3], { ignoreEos: true });
    expect(open.tokens).toHaveLength(61);
    expect(open.finishReason).toBe('length');
  });

  it('aborting one of several running requests leaves the others untouched', async () => {
    using model = await loadModel(tinyF32, { threads: 2, contextSize: 2048 });
    const ps = prompts(4, 4);
    const expected = await alone(model, ps, () => ({ maxTokens: 30, ignoreEos: true }));
    const controller = new AbortController();
    const results = ps.map((p, i) => model.generate(p, { maxTokens: 30, ignoreEos: true, ...(i === 1 ? { signal: controller.signal } : {}) }));
    setTimeout(() => controller.abort(), 5);
    const done = await Promise.all(results);
    expect(done[1]!.finishReason).toBe('abort');
    for (const i of [0, 2, 3]) expect(done[i]!.tokens).toEqual(expected[i]!.tokens);
    expect(model.kvStats.blocksUsed).toBe(0);
  });
});

describe('several completions of one prompt', () => {
  it('streamMany computes the prompt once, forks it, and each completion gives what it gives alone', async () => {
    using model = await loadModel(tinyF32, { threads: 2, contextSize: 2048 });
    const prompt = prompts(1, 6)[0]!.concat([7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18]);
    const options = { maxTokens: 12, temperature: 0.9, topK: 0, seed: 40, ignoreEos: true };
    using cold = await loadModel(tinyF32, { threads: 2, contextSize: 2048 });
    const alone: GenerationResult[] = [];
    for (let i = 0; i < 3; ++i) alone.push(await cold.generate(prompt, { ...options, seed: 40 + i }));
    const rowsBefore = model.schedulerStats.rows;
    const streams = model.streamMany(prompt, 3, options);
    const results = await Promise.all(streams.map((s) => s.result));
    results.forEach((r, i) => expect(r.tokens, `completion ${i}`).toEqual(alone[i]!.tokens));
    // the prompt's rows once, then each completion's tokens but its last one
    expect(model.schedulerStats.rows - rowsBefore).toBe(prompt.length + results.reduce((s, r) => s + r.tokens.length - 1, 0));
    expect(model.kvStats.blocksUsed).toBe(0);
  });

  it('aborting the first completion before its prompt is done hands the prompt to the next', async () => {
    using model = await loadModel(tinyF32, { threads: 2, contextSize: 2048 });
    const prompt = prompts(1, 7)[0]!;
    const first = new AbortController();
    const [a, b] = model.streamMany(prompt, 2, { maxTokens: 8, ignoreEos: true, signal: first.signal });
    void a;
    first.abort(); // aborts both: they share the caller's signal
    expect((await b!.result).finishReason).toBe('abort');
    const [c, d] = model.streamMany(prompt, 2, { maxTokens: 8, ignoreEos: true });
    for await (const chunk of c!) if (chunk.tokens.length > 0) break; // leaving c aborts it
    expect((await d!.result).tokens).toEqual((await model.generate(prompt, { maxTokens: 8, ignoreEos: true })).tokens);
    expect(model.kvStats.blocksUsed).toBe(0);
  });
});
