/**
 * The sampling chain: options in, one token per step out. Runs the samplers
 * in llama.cpp's order (penalties, logit bias, top-k, typical, top-p,
 * min-p, temperature, draw) over one sequence's logits row, with a seeded
 * RNG, and keeps the recent tokens the penalties look at.
 * @module
 */
import { InvalidArgumentError } from '../errors.js';
import { Candidates, ID_SPAN } from './candidates.js';
import { randomSeed, Rng } from './rng.js';
import { applyLogitBias, applyPenalties, draw, minP, softmax, temperature, topK, topP, typical } from './samplers.js';

/**
 * How the next token is chosen. Every field is optional.
 *
 * @example
 * ```ts
 * const options: SamplingOptions = { temperature: 0.8, topK: 40, topP: 0.95, minP: 0.05, repeatPenalty: 1.1, seed: 1 };
 * await model.generate('Once upon a time', options);
 * ```
 */
export interface SamplingOptions {
  /**
   * Softmax temperature. `0` (the default) is greedy: always the most likely
   * token (ties: the lowest id), with no randomness.
   */
  temperature?: number;
  /** Keep only the `topK` most likely tokens; `0` keeps all. Default 40 (as llama.cpp). */
  topK?: number;
  /** Nucleus sampling: keep the most likely tokens until their probability reaches `topP`; `1` keeps all. Default 0.95. */
  topP?: number;
  /** Keep tokens at least `minP` times as likely as the most likely one; `0` keeps all. Default 0.05. */
  minP?: number;
  /** Locally typical sampling mass; `1` (the default) turns it off. */
  typicalP?: number;
  /** Penalise repeats of the last {@link SamplingOptions.repeatLastN} tokens: `1` (the default) is off, 1.1 is typical. */
  repeatPenalty?: number;
  /** How many recent tokens (prompt included) the penalties see; `0` none, `-1` all. Default 64. */
  repeatLastN?: number;
  /** Subtracted from a token's logit per earlier occurrence (OpenAI's `frequency_penalty`). Default 0. */
  frequencyPenalty?: number;
  /** Subtracted from a token's logit if it occurred at all (OpenAI's `presence_penalty`). Default 0. */
  presencePenalty?: number;
  /** Added to the logits of the given token ids; `-Infinity` bans a token. */
  logitBias?: Record<number, number> | ReadonlyMap<number, number>;
  /** Seed of the random draws: the same seed gives the same tokens. Default: a fresh random seed. */
  seed?: number;
}

/**
 * Sampling options with every default filled in (and the seed chosen).
 *
 * @example
 * ```ts
 * const sampler = new Sampler({ temperature: 0.8 }, model.info.vocabSize);
 * console.log(sampler.options.seed); // the seed drawn, to reproduce the run
 * ```
 */
export interface ResolvedSamplingOptions {
  temperature: number;
  topK: number;
  topP: number;
  minP: number;
  typicalP: number;
  repeatPenalty: number;
  repeatLastN: number;
  frequencyPenalty: number;
  presencePenalty: number;
  logitBias: Map<number, number>;
  seed: number;
}

function finite(name: string, v: number | undefined, fallback: number, ok: (x: number) => boolean, expected: string): number {
  if (v === undefined) return fallback;
  if (typeof v !== 'number' || !Number.isFinite(v) || !ok(v)) throw new InvalidArgumentError(`${name} must be ${expected}, got ${String(v)}`);
  return v;
}

/** Checks sampling options and fills in the defaults; throws {@link InvalidArgumentError} naming a bad one. */
export function resolveSamplingOptions(o: SamplingOptions, vocabSize: number): ResolvedSamplingOptions {
  const int = (x: number): boolean => Number.isInteger(x);
  const r: ResolvedSamplingOptions = {
    temperature: finite('temperature', o.temperature, 0, (x) => x >= 0, 'a number >= 0'),
    topK: finite('topK', o.topK, 40, (x) => int(x) && x >= 0, 'an integer >= 0'),
    topP: finite('topP', o.topP, 0.95, (x) => x > 0 && x <= 1, 'in (0, 1]'),
    minP: finite('minP', o.minP, 0.05, (x) => x >= 0 && x <= 1, 'in [0, 1]'),
    typicalP: finite('typicalP', o.typicalP, 1, (x) => x > 0 && x <= 1, 'in (0, 1]'),
    repeatPenalty: finite('repeatPenalty', o.repeatPenalty, 1, (x) => x > 0, 'a number > 0'),
    repeatLastN: finite('repeatLastN', o.repeatLastN, 64, (x) => int(x) && x >= -1, 'an integer >= -1'),
    frequencyPenalty: finite('frequencyPenalty', o.frequencyPenalty, 0, () => true, 'a finite number'),
    presencePenalty: finite('presencePenalty', o.presencePenalty, 0, () => true, 'a finite number'),
    logitBias: new Map(),
    seed: o.seed === undefined ? randomSeed() : finite('seed', o.seed, 0, (x) => int(x) && x >= 0 && x <= Number.MAX_SAFE_INTEGER, 'an integer in [0, 2^53)'),
  };
  if (o.logitBias !== undefined) {
    if (typeof o.logitBias !== 'object' || o.logitBias === null) throw new InvalidArgumentError('logitBias must be an object or a Map of token id → bias');
    const entries = o.logitBias instanceof Map ? [...o.logitBias.entries()] : Object.entries(o.logitBias);
    for (const [key, bias] of entries) {
      const id = Number(key);
      if (!Number.isInteger(id) || id < 0 || id >= vocabSize) throw new InvalidArgumentError(`logitBias: ${String(key)} is not a token id of this model (vocabulary ${vocabSize})`);
      if (typeof bias !== 'number' || Number.isNaN(bias) || bias === Infinity) throw new InvalidArgumentError(`logitBias[${id}] must be a number or -Infinity, got ${String(bias)}`);
      r.logitBias.set(id, bias);
    }
  }
  return r;
}

