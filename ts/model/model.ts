/**
 * Model: a loaded GGUF model with its tokenizer and a context (KV cache,
 * threads) to run it. Greedy generation for now; the sampling API builds on
 * the same steps.
 * @module
 */
import { fromNativeError, InvalidArgumentError } from '../errors.js';
import { callNative } from '../native/binding.js';
import type { RawContext, RawModel, RawModelInfo } from '../native/types.js';
import { Tokenizer, type DetokenizeOptions, type TokenizeOptions } from '../tokenizer/tokenizer.js';

/** Options of {@link loadModel}. */
export interface LoadModelOptions {
  /** Compute threads (default: the machine's physical cores). */
  threads?: number;
  /** KV cache capacity in tokens (default: the model's training context, at most 4096). */
  contextSize?: number;
  /** Most tokens one forward step processes (default 512); longer prompts are fed in chunks. */
  batchSize?: number;
}

/** Options of {@link Model.generate}. */
export interface GenerateOptions {
  /** Most tokens to generate (default 256). */
  maxTokens?: number;
  /** Keep generating past end-of-generation tokens (like llama.cpp's --ignore-eos). Default `false`. */
  ignoreEos?: boolean;
}

/** Why generation ended. */
export type FinishReason = 'stop' | 'length';

/** What {@link Model.generate} returns. */
export interface GenerationResult {
  /** The generated text (the prompt not included). */
  text: string;
  /** The generated token ids. */
  tokens: number[];
  /** `'stop'`: an end-of-generation token; `'length'`: `maxTokens` reached. */
  finishReason: FinishReason;
  usage: { promptTokens: number; completionTokens: number };
  timings: { prefillMs: number; decodeMs: number; tokensPerSecond: number };
}

/** Facts about the loaded model. */
export interface ModelInfo {
  /** general.architecture, e.g. `'llama'`. */
  architecture: string;
  vocabSize: number;
  /** The context length the model was trained with. */
  trainContextLength: number;
  embeddingLength: number;
  layers: number;
  heads: number;
  kvHeads: number;
  headDim: number;
  feedForwardLength: number;
  parameterCount: number;
  fileSize: number;
}

/** Occupancy of the paged KV cache (blocks of `blockSize` positions). */
export interface KvStats {
  blocksTotal: number;
  blocksUsed: number;
  blocksFree: number;
  blockSize: number;
  sequences: number;
  /** Memory the cache holds, in bytes. */
  bytes: number;
}

function positiveInt(name: string, value: number | undefined): number | undefined {
  if (value === undefined) return undefined;
  if (!Number.isInteger(value) || value < 1) throw new InvalidArgumentError(`${name} must be a positive integer, got ${value}`);
  return value;
}

function argmax(row: Float32Array, offset: number, n: number): number {
  let best = 0;
  let max = -Infinity;
  for (let i = 0; i < n; ++i) {
    const v = row[offset + i]!;
    if (v > max) {
      max = v;
      best = i;
    }
  }
  return best;
}

/** A loaded model. Create with {@link loadModel}; release with {@link Model.dispose}. */
export class Model {
  readonly #raw: RawModel;
  readonly #context: RawContext;
  readonly #info: RawModelInfo;
  readonly #batchSize: number;
  /** The model's tokenizer. */
  readonly tokenizer: Tokenizer;
  #queue: Promise<unknown> = Promise.resolve();
  #disposed = false;

  /** @internal */
  constructor(raw: RawModel, context: RawContext, batchSize: number) {
    this.#raw = raw;
    this.#context = context;
    this.#info = raw.info();
    this.#batchSize = batchSize;
    this.tokenizer = new Tokenizer(raw.tokenizer());
  }

  /** Architecture, sizes and parameter count. */
  get info(): ModelInfo {
    return { ...this.#info };
  }

  /** KV cache occupancy. */
  get kvStats(): KvStats {
    this.#check();
    return this.#context.kvStats();
  }

  /** Whether {@link Model.dispose} has been called. */
  get disposed(): boolean {
    return this.#disposed;
  }

  /** See {@link Tokenizer.tokenize}. */
  tokenize(text: string | Uint8Array, options?: TokenizeOptions): Int32Array {
    return this.tokenizer.tokenize(text, options);
  }

  /** See {@link Tokenizer.detokenize}. */
  detokenize(ids: ArrayLike<number>, options?: DetokenizeOptions): string {
    return this.tokenizer.detokenize(ids, options);
  }

  /**
   * Greedy generation (always the most likely next token) from `prompt`: a
   * string (tokenized with the model's BOS as its metadata says) or token
   * ids used as given. Calls on one model run one after another.
   */
  generate(prompt: string | ArrayLike<number>, options: GenerateOptions = {}): Promise<GenerationResult> {
    this.#check();
    if (typeof prompt !== 'string' && (typeof prompt !== 'object' || prompt === null || typeof prompt.length !== 'number')) {
      throw new InvalidArgumentError('generate: prompt must be a string or token ids');
    }
    const maxTokens = options.maxTokens ?? 256;
    if (!Number.isInteger(maxTokens) || maxTokens < 0) throw new InvalidArgumentError(`maxTokens must be a non-negative integer, got ${maxTokens}`);
    const run = this.#queue.then(() => this.#generate(prompt, maxTokens, options.ignoreEos ?? false));
    this.#queue = run.catch(() => undefined);
    return run;
  }

  /**
   * The logits of the next token after `tokens` (evaluated in a fresh
   * sequence): one score per vocabulary entry.
   */
  logits(tokens: ArrayLike<number>): Promise<Float32Array> {
    this.#check();
    const ids = Array.from(tokens);
    if (ids.length === 0) throw new InvalidArgumentError('logits: tokens must not be empty');
    const run = this.#queue.then(async () => {
      const seq = this.#context.seqCreate();
      try {
        return await this.#prefill(seq, ids);
      } finally {
        if (!this.#disposed) this.#context.seqRelease(seq);
      }
    });
    this.#queue = run.catch(() => undefined);
    return run;
  }

