/**
 * One generation request from prompt tokens to result: prefill, then one
 * sampled token per step until a stop condition, with UTF-8-safe streamed
 * text, stop strings, abort and log-probabilities. The sequence's KV blocks
 * are released however it ends.
 * @module
 */
import { Candidates } from '../sampling/candidates.js';
import { logprobsOf, resolveSamplingOptions, Sampler, type TokenLogprob } from '../sampling/chain.js';
import type { Tokenizer } from '../tokenizer/tokenizer.js';
import { resolveLimits, type FinishReason, type GenerateOptions, type GenerationChunk, type GenerationResult } from './options.js';
import { StopMatcher } from './stop.js';

/** What a generation needs from the engine: a sequence and forward steps over it. */
export interface SequenceRunner {
  vocabSize: number;
  tokenizer: Tokenizer;
  createSequence(): number;
  releaseSequence(seq: number): void;
  /** Feeds `tokens` at positions from 0; the logits after the last one. */
  prefill(seq: number, tokens: number[]): Promise<Float32Array>;
  /** Feeds one token at `position`; the logits after it. */
  decode(seq: number, token: number, position: number): Promise<Float32Array>;
}

/** Checks the options before the request waits for its turn; throws on a bad one. */
export function validateGenerateOptions(options: GenerateOptions, vocabSize: number): void {
  resolveLimits(options, vocabSize);
  resolveSamplingOptions({ ...options, seed: options.seed ?? 0 }, vocabSize);
}

/** A result with no tokens, for a request aborted before it ran. */
export function abortedResult(promptTokens: number): GenerationResult {
  return {
    text: '', tokens: [], finishReason: 'abort',
    usage: { promptTokens, completionTokens: 0, cachedTokens: 0 },
    timings: { prefillMs: 0, decodeMs: 0, tokensPerSecond: 0 },
  };
}

/** Runs one request; `onChunk` sees each piece of text as it becomes final. */
export async function runGeneration(
  runner: SequenceRunner, prompt: number[], options: GenerateOptions, onChunk: (chunk: GenerationChunk) => void,
): Promise<GenerationResult> {
  const limits = resolveLimits(options, runner.vocabSize);
  const { signal } = limits;
  if (signal?.aborted) return abortedResult(prompt.length);
  const sampler = new Sampler(options, runner.vocabSize);
  for (const t of prompt) sampler.accept(t);
  const ends = new Set([...limits.stopTokens, ...(limits.ignoreEos ? [] : runner.tokenizer.endOfGenerationTokens)]);
  const detokenizer = runner.tokenizer.createStreamingDetokenizer();
  const stops = new StopMatcher(limits.stop);
  const scratch = limits.logprobs !== undefined && limits.logprobs > 0 ? new Candidates(runner.vocabSize) : undefined;

  const tokens: number[] = [];
  const logprobs: TokenLogprob[] = [];
  let text = '';
  let unsent = { tokens: [] as number[], logprobs: [] as TokenLogprob[] };
  const send = (piece: string, final: boolean): void => {
    if (piece === '' && !(final && unsent.tokens.length > 0)) return;
    text += piece;
    const chunk: GenerationChunk = { text: piece, tokens: unsent.tokens };
    if (limits.logprobs !== undefined) chunk.logprobs = unsent.logprobs;
    unsent = { tokens: [], logprobs: [] };
    onChunk(chunk);
  };

  let finishReason: FinishReason = 'length';
  const t0 = performance.now();
  let prefillMs = 0;
  const seq = runner.createSequence();
  try {
    let logits = await runner.prefill(seq, prompt);
    prefillMs = performance.now() - t0;
    while (tokens.length < limits.maxTokens) {
      if (signal?.aborted) {
        finishReason = 'abort';
        break;
      }
      const token = sampler.sample(logits);
      if (ends.has(token)) {
        finishReason = 'stop';
        break;
      }
      tokens.push(token);
      sampler.accept(token);
      unsent.tokens.push(token);
      if (limits.logprobs !== undefined) {
        const lp = logprobsOf(logits, 0, runner.vocabSize, token, limits.logprobs, scratch);
        logprobs.push(lp);
        unsent.logprobs.push(lp);
      }
      send(stops.push(detokenizer.push(token)), false);
      if (stops.stopped) {
        finishReason = 'stop';
        break;
      }
      if (tokens.length === limits.maxTokens) break;
      logits = await runner.decode(seq, token, prompt.length + tokens.length - 1);
    }
    if (!stops.stopped) send(stops.push(detokenizer.flush()) + stops.flush(), true);
    else send('', true);
  } finally {
    runner.releaseSequence(seq);
  }
  const decodeMs = performance.now() - t0 - prefillMs;
  const result: GenerationResult = {
    text,
    tokens,
    finishReason,
    usage: { promptTokens: prompt.length, completionTokens: tokens.length, cachedTokens: 0 },
    timings: { prefillMs, decodeMs, tokensPerSecond: tokens.length > 0 && decodeMs > 0 ? (tokens.length / decodeMs) * 1000 : 0 },
  };
  if (limits.logprobs !== undefined) result.logprobs = logprobs;
  return result;
}
