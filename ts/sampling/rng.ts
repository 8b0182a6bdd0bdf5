/**
 * The seeded random number generator behind sampling: xoshiro128** seeded
 * through splitmix32, in 32-bit integer arithmetic only, so a seed gives the
 * same draws on every platform and Node version.
 * @module
 */

/** A seeded source of uniform numbers in [0, 1). */
export class Rng {
  #a: number;
  #b: number;
  #c: number;
  #d: number;

  /** `seed`: any integer in [0, 2^53); the same seed gives the same sequence. */
  constructor(seed: number) {
    let s = seed >>> 0;
    let hi = Math.floor(seed / 2 ** 32) >>> 0;
    const next = (): number => {
      // splitmix32 over the low word, mixed with the high word once
      s = (s + 0x9e3779b9) | 0;
      let z = s ^ hi;
      z = Math.imul(z ^ (z >>> 16), 0x21f0aaad);
      z = Math.imul(z ^ (z >>> 15), 0x735a2d97);
      hi = (hi + 0x6a09e667) | 0;
      return (z ^ (z >>> 15)) >>> 0;
    };
    this.#a = next();
    this.#b = next();
    this.#c = next();
    this.#d = next();
    if ((this.#a | this.#b | this.#c | this.#d) === 0) this.#d = 1; // the one state xoshiro cannot leave
  }

  /** The next 32 random bits, as an unsigned integer. */
  nextUint32(): number {
    const result = Math.imul(rotl(Math.imul(this.#b, 5), 7), 9) >>> 0;
    const t = this.#b << 9;
    this.#c ^= this.#a;
    this.#d ^= this.#b;
    this.#b ^= this.#c;
    this.#a ^= this.#d;
    this.#c ^= t;
    this.#d = rotl(this.#d, 11);
    return result;
  }

  /** A uniform double in [0, 1) with 53 random bits. */
  next(): number {
    const high = this.nextUint32() >>> 5; // 27 bits
    const low = this.nextUint32() >>> 6; // 26 bits
    return (high * 2 ** 26 + low) / 2 ** 53;
  }
}

function rotl(x: number, k: number): number {
  return (x << k) | (x >>> (32 - k));
}

/** A fresh seed from the operating system's random source. */
export function randomSeed(): number {
  const words = new Uint32Array(2);
  globalThis.crypto.getRandomValues(words);
  return (words[0]! & 0x1fffff) * 2 ** 32 + words[1]!;
}
