/**
 * Weights interleaved at load (native/kernels/interleave.h): a model opened
 * with its matrices interleaved gives, bit for bit, the logits of the same
 * model computed from the mapped file alone (`mappedOnly`), for prompt rows
 * and decoded rows, tied embeddings (read through the output's copy) and
 * untied ones.
 */
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';

import { InvalidArgumentError, loadModel, synthModel } from '../../ts/index.js';
import { callNative } from '../../ts/native/binding.js';
import type { RawModel } from '../../ts/native/types.js';
import { HAVE_MODELS, modelPath, tempDir } from './helpers/models.js';

const tmp = tempDir();
afterAll(tmp.cleanup);

/** Logits of every prompt row, then of 6 greedy decoded rows. */
async function logitsOf(raw: RawModel): Promise<Float32Array[]> {
  const ctx = await callNative(() => raw.createContext({ contextSize: 128, batchSize: 32, threads: 2 }));
  try {
    const vocab = raw.info().vocabSize;
    const seq = ctx.seqCreate();
    const prompt = [1, 45, 46, 47, 48, 49, 50, 51, 52, 53, 54];
    let rows = prompt.flatMap((t, i) => [seq, t, i, 1]);
    const out: Float32Array[] = [];
    for (let s = 0; s < 7; ++s) {
      const logits = Float32Array.from(await ctx.step(Int32Array.from(rows)));
      const n = logits.length / vocab;
      for (let r = 0; r < n; ++r) out.push(logits.subarray(r * vocab, (r + 1) * vocab));
      const last = out[out.length - 1]!;
      const next = last.indexOf(Math.max(...last));
      rows = [seq, next, prompt.length + s, 3];
    }
    return out;
  } finally {
    ctx.dispose();
  }
}

async function cases(): Promise<[string, string, boolean][]> {
  const out: [string, string, boolean][] = [];
  for (const [arch, preset, type] of [['llama', 'tiny', 'Q4_0'], ['llama', 'tiny', 'Q8_0'], ['llama', 'tiny', 'Q4_K'], ['llama', 'tiny', 'Q5_K'], ['llama', 'tiny', 'Q6_K'], ['qwen3', 'tiny', 'Q4_0'], ['gpt2', 'tiny', 'Q8_0'], ['llama', 'tiny', 'F16']] as const) {
    const path = join(tmp.dir, `${arch}-${preset}-${type}.gguf`);
    await synthModel(path, { arch, preset, type, seed: 5 });
    out.push([`${arch} ${preset} ${type}`, path, type !== 'F16']);
  }
  if (HAVE_MODELS) {
    for (const name of ['stories260K-q4_0.gguf', 'stories260K-q8_0.gguf']) out.push([name, modelPath(name), true]);
  }
  return out;
}

describe('interleaved weights', () => {
  it('give the mapped-only logits bit for bit, prompt and decoded rows', async () => {
    for (const [name, path, interleaves] of await cases()) {
      const interleaved = await callNative((b) => b.modelOpen(path));
      const mapped = await callNative((b) => b.modelOpen(path, { mappedOnly: true }));
      try {
        expect(mapped.info().interleavedBytes, name).toBe(0);
        if (interleaves) expect(interleaved.info().interleavedBytes, name).toBeGreaterThan(0);
        else expect(interleaved.info().interleavedBytes, name).toBe(0);
        const a = await logitsOf(interleaved), b = await logitsOf(mapped);
        expect(a.length, name).toBe(b.length);
        a.forEach((row, i) => {
          expect(Buffer.from(row.buffer, row.byteOffset, row.byteLength).equals(Buffer.from(b[i]!.buffer, b[i]!.byteOffset, b[i]!.byteLength)),
            `${name}: logits row ${i}`).toBe(true);
        });
      } finally {
        interleaved.dispose();
        mapped.dispose();
      }
    }
  });

  it('are reported by model.info and can be turned off', async () => {
    const path = join(tmp.dir, 'llama-tiny-Q4_0.gguf');
    const on = await loadModel(path, { threads: 1, contextSize: 64 });
    const off = await loadModel(path, { threads: 1, contextSize: 64, mappedOnly: true });
    try {
      expect(on.info.interleavedBytes).toBeGreaterThan(0);
      expect(off.info.interleavedBytes).toBe(0);
      const [x, y] = [await on.generate([1, 5, 6], { maxTokens: 8, ignoreEos: true }), await off.generate([1, 5, 6], { maxTokens: 8, ignoreEos: true })];
      expect(x.tokens).toEqual(y.tokens);
    } finally {
      on.dispose();
      off.dispose();
    }
    // @ts-expect-error a wrong type is named
    await expect(loadModel(path, { mappedOnly: 'yes' })).rejects.toThrow(InvalidArgumentError);
  });
});