  // Feeds tokens to a sequence in batch-sized chunks; the last row's logits.
  async #prefill(seq: number, tokens: number[]): Promise<Float32Array> {
    let logits: Float32Array | undefined;
    for (let start = 0; start < tokens.length; start += this.#batchSize) {
      const chunk = tokens.slice(start, start + this.#batchSize);
      const rows = new Int32Array(chunk.length * 4);
      chunk.forEach((token, i) => rows.set([seq, token, start + i, start + i === tokens.length - 1 ? 1 : 0], 4 * i));
      logits = await this.#context.step(rows).catch((err: unknown) => {
        throw fromNativeError(err);
      });
    }
    return logits!;
  }

  async #generate(prompt: string | ArrayLike<number>, maxTokens: number, ignoreEos: boolean): Promise<GenerationResult> {
    this.#check();
    const promptTokens = typeof prompt === 'string' ? Array.from(this.tokenizer.tokenize(prompt)) : Array.from(prompt);
    if (promptTokens.length === 0) throw new InvalidArgumentError('generate: the prompt gives no tokens (and the model adds no BOS)');
    const ctx = this.#context;
    const eog = new Set(this.tokenizer.endOfGenerationTokens);
    const vocab = this.#info.vocabSize;
    const seq = ctx.seqCreate();
    const tokens: number[] = [];
    let finishReason: FinishReason = 'length';
    const t0 = performance.now();
    let prefillMs = 0;
    try {
      let logits = await this.#prefill(seq, promptTokens);
      prefillMs = performance.now() - t0;
      for (let i = 0; i < maxTokens; ++i) {
        const next = argmax(logits, 0, vocab);
        if (!ignoreEos && eog.has(next)) {
          finishReason = 'stop';
          break;
        }
        tokens.push(next);
        if (tokens.length === maxTokens) break;
        logits = await ctx.step(Int32Array.of(seq, next, promptTokens.length + tokens.length - 1, 1)).catch((err: unknown) => {
          throw fromNativeError(err);
        });
      }
    } finally {
      if (!this.#disposed) ctx.seqRelease(seq);
    }
    const decodeMs = performance.now() - t0 - prefillMs;
    return {
      text: this.tokenizer.detokenize(tokens),
      tokens,
      finishReason,
      usage: { promptTokens: promptTokens.length, completionTokens: tokens.length },
      timings: { prefillMs, decodeMs, tokensPerSecond: tokens.length > 0 && decodeMs > 0 ? (tokens.length / decodeMs) * 1000 : 0 },
    };
  }

  /** Frees the model, its context and its tokenizer; later calls throw. */
  dispose(): void {
    if (this.#disposed) return;
    this.#disposed = true;
    this.#context.dispose();
    this.tokenizer.dispose();
    this.#raw.dispose();
  }

  /** Disposes: `using model = await loadModel(path)`. */
  [Symbol.dispose](): void {
    this.dispose();
  }

  #check(): void {
    if (this.#disposed) throw new InvalidArgumentError('this model has been disposed');
  }
}

/**
 * Loads a GGUF model (weights are memory-mapped, not copied) and prepares a
 * context to run it.
 *
 * @throws {@link LmrtError} with `E_ARCH_UNSUPPORTED` for an architecture
 *   lmrt cannot run, {@link GgufError} for malformed or unsupported files
 *
 * @example
 * ```ts
 * const model = await loadModel('stories260K-f32.gguf');
 * const { text } = await model.generate('Once upon a time', { maxTokens: 32 });
 * model.dispose();
 * ```
 */
export async function loadModel(path: string, options: LoadModelOptions = {}): Promise<Model> {
  if (typeof path !== 'string' || path.length === 0) throw new InvalidArgumentError('loadModel: path must be a non-empty string');
  const threads = positiveInt('threads', options.threads);
  const contextSize = positiveInt('contextSize', options.contextSize);
  const batchSize = positiveInt('batchSize', options.batchSize) ?? 512;
  const raw = await callNative((b) => b.modelOpen(path));
  try {
    const context = await callNative(() => raw.createContext({ contextSize, batchSize, threads }));
    return new Model(raw, context, batchSize);
  } catch (err) {
    raw.dispose();
    throw err;
  }
}
