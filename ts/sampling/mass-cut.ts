/**
 * The cut behind top-p and typical sampling: keep the best-scored tokens
 * until their probability mass reaches p. A full sort of a 128k vocabulary
 * costs more than the rest of the chain together, so the scores go into a
 * histogram first; only the bucket where the mass reaches p is sorted (and
 * a crowded bucket is itself split again).
 * @module
 */
import type { Candidates } from './candidates.js';

const BUCKETS = 1024;
const SORT_BELOW = 2048;

/**
 * Keeps the live candidates with the lowest `score` (equal scores: the
 * earlier candidate first) whose probabilities `probs`, summed in that
 * order, reach `p` (pass it, when `strict`); always at least one. The
 * survivors keep their order. `score` and `probs` are aligned with the
 * candidates; `score` may hold +Infinity for tokens of probability 0.
 */
export function keepUntilMass(c: Candidates, score: Float64Array, probs: Float64Array, p: number, strict: boolean): void {
  const n = c.size;
  const kept = c.marks.subarray(0, n);
  kept.fill(0);
  let members = c.positions.subarray(0, n);
  for (let i = 0; i < n; ++i) members[i] = i;
  const mass = new Float64Array(BUCKETS);
  const bucketOf = c.buckets;
  const reached = (cum: number): boolean => (strict ? cum > p : cum >= p);
  let cum = 0;
  for (;;) {
    let lo = Infinity, hi = -Infinity;
    for (let j = 0; j < members.length; ++j) {
      const s = score[members[j]!]!;
      if (s < lo) lo = s;
      if (s > hi && s < Infinity) hi = s;
    }
    if (members.length <= SORT_BELOW || !(hi > lo)) {
      // few enough (or all equal): sort them and walk
      const order = Array.from(members).sort((a, b) => score[a]! - score[b]! || a - b);
      for (const i of order) {
        kept[i] = 1;
        cum += probs[i]!;
        if (reached(cum)) break;
      }
      break;
    }
    // bucket by score; the mass of whole buckets decides which one holds the edge
    mass.fill(0);
    const scale = BUCKETS / (hi - lo);
    for (let j = 0; j < members.length; ++j) {
      const i = members[j]!;
      const b = Math.min(BUCKETS - 1, Math.floor((score[i]! - lo) * scale));
      bucketOf[i] = b;
      mass[b] = mass[b]! + probs[i]!;
    }
    let edge = BUCKETS - 1;
    for (let b = 0; b < BUCKETS; ++b) {
      if (reached(cum + mass[b]!)) {
        edge = b;
        break;
      }
      cum += mass[b]!;
    }
    let next = 0;
    for (let j = 0; j < members.length; ++j) {
      const i = members[j]!;
      const b = bucketOf[i]!;
      if (b < edge) kept[i] = 1;
      else if (b === edge) members[next++] = i; // in candidate order still
    }
    members = members.subarray(0, next);
    if (next === 0) break;
  }
  let out = 0;
  for (let i = 0; i < n; ++i) {
    if (kept[i]) {
      c.ids[out] = c.ids[i]!;
      c.logits[out] = c.logits[i]!;
      ++out;
    }
  }
  c.size = out;
  c.sorted = false;
}
