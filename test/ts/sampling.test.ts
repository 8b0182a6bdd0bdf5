/**
 * The samplers, checked with statistics: on fixed logits, 100k seeded draws
 * against the distribution each sampler should give (computed here by a
 * plain sort-and-cut reference), by a chi-square test at significance
 * 0.001; and the exact survivor sets at the edges of top-k, top-p and min-p.
 */
import { describe, expect, it } from 'vitest';

import { Candidates } from '../../ts/sampling/candidates.js';
import { Sampler, logprobsOf, type SamplingOptions } from '../../ts/sampling/chain.js';
import { RadixSorter } from '../../ts/sampling/radix.js';
import { Rng } from '../../ts/sampling/rng.js';
import { minP, topK, topP, typical } from '../../ts/sampling/samplers.js';

const DRAWS = 100_000;

// Chi-square critical values at significance 0.001: exact for 1 and 2
// degrees of freedom, Wilson-Hilferty beyond (z = 3.0902).
function chiSquareCritical(df: number): number {
  if (df === 1) return 10.828;
  if (df === 2) return 13.816;
  const a = 2 / (9 * df);
  return df * (1 - a + 3.0902 * Math.sqrt(a)) ** 3;
}

// The reference: tokens ranked by logit (ties: lower id), cut the textbook way.
interface Ref { topK?: number; topP?: number; minP?: number; temperature: number }
function referenceDistribution(logits: number[], r: Ref): Map<number, number> {
  // banned tokens (-Infinity) are never candidates
  let ranked = logits.map((l, id) => ({ id, l })).filter((x) => x.l > -Infinity).sort((a, b) => b.l - a.l || a.id - b.id);
  if (r.topK && r.topK > 0) ranked = ranked.slice(0, r.topK);
  const softmax = (xs: { l: number }[]): number[] => {
    const m = Math.max(...xs.map((x) => x.l));
    const e = xs.map((x) => Math.exp(x.l - m));
    const s = e.reduce((a, b) => a + b, 0);
    return e.map((v) => v / s);
  };
  if (r.topP !== undefined && r.topP < 1) {
    const p = softmax(ranked);
    let cum = 0, keep = ranked.length;
    for (let i = 0; i < p.length; ++i) {
      cum += p[i]!;
      if (cum >= r.topP) { keep = i + 1; break; }
    }
    ranked = ranked.slice(0, keep);
  }
  if (r.minP !== undefined && r.minP > 0) {
    const top = ranked[0]!.l;
    ranked = ranked.filter((x) => Math.exp(x.l - top) >= r.minP!);
  }
  const p = softmax(ranked.map((x) => ({ l: x.l / r.temperature })));
  return new Map(ranked.map((x, i) => [x.id, p[i]!]));
}

function drawCounts(logits: number[], options: SamplingOptions, history: number[] = []): Map<number, number> {
  const sampler = new Sampler({ seed: 42, ...options }, logits.length);
  for (const t of history) sampler.accept(t);
  const row = Float32Array.from(logits);
  const counts = new Map<number, number>();
  for (let i = 0; i < DRAWS; ++i) {
    const t = sampler.sample(row);
    counts.set(t, (counts.get(t) ?? 0) + 1);
  }
  return counts;
}

function expectDistribution(counts: Map<number, number>, expected: Map<number, number>): void {
  for (const token of counts.keys()) expect(expected.has(token), `token ${token} was drawn but should have been cut`).toBe(true);
  let chi2 = 0;
  for (const [token, p] of expected) {
    const e = p * DRAWS;
    const o = counts.get(token) ?? 0;
    chi2 += (o - e) ** 2 / e;
  }
  const df = expected.size - 1;
  if (df === 0) {
    expect(counts.size).toBe(1);
    return;
  }
  expect(chi2, `chi-square ${chi2.toFixed(2)} with ${df} degrees of freedom`).toBeLessThan(chiSquareCritical(df));
}

// float32-exact logits, so the reference sees what the sampler sees
const LOGITS = Array.from(Float32Array.from([2.5, 1.0, 0.3, 2.1, -0.5, 1.7, 0.0, -1.2, 0.9, 1.9, -3.0, 0.4]));
const NEUTRAL = { topK: 0, topP: 1, minP: 0 };

