/**
 * Parity with llama.cpp: the logits and greedy tokens lmrt computes for the
 * same GGUF files as llama.cpp did (fixtures from bench/parity-fixtures.mjs,
 * generated with node-llama-cpp on the CPU, flash attention off).
 */
import { createHash } from 'node:crypto';
import { readFileSync, readdirSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';

import { loadModel, synthModel, type EncodableType, type KvCacheType, type SynthArch } from '../../ts/index.js';
import { HAVE_MODELS, modelPath, tempDir } from './helpers/models.js';

interface Fixture {
  name: string;
  source: { synth?: { arch: SynthArch; preset: string; type: EncodableType; seed: number }; file?: string };
  kvCacheType?: KvCacheType;
  sha256: string;
  prompt: number[];
  logits: number[];
  greedy: { token: number; margin: number }[];
}

const DIR = resolve(__dirname, '..', 'fixtures', 'parity');
const MARGIN = 1e-3; // below this, llama.cpp's own choice is a near-tie
const tmp = tempDir();
const report: string[] = [];
afterAll(() => {
  console.log(`parity with llama.cpp (max |logit diff|, top-10 overlap, greedy tokens compared):\n${report.join('\n')}`);
  tmp.cleanup();
});

function topK(row: ArrayLike<number>, k: number): number[] {
  return Array.from(row, (v, i) => [v, i] as const).sort((a, b) => b[0] - a[0]).slice(0, k).map(([, i]) => i);
}

describe('logits and greedy tokens agree with llama.cpp', () => {
  for (const file of readdirSync(DIR).filter((f) => f.endsWith('.json')).sort()) {
    const fx = JSON.parse(readFileSync(join(DIR, file), 'utf8')) as Fixture;
    const needsModels = fx.source.file !== undefined;
    it.skipIf(needsModels && !HAVE_MODELS)(fx.name, async () => {
      let path: string;
      if (fx.source.synth) {
        path = join(tmp.dir, `${fx.name}.gguf`);
        await synthModel(path, fx.source.synth);
      } else {
        path = modelPath(fx.source.file!);
      }
      expect(createHash('sha256').update(readFileSync(path)).digest('hex'), 'the model file is the one llama.cpp saw').toBe(fx.sha256);
      using model = await loadModel(path, { threads: 2, contextSize: 256, ...(fx.kvCacheType ? { kvCacheType: fx.kvCacheType } : {}) });
      const logits = await model.logits(fx.prompt);
      expect(logits.length).toBe(fx.logits.length);
      let maxDiff = 0;
      let maxAbs = 0;
      for (let i = 0; i < logits.length; ++i) {
        maxDiff = Math.max(maxDiff, Math.abs(logits[i]! - fx.logits[i]!));
        maxAbs = Math.max(maxAbs, Math.abs(fx.logits[i]!));
      }
      const ours10 = topK(logits, 10), theirs10 = topK(fx.logits, 10);
      const overlap = ours10.filter((t) => theirs10.includes(t)).length;
      // Float weights: only summation order differs. Quantised weights: llama.cpp's
      // repacked integer kernels give logits up to a few percent of their range
      // away from the plain block-by-block dot products (and from each other,
      // token by token); a wrong block layout would be off by the whole range.
      const quantised = fx.source.synth ? !['F32', 'F16', 'BF16'].includes(fx.source.synth.type) : !fx.name.endsWith('f32') && !fx.name.endsWith('f16');
      // greedy continuation, compared until llama.cpp's top-2 margin is a near-tie:
      // below MARGIN, or for quantised weights below twice the logit difference
      // measured above, which alone can turn such a choice (llama.cpp's Q6_K
      // logits sit a few percent of their range away from ours and from the
      // decoded weights' products)
      const nearTie = quantised ? Math.max(MARGIN, 2 * maxDiff) : MARGIN;
      // incremental decoding, one token per step, as llama.cpp produced the fixture
      const { tokens } = await model.generate(fx.prompt, { maxTokens: fx.greedy.length, ignoreEos: true });
      let compared = 0;
      for (const [i, step] of fx.greedy.entries()) {
        if (step.margin < nearTie) break;
        expect(tokens[i], `${fx.name}: greedy token ${i}`).toBe(step.token);
        ++compared;
      }
      report.push(`  ${fx.name.padEnd(18)} ${maxDiff.toExponential(2)} (logits up to ${maxAbs.toFixed(1)})  ${overlap}/10  ${compared}/${fx.greedy.length}${compared < fx.greedy.length ? `  (near-tie at step ${compared})` : ''}`);
      expect(maxDiff).toBeLessThan((quantised ? 4e-2 : 2e-3) * Math.max(1, maxAbs));
      expect(overlap).toBeGreaterThanOrEqual(9);
    });
  }
});
