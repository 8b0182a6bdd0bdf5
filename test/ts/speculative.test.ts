/**
 * Speculative decoding never changes what the model produces: greedy gives
 * the plain tokens exactly (alone and inside a batch), sampling gives the
 * plain distribution (two-sample chi-square with fixed seeds), and rejected
 * guesses leave nothing behind in the KV cache.
 */
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';

import { readFileSync } from 'node:fs';

import { InvalidArgumentError, inspectGguf, loadModel, loadTokenizer, synthModel, writeGguf, type GenerateOptions, type GgufTensorSpec, type Model } from '../../ts/index.js';
import { checkSameVocabulary } from '../../ts/speculative/draft-model.js';
import { lookupDraft } from '../../ts/speculative/prompt-lookup.js';
import { DraftLength } from '../../ts/speculative/drafter.js';
import { HAVE_MODELS, modelPath, STORIES, tempDir } from './helpers/models.js';

const tmp = tempDir();
afterAll(tmp.cleanup);
const LOOKUP = { speculative: { type: 'prompt-lookup' } } as const;

// A story that repeats itself: what follows its last words appeared before.
const COPY_HEAVY = 'Once upon a time, there was a little girl named Lily. She loved to play outside in the park with her dog. ' +
  'One day, Lily saw a big red ball in the park. Once upon a time, there was a little girl named Lily. She loved to play outside';

describe('prompt lookup drafts', () => {
  it('are the tokens after the latest earlier match of the longest recurring suffix', () => {
    expect(lookupDraft([1, 2, 3, 4, 9, 1, 2, 3], 3, 4)).toEqual([4, 9, 1, 2]);
    expect(lookupDraft([1, 2, 3, 4, 1, 2, 5, 2, 3], 2, 3)).toEqual([4, 1, 2]); // [2, 3] recurs; the latest [2] would give 5
    expect(lookupDraft([5, 6, 7, 8], 3, 4)).toEqual([]);
    expect(lookupDraft([7, 1, 7], 3, 5)).toEqual([1, 7, 1, 7, 1]); // past the end of the text, the loop goes on
    expect(lookupDraft([4, 5, 6, 1, 2, 3, 1, 2, 3], 3, 7)).toEqual([1, 2, 3, 1, 2, 3, 1]);
    expect(lookupDraft([1, 2, 1, 2], 3, 0)).toEqual([]);
  });

  it('ask for fewer tokens after misses, none after many, and probe again later', () => {
    const len = new DraftLength(0, 8, 4, true);
    expect(len.next()).toBe(8);
    len.record(8, 3);
    expect(len.next()).toBe(4);
    len.record(4, 4);
    expect(len.next()).toBe(5);
    len.record(5, 0);
    expect(len.next()).toBe(2);
    len.record(2, 0);
    len.record(1, 0);
    // at zero: no guesses, then one every fourth step
    expect([len.next(), len.next(), len.next(), len.next()]).toEqual([0, 0, 0, 1]);
    // a failed probe doubles the wait: the next comes 8 steps after it
    len.record(1, 0);
    expect(Array.from({ length: 8 }, () => len.next())).toEqual([0, 0, 0, 0, 0, 0, 0, 1]);
    len.record(1, 0);
    expect(Array.from({ length: 16 }, () => len.next()).indexOf(1)).toBe(15);
    len.record(1, 1);
    expect(len.next()).toBe(1);
    // a probe that came true brings the wait back to 4
    len.record(1, 0);
    expect(Array.from({ length: 4 }, () => len.next())).toEqual([0, 0, 0, 1]);
    // a floor (minDraftTokens) keeps guessing however the guesses fare
    // without backoff a probe comes every fourth step however the probes fare
    const steady = new DraftLength(0, 2, 4);
    for (let i = 0; i < 2; ++i) steady.record(steady.next(), 0);
    for (let round = 0; round < 3; ++round) {
      expect(Array.from({ length: 4 }, () => steady.next())).toEqual([0, 0, 0, 1]);
      steady.record(1, 0);
    }
    const floored = new DraftLength(2, 5);
    for (let i = 0; i < 6; ++i) floored.record(floored.next(), 0);
    expect(floored.next()).toBe(2);
  });
});

