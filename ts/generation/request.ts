/**
 * One request as the scheduler drives it: what it feeds the next step, and
 * what it does with the logits it gets back (sample, stream, stop).
 *
 * A request feeds its prompt in chunks, then one token per step. A row's
 * arithmetic depends only on its token and kind (prompt row or decoded
 * token), so its output does not depend on which steps it shares with other
 * requests, and a preempted request that feeds everything again (prompt
 * rows as prompt rows, generated tokens one per step) recomputes exactly the
 * same cache.
 * @module
 */
import { Candidates } from '../sampling/candidates.js';
import type { Draft, DraftLength, Drafter } from '../speculative/drafter.js';
import { logprobsOf, Sampler, type TokenLogprob } from '../sampling/chain.js';
import type { StreamingDetokenizer } from '../tokenizer/stream.js';
import type { Tokenizer } from '../tokenizer/tokenizer.js';
import type { FinishReason, GenerationChunk, GenerationResult, ResolvedLimits } from './options.js';
import { StopMatcher } from './stop.js';

/** The rows a request adds to a step: consecutive tokens from `position`. */
export interface Feed {
  tokens: number[];
  position: number;
  /** Whether the last row's logits are needed. */
  logits: boolean;
  /** Decoded tokens (fed one per step), not prompt rows: they sum in single-row order. */
  decode: boolean;
  /** Logits for every row, not just the last: the last known token followed by guesses to verify. */
  allLogits?: boolean;
  /** A scoring request's prompt chunk: logits for its rows from this index on (see GenerationRequest.scoreFrom). */
  logitsFrom?: number;
}

/** Speculative decoding for a request: where its guesses come from, and how many to ask for. */
export interface Speculation {
  drafter: Drafter;
  length: DraftLength;
}

export interface RequestHooks {
  onChunk(chunk: GenerationChunk): void;
  resolve(result: GenerationResult): void;
  reject(err: unknown): void;
}

// The row #take gets with a token the step chose: it reads the row for logprobs only, which such requests do not ask for.
const NO_ROW = new Float32Array(0);

export class GenerationRequest {
  readonly prompt: number[];
  readonly limits: ResolvedLimits;
  readonly hooks: RequestHooks;
  /** The KV sequence while the request holds one, else -1. */
  seq = -1;
  /** How many of prompt + generated tokens are in the KV cache. */
  fed = 0;
  /** When it first got a sequence (for timings and preemption order). */
  startedAt: number | undefined;
  /** Prompt tokens taken from the prefix cache when it first got a sequence. */
  cachedTokens: number | undefined;
  /**
   * Other completions of the same prompt (n > 1): they wait until this
   * request's prompt is in the cache, then fork its sequence (sharing its
   * blocks, copy-on-write) and sample from the same logits.
   */
  readonly followers: GenerationRequest[] = [];
  done = false;
  /** For a scoring request (maxTokens 0, see Model.logits): the last logits row. */
  lastLogits: Float32Array | undefined;
  /**
   * For a scoring request that wants the logits of every prompt position
   * from this one on (Model.evaluate): they go to `onScoreRows`, and no
   * cached prefix covers them.
   */
  readonly scoreFrom: number | undefined;
  readonly onScoreRows: ((position: number, rows: Float32Array[]) => void) | undefined;
  readonly speculation: Speculation | undefined;
  // the prompt and the tokens so far, in one array for the drafter (speculating requests only)
  readonly #history: number[] | undefined;
  #draft: Draft | undefined;
  #p: Float64Array | undefined;
  readonly #spec = { drafted: 0, accepted: 0, steps: 0 };
  readonly #tokens: number[] = [];
  readonly #sampler: Sampler | undefined;
  readonly #vocab: number;
  readonly #ends: Set<number>;
  readonly #detokenizer: StreamingDetokenizer;
  readonly #stops: StopMatcher;
  readonly #scratch: Candidates | undefined;
  readonly #logprobs: TokenLogprob[] = [];
  #unsent: { tokens: number[]; logprobs: TokenLogprob[] } = { tokens: [], logprobs: [] };
  #text = '';
  #firstTokenAt: number | undefined;

  /** `sampler` undefined makes a scoring request: it feeds the prompt and keeps the last logits. */
  constructor(prompt: number[], limits: ResolvedLimits, sampler: Sampler | undefined, tokenizer: Tokenizer, hooks: RequestHooks,
    speculation?: Speculation, score?: { from: number; onRows: (position: number, rows: Float32Array[]) => void }) {
    this.prompt = prompt;
    this.scoreFrom = sampler === undefined ? score?.from : undefined;
    this.onScoreRows = sampler === undefined ? score?.onRows : undefined;
    this.speculation = sampler ? speculation : undefined;
    this.#history = this.speculation ? [...prompt] : undefined;
    this.limits = limits;
    this.hooks = hooks;
    this.#sampler = sampler;
    this.#vocab = tokenizer.vocabSize;
    if (sampler) for (const t of prompt) sampler.accept(t);
    this.#ends = new Set([...limits.stopTokens, ...(limits.ignoreEos ? [] : tokenizer.endOfGenerationTokens)]);
    this.#detokenizer = tokenizer.createStreamingDetokenizer();
    this.#stops = new StopMatcher(limits.stop);
    this.#scratch = limits.logprobs !== undefined && limits.logprobs > 0 ? new Candidates(this.#vocab) : undefined;
  }

