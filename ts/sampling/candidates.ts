import { RadixSorter } from './radix.js';

/**
 * Candidates: the tokens still in the running during one sampling step,
 * with their (adjusted) logits. Samplers narrow and reorder them in place;
 * the buffers are allocated once per sequence and reused every step.
 * @module
 */

/** Token ids and their logits; the first `size` entries are live. */
export class Candidates {
  ids: Int32Array;
  logits: Float32Array;
  size = 0;
  /** Whether the live entries are ordered by logit, highest first (ties: lower id first). */
  sorted = false;
  /** Scratch for sorts, shared with samplers that rank by other scores. */
  readonly sorter: RadixSorter;
  /** Scratch for samplers: a position, a mark and a bucket per candidate. */
  readonly positions: Int32Array;
  readonly marks: Uint8Array;
  readonly buckets: Uint16Array;
  #heap: Int32Array;
  #spareIds: Int32Array;
  #spareLogits: Float32Array;

  constructor(capacity: number) {
    this.ids = new Int32Array(capacity);
    this.logits = new Float32Array(capacity);
    this.sorter = new RadixSorter(capacity);
    this.positions = new Int32Array(capacity);
    this.marks = new Uint8Array(capacity);
    this.buckets = new Uint16Array(capacity);
    this.#heap = new Int32Array(capacity);
    this.#spareIds = new Int32Array(capacity);
    this.#spareLogits = new Float32Array(capacity);
  }

  /** Every token of a logits row (NaN scores count as -Infinity). */
  fill(row: Float32Array, offset: number, n: number): void {
    for (let i = 0; i < n; ++i) {
      const v = row[offset + i]!;
      this.ids[i] = i;
      this.logits[i] = v === v ? v : -Infinity;
    }
    this.size = n;
    this.sorted = false;
  }

  /**
   * A row's `k` largest entries, already in the order `sort` gives (the
   * native step's top-k: largest first, equal logits lower id first, NaN as
   * -Infinity), from `offset` of `ids` and `logits`.
   */
  fillTop(ids: Int32Array, logits: Float32Array, offset: number, k: number): void {
    this.ids.set(ids.subarray(offset, offset + k));
    this.logits.set(logits.subarray(offset, offset + k));
    this.size = k;
    this.sorted = true;
  }

  /** The highest logit (ties: the lower id), as an index into the live entries. */
  argmax(): number {
    let best = 0;
    for (let i = 1; i < this.size; ++i) {
      const v = this.logits[i]!, b = this.logits[best]!;
      if (v > b || (v === b && this.ids[i]! < this.ids[best]!)) best = i;
    }
    return best;
  }

  /** The highest logit among the live entries. */
  max(): number {
    if (this.sorted) return this.logits[0]!;
    let m = -Infinity;
    for (let i = 0; i < this.size; ++i) if (this.logits[i]! > m) m = this.logits[i]!;
    return m;
  }

  /** Keeps the live entries i with keep(logit, id) true, in order. */
  filter(keep: (logit: number, id: number) => boolean): void {
    let n = 0;
    for (let i = 0; i < this.size; ++i) {
      const l = this.logits[i]!, id = this.ids[i]!;
      if (keep(l, id)) {
        this.logits[n] = l;
        this.ids[n] = id;
        ++n;
      }
    }
    this.size = n;
  }

  /** Orders the live entries by logit, highest first, ties by lower id (two stable radix sorts). */
  sort(): void {
    if (this.sorted) return;
    const n = this.size;
    const keys = this.sorter.keys;
    let idsAscending = true;
    for (let i = 1; i < n && idsAscending; ++i) idsAscending = this.ids[i - 1]! < this.ids[i]!;
    if (!idsAscending) {
      for (let i = 0; i < n; ++i) keys[i] = this.ids[i]!;
      this.permute(this.sorter.sort(n, 21));
    }
    const bits = new Uint32Array(this.logits.buffer, this.logits.byteOffset, n);
    for (let i = 0; i < n; ++i) keys[i] = ~orderedBits(bits[i]!) >>> 0; // descending logit
    this.permute(this.sorter.sort(n, 32));
    this.sorted = true;
  }

  /** Reorders the live entries: entry i becomes the old entry perm[i] (perm may be shorter, dropping the rest). */
  permute(perm: Int32Array): void {
    const n = perm.length;
    const ids = this.#spareIds, logits = this.#spareLogits;
    for (let i = 0; i < n; ++i) {
      ids[i] = this.ids[perm[i]!]!;
      logits[i] = this.logits[perm[i]!]!;
    }
    this.ids.set(ids.subarray(0, n));
    this.logits.set(logits.subarray(0, n));
    this.size = n;
    this.sorted = false;
  }

  /** Keeps the `k` highest entries (ties: lower ids), sorted. */
  keepTop(k: number): void {
    if (k >= this.size) {
      this.sort();
      return;
    }
    // a min-heap of the best k seen so far, by (logit, -id); the root is the weakest
    const heap = this.#heap;
    const worse = (i: number, j: number): boolean => {
      const a = this.logits[i]!, b = this.logits[j]!;
      return a < b || (a === b && this.ids[i]! > this.ids[j]!);
    };
    const siftDown = (at: number): void => {
      for (;;) {
        const l = 2 * at + 1, r = l + 1;
        let m = at;
        if (l < k && worse(heap[l]!, heap[m]!)) m = l;
        if (r < k && worse(heap[r]!, heap[m]!)) m = r;
        if (m === at) return;
        const t = heap[at]!;
        heap[at] = heap[m]!;
        heap[m] = t;
        at = m;
      }
    };
    for (let i = 0; i < k; ++i) heap[i] = i;
    for (let i = (k >> 1) - 1; i >= 0; --i) siftDown(i);
    for (let i = k; i < this.size; ++i) {
      if (worse(heap[0]!, i)) {
        heap[0] = i;
        siftDown(0);
      }
    }
    this.permute(heap.subarray(0, k));
    this.sort();
  }

  /** Keeps only the first `k` live entries. */
  truncate(k: number): void {
    if (k < this.size) this.size = k;
  }
}

/** Ids fit 21 bits: the largest vocabulary a sampler takes. */
export const ID_SPAN = 0x200000;

// A float's bits as an unsigned integer that orders like the float: flip
// every bit of a negative, the sign bit of a positive.
function orderedBits(b: number): number {
  if (b === 0x80000000) return 0x80000000; // -0 sorts as +0
  return (b & 0x80000000 ? ~b : b | 0x80000000) >>> 0;
}
