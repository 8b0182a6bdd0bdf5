/**
 * Mutation test through the public API: 10,000 seeded, reproducible random
 * byte flips, truncations and field overwrites of valid GGUF files. Each
 * must parse or be rejected with an LmrtError — never crash, never hang.
 * (The native suite runs the same kind of test under ASan/UBSan.)
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';

import { inspectGguf, LmrtError, writeGguf } from '../../ts/index.js';
import { HAVE_MODELS, modelPath, tempDir } from './helpers/models.js';

const tmp = tempDir();
afterAll(tmp.cleanup);

/** mulberry32: a tiny seeded PRNG, so failures reproduce from the seed. */
function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const INTERESTING = [0, 1, 2, 7, 8, 13, 31, 32, 255, 0x7fffffff, 0xffffffff];

function mutate(base: Uint8Array, headerEnd: number, rand: () => number): Uint8Array {
  const int = (n: number) => Math.floor(rand() * n);
  const kind = int(3);
  if (kind === 1) return base.slice(0, int(base.length + 1));
  const m = base.slice();
  const view = new DataView(m.buffer);
  if (kind === 0) {
    for (let i = 1 + int(8); i > 0; --i) m[int(rand() < 0.9 ? headerEnd : m.length)] = int(256);
  } else {
    const at = int(headerEnd);
    const value = rand() < 0.25 ? int(0x100000000) : INTERESTING[int(INTERESTING.length)]!;
    if (rand() < 0.5 && at + 8 <= m.length) view.setBigUint64(at, rand() < 0.5 ? BigInt(value) : 2n ** 63n + BigInt(value), true);
    else if (at + 4 <= m.length) view.setUint32(at, value, true);
  }
  return m;
}

describe('inspectGguf() under mutation', () => {
  it('gets only LmrtErrors or successful parses for 10,000 seeded mutations', async () => {
    const seed = Number(process.env.LMRT_MUTATION_SEED ?? 20261127);
    const synthetic = join(tmp.dir, 'base.gguf');
    await writeGguf(synthetic, {
      metadata: {
        'general.architecture': 'llama', n: 5, f: 0.5, big: 2n ** 50n, s: ['a', 'bc', ''],
        nested: [new Float32Array([1, 2]), new Float32Array([3])], bools: [true, false],
      },
      tensors: [
        { name: 'a', type: 'Q4_K', shape: [256, 2], data: { fill: 'uniform', scale: 1 } },
        { name: 'b', type: 'Q8_0', shape: [64, 3], data: { fill: 'uniform', scale: 1 } },
        { name: 'c', type: 'F32', shape: [8], data: { fill: 'constant', value: 1 } },
      ],
    });
    const bases = [new Uint8Array(readFileSync(synthetic))];
    if (HAVE_MODELS) bases.push(new Uint8Array(readFileSync(modelPath('stories260K-q8_0.gguf'))));
    const rand = prng(seed);
    const counts = { parsed: 0, rejected: 0 };
    const perBase = Math.ceil(10_000 / bases.length);
    for (const base of bases) {
      const headerEnd = (await inspectGguf(base)).dataOffset;
      for (let i = 0; i < perBase; ++i) {
        const mutant = mutate(base, headerEnd, rand);
        try {
          await inspectGguf(mutant);
          ++counts.parsed;
        } catch (err) {
          if (!(err instanceof LmrtError)) throw new Error(`seed ${seed}, mutant ${i}: not an LmrtError: ${String(err)}`);
          expect(['E_GGUF_INVALID', 'E_GGUF_UNSUPPORTED']).toContain(err.code);
          ++counts.rejected;
        }
      }
    }
    expect(counts.parsed + counts.rejected).toBeGreaterThanOrEqual(10_000);
    expect(counts.rejected).toBeGreaterThan(1000);
  });
});
