/**
 * A tiny byte-level BPE trainer for synthetic vocabularies: merges learned
 * over whole strings (no pre-tokenization), so they cross the boundaries
 * that pre-tokenizers draw, and a different split shows in the ids.
 */

/** GPT-2's byte-to-symbol map (printable bytes map to themselves). */
export function byteSymbols(): string[] {
  const symbols: string[] = [];
  let next = 256;
  for (let b = 0; b < 256; ++b) {
    const printable = (b >= 0x21 && b <= 0x7e) || (b >= 0xa1 && b <= 0xac) || (b >= 0xae && b <= 0xff);
    symbols.push(String.fromCodePoint(printable ? b : next++));
  }
  return symbols;
}

export interface TrainedBpe {
  tokens: string[];
  merges: string[];
}

/** Learns `count` merges, most frequent pair first (ties: smallest pair). */
export function trainByteLevelBpe(corpus: string[], count: number): TrainedBpe {
  const symbols = byteSymbols();
  const encoder = new TextEncoder();
  const sequences = corpus.map((text) => Array.from(encoder.encode(text), (b) => symbols[b]!));
  const tokens = [...symbols];
  const known = new Set(tokens);
  const merges: string[] = [];
  for (let m = 0; m < count; ++m) {
    const counts = new Map<string, number>();
    for (const seq of sequences) {
      for (let i = 0; i + 1 < seq.length; ++i) {
        const key = `${seq[i]}\u0000${seq[i + 1]}`;
        counts.set(key, (counts.get(key) ?? 0) + 1);
      }
    }
    let best: string | undefined;
    let bestCount = 1;
    for (const [key, n] of counts) {
      if (n > bestCount || (n === bestCount && best !== undefined && key < best)) {
        best = key;
        bestCount = n;
      }
    }
    if (best === undefined) break;
    const [left, right] = best.split('\u0000') as [string, string];
    if (left.includes(' ') || right.includes(' ')) continue; // cannot be written as a merge line
    merges.push(`${left} ${right}`);
    const joined = left + right;
    if (!known.has(joined)) {
      known.add(joined);
      tokens.push(joined);
    }
    for (const seq of sequences) {
      for (let i = 0; i + 1 < seq.length; ++i) {
        if (seq[i] === left && seq[i + 1] === right) seq.splice(i, 2, joined);
      }
    }
  }
  return { tokens, merges };
}