/**
 * One token's log-probability and the most likely alternatives at its step.
 *
 * @example
 * ```ts
 * const r = await model.generate('The capital of France is', { maxTokens: 1, logprobs: 5 });
 * for (const alt of r.logprobs![0]!.top) console.log(model.detokenize([alt.token]), Math.exp(alt.logprob));
 * ```
 */
export interface TokenLogprob {
  token: number;
  /** Natural log of the token's probability under the model (before any sampler). */
  logprob: number;
  /** The `logprobs` most likely tokens at this step, most likely first. */
  top: { token: number; logprob: number }[];
}

/**
 * Samples one sequence's tokens. Create one per generation; feed it the
 * prompt with {@link Sampler.accept}, then call {@link Sampler.sample} on
 * each step's logits row and accept the result.
 *
 * @example
 * ```ts
 * const sampler = new Sampler({ temperature: 0.8, seed: 1 }, model.info.vocabSize);
 * const logits = await model.logits(model.tokenize('Once upon a time'));
 * const next = sampler.sample(logits);
 * ```
 */
export class Sampler {
  /** The options in force, defaults filled in (`seed` is the one drawn when none was given). */
  readonly options: Readonly<ResolvedSamplingOptions>;
  readonly #vocab: number;
  readonly #rng: Rng;
  readonly #candidates: Candidates;
  readonly #probs: Float64Array;
  readonly #score: Float64Array;
  readonly #recent: number[] = [];
  readonly #counts = new Map<number, number>();

  constructor(options: SamplingOptions, vocabSize: number) {
    if (vocabSize < 1 || vocabSize > ID_SPAN) throw new InvalidArgumentError(`sampling: vocabulary size ${vocabSize} is out of range`);
    this.options = resolveSamplingOptions(options, vocabSize);
    this.#vocab = vocabSize;
    this.#rng = new Rng(this.options.seed);
    this.#candidates = new Candidates(vocabSize);
    this.#probs = new Float64Array(vocabSize);
    this.#score = new Float64Array(vocabSize);
  }

  /** Records a token (prompt or generated) for the repetition penalties. */
  accept(token: number): void {
    const window = this.options.repeatLastN;
    if (window === 0) return;
    this.#recent.push(token);
    this.#counts.set(token, (this.#counts.get(token) ?? 0) + 1);
    if (window > 0 && this.#recent.length > window) {
      const old = this.#recent.shift()!;
      const n = this.#counts.get(old)! - 1;
      if (n === 0) this.#counts.delete(old);
      else this.#counts.set(old, n);
    }
  }

  /**
   * Forgets the tokens recorded so far and records `history` instead (only
   * its last `repeatLastN` count): the penalties then see that text, as if
   * this sampler had followed it. A draft model's sampler does this before
   * each proposal, since the text lost the guesses the target rejected.
   */
  restart(history: readonly number[]): void {
    this.#recent.length = 0;
    this.#counts.clear();
    const window = this.options.repeatLastN;
    if (window === 0) return;
    for (let i = window > 0 ? Math.max(0, history.length - window) : 0; i < history.length; ++i) this.accept(history[i]!);
  }