describe('draws follow the intended distribution (chi-square, 100k draws, significance 0.001)', () => {
  for (const t of [0.5, 1, 2]) {
    it(`temperature ${t}`, () => {
      expectDistribution(drawCounts(LOGITS, { ...NEUTRAL, temperature: t }), referenceDistribution(LOGITS, { temperature: t }));
    });
  }
  it('top-k 4', () => {
    expectDistribution(drawCounts(LOGITS, { ...NEUTRAL, topK: 4, temperature: 1 }), referenceDistribution(LOGITS, { topK: 4, temperature: 1 }));
  });
  it('top-p 0.8', () => {
    expectDistribution(drawCounts(LOGITS, { ...NEUTRAL, topP: 0.8, temperature: 1 }), referenceDistribution(LOGITS, { topP: 0.8, temperature: 1 }));
  });
  it('min-p 0.2 with temperature 0.7', () => {
    expectDistribution(drawCounts(LOGITS, { ...NEUTRAL, minP: 0.2, temperature: 0.7 }), referenceDistribution(LOGITS, { minP: 0.2, temperature: 0.7 }));
  });
  it('the default chain: top-k 40, top-p 0.95, min-p 0.05, temperature 0.8', () => {
    expectDistribution(drawCounts(LOGITS, { temperature: 0.8 }), referenceDistribution(LOGITS, { topK: 40, topP: 0.95, minP: 0.05, temperature: 0.8 }));
  });
  it('typical 0.7: the tokens whose surprise is nearest the entropy, until their mass passes 0.7', () => {
    const m = Math.max(...LOGITS);
    const z = LOGITS.reduce((s, l) => s + Math.exp(l - m), 0);
    const p = LOGITS.map((l) => Math.exp(l - m) / z);
    const entropy = -p.reduce((s, x) => s + x * Math.log(x), 0);
    const byCloseness = p.map((x, id) => ({ id, d: Math.abs(-Math.log(x) - entropy) })).sort((a, b) => a.d - b.d);
    const kept: number[] = [];
    let cum = 0;
    for (const { id } of byCloseness) {
      kept.push(id);
      cum += p[id]!;
      if (cum > 0.7) break;
    }
    const zKept = kept.reduce((s, id) => s + p[id]!, 0);
    const expected = new Map(kept.map((id) => [id, p[id]! / zKept]));
    expectDistribution(drawCounts(LOGITS, { ...NEUTRAL, typicalP: 0.7, temperature: 1 }), expected);
  });
  it('repeat, frequency and presence penalties over the recent tokens', () => {
    const history = [0, 0, 3, 4, 9, 0, 7];
    const counts = new Map<number, number>();
    for (const t of history) counts.set(t, (counts.get(t) ?? 0) + 1);
    const penalised = LOGITS.map((l, id) => {
      const n = counts.get(id) ?? 0;
      if (n === 0) return l;
      const r = l <= 0 ? l * 1.3 : l / 1.3;
      return Math.fround(Math.fround(r) - (n * 0.4 + 0.25));
    });
    const options = { ...NEUTRAL, temperature: 1, repeatPenalty: 1.3, frequencyPenalty: 0.4, presencePenalty: 0.25 };
    expectDistribution(drawCounts(LOGITS, options, history), referenceDistribution(penalised, { temperature: 1 }));
  });
  it('restart forgets the recorded tokens and records the given text, its last repeatLastN', () => {
    const row = Float32Array.from(LOGITS);
    const options = { ...NEUTRAL, temperature: 1, repeatPenalty: 1.3, presencePenalty: 0.5, repeatLastN: 3 };
    const distribution = (s: Sampler): Float64Array => {
      const out = new Float64Array(row.length);
      s.distribution(row, out);
      return out;
    };
    const fresh = new Sampler(options, row.length);
    for (const t of [4, 9, 0]) fresh.accept(t);
    const reused = new Sampler(options, row.length);
    for (const t of [1, 2, 3, 5, 6]) reused.accept(t);
    reused.restart([7, 7, 4, 9, 0]); // only 4, 9, 0 fall in the window
    expect(distribution(reused)).toEqual(distribution(fresh));
    expect(distribution(new Sampler(options, row.length))).not.toEqual(distribution(fresh));
  });
  it('logit bias, including a banned token', () => {
    const bias = { 0: -Infinity, 6: 2.5, 10: 1 };
    const biased = LOGITS.map((l, id) => l + ((bias as Record<number, number>)[id] ?? 0));
    expectDistribution(drawCounts(LOGITS, { ...NEUTRAL, temperature: 1, logitBias: bias }), referenceDistribution(biased, { temperature: 1 }));
  });
});

function survivors(logits: number[], apply: (c: Candidates) => void): number[] {
  const c = new Candidates(logits.length);
  c.fill(Float32Array.from(logits), 0, logits.length);
  apply(c);
  return Array.from(c.ids.subarray(0, c.size)).sort((a, b) => a - b);
}

