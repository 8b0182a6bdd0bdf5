/**
 * Measurements of the machine lmrt runs on.
 * @module
 */
import { availableParallelism } from 'node:os';

import { InvalidArgumentError } from './errors.js';
import { callNative } from './native/binding.js';

/**
 * Options of {@link measureMemoryBandwidth}.
 *
 * @example
 * ```ts
 * const options: BandwidthOptions = { bytes: 256 * 2 ** 20, threads: 2, passes: 3 };
 * ```
 */
export interface BandwidthOptions {
  /** Size of the buffer read; far larger than the caches (default 512 MiB). */
  bytes?: number;
  /** Threads reading it, each its own slice (default: the logical CPUs). */
  threads?: number;
  /** Reads of the whole buffer; the best counts (default 5). */
  passes?: number;
}

/**
 * How fast this machine streams memory into its cores, in bytes per second:
 * the bound on decoding, which reads every weight once per token. A decode
 * step's roofline is this rate divided by the bytes of weights it reads.
 *
 * @throws {@link InvalidArgumentError} for bad options, an `LmrtError` with
 *   code `E_OUT_OF_MEMORY` when the buffer cannot be allocated
 *
 * @example
 * ```ts
 * const rate = await measureMemoryBandwidth({ threads: 2 });
 * console.log(`${(rate / 1e9).toFixed(1)} GB/s`);
 * ```
 */
export async function measureMemoryBandwidth(options: BandwidthOptions = {}): Promise<number> {
  const bytes = options.bytes ?? 512 * 2 ** 20;
  const threads = options.threads ?? availableParallelism();
  const passes = options.passes ?? 5;
  if (!Number.isSafeInteger(bytes) || bytes < 1) throw new InvalidArgumentError(`bytes must be a positive integer, got ${bytes}`);
  if (!Number.isInteger(threads) || threads < 1 || threads > 64) throw new InvalidArgumentError(`threads must be an integer from 1 to 64, got ${threads}`);
  if (!Number.isInteger(passes) || passes < 1 || passes > 1000) throw new InvalidArgumentError(`passes must be an integer from 1 to 1000, got ${passes}`);
  return callNative((b) => b.measureReadBandwidth(bytes, threads, passes));
}
