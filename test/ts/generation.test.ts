/**
 * The generation API on the real models: streaming (chunks add up to the
 * final text, never half a UTF-8 character, never part of a stop string),
 * stop strings and tokens, seeded sampling, abort, log-probabilities.
 */
import { afterAll, describe, expect, it } from 'vitest';

import { loadModel, type GenerationChunk, type GenerationResult, type Model } from '../../ts/index.js';
import { HAVE_MODELS, modelPath, STORIES } from './helpers/models.js';

const PROMPTS = ['Once upon a time', 'Lily and Ben went to the park. They saw', 'The cat said "'];
const models = new Map<string, Model>();
afterAll(() => {
  for (const m of models.values()) m.dispose();
});

async function model(name: string): Promise<Model> {
  let m = models.get(name);
  if (m === undefined) {
    m = await loadModel(modelPath(name), { threads: 2, contextSize: 512 });
    models.set(name, m);
  }
  return m;
}

async function collect(stream: AsyncIterable<GenerationChunk> & { result: Promise<GenerationResult> }): Promise<{ chunks: GenerationChunk[]; result: GenerationResult }> {
  const chunks: GenerationChunk[] = [];
  for await (const c of stream) chunks.push(c);
  return { chunks, result: await stream.result };
}

// Byte tokens of the stories vocabulary that start or continue multi-byte characters.
function utf8ByteTokens(m: Model): number[] {
  const ids: number[] = [];
  for (let id = 0; id < m.info.vocabSize; ++id) {
    const bytes = m.tokenizer.tokenToBytes(id);
    if (bytes.length === 1 && bytes[0]! >= 0x80) ids.push(id);
  }
  return ids;
}

describe.skipIf(!HAVE_MODELS)('streaming on the real models', () => {
  for (const name of STORIES) {
    it(`${name}: chunks add up to the final text, which is the tokens' text`, async () => {
      const m = await model(name);
      for (const [i, prompt] of PROMPTS.entries()) {
        const { chunks, result } = await collect(m.stream(prompt, { maxTokens: 48, temperature: 0.9, seed: 10 + i }));
        expect(chunks.map((c) => c.text).join('')).toBe(result.text);
        expect(chunks.flatMap((c) => c.tokens)).toEqual(result.tokens);
        expect(result.text).toBe(m.detokenize(result.tokens));
      }
    });
  }

  it('multi-byte characters built from byte tokens are never split across chunks', async () => {
    const m = await model('stories260K-f32.gguf');
    const bytes = utf8ByteTokens(m);
    expect(bytes.length).toBeGreaterThan(100);
    // only the bytes of one character in play: whole and broken sequences both occur
    let multiByte = 0;
    for (const wanted of [[0xc3, 0xa9], [0xe6, 0x97, 0xa5]]) {
      const logitBias: Record<number, number> = {};
      for (const id of bytes) if (wanted.includes(m.tokenizer.tokenToBytes(id)[0]!)) logitBias[id] = 30;
      for (const seed of [1, 2, 3]) {
        const { chunks, result } = await collect(m.stream('Hello', { maxTokens: 64, temperature: 1, seed, logitBias }));
        expect(chunks.map((c) => c.text).join('')).toBe(result.text);
        expect(result.text).toBe(m.detokenize(result.tokens));
        multiByte += [...result.text].filter((ch) => ch === 'é' || ch === '日').length;
      }
    }
    expect(multiByte, 'the draws produced whole multi-byte characters').toBeGreaterThan(5);
  });

  it('stop strings that span token boundaries end the text before them and are never emitted', async () => {
    const m = await model('stories260K-q8_0.gguf');
    const full = await m.generate('Once upon a time', { maxTokens: 64 });
    // a stop string made of the end of one token and the start of the next
    const boundary = m.detokenize(full.tokens.slice(0, 10)).length;
    const stop = full.text.slice(boundary - 2, boundary + 3);
    expect(stop.length).toBe(5);
    const at = full.text.indexOf(stop);
    const { chunks, result } = await collect(m.stream('Once upon a time', { maxTokens: 64, stop: ['never appears', stop] }));
    expect(result.finishReason).toBe('stop');
    // the chunks add up to exactly the text before the stop string: no part of it went out
    expect(result.text).toBe(full.text.slice(0, at));
    expect(chunks.map((c) => c.text).join('')).toBe(result.text);
  });
});