async function synthetic(): Promise<string[]> {
  const out: string[] = [];
  for (const [arch, type] of [['llama', 'Q4_0'], ['qwen2', 'F16'], ['gpt2', 'Q8_0']] as const) {
    const path = join(tmp.dir, `${arch}-${type}.gguf`);
    await synthModel(path, { arch, preset: 'tiny', type, seed: 21 });
    out.push(path);
  }
  return out;
}

// a copy-heavy prompt for a model of any vocabulary: a stretch of ids, twice
function repeatingPrompt(model: Model): number[] {
  const bos = model.tokenizer.specialTokens.bos;
  const stretch = Array.from({ length: 24 }, (_, i) => 5 + ((i * 37) % Math.min(400, model.info.vocabSize - 10)));
  return [...(bos !== undefined ? [bos] : []), ...stretch, ...stretch.slice(0, 12)];
}

describe('greedy speculative output is the plain output, token for token', () => {
  it.skipIf(!HAVE_MODELS)('for every stories260K file, alone and inside a batch with plain requests', async () => {
    for (const file of STORIES) {
      using model = await loadModel(modelPath(file), { threads: 2, maxSequences: 6 });
      const prompts = [COPY_HEAVY, COPY_HEAVY.slice(20), 'Lily and Ben went to the park. Lily and Ben', COPY_HEAVY.slice(50)];
      const plain: number[][] = [];
      for (const p of prompts) plain.push((await model.generate(p, { maxTokens: 64 })).tokens);
      const alone = await model.generate(prompts[0]!, { maxTokens: 64, ...LOOKUP });
      expect(alone.tokens, file).toEqual(plain[0]);
      expect(alone.speculation!.accepted, `${file}: some guesses were right`).toBeGreaterThan(0);
      // speculative and plain requests sharing steps
      const mixed = await Promise.all(prompts.map((p, i) => model.generate(p, { maxTokens: 64, ...(i % 2 === 0 ? LOOKUP : {}) })));
      mixed.forEach((r, i) => expect(r.tokens, `${file} request ${i}`).toEqual(plain[i]));
      expect(model.kvStats.blocksUsed).toBe(0);
    }
  });

  it('for synthetic llama, qwen2 and gpt2 models, with both methods, alone and four at once', async () => {
    // the llama model's draft: the same weights in F32 (the same tokenizer); the others draft with themselves
    const f32 = join(tmp.dir, 'llama-F32-draft.gguf');
    await synthModel(f32, { arch: 'llama', preset: 'tiny', type: 'F32', seed: 21 });
    using llamaDraft = await loadModel(f32, { threads: 2, contextSize: 16 });
    for (const path of await synthetic()) {
      using model = await loadModel(path, { threads: 2 });
      const draft = path.includes('llama') ? llamaDraft : model;
      const prompt = repeatingPrompt(model);
      const plain = await model.generate(prompt, { maxTokens: 40, ignoreEos: true });
      const spec = await model.generate(prompt, { maxTokens: 40, ignoreEos: true, speculative: { type: 'prompt-lookup', ngram: 2, maxDraftTokens: 6 } });
      expect(spec.tokens, path).toEqual(plain.tokens);
      expect(spec.speculation!.drafted, `${path}: guesses were made`).toBeGreaterThan(0);
      const drafted = await model.generate(prompt, { maxTokens: 40, ignoreEos: true, speculative: { draft } });
      expect(drafted.tokens, path).toEqual(plain.tokens);
      expect(drafted.speculation!.accepted, `${path}: the draft guessed right at times`).toBeGreaterThan(0);
      const specs = [LOOKUP, { speculative: { draft } }, LOOKUP, {}] as const;
      const four = await Promise.all(specs.map((o) => model.generate(prompt, { maxTokens: 40, ignoreEos: true, ...o })));
      for (const r of four) expect(r.tokens, path).toEqual(plain.tokens);
      expect(model.kvStats.blocksUsed).toBe(0);
    }
  });
});

