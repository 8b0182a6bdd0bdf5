/**
 * The options and results of a generation request.
 * @module
 */
import { InvalidArgumentError } from '../errors.js';
import type { SamplingOptions, TokenLogprob } from '../sampling/chain.js';
import type { SpeculativeOptions } from '../speculative/options.js';

/**
 * Options of {@link Model.generate} and {@link Model.stream}: sampling plus when to stop.
 *
 * @example
 * ```ts
 * const controller = new AbortController();
 * const r = await model.generate('Q: Why is the sky blue?\nA:', {
 *   maxTokens: 128, temperature: 0.7, topP: 0.9, seed: 42, stop: ['\nQ:'], signal: controller.signal,
 * });
 * ```
 */
export interface GenerateOptions extends SamplingOptions {
  /** Most tokens to generate (default 256). */
  maxTokens?: number;
  /** Stop before the first occurrence of any of these strings; they are not part of the text. */
  stop?: string | readonly string[];
  /** Stop at any of these token ids (as at end-of-generation tokens); the token is not part of the result. */
  stopTokens?: readonly number[];
  /** Keep generating past end-of-generation tokens (like llama.cpp's --ignore-eos). Default `false`. */
  ignoreEos?: boolean;
  /** Ends the generation within one step, with finish reason `'abort'`. */
  signal?: AbortSignal;
  /** Report each token's log-probability and this many most likely alternatives (0 to 20). Default: no log-probabilities. */
  logprobs?: number;
  /**
   * Guess ahead and let the model check the guesses in one step
   * (speculative decoding): the same tokens when greedy, the same
   * distribution when sampling, fewer steps when the guesses are right.
   */
  speculative?: SpeculativeOptions;
}

/**
 * Why generation ended: an end-of-generation token, a stop string or stop
 * token (`'stop'`), `maxTokens` (`'length'`), or the caller's abort signal
 * or leaving the stream early (`'abort'`). A request that outgrows the KV
 * cache fails with `E_KV_FULL` instead.
 *
 * @example
 * ```ts
 * const { finishReason } = await model.generate(prompt, { maxTokens: 16 });
 * if (finishReason === 'length') console.log('cut at maxTokens');
 * ```
 */
export type FinishReason = 'stop' | 'length' | 'abort';

/**
 * What a generation returns.
 *
 * @example
 * ```ts
 * const r: GenerationResult = await model.generate('Once upon a time', { maxTokens: 32 });
 * console.log(r.text, r.usage.completionTokens, r.timings.tokensPerSecond);
 * ```
 */
export interface GenerationResult {
  /** The generated text (the prompt not included, stop strings cut). */
  text: string;
  /** The generated token ids. */
  tokens: number[];
  finishReason: FinishReason;
  usage: {
    promptTokens: number;
    completionTokens: number;
    /** Prompt tokens whose KV entries were reused rather than computed. */
    cachedTokens: number;
  };
  timings: { prefillMs: number; decodeMs: number; tokensPerSecond: number };
  /** One entry per generated token, when {@link GenerateOptions.logprobs} was set. */
  logprobs?: TokenLogprob[];
  /**
   * With {@link GenerateOptions.speculative}: tokens guessed, guesses the
   * model accepted, and verification steps (accepted / drafted is the
   * acceptance rate; accepted / steps the mean accepted length).
   */
  speculation?: { drafted: number; accepted: number; steps: number };
}

/**
 * A piece of a streamed generation.
 *
 * @example
 * ```ts
 * for await (const chunk of model.stream('Once upon a time')) process.stdout.write(chunk.text);
 * ```
 */
export interface GenerationChunk {
  /** New text: never part of a UTF-8 character or of a stop string. All chunks' text is the result's text. */
  text: string;
  /** The tokens generated since the previous chunk. */
  tokens: number[];
  /** Their log-probabilities, when requested. */
  logprobs?: TokenLogprob[];
}

export interface ResolvedLimits {
  maxTokens: number;
  stop: string[];
  stopTokens: number[];
  ignoreEos: boolean;
  signal: AbortSignal | undefined;
  logprobs: number | undefined;
}

/** Checks the non-sampling options; throws {@link InvalidArgumentError} naming a bad one. */
export function resolveLimits(o: GenerateOptions, vocabSize: number): ResolvedLimits {
  const maxTokens = o.maxTokens ?? 256;
  if (!Number.isInteger(maxTokens) || maxTokens < 0) throw new InvalidArgumentError(`maxTokens must be a non-negative integer, got ${String(maxTokens)}`);
  const stop = o.stop === undefined ? [] : typeof o.stop === 'string' ? [o.stop] : Array.from(o.stop);
  for (const s of stop) if (typeof s !== 'string') throw new InvalidArgumentError(`stop must be strings, got ${typeof s}`);
  const stopTokens = o.stopTokens === undefined ? [] : Array.from(o.stopTokens);
  for (const t of stopTokens) {
    if (!Number.isInteger(t) || t < 0 || t >= vocabSize) throw new InvalidArgumentError(`stopTokens: ${String(t)} is not a token id of this model (vocabulary ${vocabSize})`);
  }
  if (o.signal !== undefined && !(o.signal instanceof AbortSignal)) throw new InvalidArgumentError('signal must be an AbortSignal');
  if (o.logprobs !== undefined && (!Number.isInteger(o.logprobs) || o.logprobs < 0 || o.logprobs > 20)) {
    throw new InvalidArgumentError(`logprobs must be an integer from 0 to 20, got ${String(o.logprobs)}`);
  }
  return { maxTokens, stop, stopTokens, ignoreEos: o.ignoreEos ?? false, signal: o.signal, logprobs: o.logprobs };
}
