/**
 * Prompt lookup (n-gram) drafting: the guess for what follows is what
 * followed the last time the text's final tokens appeared earlier, in the
 * prompt or in what was generated. No second model; it pays off where the
 * output copies its input (edits, summaries, code).
 * @module
 */
import type { Draft, Drafter } from './drafter.js';

/**
 * Up to `max` tokens that followed the most recent earlier occurrence of
 * the history's last n tokens, for n from `ngram` down to 1 (longer matches
 * first); none when no suffix recurs. Where that continuation reaches the
 * end of the history, the text repeats with the period the match found
 * (`… x y x y` guesses `x y x …`): a loop is guessed whole, not a token a step.
 */
export function lookupDraft(history: readonly number[], ngram: number, max: number): number[] {
  const end = history.length;
  if (max <= 0) return [];
  for (let n = Math.min(ngram, end - 1); n >= 1; --n) {
    for (let start = end - n - 1; start >= 0; --start) {
      let j = 0;
      while (j < n && history[start + j] === history[end - n + j]) ++j;
      if (j === n) {
        const period = end - n - start;
        const draft: number[] = [];
        for (let k = 0; k < max; ++k) draft.push(k < period ? history[end - period + k]! : draft[k - period]!);
        return draft;
      }
    }
  }
  return [];
}

/** Drafts by prompt lookup; its guesses are certain (the draft distribution is all on each token). */
export class PromptLookupDrafter implements Drafter {
  readonly #ngram: number;

  constructor(ngram: number) {
    this.#ngram = ngram;
  }

  propose(history: readonly number[], max: number): Draft {
    return { tokens: lookupDraft(history, this.#ngram, max) };
  }
}
