/**
 * Tokenizer: text to token ids and back, exactly as llama.cpp does it for
 * the same GGUF vocabulary (SentencePiece, byte-level BPE, WordPiece).
 * @module
 */
import { InvalidArgumentError } from '../errors.js';
import { callNative, callNativeSync } from '../native/binding.js';
import { DetokenizeFlags, TokenizeFlags, type RawTokenizer, type RawTokenizerInfo } from '../native/types.js';
import { StreamingDetokenizer } from './stream.js';

/**
 * Options of {@link Tokenizer.tokenize}.
 *
 * @example
 * ```ts
 * const ids = model.tokenize('<|im_start|>user', { parseSpecial: true, addSpecial: false });
 * ```
 */
export interface TokenizeOptions {
  /** Add BOS/EOS (and SEP for WordPiece) as the model's metadata says. Default `true`. */
  addSpecial?: boolean;
  /**
   * Match the texts of control tokens (e.g. `<|im_start|>`) in the input as
   * single tokens. Default `false`: such texts are tokenized as plain text.
   * User-defined tokens are matched either way, as llama.cpp does.
   */
  parseSpecial?: boolean;
}

/**
 * Options of {@link Tokenizer.detokenize}.
 *
 * @example
 * ```ts
 * model.detokenize(ids, { removeSpecial: true, unparseSpecial: true });
 * ```
 */
export interface DetokenizeOptions {
  /** Drop a leading BOS and trailing EOS that the tokenizer would add. Default `false`. */
  removeSpecial?: boolean;
  /** Render control tokens as their text instead of nothing. Default `false`. */
  unparseSpecial?: boolean;
}

/**
 * Ids of the vocabulary's special tokens; `undefined` where it has none.
 *
 * @example
 * ```ts
 * const { bos, eos } = model.tokenizer.specialTokens;
 * ```
 */
export interface SpecialTokenIds {
  bos?: number; eos?: number; eot?: number; eom?: number; unk?: number; sep?: number; pad?: number; mask?: number;
  fimPrefix?: number; fimSuffix?: number; fimMiddle?: number; fimPad?: number; fimRepo?: number; fimSeparator?: number;
}

// ignoreBOM: a leading U+FEFF is text (a token), not a byte-order mark
const decoder = new TextDecoder('utf-8', { ignoreBOM: true });
const id = (n: number): number | undefined => (n < 0 ? undefined : n);

/**
 * A loaded tokenizer. Create with {@link loadTokenizer}; release with {@link Tokenizer.dispose}.
 *
 * @example
 * ```ts
 * using tok = await loadTokenizer('vocab.gguf');
 * const ids = tok.tokenize('Hello world');
 * console.log(ids, tok.detokenize(ids));
 * ```
 */
export class Tokenizer {
  readonly #raw: RawTokenizer;
  readonly #info: RawTokenizerInfo;
  #eog: Int32Array | undefined;
  #disposed = false;

  /** @internal */
  constructor(raw: RawTokenizer) {
    this.#raw = raw;
    this.#info = raw.info();
  }

  /** `'spm'` (SentencePiece), `'bpe'` (byte-level BPE) or `'wpm'` (WordPiece). */
  get type(): 'spm' | 'bpe' | 'wpm' {
    return this.#info.type;
  }

  /** tokenizer.ggml.pre: the pre-tokenizer rules a BPE vocabulary uses (`''` when absent). */
  get preTokenizer(): string {
    return this.#info.pre;
  }

  /** Number of tokens in the vocabulary. */
  get vocabSize(): number {
    return this.#info.vocabSize;
  }

  /** The special token ids. */
  get specialTokens(): SpecialTokenIds {
    const i = this.#info;
    return {
      bos: id(i.bos), eos: id(i.eos), eot: id(i.eot), eom: id(i.eom), unk: id(i.unk), sep: id(i.sep), pad: id(i.pad),
      mask: id(i.mask), fimPrefix: id(i.fimPre), fimSuffix: id(i.fimSuf), fimMiddle: id(i.fimMid), fimPad: id(i.fimPad),
      fimRepo: id(i.fimRep), fimSeparator: id(i.fimSep),
    };
  }

  /** Whether tokenize adds BOS / EOS by default (from the model's metadata). */
  get addsBos(): boolean {
    return this.#info.addBos;
  }

  /** See {@link Tokenizer.addsBos}. */
  get addsEos(): boolean {
    return this.#info.addEos;
  }

