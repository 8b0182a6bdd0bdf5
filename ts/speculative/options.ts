/**
 * Options of speculative decoding ({@link GenerateOptions.speculative}).
 * @module
 */
import { InvalidArgumentError } from '../errors.js';
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
 * const r = await model.generate(editPrompt, { speculative: { type: 'prompt-lookup', ngram: 3, maxDraftTokens: 8 } });
 * console.log(r.speculation); // { drafted, accepted, steps }
 * ```
 */
export interface PromptLookupOptions {
  type: 'prompt-lookup';
  /** The longest suffix to look up (default 3); shorter ones are tried when it does not recur. */
  ngram?: number;
  /** Most tokens guessed per step (default 8); fewer after recent misses. */
  maxDraftTokens?: number;
}

/**
 * How a request guesses ahead (speculative decoding). See
 * {@link PromptLookupOptions}.
 *
 * @example
 * ```ts
 * const speculative: SpeculativeOptions = { type: 'prompt-lookup' };
 * await model.generate(prompt, { speculative });
 * ```
 */
export type SpeculativeOptions = PromptLookupOptions;

/** A request's drafter and draft-length control, from its options (undefined: no speculation). */
export function resolveSpeculative(options: SpeculativeOptions | undefined): { drafter: Drafter; length: DraftLength } | undefined {
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
    const maxDraft = int('maxDraftTokens', options.maxDraftTokens, 8, 1, 64);
    return { drafter: new PromptLookupDrafter(ngram), length: new DraftLength(0, maxDraft) };
  }
  throw new InvalidArgumentError(`speculative.type must be 'prompt-lookup', got ${JSON.stringify((options as { type?: unknown }).type)}`);
}