describe('survivor sets at the edges', () => {
  it('top-k keeps exactly k, ties at the edge going to the lower ids', () => {
    expect(survivors([1, 3, 2, 2, 2, 0], (c) => topK(c, 2))).toEqual([1, 2]);
    expect(survivors([1, 3, 2, 2, 2, 0], (c) => topK(c, 4))).toEqual([1, 2, 3, 4]);
    expect(survivors([5, 5, 5], (c) => topK(c, 1))).toEqual([0]);
    expect(survivors([1, 2, 3], (c) => topK(c, 0))).toEqual([0, 1, 2]);
    expect(survivors([1, 2, 3], (c) => topK(c, 10))).toEqual([0, 1, 2]);
  });
  it('top-p stops at the first token that brings the mass to p, ties by lower id', () => {
    // four equal tokens: 0.25 each, exactly
    expect(survivors([0, 0, 0, 0], (c) => topP(c, 0.5, new Float64Array(c.size), new Float64Array(c.size)))).toEqual([0, 1]);
    expect(survivors([0, 0, 0, 0], (c) => topP(c, 0.5000001, new Float64Array(c.size), new Float64Array(c.size)))).toEqual([0, 1, 2]);
    expect(survivors([0, 0, 0, 0], (c) => topP(c, 0.25, new Float64Array(c.size), new Float64Array(c.size)))).toEqual([0]);
    expect(survivors([0, 0, 0, 0], (c) => topP(c, 1, new Float64Array(c.size), new Float64Array(c.size)))).toEqual([0, 1, 2, 3]);
    // one dominant token covers p by itself
    expect(survivors([10, 0, 0], (c) => topP(c, 0.9, new Float64Array(c.size), new Float64Array(c.size)))).toEqual([0]);
  });
  it('top-p over a large vocabulary (the histogram path) keeps the same set as a full sort', () => {
    const rng = new Rng(7);
    const logits = Array.from({ length: 50_000 }, () => Math.fround((rng.next() - 0.5) * 12));
    const ranked = logits.map((l, id) => ({ l, id })).sort((a, b) => b.l - a.l || a.id - b.id);
    const m = ranked[0]!.l;
    const z = logits.reduce((s, l) => s + Math.exp(l - m), 0);
    for (const p of [0.5, 0.9, 0.99]) {
      let cum = 0, keep = 0;
      while (cum < p) cum += Math.exp(ranked[keep++]!.l - m) / z;
      expect(survivors(logits, (c) => topP(c, p, new Float64Array(c.size), new Float64Array(c.size)))).toEqual(ranked.slice(0, keep).map((x) => x.id).sort((a, b) => a - b));
    }
  });
  it('typical over a large vocabulary (the histogram path) keeps the same set as a full sort', () => {
    const rng = new Rng(8);
    const logits = Array.from({ length: 50_000 }, () => Math.fround((rng.next() - 0.5) * 12));
    const m = Math.max(...logits);
    const z = logits.reduce((s, l) => s + Math.exp(l - m), 0);
    const p = logits.map((l) => Math.exp(l - m) / z);
    const entropy = -p.reduce((s, x) => s + x * Math.log(x), 0);
    const ranked = p.map((x, id) => ({ id, d: Math.fround(Math.abs(-Math.log(x) - entropy)) })).sort((a, b) => a.d - b.d || a.id - b.id);
    for (const mass of [0.3, 0.9]) {
      let cum = 0, keep = 0;
      while (!(cum > mass)) cum += p[ranked[keep++]!.id]!;
      const got = survivors(logits, (c) => typical(c, mass, new Float64Array(c.size), new Float64Array(c.size)));
      expect(got).toEqual(ranked.slice(0, keep).map((x) => x.id).sort((a, b) => a - b));
    }
  });
  it('min-p keeps every token at or above p times the top probability, ties included', () => {
    expect(survivors([2, 2, 1, 0], (c) => minP(c, 1))).toEqual([0, 1]);
    expect(survivors([0, -0.5, -0.69, -0.7, -1], (c) => minP(c, 0.5))).toEqual([0, 1, 2]);
    expect(survivors([0, -0.5, -0.5, -3], (c) => minP(c, 0.6))).toEqual([0, 1, 2]);
  });
  it('typical keeps at least one token', () => {
    expect(survivors([0, 0, 0], (c) => typical(c, 0.01, new Float64Array(3), new Float64Array(3)))).toHaveLength(1);
  });
});

