/**
 * Sliding-window models give back the KV blocks that left the window: a
 * long sequence holds only the window's blocks, decodes the tokens that a
 * full recomputation gives, and cannot be truncated back into released
 * positions.
 */
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';

import { loadModel, synthModel } from '../../ts/index.js';
import { callNative } from '../../ts/native/binding.js';
import { tempDir } from './helpers/models.js';

const tmp = tempDir();
afterAll(tmp.cleanup);
const WINDOW = 24;

function top2(row: Float32Array): [number, number] {
  let a = 0, b = 1;
  if (row[b]! > row[a]!) [a, b] = [b, a];
  for (let i = 2; i < row.length; ++i) {
    if (row[i]! > row[a]!) [a, b] = [i, a];
    else if (row[i]! > row[b]!) b = i;
  }
  return [a, row[a]! - row[b]!];
}

describe('sliding window', () => {
  it('a long sequence keeps only the window, and decodes what recomputing from scratch gives', async () => {
    const path = join(tmp.dir, 'swa.gguf');
    await synthModel(path, { arch: 'llama', preset: 'tiny', type: 'F32', seed: 3, slidingWindow: WINDOW });
    const raw = await callNative((b) => b.modelOpen(path));
    const ctx = await callNative(() => raw.createContext({ contextSize: 512, batchSize: 128, threads: 2 }));
    try {
      const prompt = [1, 40, 41, 42, 43, 44, 45, 46];
      const seq = ctx.seqCreate();
      let logits = await ctx.step(Int32Array.from(prompt.flatMap((t, i) => [seq, t, i, i === prompt.length - 1 ? 1 : 0])));
      const tokens: number[] = [];
      let mostBlocks = 0;
      for (let s = 0; s < 90; ++s) {
        const [next] = top2(logits);
        tokens.push(next);
        logits = await ctx.step(Int32Array.of(seq, next, prompt.length + s, 3));
        mostBlocks = Math.max(mostBlocks, ctx.kvStats().blocksUsed);
      }
      // the window's positions span at most ceil(24 / 16) + 1 blocks
      expect(mostBlocks).toBeLessThanOrEqual(3);
      expect(ctx.seqLength(seq)).toBe(prompt.length + 90);
      expect(() => ctx.seqTruncate(seq, 10)).toThrow(/sliding window already released/);
      ctx.seqTruncate(seq, prompt.length + 89); // within the window: fine
      ctx.seqRelease(seq);

      // recompute: every step a fresh sequence with the whole text, in one prompt step
      let compared = 0;
      for (let s = 0; s < 90; s += 9) {
        const all = [...prompt, ...tokens.slice(0, s)];
        const fresh = ctx.seqCreate();
        const row = await ctx.step(Int32Array.from(all.flatMap((t, i) => [fresh, t, i, i === all.length - 1 ? 1 : 0])));
        ctx.seqRelease(fresh);
        const [best, margin] = top2(row);
        if (margin < 1e-4) break; // a near-tie: prompt rows and decoded rows round differently
        expect(best, `step ${s}`).toBe(tokens[s]);
        ++compared;
      }
      expect(compared).toBeGreaterThan(5);
      expect(ctx.kvStats().blocksUsed).toBe(0);
    } finally {
      ctx.dispose();
      raw.dispose();
    }
  });

  it('a request longer than the whole cache runs when its window fits, with the tokens a roomy cache gives', async () => {
    const path = join(tmp.dir, 'swa-model.gguf');
    await synthModel(path, { arch: 'llama', preset: 'tiny', type: 'F32', seed: 5, slidingWindow: WINDOW });
    const prompt = [1, ...Array.from({ length: 39 }, (_, i) => 3 + ((i * 37) % 500))];
    using roomy = await loadModel(path, { threads: 2, contextSize: 512 });
    expect(roomy.info.slidingWindow).toBe(WINDOW);
    const want = await roomy.generate(prompt, { maxTokens: 60, ignoreEos: true });
    // 4 blocks of 16 = 64 positions for 100: the window (23 earlier positions) and a 16-token prompt chunk need at most 4
    using small = await loadModel(path, { threads: 2, contextSize: 64, batchSize: 16 });
    const got = await small.generate(prompt, { maxTokens: 60, ignoreEos: true });
    expect(got.tokens).toEqual(want.tokens);
    // two at once: the scheduler admits one, then the other
    const both = await Promise.all([0, 1].map(() => small.generate(prompt, { maxTokens: 60, ignoreEos: true })));
    for (const r of both) expect(r.tokens).toEqual(want.tokens);
    expect(small.kvStats.blocksUsed).toBe(0);
    // with room for less than the window and a chunk, it fails at once, saying why
    using tiny = await loadModel(path, { threads: 2, contextSize: 32, batchSize: 16 });
    await expect(tiny.generate(prompt, { maxTokens: 60 })).rejects.toThrow(/needs 4 KV blocks at once \(its 24-position sliding window and a prompt chunk of up to 16 tokens\) but the cache has 2/);
  });
});