  /** Tokens that end generation (EOS, end-of-turn, ...), sorted. */
  get endOfGenerationTokens(): readonly number[] {
    this.#eog ??= this.#call((r) => r.eog());
    return Array.from(this.#eog);
  }

  /** Whether {@link Tokenizer.dispose} has been called. */
  get disposed(): boolean {
    return this.#disposed;
  }

  /**
   * Text to token ids. A `Uint8Array` is taken as UTF-8 bytes (invalid
   * sequences are handled as llama.cpp handles them).
   */
  tokenize(text: string | Uint8Array, options: TokenizeOptions = {}): Int32Array {
    if (typeof text !== 'string' && !(text instanceof Uint8Array)) {
      throw new InvalidArgumentError('tokenize: text must be a string or a Uint8Array');
    }
    const flags = (options.addSpecial ?? true ? TokenizeFlags.AddSpecial : 0) | (options.parseSpecial ? TokenizeFlags.ParseSpecial : 0);
    return this.#call((r) => r.tokenize(text, flags));
  }

  /** Token ids to text. Throws {@link InvalidArgumentError} for an id outside the vocabulary. */
  detokenize(ids: ArrayLike<number>, options: DetokenizeOptions = {}): string {
    return decoder.decode(this.detokenizeBytes(ids, options));
  }

  /** {@link Tokenizer.detokenize} as raw bytes (a token may hold part of a UTF-8 character). */
  detokenizeBytes(ids: ArrayLike<number>, options: DetokenizeOptions = {}): Uint8Array {
    const flags = (options.removeSpecial ? DetokenizeFlags.RemoveSpecial : 0) | (options.unparseSpecial ? DetokenizeFlags.UnparseSpecial : 0);
    return this.#call((r) => r.detokenize(toInt32Array(ids), flags));
  }

  /**
   * The text of one token. With `special: false` control and unknown tokens
   * give `''`. A byte token that is part of a multi-byte character decodes
   * to U+FFFD here; use {@link Tokenizer.tokenToBytes} for its byte.
   */
  tokenToPiece(tokenId: number, options: { special?: boolean } = {}): string {
    return decoder.decode(this.tokenToBytes(tokenId, options));
  }

  /** The bytes of one token; see {@link Tokenizer.tokenToPiece}. */
  tokenToBytes(tokenId: number, options: { special?: boolean } = {}): Uint8Array {
    return this.#call((r) => r.piece(tokenId, options.special ?? true));
  }

  /**
   * A detokenizer for streaming: push ids as they are generated and get the
   * text that is now final — never half a UTF-8 character, and the same
   * text in total as {@link Tokenizer.detokenize} on all the ids.
   */
  createStreamingDetokenizer(options: DetokenizeOptions = {}): StreamingDetokenizer {
    return new StreamingDetokenizer((ids) => this.detokenizeBytes(ids, options), this.#info.cleanSpaces);
  }

  /** Frees the native tokenizer; later calls throw. */
  dispose(): void {
    if (!this.#disposed) {
      this.#disposed = true;
      this.#raw.dispose();
    }
  }

  /** Disposes: `using tokenizer = await loadTokenizer(path)`. */
  [Symbol.dispose](): void {
    this.dispose();
  }

  #call<T>(fn: (raw: RawTokenizer) => T): T {
    if (this.#disposed) throw new InvalidArgumentError('this tokenizer has been disposed');
    return callNativeSync(() => fn(this.#raw));
  }
}

function toInt32Array(ids: ArrayLike<number>): Int32Array {
  if (ids instanceof Int32Array) return ids;
  const out = new Int32Array(ids.length);
  for (let i = 0; i < ids.length; ++i) {
    const v = ids[i]!;
    if (!Number.isInteger(v) || v < -0x80000000 || v > 0x7fffffff) {
      throw new InvalidArgumentError(`token id at index ${i} is not a 32-bit integer: ${v}`);
    }
    out[i] = v;
  }
  return out;
}

/**
 * Loads the tokenizer of a GGUF file — a whole model or a vocabulary-only
 * file — without loading weights.
 *
 * @throws {@link GgufError} for a file without a supported tokenizer
 *   (the message names the tokenizer model or pre-tokenizer)
 *
 * @example
 * ```ts
 * const tok = await loadTokenizer('model.gguf');
 * const ids = tok.tokenize('Hello world');
 * console.log(ids, tok.detokenize(ids));
 * ```
 */
export async function loadTokenizer(path: string): Promise<Tokenizer> {
  if (typeof path !== 'string' || path.length === 0) throw new InvalidArgumentError('loadTokenizer: path must be a non-empty string');
  return new Tokenizer(await callNative((b) => b.tokenizerOpen(path)));
}
