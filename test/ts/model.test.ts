/**
 * The Model API: loading, greedy generation against the published
 * stories260K text, logits, KV occupancy, errors, and `lmrt generate`.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';

import { inspectGguf, InvalidArgumentError, LmrtError, loadModel, synthModel, writeGguf, type GgmlType, type GgufValue } from '../../ts/index.js';
import { main } from '../../ts/cli/main.js';
import { HAVE_MODELS, modelPath, tempDir } from './helpers/models.js';

const tmp = tempDir();
afterAll(tmp.cleanup);

async function cli(...argv: string[]): Promise<{ code: number; out: string; err: string }> {
  let out = '';
  let err = '';
  const code = await main(argv, { out: (t) => (out += `${t}\n`), err: (t) => (err += `${t}\n`) });
  return { code, out, err };
}

async function tinyLlama(): Promise<string> {
  const path = join(tmp.dir, 'llama-tiny-f32.gguf');
  await synthModel(path, { arch: 'llama', preset: 'tiny', type: 'F32', seed: 3 });
  return path;
}

describe.skipIf(!HAVE_MODELS)('stories260K', () => {
  // The text the model's author published for greedy decoding from BOS.
  const published = (): string => readFileSync(modelPath('stories260K.greedy-from-bos-256.txt'), 'utf8');

  it('greedy generation from BOS reproduces the published text', async () => {
    using model = await loadModel(modelPath('stories260K-f32.gguf'), { threads: 2 });
    const r = await model.generate('', { maxTokens: 256, ignoreEos: true });
    expect(r.usage).toEqual({ promptTokens: 1, completionTokens: 256, cachedTokens: 0 });
    expect(r.finishReason).toBe('length');
    expect(r.tokens).toHaveLength(256);
    expect(r.text).toBe(published().replace(/\n$/, ''));
    expect(r.timings.prefillMs).toBeGreaterThan(0);
    expect(r.timings.decodeMs).toBeGreaterThan(0);
  });

  it('a prompt prefilled at once continues as decoding did; logits have one score per vocabulary entry', async () => {
    using model = await loadModel(modelPath('stories260K-f32.gguf'), { threads: 2 });
    expect(model.info).toMatchObject({ architecture: 'llama', vocabSize: 512, layers: 5, embeddingLength: 64, parameterCount: 260032 });
    const full = await model.generate('', { maxTokens: 60, ignoreEos: true });
    const bos = Array.from(model.tokenize(''));
    const r = await model.generate([...bos, ...full.tokens.slice(0, 40)], { maxTokens: 20, ignoreEos: true });
    expect(r.tokens).toEqual(full.tokens.slice(40));
    expect(model.detokenize(full.tokens)).toBe(full.text);
    const prompt = model.tokenize('Once upon a time');
    const logits = await model.logits(prompt);
    expect(logits).toBeInstanceOf(Float32Array);
    expect(logits.length).toBe(512);
    const next = logits.indexOf(Math.max(...logits));
    expect((await model.generate(prompt, { maxTokens: 1 })).tokens).toEqual([next]);
  });
});

/** A copy of the GGUF at `path` with `changes` made to its metadata. */
async function withMetadata(path: string, out: string, changes: Record<string, GgufValue>): Promise<string> {
  const g = await inspectGguf(path);
  const bytes = readFileSync(path);
  await writeGguf(out, {
    metadata: { ...g.metadata, ...changes },
    metadataTypes: g.metadataTypes,
    tensors: g.tensors.map((t) => ({
      name: t.name, type: t.type as GgmlType, shape: t.shape,
      data: bytes.subarray(g.dataOffset + t.offset, g.dataOffset + t.offset + t.byteLength),
    })),
  });
  return out;
}

