/**
 * Stop strings over streamed text: text that could still turn out to be
 * the start of a stop string is held back, so no part of a stop string is
 * ever emitted, even when it spans several tokens.
 * @module
 */

/** Finds the first stop string in text that arrives in pieces. */
export class StopMatcher {
  readonly #stops: readonly string[];
  #pending = '';
  #stopped = false;

  constructor(stops: readonly string[]) {
    this.#stops = stops.filter((s) => s.length > 0);
  }

  /** Whether a stop string has been seen. */
  get stopped(): boolean {
    return this.#stopped;
  }

  /**
   * Adds text; returns what can be emitted now. Once a stop string is seen
   * the text before it is returned and everything after is dropped.
   */
  push(text: string): string {
    if (this.#stopped) return '';
    const pending = this.#pending + text;
    let cut = -1;
    for (const stop of this.#stops) {
      const at = pending.indexOf(stop);
      if (at >= 0 && (cut < 0 || at < cut)) cut = at;
    }
    if (cut >= 0) {
      this.#stopped = true;
      this.#pending = '';
      return pending.slice(0, cut);
    }
    const hold = this.#heldLength(pending);
    this.#pending = pending.slice(pending.length - hold);
    return pending.slice(0, pending.length - hold);
  }

  /** The held-back text, once no more text will come. */
  flush(): string {
    const rest = this.#stopped ? '' : this.#pending;
    this.#pending = '';
    return rest;
  }

  // The longest end of `text` that is the start of some stop string.
  #heldLength(text: string): number {
    let hold = 0;
    for (const stop of this.#stops) {
      for (let k = Math.min(stop.length - 1, text.length); k > hold; --k) {
        if (text.endsWith(stop.slice(0, k))) {
          hold = k;
          break;
        }
      }
    }
    return hold;
  }
}