  /** Chooses the next token from a row of `vocabSize` logits at `offset`. */
  sample(row: Float32Array, offset = 0): number {
    const o = this.options;
    if (this.plainGreedy) return argmaxOf(row, offset, this.#vocab);
    const c = this.#adjusted(row, offset);
    if (o.temperature <= 0) return c.ids[c.argmax()]!;
    this.#narrow(c);
    return draw(c, this.#rng.next(), this.#probs);
  }

  /**
   * How many of a row's largest logits `sampleTop` needs to choose as
   * `sample` would from the whole row: the top-k size where nothing before
   * top-k (penalties, biases) changes a logit and the choice is sampled
   * (temperature above 0); 0 where the whole row is needed.
   */
  get topKOnly(): number {
    const o = this.options;
    const plain = o.logitBias.size === 0 && o.repeatPenalty === 1 && o.frequencyPenalty === 0 && o.presencePenalty === 0;
    return plain && o.temperature > 0 && o.topK > 0 ? o.topK : 0;
  }

  /**
   * Chooses the next token from a row's `k` (at least `topKOnly`) largest
   * logits, given largest first with equal logits by lower id (`ids` and
   * `logits` from `offset`): the token `sample` would choose from the whole
   * row, drawing the same random number.
   */
  sampleTop(ids: Int32Array, logits: Float32Array, offset: number, k: number): number {
    const c = this.#candidates;
    c.fillTop(ids, logits, offset, k);
    this.#narrow(c);
    return draw(c, this.#rng.next(), this.#probs);
  }

  // The row's candidates with the penalties and biases applied.
  #adjusted(row: Float32Array, offset: number): Candidates {
    const o = this.options;
    const c = this.#candidates;
    c.fill(row, offset, this.#vocab);
    applyPenalties(c, this.#counts, { repeat: o.repeatPenalty, frequency: o.frequencyPenalty, presence: o.presencePenalty });
    applyLogitBias(c, o.logitBias);
    return c;
  }

  // The truncations, then the temperature.
  #narrow(c: Candidates): void {
    const o = this.options;
    topK(c, o.topK);
    typical(c, o.typicalP, this.#probs, this.#score);
    topP(c, o.topP, this.#probs, this.#score);
    minP(c, o.minP);
    temperature(c, o.temperature);
  }

  /**
   * Whether `sample` is the row's argmax itself: greedy with no penalties or
   * biases to apply first (the index of the largest logit, the lower id of
   * equal ones, NaN never).
   */
  get plainGreedy(): boolean {
    const o = this.options;
    return o.temperature <= 0 && o.logitBias.size === 0 && o.repeatPenalty === 1 && o.frequencyPenalty === 0 && o.presencePenalty === 0;
  }

  /** Whether this sampler picks the most likely token (temperature 0): its distribution is one token. */
  get greedy(): boolean {
    return this.options.temperature <= 0;
  }

  /**
   * The distribution `sample` draws from for this row, after the whole
   * chain (penalties, bias, top-k, typical, top-p, min-p, temperature), as
   * probabilities by token id in `out` (length: the vocabulary). For
   * speculative decoding, which compares a draft's distribution with the
   * target's. A greedy sampler's is all on its choice.
   */
  distribution(row: Float32Array, out: Float64Array, offset = 0): void {
    out.fill(0);
    if (this.greedy) {
      out[this.sample(row, offset)] = 1;
      return;
    }
    const c = this.#adjusted(row, offset);
    this.#narrow(c);
    softmax(c, this.#probs);
    for (let i = 0; i < c.size; ++i) out[c.ids[i]!] = this.#probs[i]!;
  }

  /** A uniform draw in [0, 1) from this sampler's generator. */
  uniform(): number {
    return this.#rng.next();
  }

  /**
   * Draws a token id from weights by id (any non-negative scale, at least
   * one positive), with this sampler's generator: speculative decoding's
   * residual distribution.
   */
  drawFrom(weights: Float64Array): number {
    let total = 0;
    for (let i = 0; i < weights.length; ++i) total += weights[i]!;
    const u = this.#rng.next() * total;
    let cum = 0;
    let last = -1;
    for (let i = 0; i < weights.length; ++i) {
      const w = weights[i]!;
      if (w <= 0) continue;
      cum += w;
      last = i;
      if (u < cum) return i;
    }
    return last;
  }
}

// Greedy without penalties or biases: the highest logit straight from the
// row (ties: the lower id; NaN never wins), as the candidate list would pick.
function argmaxOf(row: Float32Array, offset: number, n: number): number {
  let best = 0;
  let value = row[offset]!;
  if (value !== value) value = -Infinity;
  for (let i = 1; i < n; ++i) {
    const v = row[offset + i]!;
    if (v > value) {
      value = v;
      best = i;
    }
  }
  return best;
}

/**
 * The log-probability of `token` and the `n` most likely tokens in a raw
 * logits row (log-softmax in double precision).
 */
export function logprobsOf(row: Float32Array, offset: number, vocabSize: number, token: number, n: number, scratch?: Candidates): TokenLogprob {
  let m = -Infinity;
  for (let i = 0; i < vocabSize; ++i) if (row[offset + i]! > m) m = row[offset + i]!;
  let z = 0;
  for (let i = 0; i < vocabSize; ++i) z += Math.exp(row[offset + i]! - m);
  const logZ = m + Math.log(z);
  const top: { token: number; logprob: number }[] = [];
  if (n > 0) {
    const c = scratch ?? new Candidates(vocabSize);
    c.fill(row, offset, vocabSize);
    c.keepTop(Math.min(n, vocabSize));
    for (let i = 0; i < c.size; ++i) top.push({ token: c.ids[i]!, logprob: c.logits[i]! - logZ });
  }
  return { token, logprob: row[offset + token]! - logZ, top };
}
