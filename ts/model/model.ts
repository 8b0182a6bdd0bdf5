/**
 * Model: a loaded GGUF model with its tokenizer and a context (KV cache,
 * threads) to run it, and the generation API over them.
 * @module
 */
import { renderChatTemplate, type ChatMessage } from '../chat/template.js';
import { InvalidArgumentError, LmrtError, type BackendError } from '../errors.js';
import { resolveLimits, type GenerateOptions, type GenerationChunk, type GenerationResult, type ResolvedLimits } from '../generation/options.js';
import { GenerationRequest } from '../generation/request.js';
import { GenerationStream } from '../generation/stream.js';
import { findCudaPackage } from '../native/cuda-package.js';
import { callNative } from '../native/binding.js';
import type { RawContext, RawModel, RawModelInfo } from '../native/types.js';
import { resolveSamplingOptions, Sampler } from '../sampling/chain.js';
import { blocksHeld, Scheduler } from '../scheduler/scheduler.js';
import { checkSameVocabulary, DraftEngine, lazyDrafter } from '../speculative/draft-model.js';
import type { Drafter } from '../speculative/drafter.js';
import { resolveSpeculative } from '../speculative/options.js';
import { Tokenizer, type DetokenizeOptions, type TokenizeOptions } from '../tokenizer/tokenizer.js';

/**
 * Options of {@link loadModel}.
 *
 * @example
 * ```ts
 * const model = await loadModel('model.gguf', { threads: 4, contextSize: 2048, batchSize: 256 });
 * ```
 */
export interface LoadModelOptions {
  /** Compute threads (default: the machine's physical cores). */
  threads?: number;
  /** KV cache capacity in tokens (default: the model's training context, at most 4096). */
  contextSize?: number;
  /** Prompt tokens one forward step processes (default 512); longer prompts are fed in chunks of this size. */
  batchSize?: number;
  /** Requests generating at once, sharing each forward step (default 8); more wait their turn. */
  maxSequences?: number;
  /**
   * How the KV cache stores keys and values (default `'f16'`): `'bf16'` has
   * f16's size with a wider range and less precision; `'q8_0'` needs about
   * half the memory (blocks of 32 values, so the model's head dimension must
   * be a multiple of 32).
   */
  kvCacheType?: KvCacheType;
  /**
   * Compute from the memory-mapped file only (default `false`). By default,
   * weight matrices whose CPU kernels read an interleaved layout faster
   * (Q4_0, Q8_0, Q4_K, Q5_K and Q6_K on AVX2 machines) are copied into it at
   * load, which speeds decoding about 1.2-1.8x; the copy is private memory of this
   * process ({@link ModelInfo.interleavedBytes}) where a mapping's pages are
   * shared with other processes that map the same file.
   */
  mappedOnly?: boolean;
  /**
   * Where the model runs (default `'auto'`). `'cuda'` runs every step on an
   * NVIDIA GPU through the CUDA backend (liblmrt_cuda: from the optional
   * package `@lmrt/cuda-linux-x64` where it is installed, else next to the
   * addon from `npm run build:cuda`; `LMRT_CUDA_LIBRARY` overrides), and fails
   * with a {@link BackendError} naming what is missing when it cannot.
   * `'auto'` uses CUDA when the library and a GPU are there and the backend
   * runs this model (with an f16 KV cache), else the CPU. See
   * {@link ModelInfo.backend} for the choice made.
   */
  backend?: Backend;
  /**
   * With CUDA, how many layers the GPU runs (default: all). Fewer split the
   * model as llama.cpp's `--n-gpu-layers` does: the GPU runs the last
   * `gpuLayers` layers and the output, the CPU the layers before (each
   * keeping its own layers' KV cache, under one set of block tables). `0`
   * runs the whole model on the CPU.
   */
  gpuLayers?: number;
  /** The CUDA device index (default 0). */
  device?: number;
}

/**
 * Where a model's forward steps run: see {@link LoadModelOptions.backend}.
 *
 * @example
 * ```ts
 * const backend: Backend = 'cuda';
 * const model = await loadModel('model.gguf', { backend });
 * ```
 */
export type Backend = 'auto' | 'cpu' | 'cuda';

const BACKEND_IDS: Record<Backend, number> = { cpu: 0, cuda: 1, auto: 2 };

/**
 * The element types the KV cache can store (see {@link LoadModelOptions.kvCacheType}).
 *
 * @example
 * ```ts
 * const type: KvCacheType = 'q8_0';
 * const model = await loadModel('model.gguf', { kvCacheType: type });
 * ```
 */