describe('Model', () => {
  it('stops before an end-of-generation token unless told to ignore it', async () => {
    const path = await tinyLlama();
    const prompt = [1, 11, 12, 13];
    let free: number[];
    {
      using model = await loadModel(path, { threads: 2, contextSize: 64 });
      free = (await model.generate(prompt, { maxTokens: 12, ignoreEos: true })).tokens;
    }
    // make the fourth generated token (one not generated before it) the model's EOS
    const at = free.findIndex((t, i) => i >= 3 && !free.slice(0, i).includes(t));
    expect(at).toBeGreaterThanOrEqual(3);
    const eosPath = await withMetadata(path, join(tmp.dir, 'eos.gguf'), { 'tokenizer.ggml.eos_token_id': free[at]! });
    using model = await loadModel(eosPath, { threads: 2, contextSize: 64 });
    expect(model.tokenizer.endOfGenerationTokens).toContain(free[at]);
    const stopped = await model.generate(prompt, { maxTokens: 12 });
    expect(stopped.finishReason).toBe('stop');
    expect(stopped.tokens).toEqual(free.slice(0, at));
    const ignoring = await model.generate(prompt, { maxTokens: 12, ignoreEos: true });
    expect(ignoring.finishReason).toBe('length');
    expect(ignoring.tokens).toEqual(free);
  });

  it('concurrent calls on one model give what they give alone and release their KV blocks', async () => {
    using model = await loadModel(await tinyLlama(), { threads: 2, contextSize: 128 });
    const prompt = [1, 20, 30, 40];
    const [a, b, c] = await Promise.all([
      model.generate(prompt, { maxTokens: 16, ignoreEos: true }),
      model.generate(prompt, { maxTokens: 16, ignoreEos: true }),
      model.logits(prompt),
    ]);
    expect(b.tokens).toEqual(a.tokens);
    expect(a.tokens[0]).toBe(c.indexOf(Math.max(...c)));
    const stats = model.kvStats;
    expect(stats.blockSize).toBe(16);
    expect(stats.blocksUsed).toBe(0);
    expect(stats.sequences).toBe(0);
    expect(stats.blocksTotal).toBe(stats.blocksFree);
    expect(stats.blocksTotal * stats.blockSize).toBeGreaterThanOrEqual(128);
  });

  it('a request larger than the KV cache fails with E_KV_FULL and the model stays usable', async () => {
    using model = await loadModel(await tinyLlama(), { threads: 2, contextSize: 32 });
    const before = await model.generate([1, 5, 6], { maxTokens: 8, ignoreEos: true });
    await expect(model.generate([1, 5, 6], { maxTokens: 100, ignoreEos: true })).rejects.toMatchObject({ code: 'E_KV_FULL' });
    await expect(model.logits(Array.from({ length: 40 }, (_, i) => 3 + i))).rejects.toMatchObject({ code: 'E_KV_FULL' });
    expect(model.kvStats.blocksUsed).toBe(0);
    expect((await model.generate([1, 5, 6], { maxTokens: 8, ignoreEos: true })).tokens).toEqual(before.tokens);
  });

  it('long prompts are fed in batch-sized chunks with the same result', async () => {
    const path = await tinyLlama();
    const prompt = Array.from({ length: 50 }, (_, i) => 3 + ((i * 37) % 500));
    using whole = await loadModel(path, { threads: 2, contextSize: 128 });
    using chunked = await loadModel(path, { threads: 2, contextSize: 128, batchSize: 7 });
    const a = await whole.logits(prompt);
    const b = await chunked.logits(prompt);
    let maxDiff = 0;
    for (let i = 0; i < a.length; ++i) maxDiff = Math.max(maxDiff, Math.abs(a[i]! - b[i]!));
    expect(maxDiff).toBeLessThan(1e-4);
    expect((await chunked.generate(prompt, { maxTokens: 8, ignoreEos: true })).tokens)
      .toEqual((await whole.generate(prompt, { maxTokens: 8, ignoreEos: true })).tokens);
  });

  it('rejects bad arguments, bad token ids and use after dispose with clear errors', async () => {
    const model = await loadModel(await tinyLlama(), { threads: 2, contextSize: 64 });
    expect(() => model.generate('hi', { maxTokens: -1 })).toThrow(InvalidArgumentError);
    expect(() => model.generate(42 as unknown as string)).toThrow(InvalidArgumentError);
    expect(() => model.logits([])).toThrow(/must not be empty/);
    await expect(model.logits([1, 99999])).rejects.toMatchObject({ code: 'E_INVALID_ARGUMENT', message: expect.stringMatching(/99999/) });
    expect((await model.generate([1, 2], { maxTokens: 0 })).tokens).toEqual([]);
    model.dispose();
    expect(model.disposed).toBe(true);
    expect(() => model.generate('hi')).toThrow(/disposed/);
    expect(() => model.kvStats).toThrow(/disposed/);
    model.dispose(); // twice is harmless
  });

  it('loadModel names the problem: options, a missing file, an unsupported architecture', async () => {
    await expect(loadModel('')).rejects.toThrow(InvalidArgumentError);
    await expect(loadModel(join(tmp.dir, 'x.gguf'), { threads: 0 })).rejects.toThrow(/threads must be a positive integer/);
    await expect(loadModel(join(tmp.dir, 'missing.gguf'))).rejects.toMatchObject({ code: 'E_IO' });
    const mamba = join(tmp.dir, 'mamba.gguf');
    await writeGguf(mamba, {
      metadata: { 'general.architecture': 'mamba', 'tokenizer.ggml.model': 'llama', 'tokenizer.ggml.tokens': ['<unk>', '<s>', '</s>'] },
    });
    const err = await loadModel(mamba).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(LmrtError);
    expect(err).toMatchObject({ code: 'E_ARCH_UNSUPPORTED', message: expect.stringMatching(/'mamba'/) });
  });
});

