/**
 * StreamingDetokenizer: text for ids that arrive one at a time.
 * @module
 */

/**
 * Turns a growing list of token ids into text chunks. Each chunk is final:
 * it never ends inside a UTF-8 character (bytes are held until the
 * character completes), and where the vocabulary cleans spaces before
 * punctuation on detokenize, a trailing space is held until the next token
 * shows whether it stays. All chunks plus {@link StreamingDetokenizer.flush}
 * equal the one-shot detokenization of all ids.
 *
 * Create with {@link Tokenizer.createStreamingDetokenizer}.
 *
 * @example
 * ```ts
 * const stream = model.tokenizer.createStreamingDetokenizer();
 * for (const id of ids) process.stdout.write(stream.push(id));
 * process.stdout.write(stream.flush());
 * ```
 */
export class StreamingDetokenizer {
  readonly #detokenize: (ids: number[]) => Uint8Array;
  readonly #holdSpaces: boolean;
  readonly #decoder = new TextDecoder('utf-8', { ignoreBOM: true });
  readonly #ids: number[] = [];
  #emittedBytes = 0;
  #text = '';

  /** @internal */
  constructor(detokenize: (ids: number[]) => Uint8Array, cleanSpaces: boolean) {
    this.#detokenize = detokenize;
    this.#holdSpaces = cleanSpaces;
  }

  /** All text emitted so far. */
  get text(): string {
    return this.#text;
  }

  /** The ids pushed so far. */
  get tokens(): readonly number[] {
    return this.#ids;
  }

  /** Adds ids and returns the text that became final (possibly `''`). */
  push(ids: number | ArrayLike<number>): string {
    if (typeof ids === 'number') this.#ids.push(ids);
    else for (let i = 0; i < ids.length; ++i) this.#ids.push(ids[i]!);
    const bytes = this.#detokenize(this.#ids);
    let stable = bytes.length;
    if (this.#holdSpaces) {
      // space clean-up looks at most three bytes back (" 're", " ' ", " .")
      for (let i = bytes.length - 1; i >= Math.max(this.#emittedBytes, bytes.length - 3); --i) {
        if (bytes[i] === 0x20) {
          stable = i;
          break;
        }
      }
    }
    return this.#emit(bytes, stable, true);
  }

  /** Returns the rest of the text: call once, after the last id. */
  flush(): string {
    const bytes = this.#detokenize(this.#ids);
    return this.#emit(bytes, bytes.length, false);
  }

  #emit(bytes: Uint8Array, end: number, stream: boolean): string {
    const chunk = end > this.#emittedBytes || !stream
      ? this.#decoder.decode(bytes.subarray(this.#emittedBytes, Math.max(end, this.#emittedBytes)), { stream })
      : '';
    this.#emittedBytes = Math.max(end, this.#emittedBytes);
    this.#text += chunk;
    return chunk;
  }
}
