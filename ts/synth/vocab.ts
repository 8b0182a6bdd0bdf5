/**
 * Synthetic tokenizer vocabularies for random-weight models: complete
 * enough that llama.cpp builds a tokenizer from them (byte tokens for
 * SentencePiece byte fallback, byte-level BPE symbols with merges whose
 * results are all tokens, unique texts, special tokens typed CONTROL).
 * @module
 */

/** llama.cpp's token types. */
export const TOKEN_TYPE = { normal: 1, unknown: 2, control: 3, userDefined: 4, unused: 5, byte: 6 } as const;

/** A vocabulary as GGUF's tokenizer.ggml.* metadata holds it. */
export interface SynthVocab {
  model: 'llama' | 'gpt2';
  pre?: string;
  tokens: string[];
  scores?: Float32Array;
  tokenTypes: Int32Array;
  merges?: string[];
  bosId: number;
  eosId: number;
  unknownId?: number;
  addBos: boolean;
}

const LETTERS = 'etaoinshrdlucmfwypvbgkjqxzETAOINSHRDLUCMFWYPVBGKJQXZ';

/**
 * Grows `count` new pieces from a seed alphabet by concatenating existing
 * pieces, in a fixed order, each text unique. `join(a, b)` yields the
 * candidate; returns [left, right, result] triples.
 */
function growPieces(alphabet: string[], count: number, taken: Set<string>): [string, string, string][] {
  const out: [string, string, string][] = [];
  const pieces = [...alphabet];
  const letters = alphabet.slice(0, Math.min(alphabet.length, 60));
  for (let i = 0; out.length < count; ++i) {
    const left = pieces[i % pieces.length]!;
    for (const right of letters) {
      if (out.length >= count) break;
      const text = left + right;
      if (taken.has(text) || text.length > 16) continue;
      taken.add(text);
      pieces.push(text);
      out.push([left, right, text]);
    }
  }
  return out;
}

/** A SentencePiece ("llama") vocabulary: <unk>, <s>, </s>, 256 byte tokens, then pieces. */
export function sentencePieceVocab(size: number): SynthVocab {
  if (size < 300) throw new RangeError(`a SentencePiece vocabulary needs at least 300 tokens, got ${size}`);
  const tokens = ['<unk>', '<s>', '</s>'];
  for (let b = 0; b < 256; ++b) tokens.push(`<0x${b.toString(16).toUpperCase().padStart(2, '0')}>`);
  const taken = new Set(tokens);
  const alphabet = ['▁', ...LETTERS, ...'0123456789.,!?\'"-:;()'].filter((t) => !taken.has(t));
  for (const t of alphabet) taken.add(t);
  tokens.push(...alphabet.slice(0, size - tokens.length));
  const grown = growPieces(['▁', ...LETTERS], size - tokens.length, taken);
  tokens.push(...grown.map((g) => g[2]));
  const tokenTypes = new Int32Array(size).fill(TOKEN_TYPE.normal);
  tokenTypes[0] = TOKEN_TYPE.unknown;
  tokenTypes[1] = TOKEN_TYPE.control;
  tokenTypes[2] = TOKEN_TYPE.control;
  tokenTypes.fill(TOKEN_TYPE.byte, 3, 259);
  const scores = new Float32Array(size);
  for (let i = 259; i < size; ++i) scores[i] = -(i - 259);
  return { model: 'llama', tokens, scores, tokenTypes, bosId: 1, eosId: 2, unknownId: 0, addBos: true };
}

/** GPT-2's byte-to-symbol map: printable bytes map to themselves, the rest to U+0100 onwards. */
function byteSymbols(): string[] {
  const symbols: string[] = new Array(256);
  let next = 256;
  for (let b = 0; b < 256; ++b) {
    const printable = (b >= 0x21 && b <= 0x7e) || (b >= 0xa1 && b <= 0xac) || (b >= 0xae && b <= 0xff);
    symbols[b] = String.fromCodePoint(printable ? b : next++);
  }
  return symbols;
}

/** Where the special tokens of a BPE vocabulary go. */
export interface BpeSpecials {
  /** Special token texts and their ids (ids may be at the start or the end). */
  tokens: { id: number; text: string }[];
  bosId: number;
  eosId: number;
  addBos: boolean;
  pre: string;
}

/** A byte-level BPE ("gpt2") vocabulary: 256 byte symbols, merged pieces with their merges, specials. */
export function bytePairVocab(size: number, specials: BpeSpecials): SynthVocab {
  const specialIds = new Map(specials.tokens.map((t) => [t.id, t.text]));
  const normalCount = size - specialIds.size;
  if (normalCount < 300) throw new RangeError(`a BPE vocabulary needs at least 300 normal tokens, got ${normalCount}`);
  const symbols = byteSymbols();
  const taken = new Set([...symbols, ...specialIds.values()]);
  const space = symbols[0x20]!; // 'Ġ'
  const letters = [...LETTERS].map((c) => symbols[c.charCodeAt(0)]!);
  const grown = growPieces([space, ...letters], normalCount - 256, taken);
  const normal = [...symbols, ...grown.map((g) => g[2])];
  const tokens: string[] = [];
  const tokenTypes = new Int32Array(size);
  let n = 0;
  for (let id = 0; id < size; ++id) {
    const special = specialIds.get(id);
    tokens.push(special ?? normal[n++]!);
    tokenTypes[id] = special === undefined ? TOKEN_TYPE.normal : TOKEN_TYPE.control;
  }
  return {
    model: 'gpt2',
    pre: specials.pre,
    tokens,
    tokenTypes,
    merges: grown.map(([l, r]) => `${l} ${r}`),
    bosId: specials.bosId,
    eosId: specials.eosId,
    addBos: specials.addBos,
  };
}
