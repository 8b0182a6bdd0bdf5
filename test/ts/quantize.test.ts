/**
 * quantizeModel(): the per-tensor types of llama.cpp's presets (expected
 * types derived by hand from llama-quantize's rules, written out below),
 * the metadata carried over, and files that llama.cpp (node-llama-cpp) loads
 * and whose logits it computes as lmrt does, within the parity tolerances.
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';

import {
  inspectGguf, InvalidArgumentError, IoError, loadModel, QUANTIZE_PRESETS, quantizeModel, synthModel, type QuantizePreset,
} from '../../ts/index.js';
import { main } from '../../ts/cli/main.js';
import { llamaCppLastLogits } from './helpers/llamacpp.js';
import { HAVE_MODELS, modelPath, tempDir } from './helpers/models.js';

const tmp = tempDir();
afterAll(tmp.cleanup);

/** The largest |a - b| and |b| over two logit rows. */
function maxDiff(a: ArrayLike<number>, b: ArrayLike<number>): { diff: number; abs: number } {
  let diff = 0, abs = 0;
  for (let i = 0; i < a.length; ++i) {
    diff = Math.max(diff, Math.abs(a[i]! - b[i]!));
    abs = Math.max(abs, Math.abs(b[i]!));
  }
  return { diff, abs };
}

/** Our logits and llama.cpp's on the same file agree as parity.test.ts asks of quantised weights. */
async function expectLlamaCppAgrees(path: string, prompt: number[], label: string): Promise<void> {
  const theirs = await llamaCppLastLogits(path, prompt);
  using model = await loadModel(path, { threads: 2, contextSize: 128, backend: 'cpu' });
  const ours = await model.logits(prompt);
  const { diff, abs } = maxDiff(ours, theirs);
  expect(diff, `${label}: max |logit - llama.cpp's| (logits up to ${abs.toFixed(2)})`).toBeLessThan(4e-2 * Math.max(1, abs));
}

// llama tiny: 4 layers, rows of 256 (embedding) and 768 (feed-forward), the
// output tied to the embedding. llama.cpp's rules for it:
//  - the tied embedding is the output product: Q6_K (Q8_0 for the Q8_0 preset);
//  - Q4_K_M / Q5_K_M give attn_v and ffn_down Q6_K in the layers
//    use_more_bits picks: i < n/8, i >= 7n/8 or (i - n/8) % 3 == 2, i.e. 2 and 3;
//  - norms stay F32, everything else takes the preset's type.
const LLAMA_TINY: Record<QuantizePreset, (name: string) => string> = {
  Q8_0: (n) => (n.endsWith('_norm.weight') ? 'F32' : 'Q8_0'),
  Q4_0: (n) => (n.endsWith('_norm.weight') ? 'F32' : n === 'token_embd.weight' ? 'Q6_K' : 'Q4_0'),
  Q6_K: (n) => (n.endsWith('_norm.weight') ? 'F32' : 'Q6_K'),
  Q4_K_M: (n) => kMixed(n, 'Q4_K'),
  Q5_K_M: (n) => kMixed(n, 'Q5_K'),
};
function kMixed(name: string, base: string): string {
  if (name.endsWith('_norm.weight')) return 'F32';
  if (name === 'token_embd.weight') return 'Q6_K';
  const layer = Number(/^blk\.(\d+)\./.exec(name)?.[1] ?? -1);
  if ((name.endsWith('attn_v.weight') || name.endsWith('ffn_down.weight')) && layer >= 2) return 'Q6_K';
  return base;
}

