/**
 * KV cache element types (loadModel's kvCacheType): what each stores, that
 * batching and copy-on-write forks stay exact with them, and the errors for
 * what cannot work. Agreement with llama.cpp storing its cache in the same
 * type is in parity.test.ts (the llama-tiny-f32-kv-* fixtures).
 */
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { InvalidArgumentError, loadModel, synthModel, type KvCacheType } from '../../ts/index.js';
import { HAVE_MODELS, modelPath, tempDir } from './helpers/models.js';

const tmp = tempDir();
const PATH = join(tmp.dir, 'llama-tiny-f32.gguf'); // head dimension 32
beforeAll(async () => {
  await synthModel(PATH, { arch: 'llama', preset: 'tiny', type: 'F32', seed: 11 });
});
afterAll(tmp.cleanup);

const prompts = Array.from({ length: 8 }, (_, i) => [1, ...Array.from({ length: 5 + 3 * i }, (_, k) => 3 + ((i * 131 + k * 37) % 500))]);

describe('kvCacheType', () => {
  it('q8_0 holds the same positions in 34/64 of the bytes f16 and bf16 take', async () => {
    const bytes: Record<string, number> = {};
    for (const kvCacheType of ['f16', 'bf16', 'q8_0'] as const) {
      using model = await loadModel(PATH, { threads: 2, contextSize: 512, kvCacheType });
      bytes[kvCacheType] = model.kvStats.bytes;
      expect(model.kvStats.blocksTotal * model.kvStats.blockSize).toBe(512);
    }
    expect(bytes.bf16).toBe(bytes.f16);
    expect(bytes.q8_0! / bytes.f16!).toBeCloseTo(34 / 64, 6);
  });

  for (const kvCacheType of ['bf16', 'q8_0'] as const satisfies readonly KvCacheType[]) {
    it(`${kvCacheType}: 8 concurrent greedy requests give exactly the tokens each gives alone`, async () => {
      using model = await loadModel(PATH, { threads: 2, contextSize: 1024, maxSequences: 8, kvCacheType });
      const alone: number[][] = [];
      for (const p of prompts) alone.push((await model.generate(p, { maxTokens: 12, ignoreEos: true })).tokens);
      const together = await Promise.all(prompts.map((p) => model.generate(p, { maxTokens: 12, ignoreEos: true })));
      expect(together.map((r) => r.tokens)).toEqual(alone);
      expect(model.kvStats.blocksUsed).toBe(0);
    });

    it(`${kvCacheType}: forks of one prompt (n = 3) share its blocks and continue as a cold run does`, async () => {
      using model = await loadModel(PATH, { threads: 2, contextSize: 512, kvCacheType });
      // 21 prompt tokens: the forks share a partly filled block, copied on first write
      const prompt = prompts[5]!;
      const cold = await model.generate(prompt, { maxTokens: 10, ignoreEos: true });
      const streams = model.streamMany(prompt, 3, { maxTokens: 10, ignoreEos: true });
      const results = await Promise.all(streams.map((s) => s.result));
      for (const r of results) expect(r.tokens).toEqual(cold.tokens);
      expect(model.kvStats.blocksUsed).toBe(0);
    });
  }

  it('the types differ as they should: logits move by less than 2% of their range from f16\'s', async () => {
    const logits: Record<string, Float32Array> = {};
    for (const kvCacheType of ['f16', 'bf16', 'q8_0'] as const) {
      using model = await loadModel(PATH, { threads: 2, contextSize: 256, kvCacheType });
      logits[kvCacheType] = await model.logits(prompts[7]!);
    }
    const range = Math.max(...logits.f16!) - Math.min(...logits.f16!);
    for (const t of ['bf16', 'q8_0']) {
      let diff = 0;
      for (let i = 0; i < logits.f16!.length; ++i) diff = Math.max(diff, Math.abs(logits[t]![i]! - logits.f16![i]!));
      expect(diff, t).toBeGreaterThan(0); // the cache really is stored differently
      expect(diff, t).toBeLessThan(0.02 * range);
    }
  });

  it('rejects an unknown type, naming the ones there are', async () => {
    await expect(loadModel(PATH, { kvCacheType: 'q4_0' as KvCacheType })).rejects.toThrow(
      new InvalidArgumentError(`loadModel: kvCacheType must be 'f16', 'bf16' or 'q8_0' (got "q4_0")`));
  });

  it.skipIf(!HAVE_MODELS)('q8_0 on a model whose head dimension is not a multiple of 32 fails, saying why', async () => {
    const err = await loadModel(modelPath('stories260K-f32.gguf'), { kvCacheType: 'q8_0' }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(InvalidArgumentError);
    expect((err as InvalidArgumentError).code).toBe('E_INVALID_ARGUMENT');
    expect((err as Error).message).toMatch(/q8_0 .*blocks of 32.*head dimension is 8.*use f16 or bf16/);
    // bf16 has no such limit
    using model = await loadModel(modelPath('stories260K-f32.gguf'), { kvCacheType: 'bf16' });
    expect((await model.generate('Once upon a time', { maxTokens: 8 })).tokens.length).toBeGreaterThan(0);
  });
});
