/**
 * Options of speculative decoding ({@link GenerateOptions.speculative}).
 * @module
 */
import { InvalidArgumentError } from '../errors.js';
import type { Model } from '../model/model.js';
import type { SamplingOptions } from '../sampling/chain.js';
import { DraftLength, type Drafter } from './drafter.js';
import { PromptLookupDrafter } from './prompt-lookup.js';

/**
 * Speculative decoding by prompt lookup: the tokens that followed the last
 * earlier occurrence of the text's final `ngram` tokens (or fewer) are
 * guessed, and the model checks all the guesses in one step. The output is
 * exactly what the model gives without it: the same tokens when greedy,
 * the same distribution when sampling.
 *
 * @example
 * ```ts
 * const r = await model.generate(editPrompt, { speculative: { type: 'prompt-lookup', ngram: 3, maxDraftTokens: 7 } });
 * console.log(r.speculation); // { drafted, accepted, steps }
 * ```
 */
export interface PromptLookupOptions {
  type: 'prompt-lookup';
  /** The longest suffix to look up (default 3); shorter ones are tried when it does not recur. */
  ngram?: number;
  /** Most tokens guessed per step (default 7); fewer after recent misses, more only after guesses all came true. */
  maxDraftTokens?: number;
}

/**
 * Speculative decoding with a draft model: a smaller model with the same
 * vocabulary guesses the next tokens (sampled through the same chain as
 * the target's), and the target checks them all in one step. The output is
 * exactly the target's: the same tokens when greedy, the same distribution
 * when sampling.
 *
 * @example
 * ```ts
 * const draft = await loadModel('small.gguf');
 * const r = await model.generate(prompt, { speculative: { draft, maxDraftTokens: 3 } });
 * ```
 */
export interface DraftModelOptions {
  type?: 'draft';
  /** The draft model: loaded with {@link loadModel}, sharing the target's vocabulary. */
  draft: Model;
  /** Most tokens guessed per step (default 3); fewer after recent misses. */
  maxDraftTokens?: number;
  /** Fewest tokens guessed per step however the guesses fare (default 0: drafting may stop). */
  minDraftTokens?: number;
}

/**
 * How a request guesses ahead (speculative decoding). See
 * {@link PromptLookupOptions} and {@link DraftModelOptions}.
 *
 * @example
 * ```ts
 * const speculative: SpeculativeOptions = { type: 'prompt-lookup' };
 * await model.generate(prompt, { speculative });
 * ```
 */
export type SpeculativeOptions = PromptLookupOptions | DraftModelOptions;

/**
 * Steps between one-token probes once guessing has stopped paying: a
 * lookup probe costs one more row in a step, a draft model's probe its own
 * steps too (and its wait doubles while probes fail).
 */
const LOOKUP_PROBE_EVERY = 8;
const DRAFT_PROBE_EVERY = 16;

/**
 * A request's drafter and draft-length control, from its options
 * (undefined: no speculation). `draftWith` makes the drafter of a draft
 * model for the request's sampling options.
 */
export function resolveSpeculative(
  options: SpeculativeOptions | undefined,
  draftWith: (draft: Model, sampling: SamplingOptions) => Drafter,
  sampling: SamplingOptions,
): { drafter: Drafter; length: DraftLength } | undefined {
  if (options === undefined) return undefined;
  if (typeof options !== 'object' || options === null) throw new InvalidArgumentError('speculative must be an object such as { type: \'prompt-lookup\' }');
  const int = (name: string, v: unknown, fallback: number, min: number, max: number): number => {
    if (v === undefined) return fallback;
    if (typeof v !== 'number' || !Number.isInteger(v) || v < min || v > max) {
      throw new InvalidArgumentError(`speculative.${name} must be an integer from ${min} to ${max}, got ${String(v)}`);
    }
    return v;
  };
  if (options.type === 'prompt-lookup') {
    const ngram = int('ngram', options.ngram, 3, 1, 64);
    const maxDraft = int('maxDraftTokens', options.maxDraftTokens, 7, 1, 64);
    return { drafter: new PromptLookupDrafter(ngram), length: new DraftLength(0, maxDraft, LOOKUP_PROBE_EVERY) };
  }
  if ((options.type === undefined || options.type === 'draft') && 'draft' in options) {
    if (typeof options.draft !== 'object' || options.draft === null) throw new InvalidArgumentError('speculative.draft must be a loaded Model');
    const maxDraft = int('maxDraftTokens', options.maxDraftTokens, 3, 1, 64);
    const minDraft = int('minDraftTokens', options.minDraftTokens, 0, 0, maxDraft);
    return { drafter: draftWith(options.draft, sampling), length: new DraftLength(minDraft, maxDraft, DRAFT_PROBE_EVERY, true) };
  }
  throw new InvalidArgumentError(`speculative must be { type: 'prompt-lookup' } or { draft: model }, got type ${JSON.stringify((options as { type?: unknown }).type)}`);
}
