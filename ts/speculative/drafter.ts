/**
 * What speculative decoding needs from a source of guesses, and how many
 * guesses to ask for.
 * @module
 */

/** Guessed tokens, and for each the distribution the guesser sampled it from. */
export interface Draft {
  tokens: number[];
  /**
   * Per token, the draft's probabilities by token id after the sampling
   * chain; absent when each guess was certain (prompt lookup, greedy drafts).
   */
  q?: Float64Array[];
}

/** A source of guesses for one request. */
export interface Drafter {
  /** Up to `max` tokens that may follow `history` (the prompt and the tokens generated so far). */
  propose(history: readonly number[], max: number): Draft | Promise<Draft>;
  /** Frees what the drafter holds (a draft model's sequence). */
  dispose?(): void;
}

/**
 * The number of tokens to draft next, from how the recent drafts fared: one
 * more after a draft accepted whole (up to `max`), the accepted length plus
 * one after a partial acceptance, half after a draft rejected outright,
 * down to `min`. At zero no draft is made; after `probeEvery` steps one
 * token is tried again, so a text that starts repeating is noticed. With
 * `backoff`, each probe that fails doubles the wait (up to 8 times): for
 * guesses that cost a draft model's steps and never come true.
 */
export class DraftLength {
  readonly #min: number;
  readonly #max: number;
  readonly #probeEvery: number;
  #length: number;
  #idle = 0;
  #wait: number;
  readonly #backoff: boolean;

  constructor(min: number, max: number, probeEvery = 16, backoff = false) {
    this.#min = min;
    this.#max = max;
    this.#probeEvery = probeEvery;
    this.#backoff = backoff;
    this.#wait = probeEvery;
    this.#length = max;
  }

  /** Tokens to draft for the next step. */
  next(): number {
    if (this.#length > 0) return this.#length;
    if (++this.#idle >= this.#wait) {
      this.#idle = 0;
      return 1;
    }
    return 0;
  }

  /** The last draft had `proposed` tokens, of which the first `accepted` were right. */
  record(proposed: number, accepted: number): void {
    if (proposed === 0) return;
    if (accepted > 0) this.#wait = this.#probeEvery;
    else if (this.#length === 0 && this.#backoff) this.#wait = Math.min(2 * this.#wait, 8 * this.#probeEvery);
    let next: number;
    if (accepted === proposed) next = this.#length + 1;
    else if (accepted > 0) next = accepted + 1;
    else next = Math.floor(this.#length / 2);
    this.#length = Math.max(this.#min, Math.min(this.#max, next));
  }
}
