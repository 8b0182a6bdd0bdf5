/**
 * Drafting with a smaller model: for each speculating request a sequence in
 * a context of the draft model's own, kept in step with the request's text
 * (rolled back to what the target accepted, then fed what is new), from
 * which it samples its guesses through the same sampling chain. Proposals
 * of requests that share a target step run in shared draft steps.
 * @module
 */
import { InvalidArgumentError } from '../errors.js';
import { RowFlag, type RawContext } from '../native/types.js';
import { Sampler, type SamplingOptions } from '../sampling/chain.js';
import type { Tokenizer } from '../tokenizer/tokenizer.js';
import type { Draft, Drafter } from './drafter.js';

interface Proposal {
  session: DraftSession;
  history: readonly number[];
  max: number;
  resolve: (draft: Draft) => void;
}

/** One draft-model context serving every speculating request of a target model. */
export class DraftEngine {
  readonly #ctx: RawContext;
  readonly #vocab: number;
  readonly #chunk: number;
  #queue: Proposal[] = [];
  #flushing = false;
  #disposed = false;

  constructor(ctx: RawContext, vocabSize: number, chunk: number) {
    this.#ctx = ctx;
    this.#vocab = vocabSize;
    this.#chunk = chunk;
  }

  /** A drafter for one request, sampling as `sampling` says. */
  drafter(sampling: SamplingOptions): Drafter {
    return new DraftSession(this, sampling, this.#vocab);
  }

  /** Guesses for a session; proposals made in the same turn share steps. */
  propose(session: DraftSession, history: readonly number[], max: number): Promise<Draft> {
    return new Promise((resolve) => {
      this.#queue.push({ session, history, max, resolve });
      if (!this.#flushing) {
        this.#flushing = true;
        setImmediate(() => void this.#flush());
      }
    });
  }

  release(session: DraftSession): void {
    if (session.seq >= 0 && !this.#disposed) this.#ctx.seqRelease(session.seq);
    session.seq = -1;
    session.fed = [];
  }

  dispose(): void {
    this.#disposed = true;
    this.#ctx.dispose();
  }

  async #flush(): Promise<void> {
    const batch = this.#queue.splice(0);
    this.#flushing = false;
    try {
      if (this.#disposed) throw new Error('disposed');
      await this.#run(batch);
    } catch {
      // a draft that cannot be made (the draft cache is full, the model went away) is no draft
      for (const p of batch) {
        this.release(p.session);
        p.resolve({ tokens: [] });
      }
    }
  }

  async #run(batch: Proposal[]): Promise<void> {
    const V = this.#vocab;
    // roll each sequence back to what it shares with the text, then feed the rest
    let work = batch.map((p) => {
      const s = p.session;
      if (s.seq < 0) {
        // a new sequence starts from the draft cache's blocks of the same text, if any
        s.seq = this.#ctx.seqCreate();
        const known = p.history.slice(0, -1);
        s.fed = known.slice(0, this.#ctx.seqReusePrefix(s.seq, Int32Array.from(known), known.length));
      }
      let common = 0;
      while (common < s.fed.length && common < p.history.length - 1 && s.fed[common] === p.history[common]) ++common;
      if (common < s.fed.length) this.#ctx.seqTruncate(s.seq, common);
      s.fed = p.history.slice(0, common);
      return { p, tokens: p.history.slice(common), from: common };
    });
    // catch-up rows in steps of at most a chunk; each sequence's last row gives its first guess
    // (rows are views of each step's fresh logits buffer, read before the next step)
    const firstRows = new Map<Proposal, Float32Array>();
    while (work.length > 0) {
      const rows: number[] = [];
      const withLogits: Proposal[] = [];
      let budget = this.#chunk;
      const next: typeof work = [];
      for (const w of work) {
        const take = Math.min(w.tokens.length, Math.max(1, budget));
        const last = take === w.tokens.length;
        for (let i = 0; i < take; ++i) rows.push(w.p.session.seq, w.tokens[i]!, w.from + i, last && i === take - 1 ? RowFlag.logits : 0);
        if (last) withLogits.push(w.p);
        else next.push({ p: w.p, tokens: w.tokens.slice(take), from: w.from + take });
        w.p.session.fed.push(...w.tokens.slice(0, take));
        budget -= take;
      }
      const logits = await this.#ctx.step(Int32Array.from(rows));
      withLogits.forEach((p, i) => firstRows.set(p, logits.subarray(i * V, (i + 1) * V)));
      work = next;
    }
    const pending = batch.map((p) => ({ p, sampler: p.session.samplerFor(p.history), tokens: [] as number[], q: [] as Float64Array[] }));
    // guess one token per step for every sequence that wants more
    let rowsOf = new Map(pending.map((d) => [d, firstRows.get(d.p)!]));
    for (;;) {
      const rows: number[] = [];
      const stepping: typeof pending = [];
      for (const d of pending) {
        const row = rowsOf.get(d);
        if (row === undefined) continue;
        let token: number;
        if (d.sampler.greedy) {
          token = d.sampler.sample(row); // a certain guess: no distribution to keep
        } else {
          const q = d.p.session.distributionBuffer(d.q.length);
          d.sampler.distribution(row, q);
          token = d.sampler.drawFrom(q);
          d.q.push(q);
        }
        d.sampler.accept(token);
        d.tokens.push(token);
        if (d.tokens.length < d.p.max) {
          rows.push(d.p.session.seq, token, d.p.session.fed.length, RowFlag.logits | RowFlag.decode);
          d.p.session.fed.push(token);
          stepping.push(d);
        }
      }
      if (stepping.length === 0) break;
      const logits = await this.#ctx.step(Int32Array.from(rows));
      rowsOf = new Map(stepping.map((d, i) => [d, logits.subarray(i * V, (i + 1) * V)]));
    }
    for (const d of pending) d.p.resolve(d.sampler.greedy ? { tokens: d.tokens } : { tokens: d.tokens, q: d.q });
  }
}

/** One request's drafter: its sequence in the draft context and the tokens fed there. */
class DraftSession implements Drafter {
  seq = -1;
  fed: number[] = [];
  readonly #engine: DraftEngine;
  readonly #sampling: SamplingOptions;
  readonly #vocab: number;
  #sampler: Sampler | undefined;
  // a proposal's distributions, one per guess: the request reads them in
  // the step that verifies the guesses, before the next proposal
  readonly #distributions: Float64Array[] = [];

  constructor(engine: DraftEngine, sampling: SamplingOptions, vocab: number) {
    this.#engine = engine;
    this.#sampling = sampling;
    this.#vocab = vocab;
  }

  propose(history: readonly number[], max: number): Promise<Draft> {
    return this.#engine.propose(this, history, max);
  }

  // The request's sampling chain for the draft's logits, its penalties
  // seeing the text; a generator of its own (seeded from the request's)
  // draws the guesses.
  samplerFor(history: readonly number[]): Sampler {
    if (this.#sampler === undefined) {
      const seed = this.#sampling.seed === undefined ? undefined : (this.#sampling.seed * 7919 + 1) % 2 ** 52;
      this.#sampler = new Sampler({ ...this.#sampling, ...(seed !== undefined ? { seed } : {}) }, this.#vocab);
    }
    this.#sampler.restart(history);
    return this.#sampler;
  }

  // The buffer for guess i's distribution, reused from proposal to proposal.
  distributionBuffer(i: number): Float64Array {
    while (this.#distributions.length <= i) this.#distributions.push(new Float64Array(this.#vocab));
    return this.#distributions[i]!;
  }

  dispose(): void {
    this.#engine.release(this);
  }
}

/**
 * Throws unless the draft reads and writes text with the target's
 * vocabulary: the same size and the same piece for every id (the first
 * differences are listed).
 */
export function checkSameVocabulary(target: Tokenizer, draft: Tokenizer): void {
  if (target.vocabSize !== draft.vocabSize) {
    throw new InvalidArgumentError(`the draft model's vocabulary has ${draft.vocabSize} tokens and the target's ${target.vocabSize}: they must be the same`);
  }
  const differences: string[] = [];
  for (let id = 0; id < target.vocabSize && differences.length < 5; ++id) {
    const a = target.tokenToBytes(id), b = draft.tokenToBytes(id);
    if (a.length !== b.length || a.some((x, i) => x !== b[i])) {
      const show = (bytes: Uint8Array): string => JSON.stringify(Buffer.from(bytes).toString('utf8'));
      differences.push(`${id}: ${show(a)} vs ${show(b)}`);
    }
  }
  if (differences.length > 0) {
    throw new InvalidArgumentError(`the draft model's vocabulary differs from the target's (token: target vs draft): ${differences.join(', ')}`);
  }
}

/** A drafter for a draft context still being created: it starts drafting once the context exists. */
export function lazyDrafter(engine: Promise<DraftEngine>, sampling: SamplingOptions): Drafter {
  let inner: Drafter | undefined;
  let disposed = false;
  return {
    async propose(history, max) {
      const e = await engine.catch(() => undefined);
      if (e === undefined || disposed) return { tokens: [] };
      inner ??= e.drafter(sampling);
      return inner.propose(history, max);
    },
    dispose() {
      disposed = true;
      inner?.dispose?.();
    },
  };
}
