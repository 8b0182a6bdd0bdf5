/**
 * Quantising model files: llama.cpp's presets, written by lmrt.
 * @module
 */
import { existsSync, realpathSync } from 'node:fs';
import { resolve } from 'node:path';

import { InvalidArgumentError, IoError } from '../errors.js';
import { ggmlTypeName, type GgmlType } from '../gguf/types.js';
import { callNative } from '../native/binding.js';

/**
 * The quantisation presets, by llama.cpp's names (llama-quantize's types).
 *
 * @example
 * ```ts
 * for (const type of QUANTIZE_PRESETS) await quantizeModel('model-f16.gguf', `model-${type}.gguf`, { type });
 * ```
 */
export const QUANTIZE_PRESETS = ['Q8_0', 'Q6_K', 'Q5_K_M', 'Q4_K_M', 'Q4_0'] as const;

/**
 * A quantisation preset: {@link QUANTIZE_PRESETS}.
 *
 * @example
 * ```ts
 * const type: QuantizePreset = 'Q4_K_M';
 * ```
 */
export type QuantizePreset = (typeof QUANTIZE_PRESETS)[number];

// llama.cpp's general.file_type ids
const FILE_TYPE: Record<QuantizePreset, number> = { Q4_0: 2, Q8_0: 7, Q4_K_M: 15, Q5_K_M: 17, Q6_K: 18 };

/**
 * Options of {@link quantizeModel}.
 *
 * @example
 * ```ts
 * const options: QuantizeOptions = { type: 'Q4_K_M', threads: 4, onProgress: (done, total) => console.log(done / total) };
 * ```
 */
export interface QuantizeOptions {
  /** The preset (required). */
  type: QuantizePreset;
  /** Threads encoding side by side (default: one per CPU). */
  threads?: number;
  /** Bytes of the output written so far, of the total. */
  onProgress?: (doneBytes: number, totalBytes: number) => void;
}

/**
 * One tensor of a quantised file.
 *
 * @example
 * ```ts
 * const { tensors } = await quantizeModel('in.gguf', 'out.gguf', { type: 'Q4_K_M' });
 * const t: QuantizedTensor = tensors[0]!;
 * console.log(t.name, t.from, '->', t.to, t.fallback ? '(fallback)' : '');
 * ```
 */
export interface QuantizedTensor {
  name: string;
  /** The input's type. */
  from: GgmlType;
  /** The type written (equal to `from`: copied as it is). */
  to: GgmlType;
  /** The preset's type does not fit the rows (their length is not a whole number of its blocks): `to` is llama.cpp's fallback. */
  fallback: boolean;
  /** The input was quantised already and was decoded and encoded again (its error adds to the new one). */
  requantized: boolean;
  elements: number;
  bytesIn: number;
  bytesOut: number;
}

/**
 * What {@link quantizeModel} wrote.
 *
 * @example
 * ```ts
 * const r: QuantizeResult = await quantizeModel('in.gguf', 'out.gguf', { type: 'Q8_0' });
 * console.log(`${r.bytesIn} -> ${r.bytesOut} bytes`, r.warnings);
 * ```
 */
export interface QuantizeResult {
  path: string;
  type: QuantizePreset;
  tensors: QuantizedTensor[];
  /** Tensor data in and out (the metadata aside). */
  bytesIn: number;
  bytesOut: number;
  /** Fallbacks and requantised tensors, one line each kind. */
  warnings: string[];
}

/**
 * Writes a quantised copy of a GGUF model with one of llama.cpp's presets:
 * the same per-tensor types llama-quantize chooses (Q4_K_M keeps the output
 * and some layers' attn_v and ffn_down in Q6_K, and so on; rows that are
 * not whole blocks fall back as llama.cpp's do, to F16 where llama.cpp has
 * no fallback), the metadata copied with `general.file_type` set. Reads
 * F32, F16 or BF16 weights; already quantised ones are requantised, with a
 * warning. Streams tensor by tensor from the mapped input (memory stays
 * near a few 16 MiB chunks), and writes the output atomically.
 *
 * @throws {@link InvalidArgumentError} for a bad preset or option, or when
 *   the output is the input; an `LmrtError` with a GGUF code for an
 *   unreadable model; {@link IoError} when the output cannot be written
 *
 * @example
 * ```ts
 * const r = await quantizeModel('llama-f16.gguf', 'llama-q4_k_m.gguf', { type: 'Q4_K_M' });
 * console.log(r.tensors.filter((t) => t.to === 'Q6_K').map((t) => t.name));
 * ```
 */
export async function quantizeModel(input: string, output: string, options: QuantizeOptions): Promise<QuantizeResult> {
  const type = options?.type;
  if (!(QUANTIZE_PRESETS as readonly string[]).includes(type)) {
    throw new InvalidArgumentError(`quantizeModel: type must be one of ${QUANTIZE_PRESETS.join(', ')} (got ${JSON.stringify(type)})`);
  }
  const threads = options.threads ?? 0;
  if (!Number.isInteger(threads) || threads < 0 || threads > 256) {
    throw new InvalidArgumentError(`quantizeModel: threads must be an integer from 1 to 256 (got ${JSON.stringify(options.threads)})`);
  }
  if (!existsSync(input)) throw new IoError(`quantizeModel: ${input} does not exist`);
  if (existsSync(output) && realpathSync(output) === realpathSync(input)) {
    throw new InvalidArgumentError(`quantizeModel: the output ${output} is the input`);
  }
  const raw = await callNative((b) => b.quantizeModel(resolve(input), resolve(output), FILE_TYPE[type], threads, options.onProgress));
  const tensors: QuantizedTensor[] = raw.map((t) => ({
    name: t.name, from: ggmlTypeName(t.fromType) as GgmlType, to: ggmlTypeName(t.toType) as GgmlType,
    fallback: t.fallback, requantized: t.requantized, elements: t.elements, bytesIn: t.bytesIn, bytesOut: t.bytesOut,
  }));
  const warnings: string[] = [];
  const fallbacks = tensors.filter((t) => t.fallback);
  if (fallbacks.length > 0) {
    const byType = new Map<GgmlType, string[]>();
    for (const t of fallbacks) byType.set(t.to, [...(byType.get(t.to) ?? []), t.name]);
    warnings.push(`${fallbacks.length} tensor(s) have rows that are not whole blocks of the type ${type} gives them, and took llama.cpp's fallback: ` +
      [...byType].map(([to, names]) => `${names.length} to ${to} (${names.slice(0, 2).join(', ')}${names.length > 2 ? ', …' : ''})`).join('; '));
  }
  const requantized = tensors.filter((t) => t.requantized);
  if (requantized.length > 0) {
    warnings.push(`${requantized.length} tensor(s) were quantised already (${[...new Set(requantized.map((t) => t.from))].join(', ')}) ` +
      'and were requantised: their error adds to the new one. Quantise from the F32/F16/BF16 model where you have it.');
  }
  return {
    path: output, type, tensors,
    bytesIn: tensors.reduce((s, t) => s + t.bytesIn, 0),
    bytesOut: tensors.reduce((s, t) => s + t.bytesOut, 0),
    warnings,
  };
}
