/**
 * Prefix caching: a request whose prompt starts like an earlier one takes
 * the shared full KV blocks from the cache, computes only the rest, reports
 * them as cachedTokens, and gives exactly the tokens of a cold run.
 */
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { loadModel, synthModel } from '../../ts/index.js';
import { tempDir } from './helpers/models.js';

const tmp = tempDir();
let path = '';
beforeAll(async () => {
  path = join(tmp.dir, 'llama-tiny-f32.gguf');
  await synthModel(path, { arch: 'llama', preset: 'tiny', type: 'F32', seed: 9 });
});
afterAll(tmp.cleanup);

const prefix = [1, ...Array.from({ length: 199 }, (_, i) => 3 + ((i * 37) % 500))]; // 200 tokens: 12 full blocks
const suffixA = [40, 41, 42, 43, 44];
const suffixB = [90, 91, 92];

describe('prefix caching', () => {
  it('a second request sharing a long prefix computes only the rest and gives the cold-run tokens', async () => {
    using model = await loadModel(path, { threads: 2, contextSize: 2048 });
    const first = await model.generate([...prefix, ...suffixA], { maxTokens: 16, ignoreEos: true });
    expect(first.usage.cachedTokens).toBe(0);
    const rowsBefore = model.schedulerStats.rows;
    const second = await model.generate([...prefix, ...suffixB], { maxTokens: 16, ignoreEos: true });
    const rows = model.schedulerStats.rows - rowsBefore;
    expect(second.usage.cachedTokens).toBeGreaterThanOrEqual(192);
    expect(second.usage.cachedTokens % 16).toBe(0);
    // prompt rows computed: only those past the cached blocks (plus one row per generated token)
    expect(rows).toBe(prefix.length + suffixB.length - second.usage.cachedTokens + 15);
    expect(model.kvStats.prefixHits).toBeGreaterThanOrEqual(192);

    using cold = await loadModel(path, { threads: 2, contextSize: 2048 });
    const coldRun = await cold.generate([...prefix, ...suffixB], { maxTokens: 16, ignoreEos: true });
    expect(coldRun.usage.cachedTokens).toBe(0);
    expect(second.tokens).toEqual(coldRun.tokens);
  });

  it('the same prompt again reuses everything but its last token; concurrent requests still match cold runs', async () => {
    using model = await loadModel(path, { threads: 2, contextSize: 2048 });
    const prompt = [...prefix, ...suffixA];
    const a = await model.generate(prompt, { maxTokens: 8, ignoreEos: true });
    const b = await model.generate(prompt, { maxTokens: 8, ignoreEos: true });
    expect(b.usage.cachedTokens).toBe(Math.floor((prompt.length - 1) / 16) * 16);
    expect(b.tokens).toEqual(a.tokens);
    const prompts = [suffixA, suffixB, [7, 8], [300]].map((s) => [...prefix, ...s]);
    const together = await Promise.all(prompts.map((p) => model.generate(p, { maxTokens: 12, ignoreEos: true })));
    using cold = await loadModel(path, { threads: 2, contextSize: 2048 });
    for (const [i, p] of prompts.entries()) {
      expect(together[i]!.tokens).toEqual((await cold.generate(p, { maxTokens: 12, ignoreEos: true })).tokens);
    }
  });

  it('cached blocks are evicted when the pool needs them, least recently used first', async () => {
    using model = await loadModel(path, { threads: 2, contextSize: 256 }); // 16 blocks
    const prompts = Array.from({ length: 6 }, (_, k) => [1, ...Array.from({ length: 100 }, (_, i) => 3 + ((i * 13 + k * 101) % 500))]);
    for (const p of prompts) await model.generate(p, { maxTokens: 4, ignoreEos: true });
    const stats = model.kvStats;
    expect(stats.blocksUsed).toBe(0);
    expect(stats.blocksCached).toBeLessThanOrEqual(stats.blocksTotal);
    // the latest prompt is still cached; the first was evicted to make room
    expect((await model.generate(prompts[5]!, { maxTokens: 1 })).usage.cachedTokens).toBe(96);
    expect((await model.generate(prompts[0]!, { maxTokens: 1 })).usage.cachedTokens).toBe(0);
  });
});

describe('prefix caching under memory pressure', () => {
  it('requests sharing a prefix in a pool too small for all of them are preempted, reuse cached blocks, and give cold-run tokens', async () => {
    const prompts = Array.from({ length: 6 }, (_, k) => [...prefix.slice(0, 40), 100 + k, 200 + k, 300 + k]);
    const want: number[][] = [];
    for (const p of prompts) {
      using fresh = await loadModel(path, { threads: 2, contextSize: 2048 });
      want.push((await fresh.generate(p, { maxTokens: 30, ignoreEos: true })).tokens);
    }
    using model = await loadModel(path, { threads: 2, contextSize: 160, maxSequences: 6, batchSize: 16 }); // 10 blocks
    for (let round = 0; round < 2; ++round) {
      const got = await Promise.all(prompts.map((p) => model.generate(p, { maxTokens: 30, ignoreEos: true })));
      got.forEach((r, i) => expect(r.tokens, `round ${round}, request ${i}`).toEqual(want[i]));
    }
    expect(model.schedulerStats.preemptions).toBeGreaterThan(0);
    expect(model.kvStats.prefixHits).toBeGreaterThan(0);
    expect(model.kvStats.blocksUsed).toBe(0);
  });
});
