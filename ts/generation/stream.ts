/**
 * GenerationStream: the chunks of a running generation as an async
 * iterable, and its final result as a promise.
 * @module
 */
import type { GenerationChunk, GenerationResult } from './options.js';

/**
 * A generation in progress. Iterate it (`for await`) for its chunks; await
 * {@link GenerationStream.result} for the whole result. Leaving the loop
 * early (`break`) aborts the generation. One consumer at a time.
 *
 * @example
 * ```ts
 * const stream: GenerationStream = model.stream('Once upon a time', { maxTokens: 64 });
 * for await (const chunk of stream) process.stdout.write(chunk.text);
 * console.log((await stream.result).finishReason);
 * ```
 */
export class GenerationStream implements AsyncIterable<GenerationChunk> {
  /** The final result: resolves when generation ends, however it ends. */
  readonly result: Promise<GenerationResult>;
  readonly #abort: () => void;
  readonly #buffer: GenerationChunk[] = [];
  #wake: (() => void) | undefined;
  #done = false;
  #error: unknown;

  /** @internal */
  constructor(start: (onChunk: (chunk: GenerationChunk) => void) => Promise<GenerationResult>, abort: () => void) {
    this.#abort = abort;
    this.result = start((chunk) => {
      this.#buffer.push(chunk);
      this.#notify();
    });
    this.result.then(
      () => this.#finish(undefined),
      (err: unknown) => this.#finish(err ?? new Error('generation failed')),
    );
  }

  /** The chunks, as they become final; ends when the generation does (rethrowing its error). */
  async *[Symbol.asyncIterator](): AsyncIterator<GenerationChunk> {
    try {
      for (;;) {
        if (this.#buffer.length > 0) {
          yield this.#buffer.shift()!;
          continue;
        }
        if (this.#done) {
          if (this.#error !== undefined) throw this.#error;
          return;
        }
        await new Promise<void>((resolve) => (this.#wake = resolve));
      }
    } finally {
      // the consumer left early (break, throw): stop generating
      if (!this.#done) this.#abort();
    }
  }

  #finish(err: unknown): void {
    this.#done = true;
    this.#error = err;
    this.#notify();
  }

  #notify(): void {
    const wake = this.#wake;
    this.#wake = undefined;
    wake?.();
  }
}
