/**
 * Determinism of sampled generation: the same seed gives the same tokens
 * across runs and whatever else shares the batch. Sequences are driven
 * through the raw context (the scheduler that batches requests builds on
 * it): one sequence alone, then the same sequence stepped together with
 * three others of different lengths, each with its own seeded sampler.
 */
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';

import { synthModel } from '../../ts/index.js';
import { callNative } from '../../ts/native/binding.js';
import type { RawContext } from '../../ts/native/types.js';
import { Sampler } from '../../ts/sampling/chain.js';
import { HAVE_MODELS, modelPath, tempDir } from './helpers/models.js';

const tmp = tempDir();
afterAll(tmp.cleanup);
const STEPS = 24;
const SAMPLING = { temperature: 0.9, topK: 0, topP: 1, minP: 0 };

interface Run { tokens: number[]; logits: Float32Array[] }

/** Steps several sequences together; each samples its next token with its own seeded sampler. */
async function runTogether(ctx: RawContext, vocab: number, prompts: number[][], seeds: number[]): Promise<Run[]> {
  const seqs = prompts.map(() => ctx.seqCreate());
  const samplers = seeds.map((seed) => new Sampler({ ...SAMPLING, seed }, vocab));
  prompts.forEach((p, k) => p.forEach((t) => samplers[k]!.accept(t)));
  const runs: Run[] = prompts.map(() => ({ tokens: [], logits: [] }));
  let rows: number[] = [];
  prompts.forEach((p, k) => p.forEach((t, i) => rows.push(seqs[k]!, t, i, i === p.length - 1 ? 1 : 0)));
  for (let s = 0; s < STEPS; ++s) {
    const logits = await ctx.step(Int32Array.from(rows));
    rows = [];
    prompts.forEach((p, k) => {
      const row = logits.subarray(k * vocab, (k + 1) * vocab);
      const token = samplers[k]!.sample(row);
      samplers[k]!.accept(token);
      runs[k]!.tokens.push(token);
      runs[k]!.logits.push(Float32Array.from(row));
      rows.push(seqs[k]!, token, p.length + s, 3); // logits, a decoded token
    });
  }
  for (const seq of seqs) ctx.seqRelease(seq);
  return runs;
}

async function models(): Promise<[string, string][]> {
  const out: [string, string][] = [];
  for (const type of ['F16', 'Q4_K'] as const) {
    const path = join(tmp.dir, `llama-tiny-${type}.gguf`);
    await synthModel(path, { arch: 'llama', preset: 'tiny', type, seed: 11 });
    out.push([`llama-tiny ${type}`, path]);
  }
  if (HAVE_MODELS) out.push(['stories260K-f32', modelPath('stories260K-f32.gguf')]);
  return out;
}

describe('seeded sampling is deterministic across runs and batch compositions', () => {
  it('a sequence gives the same logits, bit for bit, and the same tokens alone and batched with three others', async () => {
    for (const [name, path] of await models()) {
      const raw = await callNative((b) => b.modelOpen(path));
      const ctx = await callNative(() => raw.createContext({ contextSize: 1024, batchSize: 64, threads: 2 }));
      try {
        const vocab = raw.info().vocabSize;
        const prompt = [1, 45, 46, 47, 48, 49, 50, 51, 52, 53, 54];
        const [alone] = await runTogether(ctx, vocab, [prompt], [7]);
        const [again] = await runTogether(ctx, vocab, [prompt], [7]);
        expect(again!.tokens, `${name}: the same seed, another run`).toEqual(alone!.tokens);
        const others = [[1, 90, 91], [1, 60, 61, 62, 63, 64, 65, 66, 67, 68, 69, 70, 71, 72, 73, 74, 75, 76, 77], [1]];
        const batched = await runTogether(ctx, vocab, [others[0]!, prompt, others[1]!, others[2]!], [1, 7, 2, 3]);
        expect(batched[1]!.tokens, `${name}: batched with three others`).toEqual(alone!.tokens);
        batched[1]!.logits.forEach((row, s) => {
          expect(Buffer.from(row.buffer).equals(Buffer.from(alone!.logits[s]!.buffer)), `${name}: logits of step ${s}`).toBe(true);
        });
        const other = await runTogether(ctx, vocab, [prompt], [8]);
        expect(other[0]!.tokens, `${name}: another seed`).not.toEqual(alone!.tokens);
      } finally {
        ctx.dispose();
        raw.dispose();
      }
    }
  });
});