describe('quantizeModel: llama.cpp\'s presets', () => {
  const source = join(tmp.dir, 'llama-tiny-f16.gguf');

  for (const type of QUANTIZE_PRESETS) {
    it(`${type}: llama tiny (F16) gets llama-quantize's types, keeps its metadata, and llama.cpp computes what lmrt does`, async () => {
      if (!existsSync(source)) await synthModel(source, { arch: 'llama', preset: 'tiny', type: 'F16', seed: 5 });
      const out = join(tmp.dir, `llama-tiny-${type}.gguf`);
      const r = await quantizeModel(source, out, { type, threads: 2 });
      const want = LLAMA_TINY[type];
      for (const t of r.tensors) {
        expect(t.to, t.name).toBe(want(t.name));
        expect(t.fallback, t.name).toBe(false);
        expect(t.requantized).toBe(false);
      }
      expect(r.warnings).toEqual([]);
      const [before, after] = await Promise.all([inspectGguf(source), inspectGguf(out)]);
      expect(after.tensors.map((t) => [t.name, t.type])).toEqual(r.tensors.map((t) => [t.name, t.to]));
      expect(after.tensors.map((t) => t.shape)).toEqual(before.tensors.map((t) => t.shape));
      const { 'general.file_type': fileType, 'general.quantization_version': version, ...rest } = after.metadata;
      const { 'general.file_type': _, 'general.quantization_version': __, ...restBefore } = before.metadata;
      expect(rest).toEqual(restBefore);
      expect(after.fileType).toBe(type);
      expect(fileType).toBe({ Q4_0: 2, Q8_0: 7, Q4_K_M: 15, Q5_K_M: 17, Q6_K: 18 }[type]);
      expect(version).toBe(2);
      expect(r.bytesOut).toBe(after.tensors.reduce((s, t) => s + t.byteLength, 0));
      await expectLlamaCppAgrees(out, [1, 300, 301, 302, 303, 304, 305, 306], `llama tiny ${type}`);
    });
  }

  it('GPT-2 Q4_K_M: the fused attn_qkv gets Q5_K, the output Q6_K, learned positions stay as they are', async () => {
    const src = join(tmp.dir, 'gpt2-tiny-f32.gguf');
    await synthModel(src, { arch: 'gpt2', preset: 'tiny', type: 'F32', seed: 5 });
    const out = join(tmp.dir, 'gpt2-tiny-q4_k_m.gguf');
    const r = await quantizeModel(src, out, { type: 'Q4_K_M' });
    const to = new Map(r.tensors.map((t) => [t.name, t]));
    expect(to.get('blk.0.attn_qkv.weight')!.to).toBe('Q5_K');
    expect(to.get('output.weight')!.to).toBe('Q6_K');
    expect(to.get('position_embd.weight')!.to).toBe('F32');
    expect(to.get('blk.0.attn_qkv.bias')!.to).toBe('F32');
    expect(to.get('token_embd.weight')!.to).toBe('Q4_K');
    await expectLlamaCppAgrees(out, [300, 301, 302, 303, 304, 305, 306, 307], 'gpt2 tiny Q4_K_M');
  });

  describe.skipIf(!HAVE_MODELS)('stories260K (rows of 64 and 172: llama.cpp\'s fallbacks)', () => {
    // Q4_K_M: rows of 64 are not whole Q4_K blocks, so Q5_0; ffn_down's rows of
    // 172 fit no 32-element type, so F16; the tied embedding (the output) Q8_0;
    // attn_v of layers 2 and 4 (use_more_bits of 5 layers) Q6_K, so Q8_0
    const expected: Record<QuantizePreset, Record<string, string>> = {
      Q4_K_M: { 'token_embd.weight': 'Q8_0', 'blk.0.attn_q.weight': 'Q5_0', 'blk.0.attn_v.weight': 'Q5_0', 'blk.2.attn_v.weight': 'Q8_0', 'blk.4.attn_v.weight': 'Q8_0', 'blk.0.ffn_down.weight': 'F16', 'blk.0.ffn_up.weight': 'Q5_0' },
      Q5_K_M: { 'token_embd.weight': 'Q8_0', 'blk.0.attn_q.weight': 'Q5_1', 'blk.2.attn_v.weight': 'Q8_0', 'blk.3.ffn_down.weight': 'F16', 'blk.1.ffn_gate.weight': 'Q5_1' },
      Q6_K: { 'token_embd.weight': 'Q8_0', 'blk.0.attn_q.weight': 'Q8_0', 'blk.0.ffn_down.weight': 'F16' },
      Q4_0: { 'token_embd.weight': 'Q8_0', 'blk.0.attn_q.weight': 'Q4_0', 'blk.0.ffn_down.weight': 'F16' },
      Q8_0: { 'token_embd.weight': 'Q8_0', 'blk.0.attn_q.weight': 'Q8_0', 'blk.0.ffn_down.weight': 'F16', 'blk.0.attn_norm.weight': 'F32' },
    };
    for (const type of QUANTIZE_PRESETS) {
      it(`${type}: the fallbacks llama.cpp takes, and llama.cpp computes what lmrt does`, async () => {
        const out = join(tmp.dir, `stories260K-${type}.gguf`);
        const r = await quantizeModel(modelPath('stories260K-f32.gguf'), out, { type });
        const to = new Map(r.tensors.map((t) => [t.name, t]));
        for (const [name, t] of Object.entries(expected[type])) expect(to.get(name)?.to, name).toBe(t);
        expect(to.get('blk.0.ffn_down.weight')!.fallback).toBe(true);
        expect(r.warnings.some((w) => w.includes('fallback'))).toBe(true);
        await expectLlamaCppAgrees(out, [1, 403, 407, 261, 378, 285, 734 % 512, 292], `stories260K ${type}`);
      });
    }

    it('requantises a quantised model, with a warning', async () => {
      const r = await quantizeModel(modelPath('stories260K-q8_0.gguf'), join(tmp.dir, 'requantised.gguf'), { type: 'Q4_0' });
      const q = r.tensors.find((t) => t.name === 'blk.0.attn_q.weight')!;
      expect([q.from, q.to, q.requantized]).toEqual(['Q8_0', 'Q4_0', true]);
      expect(r.warnings.some((w) => /requantised/.test(w) && w.includes('Q8_0'))).toBe(true);
    });
  });

  it('reports progress up to the whole size', async () => {
    const src = join(tmp.dir, 'progress-f32.gguf');
    await synthModel(src, { arch: 'llama', preset: 'tiny', type: 'F32' });
    const seen: [number, number][] = [];
    const r = await quantizeModel(src, join(tmp.dir, 'progress-q8.gguf'), { type: 'Q8_0', onProgress: (d, t) => seen.push([d, t]) });
    expect(seen.length).toBeGreaterThan(0);
    const [done, total] = seen.at(-1)!;
    expect(done).toBe(total);
    expect(total).toBeGreaterThanOrEqual(r.bytesOut);
  });

  it('refuses bad options, a missing input, and writing over its input', async () => {
    const src = join(tmp.dir, 'llama-tiny-f16.gguf');
    if (!existsSync(src)) await synthModel(src, { arch: 'llama', preset: 'tiny', type: 'F16', seed: 5 });
    await expect(quantizeModel(src, join(tmp.dir, 'x.gguf'), { type: 'Q3_K' as QuantizePreset })).rejects.toThrow(InvalidArgumentError);
    await expect(quantizeModel(src, join(tmp.dir, 'x.gguf'), { type: 'Q8_0', threads: -1 })).rejects.toThrow(InvalidArgumentError);
    await expect(quantizeModel(join(tmp.dir, 'missing.gguf'), join(tmp.dir, 'x.gguf'), { type: 'Q8_0' })).rejects.toThrow(IoError);
    await expect(quantizeModel(src, src, { type: 'Q8_0' })).rejects.toThrow(/is the input/);
    await expect(quantizeModel(join(tmp.dir, 'llama-tiny-f16.gguf'), join(tmp.dir, 'no-such-dir', 'x.gguf'), { type: 'Q8_0' }))
      .rejects.toMatchObject({ code: 'E_IO' });
    expect(existsSync(join(tmp.dir, 'x.gguf'))).toBe(false);
  });
});

