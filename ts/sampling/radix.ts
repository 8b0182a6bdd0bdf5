/**
 * A stable least-significant-digit radix sort of positions by 32-bit keys:
 * a full sort of a 128k-entry logits row in a few linear passes, where a
 * comparison sort would cost tens of milliseconds.
 * @module
 */

/** Sorts positions by unsigned keys, ascending and stable; buffers are reused. */
export class RadixSorter {
  /** Fill `keys[0..n)` before calling {@link RadixSorter.sort}. */
  readonly keys: Uint32Array;
  #keysSpare: Uint32Array;
  #perm: Int32Array;
  #permSpare: Int32Array;
  readonly #count = new Int32Array(256);

  constructor(capacity: number) {
    this.keys = new Uint32Array(capacity);
    this.#keysSpare = new Uint32Array(capacity);
    this.#perm = new Int32Array(capacity);
    this.#permSpare = new Int32Array(capacity);
  }

  /**
   * The positions 0..n-1 ordered by `keys` (equal keys keep their order),
   * looking at the low `bits` bits only. The result is valid until the next call.
   */
  sort(n: number, bits = 32): Int32Array {
    let keys = this.keys.subarray(0, n), spareKeys = this.#keysSpare.subarray(0, n);
    let perm = this.#perm.subarray(0, n), sparePerm = this.#permSpare.subarray(0, n);
    for (let i = 0; i < n; ++i) perm[i] = i;
    const count = this.#count;
    let inSpare = false;
    for (let shift = 0; shift < bits; shift += 8) {
      count.fill(0);
      for (let i = 0; i < n; ++i) count[(keys[i]! >>> shift) & 0xff]!++;
      if (count[(keys[0]! >>> shift) & 0xff] === n) continue; // every key has this byte: nothing moves
      let sum = 0;
      for (let b = 0; b < 256; ++b) {
        const c = count[b]!;
        count[b] = sum;
        sum += c;
      }
      for (let i = 0; i < n; ++i) {
        const k = keys[i]!;
        const at = count[(k >>> shift) & 0xff]!++;
        spareKeys[at] = k;
        sparePerm[at] = perm[i]!;
      }
      [keys, spareKeys] = [spareKeys, keys];
      [perm, sparePerm] = [sparePerm, perm];
      inSpare = !inSpare;
    }
    // keep `keys` the public buffer: if the result ended in the spare, swap the roles
    if (inSpare) {
      this.keys.set(keys);
      this.#perm.set(perm);
      perm = this.#perm.subarray(0, n);
    }
    return perm;
  }
}
