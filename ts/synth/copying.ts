/**
 * The weights of a synthetic model that copies. Random weights never repeat
 * a text, so speculative decoding's guesses would never be accepted on them;
 * real models do repeat (quotes, edits, code), and what makes them do it is
 * an induction circuit. This one is built by hand in the first two layers:
 *
 * - layer 0, head 0 attends to the previous position only (a RoPE phase
 *   shift of one position on constant queries and keys) and writes that
 *   token's match code into the residual;
 * - layer 1, one head per KV group, matches the current token's code against
 *   every position's previous-token code and copies the output code of the
 *   token found there, twice over, so after `… A B … A` the model says `B`;
 * - every other weight is small noise, so a step costs what any model of the
 *   shape costs.
 *
 * Codes use the lowest RoPE frequencies, which barely turn over the context.
 * @module
 */
import { InvalidArgumentError } from '../errors.js';
import type { SynthShape } from './presets.js';

/** Score margin (after the 1/sqrt(head) scale) of the previous position over any other. */
const POSITION_MARGIN = 32;
/** Score margin of a token's own code over a code one bit away. */
const MATCH_MARGIN = 16;
/** How far the circuit has to work, at most. */
const REACH = 8192;

/** A fixed bit of a token's hashed code. */
function hashBit(token: number, dim: number, salt: number): number {
  let h = Math.imul(token ^ 0x9e3779b9, 0x85ebca6b) ^ Math.imul(dim + salt, 0xc2b2ae35);
  h ^= h >>> 15;
  h = Math.imul(h, 0x27d4eb2f);
  h ^= h >>> 13;
  return (h >>> 7) & 1;
}

/** The designed tensors by name; the rest of the model is noise. */
export function copyingWeights(s: SynthShape): Map<string, Float32Array> {
  const D = s.embedding;
  const hd = s.headDim ?? D / s.heads;
  const group = s.heads / s.kvHeads;
  const reach = Math.min(s.context, REACH);
  const theta = Array.from({ length: hd / 2 }, (_, k) => s.ropeBase ** ((-2 * k) / hd));

  // match codes: the token id in binary first (every token its own code), then hashed bits
  const bits = Math.ceil(Math.log2(s.vocab));
  const slowPairs = theta.filter((t) => t * reach <= 1).length;
  const pairs = Math.min(hd / 2, Math.max(slowPairs, Math.ceil(bits / 2)));
  const n = 2 * pairs;
  const nv = s.kvHeads * hd;
  const A = 1, B = 1 + n, V = 1 + 2 * n;
  if (V + nv > D) {
    throw new InvalidArgumentError(`a copying model needs an embedding of at least ${V + nv}, this shape has ${D}`);
  }
  const matchBit = (t: number, d: number): number => (d < bits ? (t >> d) & 1 : hashBit(t, d, 1));
  const rms0 = Math.sqrt((1 + n + nv) / D);
  const rms1 = Math.sqrt((1 + 2 * n + nv) / D);

  const embd = new Float32Array(s.vocab * D);
  for (let t = 0; t < s.vocab; ++t) {
    const row = t * D;
    embd[row] = 1;
    for (let d = 0; d < n; ++d) embd[row + A + d] = matchBit(t, d) ? 1 : -1;
    for (let d = 0; d < nv; ++d) embd[row + V + d] = hashBit(t, d, 2) ? 1 : -1;
  }

  // layer 0: how many of the fastest pairs give the widest margin for the previous position
  let bestPairs = 1, bestGap = 0;
  for (let K = 1; K <= hd / 2; ++K) {
    let gap = Infinity;
    for (let delta = 0; delta <= reach && gap > bestGap; ++delta) {
      if (delta === 1) continue;
      let g = 0;
      for (let k = 0; k < K; ++k) g += 1 - Math.cos(theta[k]! * (delta - 1));
      gap = Math.min(gap, g);
    }
    if (gap > bestGap) [bestPairs, bestGap] = [K, gap];
  }
  const a = Math.sqrt((POSITION_MARGIN * Math.sqrt(hd)) / bestGap);
  const q0 = new Float32Array(s.heads * hd * D);
  const k0 = new Float32Array(nv * D);
  const v0 = new Float32Array(nv * D);
  const o0 = new Float32Array(D * s.heads * hd);
  for (let k = 0; k < bestPairs; ++k) {
    // RoPE turns q by θ·i and k by θ·j: a phase of -θ puts the peak at i - j = 1
    q0[2 * k * D] = a * Math.cos(-theta[k]!) * rms0;
    q0[(2 * k + 1) * D] = a * Math.sin(-theta[k]!) * rms0;
    k0[2 * k * D] = a * rms0;
  }
  for (let d = 0; d < n; ++d) {
    v0[d * D + A + d] = rms0;
    o0[(B + d) * s.heads * hd + d] = 1;
  }

  // layer 1: one induction head per KV group, each carrying its slice of the output code
  const scale = Math.sqrt((MATCH_MARGIN * Math.sqrt(hd)) / 2) * rms1;
  const q1 = new Float32Array(s.heads * hd * D);
  const k1 = new Float32Array(nv * D);
  const v1 = new Float32Array(nv * D);
  const o1 = new Float32Array(D * s.heads * hd);
  for (let g = 0; g < s.kvHeads; ++g) {
    const head = g * group;
    for (let d = 0; d < n; ++d) {
      const dim = hd - n + d;
      q1[(head * hd + dim) * D + A + d] = scale;
      k1[(g * hd + dim) * D + B + d] = scale;
    }
    for (let e = 0; e < hd; ++e) {
      v1[(g * hd + e) * D + V + g * hd + e] = rms1;
      o1[(V + g * hd + e) * s.heads * hd + head * hd + e] = 2;
    }
  }

  const weights = new Map<string, Float32Array>([
    ['token_embd.weight', embd],
    ['blk.0.attn_q.weight', q0], ['blk.0.attn_k.weight', k0], ['blk.0.attn_v.weight', v0], ['blk.0.attn_output.weight', o0],
    ['blk.1.attn_q.weight', q1], ['blk.1.attn_k.weight', k1], ['blk.1.attn_v.weight', v1], ['blk.1.attn_output.weight', o1],
  ]);
  if (!s.tiedOutput) weights.set('output.weight', embd);
  return weights;
}