describe('prompt lookup on a model that copies', () => {
  it('accepts the guesses a copy makes right, and gives the plain tokens', async () => {
    const path = join(tmp.dir, 'llama-copying.gguf');
    await synthModel(path, { arch: 'llama', preset: 'tiny', type: 'Q4_0', copying: true });
    using model = await loadModel(path, { threads: 2 });
    const passage = Array.from({ length: 60 }, (_, i) => 3 + ((i * 89 + 5) % 500));
    const prompt = [1, ...passage, ...passage.slice(0, 8)];
    const plain = await model.generate(prompt, { maxTokens: 48, ignoreEos: true });
    // the copying model's own output is the passage, read on from the 9th id
    expect(plain.tokens).toEqual(passage.slice(8, 56));
    const spec = await model.generate(prompt, { maxTokens: 48, ignoreEos: true, ...LOOKUP });
    expect(spec.tokens).toEqual(plain.tokens);
    const s = spec.speculation!;
    expect(s.accepted / s.drafted).toBeGreaterThan(0.9);
    // 47 tokens after the first: with up to 7 guesses a step, at most ceil(47 / 8) steps and the first
    expect(s.steps).toBeLessThanOrEqual(8);
  });
});

// stories260K-f32 with its attention and feed-forward weights replaced by
// noise: the same vocabulary, poor guesses
async function poorDraft(): Promise<string> {
  const src = modelPath('stories260K-f32.gguf');
  const file = await inspectGguf(src);
  const bytes = readFileSync(src);
  const tensors: GgufTensorSpec[] = file.tensors.map((t, i) => ({
    name: t.name,
    type: t.type as GgufTensorSpec['type'],
    shape: t.shape,
    data: /attn_(q|k|v|output)|ffn_(gate|up|down)/.test(t.name)
      ? { fill: 'uniform', scale: 0.3, seed: i }
      : bytes.subarray(file.dataOffset + t.offset, file.dataOffset + t.offset + t.byteLength),
  }));
  const path = join(tmp.dir, 'poor-draft.gguf');
  await writeGguf(path, { metadata: file.metadata, metadataTypes: file.metadataTypes, tensors, alignment: file.alignment });
  return path;
}

describe('draft model', () => {
  it.skipIf(!HAVE_MODELS)('greedy: every stories260K file gives its plain tokens with a draft, with itself as draft, and batched', async () => {
    using q4 = await loadModel(modelPath('stories260K-q4_0.gguf'), { threads: 2 });
    using f32 = await loadModel(modelPath('stories260K-f32.gguf'), { threads: 2 });
    for (const file of STORIES) {
      using model = await loadModel(modelPath(file), { threads: 2, maxSequences: 6 });
      const draft = file.includes('q4_0') ? f32 : q4;
      const prompts = ['Once upon a time, there was a little girl named Lily.', 'Lily and Ben went to the park.', 'The sun was hot.'];
      const plain: number[][] = [];
      for (const p of prompts) plain.push((await model.generate(p, { maxTokens: 80 })).tokens);
      const drafted = await model.generate(prompts[0]!, { maxTokens: 80, speculative: { draft } });
      expect(drafted.tokens, file).toEqual(plain[0]);
      expect(drafted.speculation!.accepted, file).toBeGreaterThan(0);
      const self = await model.generate(prompts[0]!, { maxTokens: 80, speculative: { draft: model } });
      expect(self.tokens, file).toEqual(plain[0]);
      // its own draft guesses right until the end
      expect(self.speculation!.accepted, file).toBe(self.speculation!.drafted);
      // draft-model, prompt-lookup and plain requests in shared steps
      const specs = [{ speculative: { draft } }, LOOKUP, {}] as const;
      const mixed = await Promise.all(prompts.map((p, i) => model.generate(p, { maxTokens: 80, ...specs[i] })));
      mixed.forEach((r, i) => expect(r.tokens, `${file} request ${i}`).toEqual(plain[i]));
      expect(model.kvStats.blocksUsed).toBe(0);
    }
  });

  it.skipIf(!HAVE_MODELS)('must share the target\'s vocabulary: the first differing tokens are named', async () => {
    using target = await loadModel(modelPath('stories260K-f32.gguf'), { threads: 1 });
    const other = join(tmp.dir, 'other-vocab.gguf');
    await synthModel(other, { arch: 'llama', preset: 'tiny', type: 'F32', seed: 2 });
    using wrong = await loadModel(other, { threads: 1 });
    expect(wrong.info.vocabSize).toBe(target.info.vocabSize);
    expect(() => target.generate('Hi', { speculative: { draft: wrong } })).toThrow(/draft model's vocabulary differs from the target's \(token: target vs draft\): \d+: ".*" vs ".*"/);
    // a vocabulary of another size (a vocabulary-only file: compared as the drafter compares them)
    using bigger = await loadTokenizer(modelPath('vocab/ggml-vocab-llama-spm.gguf'));
    expect(() => checkSameVocabulary(target.tokenizer, bigger)).toThrow(/draft model's vocabulary has 32000 tokens and the target's 512/);
  });
});