export type KvCacheType = 'f16' | 'bf16' | 'q8_0';

// ggml type ids, as lmrt_context_params.kv_type takes them
const KV_TYPE_IDS: Record<KvCacheType, number> = { f16: 1, bf16: 30, q8_0: 8 };

/**
 * Options of {@link Model.chat} and {@link Model.streamChat}: generation options plus the template's.
 *
 * @example
 * ```ts
 * const r = await model.chat(messages, { template: myJinjaTemplate, maxTokens: 200, temperature: 0.7 });
 * ```
 */
export interface ChatOptions extends GenerateOptions {
  /** A Jinja chat template to use instead of the model's own. */
  template?: string;
  /** Tool definitions, passed to the template as `tools`. */
  tools?: readonly unknown[];
  /** Further variables for the template. */
  templateVariables?: Readonly<Record<string, unknown>>;
}

/**
 * Facts about the loaded model.
 *
 * @example
 * ```ts
 * const { architecture, vocabSize, layers, parameterCount } = model.info;
 * ```
 */
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
  /** Positions each token attends to, itself included, for sliding-window models; 0 when it attends to all. */
  slidingWindow: number;
  /** Bytes of weights copied into an interleaved layout at load (0 with {@link LoadModelOptions.mappedOnly}). */
  interleavedBytes: number;
  /** Where the model's steps run (see {@link LoadModelOptions.backend}). */
  backend: 'cpu' | 'cuda';
  /** The GPU's name with the CUDA backend, else `''`. */
  device: string;
  /** Bytes of weights in GPU memory (0 on the CPU). */
  deviceBytes: number;
  /** Layers the GPU runs (the last ones; the CPU runs those before); 0 on the CPU. */
  gpuLayers: number;
}

/**
 * What the model's scheduler is doing: see {@link Model.schedulerStats}.
 *
 * @example
 * ```ts
 * const { waiting, running, preemptions } = model.schedulerStats;
 * ```
 */
export interface SchedulerStats {
  /** Requests waiting for a slot (or for KV space). */
  waiting: number;
  /** Requests generating. */
  running: number;
  /** Forward steps run since the model was loaded. */
  steps: number;
  /** Requests sent back to wait because the KV cache was full (they resume where they were). */
  preemptions: number;
  /** Token rows computed since the model was loaded (prompt rows taken from the prefix cache are not). */
  rows: number;
}

/**
 * Occupancy of the paged KV cache (blocks of `blockSize` positions).
 *
 * @example
 * ```ts
 * const { blocksUsed, blocksTotal, bytes } = model.kvStats;
 * ```
 */
export interface KvStats {
  blocksTotal: number;
  blocksUsed: number;
  blocksFree: number;
  blockSize: number;
  sequences: number;
  /** Memory the cache holds, in bytes. */
  bytes: number;
  /** Full blocks indexed for prefix reuse, held by a sequence or waiting to be reused (counted as free). */
  blocksCached: number;
  /** Positions requests took from cached blocks instead of computing them, since the model was loaded. */
  prefixHits: number;
}

function positiveInt(name: string, value: number | undefined): number | undefined {
  if (value === undefined) return undefined;
  if (!Number.isInteger(value) || value < 1) throw new InvalidArgumentError(`${name} must be a positive integer, got ${value}`);
  return value;
}

/**
 * A loaded model. Create with {@link loadModel}; release with {@link Model.dispose}.
 *
 * @example
 * ```ts
 * using model = await loadModel('stories260K-f32.gguf');
 * const { text } = await model.generate('Once upon a time', { maxTokens: 32 });
 * ```
 */
export class Model {
  readonly #raw: RawModel;
  readonly #batchSize: number;
  readonly #context: RawContext;
  readonly #info: RawModelInfo;
  readonly #scheduler: Scheduler;
  /** The model's tokenizer. */
  readonly tokenizer: Tokenizer;
  #disposed = false;
  readonly #threads: number | undefined;
  readonly #maxSequences: number;
  // draft contexts this model serves as target, by draft model
  readonly #draftEngines = new Map<Model, Promise<DraftEngine>>();
  // draft contexts built on this model's weights (closed before they go)
  readonly #lentContexts = new Set<DraftEngine>();

