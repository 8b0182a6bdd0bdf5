/**
 * What the CPU performance work measures with: memory bandwidth, the
 * LMRT_PROFILE step profile, and the synthetic models bench/cpu writes
 * (per-tensor types for a Q4_K_M-style mix, the `micro` preset).
 */
import { spawnSync } from 'node:child_process';
import { join, resolve } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';

import { inspectGguf, InvalidArgumentError, loadModel, measureMemoryBandwidth, synthModel } from '../../ts/index.js';
import { tempDir } from './helpers/models.js';

const tmp = tempDir();
afterAll(tmp.cleanup);
const ROOT = resolve(__dirname, '..', '..');

describe('measureMemoryBandwidth', () => {
  it('gives a finite positive rate, on one thread and on two', async () => {
    for (const threads of [1, 2]) {
      const rate = await measureMemoryBandwidth({ bytes: 16 * 2 ** 20, threads, passes: 2 });
      expect(Number.isFinite(rate) && rate > 0, `${threads} threads: ${rate}`).toBe(true);
    }
  });

  it('names bad options', async () => {
    await expect(measureMemoryBandwidth({ threads: 0 })).rejects.toThrow(InvalidArgumentError);
    await expect(measureMemoryBandwidth({ bytes: -1 })).rejects.toThrow(/bytes must be a positive integer/);
    await expect(measureMemoryBandwidth({ passes: 1.5 })).rejects.toThrow(/passes/);
  });
});

describe('LMRT_PROFILE', () => {
  it('prints time per op kind for the steps a context ran', async () => {
    const path = join(tmp.dir, 'tiny-q8.gguf');
    await synthModel(path, { preset: 'tiny', type: 'Q8_0' });
    const script = `const { loadModel } = await import(${JSON.stringify(join(ROOT, 'dist', 'index.js'))});
      const m = await loadModel(${JSON.stringify(path)}, { threads: 2, contextSize: 64 });
      await m.generate([1, 5, 6, 7], { maxTokens: 4 });
      m.dispose();`;
    const run = (env: Record<string, string>) =>
      spawnSync(process.execPath, ['--input-type=module', '-e', script], { encoding: 'utf8', env: { ...process.env, ...env } });
    const on = run({ LMRT_PROFILE: '1' });
    expect(on.status, on.stderr).toBe(0);
    expect(on.stderr).toMatch(/lmrt profile/);
    expect(on.stderr).toMatch(/steps of 1 row: 3 steps/); // the prompt's step has 4 rows, then 3 decode steps
    expect(on.stderr).toMatch(/steps of 2-8 rows: 1 steps, 4\.0 rows each/);
    for (const op of ['matmul Q8_0', 'attention', 'output Q8_0', 'other']) expect(on.stderr).toContain(op);
    const off = run({ LMRT_PROFILE: '0' });
    expect(off.status, off.stderr).toBe(0);
    expect(off.stderr).not.toMatch(/lmrt profile/);
  });
});

describe('synthModel for bench/cpu', () => {
  it('writes the types tensorTypes names, by the end of the tensor name', async () => {
    const path = join(tmp.dir, 'mix.gguf');
    await synthModel(path, { preset: 'tiny', type: 'Q4_K', tensorTypes: { 'ffn_down.weight': 'Q6_K', 'attn_v.weight': 'Q8_0' } });
    const types = new Map((await inspectGguf(path)).tensors.map((t) => [t.name, t.type]));
    expect(types.get('blk.0.ffn_down.weight')).toBe('Q6_K');
    expect(types.get('blk.3.attn_v.weight')).toBe('Q8_0');
    expect(types.get('blk.0.attn_q.weight')).toBe('Q4_K');
    expect(types.get('blk.0.attn_norm.weight')).toBe('F32');
    await expect(synthModel(join(tmp.dir, 'bad.gguf'), { tensorTypes: { 'ffn_down.weight': 'Q3_K' as never } }))
      .rejects.toThrow(/tensorTypes\['ffn_down.weight'\].*Q3_K/);
  });

  it('the micro preset loads and decodes', async () => {
    const path = join(tmp.dir, 'micro.gguf');
    await synthModel(path, { preset: 'micro' });
    using model = await loadModel(path, { threads: 2 });
    expect([model.info.embeddingLength, model.info.layers]).toEqual([64, 2]);
    const r = await model.generate([1, 2, 3], { maxTokens: 8, ignoreEos: true });
    expect(r.tokens).toHaveLength(8);
  });
});