// Two-sample chi-square over the categories both samples reach at least 5
// times in all (the rest pooled); returns the statistic and its degrees of freedom.
function chiSquare(a: number[], b: number[]): { stat: number; df: number } {
  const counts = new Map<number, [number, number]>();
  for (const t of a) (counts.get(t) ?? counts.set(t, [0, 0]).get(t)!)[0]++;
  for (const t of b) (counts.get(t) ?? counts.set(t, [0, 0]).get(t)!)[1]++;
  const cells: [number, number][] = [];
  const pooled: [number, number] = [0, 0];
  for (const c of counts.values()) {
    if (c[0] + c[1] >= 10) cells.push(c);
    else {
      pooled[0] += c[0];
      pooled[1] += c[1];
    }
  }
  if (pooled[0] + pooled[1] > 0) cells.push(pooled);
  const na = a.length, nb = b.length;
  let stat = 0;
  for (const [x, y] of cells) {
    const total = x + y;
    const ea = (total * na) / (na + nb), eb = (total * nb) / (na + nb);
    stat += (x - ea) ** 2 / ea + (y - eb) ** 2 / eb;
  }
  return { stat, df: cells.length - 1 };
}

// The chi-square quantile at 1 - 0.001 (Wilson-Hilferty): a fixed level for fixed seeds.
function critical(df: number): number {
  const z = 3.090232; // standard normal quantile at 0.999
  const h = 2 / (9 * df);
  return df * (1 - h + z * Math.sqrt(h)) ** 3;
}