  /** The tokens generated so far. */
  get tokens(): readonly number[] {
    return this.#tokens;
  }

  /** What to feed next: a prompt chunk (at most `chunk` tokens) or one token. */
  nextFeed(chunk: number): Feed {
    const known = this.prompt.length + this.#tokens.length;
    if (this.fed < this.prompt.length) {
      const end = Math.min(this.prompt.length, this.fed + chunk);
      const feed: Feed = { tokens: this.prompt.slice(this.fed, end), position: this.fed, logits: end === known, decode: false };
      if (this.scoreFrom !== undefined && this.scoreFrom < end) feed.logitsFrom = Math.max(0, this.scoreFrom - this.fed);
      return feed;
    }
    const token = this.#tokens[this.fed - this.prompt.length]!;
    if (this.#draft !== undefined && this.fed + 1 === known) {
      return { tokens: [token, ...this.#draft.tokens], position: this.fed, logits: true, decode: true, allLogits: true };
    }
    return { tokens: [token], position: this.fed, logits: this.fed + 1 === known, decode: true };
  }

  /**
   * How many guesses to ask for in the next step, at most `max`: fewer
   * when recent guesses failed, none past maxTokens, none before decoding
   * (the last known token must be the next fed).
   */
  draftWant(max: number): number {
    const spec = this.speculation;
    const known = this.prompt.length + this.#tokens.length;
    if (spec === undefined || this.done || this.#tokens.length === 0 || this.fed + 1 !== known) return 0;
    return Math.max(0, Math.min(max, spec.length.next(), this.limits.maxTokens - this.#tokens.length - 1));
  }

  /** Asks the drafter for `want` guesses to verify in the next step; resolves to how many it holds. */
  async draft(want: number): Promise<number> {
    this.#draft = undefined;
    if (want <= 0 || this.speculation === undefined) return 0;
    const draft = await this.speculation.drafter.propose(this.#history!, want);
    if (draft.tokens.length === 0 || this.done) return 0;
    this.#draft = { tokens: draft.tokens.slice(0, want), ...(draft.q ? { q: draft.q.slice(0, want) } : {}) };
    return this.#draft.tokens.length;
  }

  /** Forgets the guesses (a step with them did not fit the KV cache). */
  dropDraft(): void {
    this.#draft = undefined;
  }

  /**
   * The logits of a step that verified guesses: one row after the last
   * known token and one after each guess. Greedy keeps the guesses the
   * model itself picks, then its own next token; sampling accepts guess x
   * with probability min(1, p(x)/q(x)) and on rejection draws from
   * norm(max(0, p - q)) (Leviathan et al. 2023, Chen et al. 2023), where p
   * is the model's distribution after the sampling chain and q the draft's;
   * after all guesses, a bonus token from the last row. Rows past the first
   * rejection leave the cache (`fed` drops to the kept ones; the scheduler
   * truncates the sequence). Returns whether the request finished.
   */
  onDraftLogits(rows: Float32Array[]): boolean {
    const draft = this.#draft!;
    this.#draft = undefined;
    const guesses = draft.tokens;
    const sampler = this.#sampler!;
    let accepted = 0;
    let finished = false;
    for (let i = 0; i <= guesses.length && !finished; ++i) {
      const row = rows[i]!;
      if (i === guesses.length) {
        finished = this.#take(sampler.sample(row), row);
        break;
      }
      const x = guesses[i]!;
      let token: number;
      if (sampler.greedy) {
        token = sampler.sample(row);
      } else {
        const p = (this.#p ??= new Float64Array(this.#vocab));
        sampler.distribution(row, p);
        const q = draft.q?.[i];
        const qx = q ? q[x]! : 1;
        if (sampler.uniform() * qx < p[x]!) {
          token = x;
        } else {
          // the residual max(0, p - q): q is all on x for a certain guess
          for (let t = 0; t < p.length; ++t) p[t] = Math.max(0, p[t]! - (q ? q[t]! : t === x ? 1 : 0));
          token = sampler.drawFrom(p);
          if (token < 0) token = sampler.sample(row);
        }
      }
      finished = this.#take(token, row);
      if (token !== x) break;
      ++accepted;
    }
    this.#spec.drafted += guesses.length;
    this.#spec.accepted += accepted;
    ++this.#spec.steps;
    this.speculation?.length.record(guesses.length, accepted);
    // the last known token and the accepted guesses stay in the cache
    this.fed -= guesses.length - accepted;
    return finished;
  }

  /** Rows of the next feed went into the cache. */
  fedRows(n: number): void {
    this.fed += n;
  }

  /** Starts over after preemption: the sequence is gone, the tokens stay and are fed again. */
  preempted(): void {
    this.seq = -1;
    this.fed = 0;
  }

  /**
   * Whether the next token is the most likely one and nothing else of its
   * logits row is needed (greedy without penalties or biases, no logprobs,
   * no speculation, no followers to sample from the same row): the step may
   * then hand over just that token (onGreedyToken).
   */
  get wantsGreedyToken(): boolean {
    return this.#sampler !== undefined && this.#sampler.plainGreedy && this.limits.maxTokens > 0 && this.limits.logprobs === undefined &&
      this.speculation === undefined && this.followers.length === 0;
  }

  /** The most likely token after the last known one, chosen by the step: stream it, maybe finish. Returns whether it finished. */
  onGreedyToken(token: number): boolean {
    return this.#take(token, NO_ROW);
  }

  /**
   * How many of the next logits row's largest entries suffice to sample the
   * next token as from the whole row (the sampler's top-k, without
   * penalties or biases before it), where nothing else of the row is needed
   * (no logprobs, speculation or followers); 0 when the whole row is.
   */
  get wantsTopK(): number {
    if (this.#sampler === undefined || this.limits.maxTokens <= 0 || this.limits.logprobs !== undefined) return 0;
    return this.speculation === undefined && this.followers.length === 0 ? this.#sampler.topKOnly : 0;
  }

  /**
   * The next logits row's `k` largest entries (at least wantsTopK), largest
   * first, from `offset` of `ids` and `logits`: sample, stream, maybe
   * finish. Returns whether it finished.
   */
  onTopLogits(ids: Int32Array, logits: Float32Array, offset: number, k: number): boolean {
    if (this.#sampler === undefined) throw new Error('onTopLogits: a scoring request keeps whole rows');
    return this.#take(this.#sampler.sampleTop(ids, logits, offset, k), NO_ROW);
  }

  /** The logits after the last known token: sample, stream, maybe finish. Returns whether it finished. */
  onLogits(row: Float32Array): boolean {
    if (this.#sampler === undefined) {
      this.lastLogits = Float32Array.from(row);
      return this.#finish('length');
    }
    if (this.limits.maxTokens === 0) return this.#finish('length');
    return this.#take(this.#sampler.sample(row), row);
  }

  // Appends a chosen token (row: the logits it was chosen from), streams it
  // and checks the stopping rules. Returns whether the request finished.
  #take(token: number, row: Float32Array): boolean {
    this.#firstTokenAt ??= performance.now();
    if (this.#ends.has(token)) return this.#finish('stop');
    this.#tokens.push(token);
    this.#history?.push(token);
    this.#sampler!.accept(token);
    this.#unsent.tokens.push(token);
    if (this.limits.logprobs !== undefined) {
      const lp = logprobsOf(row, 0, this.#vocab, token, this.limits.logprobs, this.#scratch);
      this.#logprobs.push(lp);
      this.#unsent.logprobs.push(lp);
    }
    this.#send(this.#stops.push(this.#detokenizer.push(token)), false);
    if (this.#stops.stopped) return this.#finish('stop');
    if (this.#tokens.length >= this.limits.maxTokens) return this.#finish('length');
    return false;
  }

  /** Ends the request (abort, or an error elsewhere) if it has not ended. */
  abort(): void {
    if (!this.done) this.#finish('abort');
  }

  #send(piece: string, final: boolean): void {
    if (piece === '' && !(final && this.#unsent.tokens.length > 0)) return;
    this.#text += piece;
    const chunk: GenerationChunk = { text: piece, tokens: this.#unsent.tokens };
    if (this.limits.logprobs !== undefined) chunk.logprobs = this.#unsent.logprobs;
    this.#unsent = { tokens: [], logprobs: [] };
    this.hooks.onChunk(chunk);
  }

  #finish(reason: FinishReason): true {
    this.done = true;
    // text still held back (an unfinished character, a possible stop string) is final now
    if (!this.#stops.stopped) this.#send(this.#stops.push(this.#detokenizer.flush()) + this.#stops.flush(), true);
    else this.#send('', true);
    const end = performance.now();
    const start = this.startedAt ?? end;
    const first = this.#firstTokenAt ?? end;
    const decodeMs = end - first;
    const result: GenerationResult = {
      text: this.#text,
      tokens: [...this.#tokens],
      finishReason: reason,
      usage: { promptTokens: this.prompt.length, completionTokens: this.#tokens.length, cachedTokens: this.cachedTokens ?? 0 },
      timings: { prefillMs: first - start, decodeMs, tokensPerSecond: this.#tokens.length > 0 && decodeMs > 0 ? (this.#tokens.length / decodeMs) * 1000 : 0 },
    };
    if (this.limits.logprobs !== undefined) result.logprobs = this.#logprobs;
    if (this.speculation !== undefined) result.speculation = { ...this.#spec };
    this.hooks.resolve(result);
    return true;
  }
}