describe('sorting', () => {
  it('the radix sort orders by key, stably, for any key width', () => {
    const rng = new Rng(99);
    const n = 5000;
    const sorter = new RadixSorter(n);
    for (const range of [7, 300, 2 ** 32]) {
      const keys = Array.from({ length: n }, () => Math.floor(rng.next() * range) >>> 0);
      sorter.keys.set(keys);
      const got = Array.from(sorter.sort(n, 32));
      const want = keys.map((k, i) => ({ k, i })).sort((a, b) => a.k - b.k || a.i - b.i).map((x) => x.i);
      expect(got).toEqual(want);
    }
  });
  it('candidates sort by logit, ties by lower id, whatever order they arrive in', () => {
    const c = new Candidates(6);
    c.ids.set([5, 3, 4, 0, 2, 1]);
    c.logits.set([1, 2, 2, -0, 0, 2]);
    c.size = 6;
    c.sort();
    expect(Array.from(c.ids)).toEqual([1, 3, 4, 5, 0, 2]);
    expect(Array.from(c.logits)).toEqual([2, 2, 2, 1, -0, 0]); // -0 ranks as 0: by id
  });
});

describe('determinism and greedy', () => {
  const row = Float32Array.from(LOGITS);
  it('the same seed gives the same tokens; another seed gives others', () => {
    const run = (seed: number): number[] => {
      const s = new Sampler({ temperature: 1, topK: 0, topP: 1, minP: 0, seed }, LOGITS.length);
      return Array.from({ length: 200 }, () => s.sample(row));
    };
    expect(run(123)).toEqual(run(123));
    expect(run(123)).not.toEqual(run(124));
  });
  it('the random stream is fixed for a seed on every platform', () => {
    const rng = new Rng(2026);
    const first = [rng.nextUint32(), rng.nextUint32(), rng.nextUint32()];
    const again = new Rng(2026);
    expect([again.nextUint32(), again.nextUint32(), again.nextUint32()]).toEqual(first);
    const u = new Rng(1);
    for (let i = 0; i < 10_000; ++i) {
      const x = u.next();
      expect(x >= 0 && x < 1).toBe(true);
    }
  });
  it('temperature 0 is the exact argmax (ties: the lowest id), after penalties and bias', () => {
    expect(new Sampler({ temperature: 0 }, 4).sample(Float32Array.from([1, 3, 3, 2]))).toBe(1);
    expect(new Sampler({ temperature: 0, logitBias: { 1: -1 } }, 4).sample(Float32Array.from([1, 3, 3, 2]))).toBe(2);
    const s = new Sampler({ temperature: 0, repeatPenalty: 2 }, 4);
    s.accept(1);
    s.accept(2);
    expect(s.sample(Float32Array.from([1, 3, 3, 2]))).toBe(3);
    expect(new Sampler({ temperature: 0 }, 3).sample(Float32Array.from([NaN, 1, 0]))).toBe(1);
    expect(new Sampler({ temperature: 0 }, 3).sample(Float32Array.from([NaN, NaN, NaN]))).toBe(0);
    expect(new Sampler({ temperature: 0 }, 3).sample(Float32Array.from([9, 9, -Infinity, 5, 1]), 2)).toBe(1);
  });
  it('plain greedy (read straight from the row) picks what the candidate chain picks', () => {
    // a zero bias changes no logit but sends the row through the candidate list
    const fast = new Sampler({ temperature: 0 }, 64), chain = new Sampler({ temperature: 0, logitBias: { 0: 0 } }, 64);
    const rng = new Rng(5);
    for (let trial = 0; trial < 500; ++trial) {
      // few distinct values, so ties are common; some NaN and infinities
      const row = Float32Array.from({ length: 64 }, () => {
        const r = rng.next();
        return r < 0.05 ? NaN : r < 0.08 ? -Infinity : r < 0.09 ? Infinity : Math.floor(rng.next() * 6);
      });
      expect(fast.sample(row)).toBe(chain.sample(row));
    }
  });
  it('bad options are named', () => {
    expect(() => new Sampler({ temperature: -1 }, 4)).toThrow(/temperature/);
    expect(() => new Sampler({ topP: 0 }, 4)).toThrow(/topP/);
    expect(() => new Sampler({ topK: 1.5 }, 4)).toThrow(/topK/);
    expect(() => new Sampler({ logitBias: { 9: 1 } }, 4)).toThrow(/logitBias: 9/);
    expect(() => new Sampler({ seed: -1 }, 4)).toThrow(/seed/);
  });
  it('logprobs: the chosen token and the top n, from the raw logits', () => {
    const lp = logprobsOf(row, 0, LOGITS.length, 3, 3);
    const m = Math.max(...LOGITS);
    const logZ = m + Math.log(LOGITS.reduce((s, l) => s + Math.exp(l - m), 0));
    expect(lp.logprob).toBeCloseTo(LOGITS[3]! - logZ, 12);
    expect(lp.top.map((t) => t.token)).toEqual([0, 3, 9]);
    expect(lp.top[0]!.logprob).toBeCloseTo(LOGITS[0]! - logZ, 12);
  });
});