describe.skipIf(!HAVE_MODELS)('sampling, stop tokens, abort and log-probabilities', () => {
  it('the same seed gives the same tokens across runs, and other requests in between change nothing', async () => {
    const m = await model('stories260K-f32.gguf');
    const opts = { maxTokens: 40, temperature: 0.8, seed: 1234 };
    const a = await m.generate('Once upon a time', opts);
    const [b, , c] = await Promise.all([
      m.generate('Once upon a time', opts),
      m.generate('Lily', { maxTokens: 20, temperature: 1.2, seed: 9 }),
      m.generate('Once upon a time', opts),
    ]);
    expect(b.tokens).toEqual(a.tokens);
    expect(c.tokens).toEqual(a.tokens);
    const other = await m.generate('Once upon a time', { ...opts, seed: 1235 });
    expect(other.tokens).not.toEqual(a.tokens);
  });

  it('temperature 0 follows the greedy tokens; maxTokens gives finish reason length', async () => {
    const m = await model('stories260K-f32.gguf');
    const r = await m.generate('Once upon a time', { maxTokens: 12 });
    expect(r.finishReason).toBe('length');
    expect(r.tokens).toHaveLength(12);
    const logits = await m.logits([...m.tokenize('Once upon a time')]);
    let best = 0;
    for (let i = 1; i < logits.length; ++i) if (logits[i]! > logits[best]!) best = i;
    expect(r.tokens[0]).toBe(best);
  });

  it('greedy tokens the native step chooses (no logprobs) are those the sampler chooses from the logits rows (logprobs asked)', async () => {
    for (const file of STORIES) {
      const m = await model(file);
      for (const prompt of PROMPTS) {
        const [native, sampled] = await Promise.all([
          m.generate(prompt, { maxTokens: 40, ignoreEos: true }),
          m.generate(prompt, { maxTokens: 40, ignoreEos: true, logprobs: 0 }),
        ]);
        expect(sampled.logprobs).toHaveLength(40); // the full rows were delivered
        expect(native.tokens, `${file} ${prompt}`).toEqual(sampled.tokens);
      }
    }
  });

  it('sampling from the native top-k (no logprobs) chooses the tokens sampling from whole rows (logprobs asked) does', async () => {
    const chains = [
      { temperature: 0.8 }, // the default top-k 40, top-p 0.95, min-p 0.05
      { temperature: 1.5, topK: 5, topP: 1, minP: 0 },
      { temperature: 1, topK: 100, typicalP: 0.9 },
      { temperature: 0.7, topK: 256, topP: 0.8 },
    ];
    for (const file of STORIES) {
      const m = await model(file);
      for (const [c, chain] of chains.entries()) {
        const options = { ...chain, maxTokens: 40, ignoreEos: true, seed: 100 + c };
        const [narrow, whole] = await Promise.all([m.generate(PROMPTS[c % PROMPTS.length]!, options), m.generate(PROMPTS[c % PROMPTS.length]!, { ...options, logprobs: 0 })]);
        expect(whole.logprobs).toHaveLength(40);
        expect(narrow.tokens, `${file} ${JSON.stringify(chain)}`).toEqual(whole.tokens);
      }
    }
  });

  it('stop tokens end the generation without being part of it', async () => {
    const m = await model('stories260K-f32.gguf');
    const full = await m.generate('Once upon a time', { maxTokens: 30 });
    const stopAt = full.tokens[7]!;
    const first = full.tokens.indexOf(stopAt);
    const r = await m.generate('Once upon a time', { maxTokens: 30, stopTokens: [stopAt] });
    expect(r.finishReason).toBe('stop');
    expect(r.tokens).toEqual(full.tokens.slice(0, first));
  });

  it('abort ends the generation within one step, with finish reason abort, and frees its KV blocks', async () => {
    const m = await model('stories260K-f32.gguf');
    const before = m.kvStats.blocksUsed;
    const controller = new AbortController();
    const stream = m.stream('Once upon a time', { maxTokens: 400, ignoreEos: true, signal: controller.signal });
    let seen = 0;
    for await (const chunk of stream) {
      seen += chunk.tokens.length;
      if (seen >= 5) controller.abort();
    }
    const r = await stream.result;
    expect(r.finishReason).toBe('abort');
    expect(r.tokens.length).toBeLessThanOrEqual(seen + 1);
    expect(m.kvStats.blocksUsed).toBe(before);
  });

  it('leaving a stream early aborts it; a request aborted while queued settles at once', async () => {
    const m = await model('stories260K-f32.gguf');
    const before = m.kvStats.blocksUsed;
    const stream = m.stream('Once upon a time', { maxTokens: 400, ignoreEos: true });
    for await (const chunk of stream) if (chunk.text.length > 0) break;
    expect((await stream.result).finishReason).toBe('abort');
    const long = m.generate('Once upon a time', { maxTokens: 200, ignoreEos: true });
    const controller = new AbortController();
    const queued = m.generate('Lily', { maxTokens: 50, signal: controller.signal });
    controller.abort();
    const q = await queued;
    expect(q.finishReason).toBe('abort');
    expect(q.tokens).toEqual([]);
    expect((await long).tokens).toHaveLength(200);
    const pre = new AbortController();
    pre.abort();
    expect((await m.generate('Lily', { signal: pre.signal })).finishReason).toBe('abort');
    expect(m.kvStats.blocksUsed).toBe(before);
  });

  it('log-probabilities are the log-softmax of the model logits, with the top alternatives', async () => {
    const m = await model('stories260K-f32.gguf');
    const prompt = [...m.tokenize('Once upon a time')];
    const r = await m.generate(prompt, { maxTokens: 3, logprobs: 4, temperature: 1, seed: 3 });
    expect(r.logprobs).toHaveLength(3);
    for (let i = 0; i < 3; ++i) {
      const logits = await m.logits([...prompt, ...r.tokens.slice(0, i)]);
      const max = Math.max(...logits);
      const logZ = max + Math.log(logits.reduce((s, l) => s + Math.exp(l - max), 0));
      const lp = r.logprobs![i]!;
      expect(lp.token).toBe(r.tokens[i]);
      expect(lp.logprob).toBeCloseTo(logits[r.tokens[i]!]! - logZ, 4);
      const ranked = Array.from(logits, (l, id) => ({ l, id })).sort((a, b) => b.l - a.l || a.id - b.id).slice(0, 4);
      expect(lp.top.map((t) => t.token)).toEqual(ranked.map((x) => x.id));
    }
  });

  it('bad options are named before anything runs', async () => {
    const m = await model('stories260K-f32.gguf');
    expect(() => m.generate('x', { temperature: -1 })).toThrow(/temperature/);
    expect(() => m.generate('x', { stopTokens: [999999] })).toThrow(/stopTokens/);
    expect(() => m.generate('x', { logprobs: 21 })).toThrow(/logprobs/);
    expect(() => m.stream('x', { maxTokens: -2 })).toThrow(/maxTokens/);
    expect(() => m.generate('x', { signal: {} as AbortSignal })).toThrow(/signal/);
  });
});