describe('lmrt generate', () => {
  it('--json prints {text, tokens, finishReason, usage, timings}', async () => {
    const path = await tinyLlama();
    const r = await cli('generate', '--model', path, '--prompt', 'hello world', '--max-tokens', '5', '--temperature', '0', '--json');
    expect(r.err).toBe('');
    expect(r.code).toBe(0);
    const doc = JSON.parse(r.out) as Record<string, unknown>;
    expect(Object.keys(doc).sort()).toEqual(['finishReason', 'text', 'timings', 'tokens', 'usage']);
    expect(doc.usage).toMatchObject({ completionTokens: (doc.tokens as number[]).length });
    expect((doc.usage as { promptTokens: number }).promptTokens).toBeGreaterThan(0);
    expect(Object.keys(doc.timings as object).sort()).toEqual(['decodeMs', 'prefillMs', 'tokensPerSecond']);
    using model = await loadModel(path, { threads: 2 });
    const direct = await model.generate('hello world', { maxTokens: 5 });
    expect(doc.tokens).toEqual(direct.tokens);
    expect(doc.text).toBe(direct.text);
    expect(doc.finishReason).toBe(direct.finishReason);
  });

  it('plain output is the text; sampling flags give what the same library options give', async () => {
    const path = await tinyLlama();
    const plain = await cli('generate', '--model', path, '--prompt', 'hello', '--max-tokens', '3');
    expect(plain.code).toBe(0);
    const flags = ['--temperature', '0.9', '--top-k', '20', '--top-p', '0.9', '--min-p', '0.02', '--repeat-penalty', '1.2',
      '--repeat-last-n', '16', '--frequency-penalty', '0.1', '--presence-penalty', '0.1', '--logit-bias', '5=-inf', '--seed', '77'];
    const sampled = await cli('generate', '--model', path, '--prompt', 'hello', '--max-tokens', '12', ...flags, '--json');
    expect(sampled.code).toBe(0);
    using model = await loadModel(path, { threads: 2 });
    const direct = await model.generate('hello', {
      maxTokens: 12, temperature: 0.9, topK: 20, topP: 0.9, minP: 0.02, repeatPenalty: 1.2, repeatLastN: 16,
      frequencyPenalty: 0.1, presencePenalty: 0.1, logitBias: { 5: -Infinity }, seed: 77,
    });
    expect((JSON.parse(sampled.out) as { tokens: number[] }).tokens).toEqual(direct.tokens);
    const bad = await cli('generate', '--model', path, '--prompt', 'hello', '--temperature', 'hot');
    expect(bad.code).toBe(1);
    expect(bad.err).toMatch(/--temperature must be a number/);
    const worse = await cli('generate', '--model', path, '--prompt', 'hello', '--top-p', '0');
    expect(worse.err).toMatch(/topP must be in \(0, 1\]/);
    const missing = await cli('generate', '--prompt', 'hello');
    expect(missing.code).toBe(2);
    expect(missing.err).toMatch(/--model is required\nUsage: lmrt generate/);
  });
});