describe('lmrt quantize', () => {
  async function run(...argv: string[]): Promise<{ code: number; out: string; err: string }> {
    let out = '';
    let err = '';
    const code = await main(argv, { out: (t) => (out += `${t}\n`), err: (t) => (err += `${t}\n`) });
    return { code, out, err };
  }

  it('writes the preset and prints the types and sizes; bad usage exits 2', async () => {
    const src = join(tmp.dir, 'cli-f16.gguf');
    await synthModel(src, { arch: 'llama', preset: 'tiny', type: 'F16', seed: 5 });
    const out = join(tmp.dir, 'cli-q4_k_m.gguf');
    const r = await run('quantize', src, out, '--type', 'q4_k_m', '--threads', '2', '-q');
    expect(r.code, r.err).toBe(0);
    expect(r.out).toMatch(/Q4_K_M, 38 tensors \(5 Q6_K, 9 F32, 24 Q4_K\), .* bits per weight/); // the embedding, attn_v and ffn_down of layers 2 and 3 in Q6_K
    expect((await inspectGguf(out)).fileType).toBe('Q4_K_M');
    expect((await run('quantize', src, out)).code).toBe(2);
    expect((await run('quantize', src, '--type', 'q4_k_m')).code).toBe(2);
    const bad = await run('quantize', src, out, '--type', 'q3_k_s');
    expect(bad.code).toBe(2);
    expect(bad.err).toMatch(/the presets are q8_0, q6_k, q5_k_m, q4_k_m, q4_0/);
  });
});
