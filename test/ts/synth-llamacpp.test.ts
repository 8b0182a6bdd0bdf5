/**
 * Files written by lmrt load in llama.cpp (node-llama-cpp): `lmrt synth`
 * output for llama and gpt2 presets gives finite logits, and the same
 * weights quantised into each type give logits close to the F32 file's —
 * llama.cpp decoding our blocks is the independent check of their layout.
 */
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';

import { ENCODABLE_TYPES, synthModel, type EncodableType, type SynthArch } from '../../ts/index.js';
import { llamaCppLastLogits } from './helpers/llamacpp.js';
import { tempDir } from './helpers/models.js';

const tmp = tempDir();
afterAll(tmp.cleanup);

const PROMPT = [1, 300, 301, 302, 303, 304, 305, 306];

function cosine(a: Float32Array, b: Float32Array): number {
  let dot = 0, na = 0, nb = 0;
  for (let i = 0; i < a.length; ++i) {
    dot += a[i]! * b[i]!;
    na += a[i]! * a[i]!;
    nb += b[i]! * b[i]!;
  }
  return dot / Math.sqrt(na * nb);
}

// How close a quantised model's logits must stay to F32's (cosine), per type.
const MIN_COSINE: Record<EncodableType, number> = {
  F32: 1, F16: 0.9999, BF16: 0.999, Q8_0: 0.999, Q6_K: 0.995, Q5_K: 0.98, Q5_1: 0.98, Q5_0: 0.97, Q4_K: 0.95, Q4_0: 0.95,
};

describe('synthModel() output in llama.cpp', () => {
  for (const arch of ['llama', 'gpt2'] as SynthArch[]) {
    describe(`${arch} tiny`, () => {
      let reference: Float32Array | undefined;
      for (const type of ENCODABLE_TYPES) {
        it(`${type}: loads, gives finite logits close to F32's`, async () => {
          const path = join(tmp.dir, `${arch}-tiny-${type}.gguf`);
          await synthModel(path, { arch, preset: 'tiny', type, seed: 3 });
          const logits = await llamaCppLastLogits(path, PROMPT);
          expect(logits.length).toBe(512);
          expect(logits.every(Number.isFinite)).toBe(true);
          if (type === 'F32') {
            reference = logits;
            // random weights must still give a non-degenerate distribution
            expect(Math.max(...logits) - Math.min(...logits)).toBeGreaterThan(0.5);
          } else {
            expect(reference, 'F32 runs first').toBeDefined();
            expect(cosine(logits, reference!)).toBeGreaterThan(MIN_COSINE[type]);
          }
        });
      }
    });
  }

  it('llama 100m in Q4_K (rows of 576 fall back to Q8_0) loads and gives finite logits', async () => {
    const path = join(tmp.dir, 'llama-100m.gguf');
    const r = await synthModel(path, { arch: 'llama', preset: '100m', type: 'Q4_K' });
    expect(r.fallbacks.length).toBeGreaterThan(0);
    expect(r.fallbacks.every((f) => f.type === 'Q8_0')).toBe(true);
    const logits = await llamaCppLastLogits(path, [1, 500, 600, 700]);
    expect(logits.length).toBe(49152);
    expect(logits.every(Number.isFinite)).toBe(true);
  });

  it('a copying model continues a passage it has seen (the induction circuit works in llama.cpp)', async () => {
    // 50 distinct ids, then the passage's start again: what comes next is the passage's next id
    const passage = Array.from({ length: 50 }, (_, i) => 3 + ((i * 97 + 11) % 500));
    expect(new Set(passage).size).toBe(50);
    for (const type of ['F32', 'Q4_0'] as const) {
      const path = join(tmp.dir, `llama-tiny-copying-${type}.gguf`);
      await synthModel(path, { arch: 'llama', preset: 'tiny', type, copying: true });
      for (const k of [3, 17, 49]) {
        const logits = await llamaCppLastLogits(path, [1, ...passage, ...passage.slice(0, k)]);
        const argmax = logits.indexOf(Math.max(...logits));
        expect(argmax, `${type}, after ${k} ids`).toBe(passage[k % 50]);
      }
    }
    await expect(synthModel(join(tmp.dir, 'x.gguf'), { arch: 'gpt2', copying: true })).rejects.toThrow(/copying needs arch 'llama'.*gpt2\/tiny/);
  });

  it('gpt2 124m in Q8_0 loads and gives finite logits', async () => {
    const path = join(tmp.dir, 'gpt2-124m.gguf');
    await synthModel(path, { arch: 'gpt2', preset: '124m', type: 'Q8_0' });
    const logits = await llamaCppLastLogits(path, [50256, 400, 500, 600]);
    expect(logits.length).toBe(50257);
    expect(logits.every(Number.isFinite)).toBe(true);
  });
});
