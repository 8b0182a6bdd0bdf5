/**
 * Sliding-window models give back the KV blocks that left the window: a
 * long sequence holds only the window's blocks, decodes the tokens that a
 * full recomputation gives, and cannot be truncated back into released
 * positions.
 */
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';

import { synthModel } from '../../ts/index.js';
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
});