describe('sampled speculative output has the plain distribution', () => {
  const RUNS = 1200;
  let poorPath: string | undefined;
  const poorDraftPath = async (): Promise<string> => (poorPath ??= await poorDraft());

  // the first and third generated token of RUNS seeded runs, 24 at a time
  async function firstAndThird(model: Model, prompt: number[], options: GenerateOptions, seed0: number): Promise<[number[], number[]]> {
    const first: number[] = [], third: number[] = [];
    for (let start = 0; start < RUNS; start += 24) {
      const batch = await Promise.all(Array.from({ length: Math.min(24, RUNS - start) }, (_, i) =>
        model.generate(prompt, { ...options, maxTokens: 3, ignoreEos: true, seed: seed0 + start + i })));
      for (const r of batch) {
        first.push(r.tokens[0]!);
        third.push(r.tokens[2]!);
      }
    }
    return [first, third];
  }

  it.skipIf(!HAVE_MODELS)('at temperature 1, and with top-p 0.9, with a deliberately poor draft', async () => {
    using model = await loadModel(modelPath('stories260K-f32.gguf'), { threads: 2, maxSequences: 24, contextSize: 16384 });
    // every token of the vocabulary once, in a scrambled order: whatever is
    // generated recurs in the prompt, and what followed it there is a poor guess
    const V = model.info.vocabSize;
    const prompt = [1, ...Array.from({ length: V - 3 }, (_, i) => 3 + ((i * 211) % (V - 3)))];
    for (const sampling of [{ temperature: 1 }, { temperature: 1, topP: 0.9 }]) {
      const [plain1, plain3] = await firstAndThird(model, prompt, sampling, 1_000_000);
      // a poor prompt-lookup draft
      const spec: GenerateOptions = { ...sampling, speculative: { type: 'prompt-lookup', ngram: 1, maxDraftTokens: 4 } };
      const [spec1, spec3] = await firstAndThird(model, prompt, spec, 2_000_000);
      for (const [name, a, b] of [['first', plain1, spec1], ['third', plain3, spec3]] as const) {
        const { stat, df } = chiSquare(a, b);
        expect(df, `${name} token: enough categories`).toBeGreaterThan(5);
        expect(stat, `${name} token, ${JSON.stringify(sampling)}: chi-square ${stat.toFixed(1)} on ${df} df`).toBeLessThan(critical(df));
      }
      // and with a poor draft model (its guesses mostly rejected, its q far from p)
      using poor = await loadModel(await poorDraftPath(), { threads: 2 });
      const [draft1, draft3] = await firstAndThird(model, prompt, { ...sampling, speculative: { draft: poor, maxDraftTokens: 3 } }, 4_000_000);
      for (const [name, a, b] of [['first', plain1, draft1], ['third', plain3, draft3]] as const) {
        const { stat, df } = chiSquare(a, b);
        expect(stat, `draft model, ${name} token, ${JSON.stringify(sampling)}: chi-square ${stat.toFixed(1)} on ${df} df`).toBeLessThan(critical(df));
      }
      // the test has power: a shifted temperature is caught at the same level
      const [hot1] = await firstAndThird(model, prompt, { ...sampling, temperature: 1.5 }, 3_000_000);
      const shifted = chiSquare(plain1, hot1);
      expect(shifted.stat).toBeGreaterThan(critical(shifted.df));
    }
    expect(model.kvStats.blocksUsed).toBe(0);
  }, 120_000);
});

describe('rolling back rejected guesses', () => {
  it.skipIf(!HAVE_MODELS)('leaves no blocks behind and no trace in what later requests compute', async () => {
    const prompt = COPY_HEAVY;
    using cold = await loadModel(modelPath('stories260K-f32.gguf'), { threads: 2 });
    const want = await cold.generate(`${prompt} and`, { maxTokens: 48 });
    using model = await loadModel(modelPath('stories260K-f32.gguf'), { threads: 2, contextSize: 1024 });
    for (let i = 0; i < 4; ++i) {
      const r = await model.generate(prompt, { maxTokens: 48, temperature: 0.8, seed: i, ...LOOKUP });
      expect(r.speculation!.drafted).toBeGreaterThan(r.speculation!.accepted); // some guesses were rejected
      expect(model.kvStats.blocksUsed).toBe(0);
    }
    // the cached blocks of those runs serve this prompt's prefix: it must still give the cold tokens
    const later = await model.generate(`${prompt} and`, { maxTokens: 48 });
    expect(later.usage.cachedTokens).toBeGreaterThan(0);
    expect(later.tokens).toEqual(want.tokens);
  });

  it('bad options are named', async () => {
    const path = join(tmp.dir, 'opts.gguf');
    await synthModel(path, { arch: 'llama', preset: 'tiny', type: 'F32', seed: 1 });
    using model = await loadModel(path, { threads: 1 });
    expect(() => model.generate([1, 2], { speculative: { type: 'lookahead' } as never })).toThrow(InvalidArgumentError);
    expect(() => model.generate([1, 2], { speculative: { type: 'prompt-lookup', ngram: 0 } })).toThrow(/speculative.ngram must be an integer from 1 to 64, got 0/);
    expect(() => model.generate([1, 2], { speculative: { type: 'prompt-lookup', maxDraftTokens: 2.5 } })).toThrow(/maxDraftTokens/);
  });
});