  /** @internal */
  constructor(raw: RawModel, context: RawContext, batchSize: number, maxSequences: number, threads?: number) {
    this.#threads = threads;
    this.#maxSequences = maxSequences;
    this.#raw = raw;
    this.#context = context;
    this.#info = raw.info();
    this.tokenizer = new Tokenizer(raw.tokenizer());
    this.#batchSize = batchSize;
    this.#scheduler = new Scheduler(context, { vocabSize: this.#info.vocabSize, chunk: batchSize, maxSequences, slidingWindow: this.#info.slidingWindow });
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

  /** Requests waiting and running, steps run, preemptions. */
  get schedulerStats(): SchedulerStats {
    return { waiting: this.#scheduler.waiting, running: this.#scheduler.running, ...this.#scheduler.counters };
  }

  /** Whether {@link Model.dispose} has been called. */
  get disposed(): boolean {
    return this.#disposed;
  }

  /** The chat template in the model's file (`tokenizer.chat_template`), if it has one. */
  get chatTemplate(): string | undefined {
    this.#check();
    return this.#raw.metaString('tokenizer.chat_template');
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
   * Generates a continuation of `prompt`: a string (tokenized with the
   * model's BOS as its metadata says; control-token texts stay plain text)
   * or token ids used as given. Greedy unless `temperature` is above 0.
   * Concurrent calls on one model share its forward steps (continuous
   * batching); each gives the tokens it would give alone.
   *
   * @example
   * ```ts
   * const r = await model.generate('Once upon a time', { maxTokens: 64, temperature: 0.8, seed: 1 });
   * console.log(r.text, r.finishReason, r.usage);
   * ```
   */
  generate(prompt: string | ArrayLike<number>, options: GenerateOptions = {}): Promise<GenerationResult> {
    return this.#submit(this.#promptTokens(prompt), options, () => undefined);
  }

  /**
   * Like {@link Model.generate}, but streams: iterate the returned stream
   * for chunks of text as they become final; its `result` is the whole
   * result. Leaving the loop early aborts the generation.
   *
   * @example
   * ```ts
   * const stream = model.stream('Once upon a time', { maxTokens: 64 });
   * for await (const chunk of stream) process.stdout.write(chunk.text);
   * const { finishReason, usage } = await stream.result;
   * ```
   */
  stream(prompt: string | ArrayLike<number>, options: GenerateOptions = {}): GenerationStream {
    return this.#stream(this.#promptTokens(prompt), options);
  }

  /**
   * Renders `messages` with the model's chat template (or `options.template`)
   * and generates the assistant's reply.
   *
   * @throws {@link InvalidArgumentError} when the model has no chat template
   *   and none is given, or the template rejects the messages
   *
   * @example
   * ```ts
   * const r = await model.chat([{ role: 'user', content: 'Hi!' }], { maxTokens: 128 });
   * console.log(r.text);
   * ```
   */
  chat(messages: readonly ChatMessage[], options: ChatOptions = {}): Promise<GenerationResult> {
    return this.#submit(this.tokenizeChat(messages, options), options, () => undefined);
  }

  /** {@link Model.chat}, streamed like {@link Model.stream}. */
  streamChat(messages: readonly ChatMessage[], options: ChatOptions = {}): GenerationStream {
    return this.#stream(this.tokenizeChat(messages, options), options);
  }

  /**
   * The prompt text a conversation becomes under the model's chat template
   * (or `options.template`), ending with the start of the assistant's turn.
   */
  applyChatTemplate(messages: readonly ChatMessage[], options: Pick<ChatOptions, 'template' | 'tools' | 'templateVariables'> & { addGenerationPrompt?: boolean } = {}): string {
    this.#check();
    const source = options.template ?? this.chatTemplate;
    if (source === undefined) {
      throw new InvalidArgumentError('this model has no chat template (tokenizer.chat_template): pass one with the `template` option');
    }
    const special = this.tokenizer.specialTokens;
    const text = (id: number | undefined): string => (id === undefined ? '' : this.tokenizer.tokenToPiece(id, { special: true }));
    return renderChatTemplate(source, {
      messages,
      addGenerationPrompt: options.addGenerationPrompt ?? true,
      tools: options.tools,
      bosToken: text(special.bos),
      eosToken: text(special.eos),
      variables: options.templateVariables,
    });
  }

  /**
   * The logits of the next token after `tokens` (evaluated in a fresh
   * sequence): one score per vocabulary entry.
   */
  logits(tokens: ArrayLike<number>): Promise<Float32Array> {
    this.#check();
    const ids = Array.from(tokens);
    if (ids.length === 0) throw new InvalidArgumentError('logits: tokens must not be empty');
    return this.#score(ids).then((request) => request.lastLogits!);
  }

  // Runs a scoring request (no sampling: it feeds the tokens and keeps the
  // last logits row, handing over earlier rows where `score` asks) and
  // resolves with it when done.
  #score(ids: number[], score?: ConstructorParameters<typeof GenerationRequest>[6]): Promise<GenerationRequest> {
    return new Promise<GenerationRequest>((resolve, reject) => {
      const tooBig = this.#capacityError(ids.length, 0);
      if (tooBig) return reject(tooBig);
      const request: GenerationRequest = new GenerationRequest(ids, resolveLimits({ maxTokens: 0 }, this.#info.vocabSize), undefined,
        this.tokenizer, { onChunk: () => undefined, resolve: () => resolve(request), reject }, undefined, score);
      this.#scheduler.submit(request);
    });
  }

  /**
   * Evaluates `tokens` in a fresh sequence and hands over the logits after
   * each position from `from` on, in order: `onLogits(position, row)`, the
   * row predicting token `position + 1`. What scoring a text needs
   * (perplexity, KL divergence) without holding a row per position; each
   * row is a view valid during its call only. Prompt positions before
   * `from` may come from the prefix cache; those from `from` on are always
   * computed.
   *
   * @throws {@link InvalidArgumentError} for empty tokens or a `from` outside them
   *
   * @example
   * ```ts
   * const ids = model.tokenizer.tokenize('Once upon a time there was a dog.');
   * let nll = 0; // -log p(next token), summed
   * await model.evaluate(ids, { from: 0, onLogits: (pos, row) => {
   *   if (pos + 1 >= ids.length) return;
   *   let max = -Infinity, sum = 0;
   *   for (const v of row) max = Math.max(max, v);
   *   for (const v of row) sum += Math.exp(v - max);
   *   nll += max + Math.log(sum) - row[ids[pos + 1]!]!;
   * } });
   * ```
   */
  evaluate(tokens: ArrayLike<number>, options: { from?: number; onLogits: (position: number, logits: Float32Array) => void }): Promise<void> {
    this.#check();
    const ids = Array.from(tokens);
    const from = options.from ?? 0;
    if (ids.length === 0) throw new InvalidArgumentError('evaluate: tokens must not be empty');
    if (!Number.isInteger(from) || from < 0 || from >= ids.length) {
      throw new InvalidArgumentError(`evaluate: from must be a position of the tokens, 0 to ${ids.length - 1} (got ${JSON.stringify(options.from)})`);
    }
    if (typeof options.onLogits !== 'function') throw new InvalidArgumentError('evaluate: onLogits must be a function');
    const onRows = (position: number, rows: Float32Array[]) => rows.forEach((row, k) => options.onLogits(position + k, row));
    return this.#score(ids, { from, onRows }).then(() => undefined);
  }

  #promptTokens(prompt: string | ArrayLike<number>): number[] {
    this.#check();
    if (typeof prompt !== 'string' && (typeof prompt !== 'object' || prompt === null || typeof prompt.length !== 'number')) {
      throw new InvalidArgumentError('prompt must be a string or token ids');
    }
    const tokens = typeof prompt === 'string' ? Array.from(this.tokenizer.tokenize(prompt)) : Array.from(prompt);
    if (tokens.length === 0) throw new InvalidArgumentError('the prompt gives no tokens (and the model adds no BOS)');
    return tokens;
  }

  /**
   * The prompt tokens of a conversation: {@link Model.applyChatTemplate}'s
   * text tokenized with control tokens recognised, and no second BOS when
   * the template already wrote one. What {@link Model.chat} feeds the model.
   *
   * @example
   * ```ts
   * const tokens = model.tokenizeChat([{ role: 'user', content: 'Hi!' }]);
   * console.log(tokens.length); // the prompt's size in tokens
   * ```
   */
  tokenizeChat(messages: readonly ChatMessage[], options: Pick<ChatOptions, 'template' | 'tools' | 'templateVariables'> = {}): number[] {
    const text = this.applyChatTemplate(messages, options);
    const bos = this.tokenizer.specialTokens.bos;
    const startsWithBos = bos !== undefined && text.startsWith(this.tokenizer.tokenToPiece(bos, { special: true }));
    const tokens = Array.from(this.tokenizer.tokenize(text, { parseSpecial: true, addSpecial: !startsWithBos }));
    if (tokens.length === 0) throw new InvalidArgumentError('chat: the rendered conversation gives no tokens');
    return tokens;
  }

  /**
   * `count` independent continuations of one prompt (OpenAI's `n`), each
   * streamed like {@link Model.stream}. The prompt is computed once; the
   * others fork its KV cache (copy-on-write). With a `seed`, continuation i
   * uses seed + i.
   *
   * @example
   * ```ts
   * const streams = model.streamMany('Once upon a time', 3, { temperature: 0.9, seed: 1, maxTokens: 32 });
   * const texts = await Promise.all(streams.map(async (s) => (await s.result).text));
   * ```
   */
  streamMany(prompt: string | ArrayLike<number>, count: number, options: GenerateOptions = {}): GenerationStream[] {
    if (!Number.isInteger(count) || count < 1) throw new InvalidArgumentError(`count must be a positive integer, got ${String(count)}`);
    const tokens = this.#promptTokens(prompt);
    const leader: { request?: GenerationRequest } = {};
    return Array.from({ length: count }, (_, i) => this.#stream(tokens, { ...options, ...(options.seed !== undefined ? { seed: options.seed + i } : {}) }, leader));
  }

  #stream(prompt: number[], options: GenerateOptions, group?: { request?: GenerationRequest }): GenerationStream {
    // the stream's own controller: leaving the loop early aborts, as does the caller's signal
    const controller = new AbortController();
    const outer = options.signal;
    if (outer?.aborted) controller.abort();
    else outer?.addEventListener('abort', () => controller.abort(), { once: true });
    const inner = { ...options, signal: controller.signal };
    this.#limits(prompt, inner);
    return new GenerationStream((onChunk) => this.#submit(prompt, inner, onChunk, group), () => controller.abort());
  }

  // Checks the options (throwing on a bad one) and fits maxTokens to the
  // context when the caller left it open.
  #limits(prompt: number[], options: GenerateOptions): ResolvedLimits {
    const vocab = this.#info.vocabSize;
    const limits = resolveLimits(options, vocab);
    resolveSamplingOptions({ ...options, seed: options.seed ?? 0 }, vocab);
    // a sliding window keeps only its own positions: the cache bounds nothing else
    if (options.maxTokens === undefined && this.#info.slidingWindow === 0) {
      limits.maxTokens = Math.max(0, Math.min(limits.maxTokens, this.#capacity() - prompt.length));
    }
    return limits;
  }

  #capacity(): number {
    const stats = this.#context.kvStats();
    return stats.blocksTotal * stats.blockSize;
  }

  // A request that could never fit the KV cache, even alone.
  #capacityError(promptTokens: number, maxTokens: number): LmrtError | undefined {
    const capacity = this.#capacity();
    const window = this.#info.slidingWindow;
    if (window > 0) {
      const stats = this.#context.kvStats();
      const need = blocksHeld(promptTokens + maxTokens, window, this.#batchSize, stats.blockSize);
      if (need <= stats.blocksTotal) return undefined;
      return new LmrtError('E_KV_FULL', `this request needs ${need} KV blocks at once (its ${window}-position sliding window and a ` +
        `prompt chunk of up to ${this.#batchSize} tokens) but the cache has ${stats.blocksTotal}: load the model with a larger contextSize or a smaller batchSize`);
    }
    if (promptTokens + maxTokens <= capacity) return undefined;
    return new LmrtError('E_KV_FULL', `this request needs room for ${promptTokens + maxTokens} tokens (a ${promptTokens}-token prompt ` +
      `and up to ${maxTokens} new ones) but the KV cache holds ${capacity}: shorten it, lower maxTokens or load the model with a larger contextSize`);
  }

  // A drafter on `draft` for one request: its sequence lives in a context of
  // the draft's weights that this model keeps (one per draft model).
  #drafter(draft: Model, sampling: GenerateOptions): Drafter {
    if (!(draft instanceof Model) || draft.#disposed) throw new InvalidArgumentError('speculative.draft must be a loaded, not disposed, Model');
    let engine = this.#draftEngines.get(draft);
    if (engine === undefined) {
      checkSameVocabulary(this.tokenizer, draft.tokenizer);
      const capacity = this.#capacity();
      engine = callNative(() => draft.#raw.createContext({
        contextSize: capacity, batchSize: this.#batchSize + this.#maxSequences, ...(this.#threads !== undefined ? { threads: this.#threads } : {}),
      })).then((ctx) => {
        const e = new DraftEngine(ctx, draft.#info.vocabSize, this.#batchSize);
        if (draft.#disposed || this.#disposed) e.dispose();
        else draft.#lentContexts.add(e);
        return e;
      });
      this.#draftEngines.set(draft, engine);
    }
    return lazyDrafter(engine, sampling);
  }

  // Queues one generation with the scheduler; in a group (streamMany), the
  // first request computes the prompt and the others fork it.
  #submit(prompt: number[], options: GenerateOptions, onChunk: (chunk: GenerationChunk) => void, group?: { request?: GenerationRequest }): Promise<GenerationResult> {
    const limits = this.#limits(prompt, options);
    const speculation = resolveSpeculative(options.speculative, (draft, sampling) => this.#drafter(draft, sampling), options);
    return new Promise<GenerationResult>((resolve, reject) => {
      this.#check();
      const tooBig = this.#capacityError(prompt.length, limits.maxTokens);
      if (tooBig) return reject(tooBig);
      const sampler = new Sampler(options, this.#info.vocabSize);
      const request = new GenerationRequest(prompt, limits, sampler, this.tokenizer, { onChunk, resolve, reject }, speculation);
      const leader = group?.request;
      if (group !== undefined && leader === undefined) group.request = request;
      this.#scheduler.submit(request, leader);
    });
  }

  /** Frees the model, its context and its tokenizer; later calls throw. */
  dispose(): void {
    if (this.#disposed) return;
    this.#disposed = true;
    this.#scheduler.close(new InvalidArgumentError('the model was disposed while the request ran'));
    for (const e of this.#lentContexts) e.dispose();
    for (const e of this.#draftEngines.values()) void e.then((engine) => engine.dispose(), () => undefined);
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
  const maxSequences = positiveInt('maxSequences', options.maxSequences) ?? 8;
  const kvCacheType = options.kvCacheType ?? 'f16';
  if (!Object.hasOwn(KV_TYPE_IDS, kvCacheType)) {
    throw new InvalidArgumentError(`loadModel: kvCacheType must be 'f16', 'bf16' or 'q8_0' (got ${JSON.stringify(kvCacheType)})`);
  }
  if (options.mappedOnly !== undefined && typeof options.mappedOnly !== 'boolean') {
    throw new InvalidArgumentError(`loadModel: mappedOnly must be a boolean (got ${JSON.stringify(options.mappedOnly)})`);
  }
  const backend = options.backend ?? 'auto';
  if (!Object.hasOwn(BACKEND_IDS, backend)) {
    throw new InvalidArgumentError(`loadModel: backend must be 'auto', 'cpu' or 'cuda' (got ${JSON.stringify(backend)})`);
  }
  if (options.gpuLayers !== undefined && !(Number.isSafeInteger(options.gpuLayers) && options.gpuLayers >= 0)) {
    throw new InvalidArgumentError(`loadModel: gpuLayers must be an integer >= 0 (got ${JSON.stringify(options.gpuLayers)})`);
  }
  if (options.device !== undefined && !(Number.isInteger(options.device) && options.device >= 0 && options.device < 1024)) {
    throw new InvalidArgumentError(`loadModel: device must be a CUDA device index (got ${JSON.stringify(options.device)})`);
  }
  if (backend === 'cuda' && kvCacheType !== 'f16') {
    throw new InvalidArgumentError(`loadModel: the CUDA backend stores the KV cache in f16 only (kvCacheType '${kvCacheType}' asked for)`);
  }
  // 'auto' with a cache type CUDA does not store stays on the CPU
  const backendId = backend === 'auto' && kvCacheType !== 'f16' ? BACKEND_IDS.cpu : BACKEND_IDS[backend];
  const gpuLayers = options.gpuLayers === undefined ? -1 : Math.min(options.gpuLayers, 2 ** 31 - 1);
  const cudaLibrary = backendId === BACKEND_IDS.cpu ? undefined : findCudaPackage()?.library;
  const raw = await callNative((b) =>
    b.modelOpen(path, {
      mappedOnly: options.mappedOnly ?? false, backend: backendId, gpuLayers, device: options.device ?? 0,
      ...(cudaLibrary !== undefined ? { cudaLibrary } : {}),
    }),
  );
  try {
    // a step holds a prompt chunk and one decode row per running request
    const context = await callNative(() => raw.createContext({ contextSize, batchSize: batchSize + maxSequences, threads, kvType: KV_TYPE_IDS[kvCacheType] }));
    return new Model(raw, context, batchSize, maxSequences, threads);
  } catch (err) {
    raw.dispose();
    throw err;
  }
}
