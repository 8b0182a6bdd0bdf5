/**
 * The samplers: each a small function that narrows or reshapes the
 * candidates of one step, with llama.cpp's semantics. The chain
 * (chain.ts) runs them in llama.cpp's order.
 *
 * Ties are broken the same way everywhere: between equal logits the lower
 * token id ranks first, so top-k and top-p keep the lower ids at their edge
 * and greedy picks the lowest id of the maxima.
 * @module
 */
import type { Candidates } from './candidates.js';
import { keepUntilMass } from './mass-cut.js';

/** Repetition penalties over the recent tokens (counts per token id). */
export interface Penalties {
  /** Logits of seen tokens are divided by this (multiplied when negative); 1 = off. */
  repeat: number;
  /** Subtracted once per occurrence. */
  frequency: number;
  /** Subtracted once if the token occurred at all. */
  presence: number;
}

/** Applies `penalties` to the tokens in `counts` (token id → occurrences). */
export function applyPenalties(c: Candidates, counts: ReadonlyMap<number, number>, p: Penalties): void {
  if (counts.size === 0 || (p.repeat === 1 && p.frequency === 0 && p.presence === 0)) return;
  // candidates are still the whole vocabulary in id order at this point of the chain
  for (const [id, count] of counts) {
    const i = c.ids[id] === id ? id : indexOf(c, id);
    if (i < 0) continue;
    let l = c.logits[i]!;
    l = l <= 0 ? l * p.repeat : l / p.repeat;
    c.logits[i] = l - count * p.frequency - (count > 0 ? p.presence : 0);
  }
  c.sorted = false;
}

/** Adds `bias[id]` to each listed token's logit (-Infinity bans it). */
export function applyLogitBias(c: Candidates, bias: ReadonlyMap<number, number>): void {
  if (bias.size === 0) return;
  for (const [id, b] of bias) {
    const i = c.ids[id] === id ? id : indexOf(c, id);
    if (i >= 0) c.logits[i] = c.logits[i]! + b;
  }
  c.sorted = false;
}

function indexOf(c: Candidates, id: number): number {
  for (let i = 0; i < c.size; ++i) if (c.ids[i] === id) return i;
  return -1;
}

/** Keeps the `k` highest; `k <= 0` keeps all. */
export function topK(c: Candidates, k: number): void {
  if (k <= 0 || k >= c.size) return;
  c.keepTop(k);
}

/**
 * The probabilities of the live candidates (softmax in double precision),
 * written to `out`; returns their sum before normalising.
 */
export function softmax(c: Candidates, out: Float64Array): number {
  const m = c.max();
  let sum = 0;
  for (let i = 0; i < c.size; ++i) {
    const e = Math.exp(c.logits[i]! - m);
    out[i] = e;
    sum += e;
  }
  for (let i = 0; i < c.size; ++i) out[i] = out[i]! / sum;
  return sum;
}

/**
 * Nucleus sampling: keeps the smallest set of highest-probability tokens
 * whose probabilities sum to at least `p`. `p >= 1` keeps all.
 */
export function topP(c: Candidates, p: number, probs: Float64Array, score: Float64Array): void {
  if (p >= 1 || c.size <= 1) return;
  softmax(c, probs);
  for (let i = 0; i < c.size; ++i) score[i] = -c.logits[i]!;
  keepUntilMass(c, score, probs, p, false);
}

/**
 * Locally typical sampling: ranks tokens by how close their surprise
 * (-log p) is to the distribution's entropy and keeps the closest ones
 * until their probabilities sum past `p`. `p >= 1` keeps all.
 */
export function typical(c: Candidates, p: number, probs: Float64Array, score: Float64Array): void {
  if (p >= 1 || c.size <= 1) return;
  softmax(c, probs);
  let entropy = 0;
  for (let i = 0; i < c.size; ++i) if (probs[i]! > 0) entropy -= probs[i]! * Math.log(probs[i]!);
  // scored in single precision, as llama.cpp scores it
  for (let i = 0; i < c.size; ++i) {
    const pi = probs[i]!;
    score[i] = pi > 0 ? Math.fround(Math.abs(-Math.log(pi) - entropy)) : Infinity;
  }
  keepUntilMass(c, score, probs, p, true);
}

/** Keeps the tokens whose probability is at least `p` times the top one's. `p <= 0` keeps all. */
export function minP(c: Candidates, p: number, minKeep = 1): void {
  if (p <= 0 || c.size <= 1) return;
  const threshold = c.max() + Math.log(p);
  let survivors = 0;
  for (let i = 0; i < c.size; ++i) if (c.logits[i]! >= threshold) ++survivors;
  if (survivors < minKeep) {
    c.sort();
    c.truncate(minKeep);
    return;
  }
  c.filter((l) => l >= threshold);
}

/** Divides the logits by `t` (> 0). */
export function temperature(c: Candidates, t: number): void {
  if (t === 1) return;
  for (let i = 0; i < c.size; ++i) c.logits[i] = c.logits[i]! / t;
}

/** Draws one token id from the softmax of the live candidates, with `u` uniform in [0, 1). */
export function draw(c: Candidates, u: number, probs: Float64Array): number {
  softmax(c, probs);
  let cum = 0;
  for (let i = 0; i < c.size; ++i) {
    cum += probs[i]!;
    if (u < cum) return c.ids[i]!;
  }
  // rounding left the sum a hair under 1: the last token with any probability
  for (let i = c.size - 1; i >= 0; --i) if (probs[i]! > 0) return c.ids[i]!;
  return c.ids[0]!;
}
