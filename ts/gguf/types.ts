/**
 * GGUF's vocabularies: tensor (GGML) types, metadata value types and
 * llama.cpp's file types.
 * @module
 */
import { InvalidArgumentError } from '../errors.js';

/**
 * GGML tensor type names, as GGUF files number them.
 *
 * @example
 * ```ts
 * GGML_TYPES.Q4_K; // 12, the id in a GGUF tensor info
 * ```
 */
export const GGML_TYPES = {
  F32: 0, F16: 1, Q4_0: 2, Q4_1: 3, Q5_0: 6, Q5_1: 7, Q8_0: 8, Q8_1: 9,
  Q2_K: 10, Q3_K: 11, Q4_K: 12, Q5_K: 13, Q6_K: 14, Q8_K: 15,
  IQ2_XXS: 16, IQ2_XS: 17, IQ3_XXS: 18, IQ1_S: 19, IQ4_NL: 20, IQ3_S: 21, IQ2_S: 22, IQ4_XS: 23,
  I8: 24, I16: 25, I32: 26, I64: 27, F64: 28, IQ1_M: 29, BF16: 30, TQ1_0: 34, TQ2_0: 35, MXFP4: 39,
} as const;

/**
 * A GGML tensor type name, e.g. `'Q4_K'`.
 *
 * @example
 * ```ts
 * const t: GgmlType = 'Q6_K';
 * ```
 */
export type GgmlType = keyof typeof GGML_TYPES;

/**
 * The tensor types lmrt's GGUF writer can encode from float values.
 *
 * @example
 * ```ts
 * for (const type of ENCODABLE_TYPES) await synthModel(`tiny-${type}.gguf`, { type });
 * ```
 */
export const ENCODABLE_TYPES = ['F32', 'F16', 'BF16', 'Q8_0', 'Q5_0', 'Q5_1', 'Q4_0', 'Q4_K', 'Q5_K', 'Q6_K'] as const;

/**
 * A type lmrt can encode: {@link ENCODABLE_TYPES}.
 *
 * @example
 * ```ts
 * const type: EncodableType = 'Q4_0';
 * await synthModel('tiny.gguf', { type });
 * ```
 */
export type EncodableType = (typeof ENCODABLE_TYPES)[number];

const TYPE_BY_ID = new Map<number, GgmlType>(
  Object.entries(GGML_TYPES).map(([name, id]) => [id, name as GgmlType]),
);

/**
 * Name of a GGML type id, or `TYPE_<id>` for an id this version does not know.
 *
 * @example
 * ```ts
 * ggmlTypeName(14); // 'Q6_K'
 * ggmlTypeName(99); // 'TYPE_99'
 * ```
 */
export function ggmlTypeName(id: number): GgmlType | `TYPE_${number}` {
  return TYPE_BY_ID.get(id) ?? `TYPE_${id}`;
}

/**
 * Parses a type name case-insensitively (`q4_k` → `Q4_K`).
 *
 * @example
 * ```ts
 * parseGgmlType('q4_k'); // 'Q4_K'
 * parseGgmlType('q9'); // throws InvalidArgumentError listing the types
 * ```
 */
export function parseGgmlType(name: string): GgmlType {
  const upper = name.toUpperCase();
  if (upper in GGML_TYPES) return upper as GgmlType;
  throw new InvalidArgumentError(
    `unknown tensor type '${name}' (expected one of ${Object.keys(GGML_TYPES).join(', ')})`,
  );
}

/**
 * GGUF metadata value types, numbered as in the format.
 *
 * @example
 * ```ts
 * GGUF_VALUE_TYPES.string; // 8
 * ```
 */
export const GGUF_VALUE_TYPES = {
  uint8: 0, int8: 1, uint16: 2, int16: 3, uint32: 4, int32: 5, float32: 6, bool: 7,
  string: 8, array: 9, uint64: 10, int64: 11, float64: 12,
} as const;

/**
 * A GGUF metadata scalar type name.
 *
 * @example
 * ```ts
 * const t: GgufScalarType = 'uint32';
 * ```
 */
export type GgufScalarType = Exclude<keyof typeof GGUF_VALUE_TYPES, 'array'>;

/**
 * A metadata value's full type: a scalar type, or `array<T>` with T itself
 * a full type (`array<string>`, `array<array<float32>>`).
 *
 * @example
 * ```ts
 * const { metadataTypes } = await inspectGguf('model.gguf');
 * metadataTypes['tokenizer.ggml.tokens']; // 'array<string>'
 * ```
 */
export type GgufValueType = GgufScalarType | `array<${string}>`;

const VALUE_TYPE_BY_ID = new Map<number, keyof typeof GGUF_VALUE_TYPES>(
  Object.entries(GGUF_VALUE_TYPES).map(([name, id]) => [id, name as keyof typeof GGUF_VALUE_TYPES]),
);

/** @internal */
export function valueTypeName(id: number): keyof typeof GGUF_VALUE_TYPES {
  const name = VALUE_TYPE_BY_ID.get(id);
  if (name === undefined) throw new InvalidArgumentError(`unknown GGUF value type id ${id}`);
  return name;
}

/**
 * llama.cpp's `general.file_type` values (llama_ftype), by number.
 *
 * @example
 * ```ts
 * FILE_TYPES[15]; // 'Q4_K_M', from general.file_type
 * ```
 */
export const FILE_TYPES: Readonly<Record<number, string>> = {
  0: 'F32', 1: 'F16', 2: 'Q4_0', 3: 'Q4_1', 7: 'Q8_0', 8: 'Q5_0', 9: 'Q5_1', 10: 'Q2_K',
  11: 'Q3_K_S', 12: 'Q3_K_M', 13: 'Q3_K_L', 14: 'Q4_K_S', 15: 'Q4_K_M', 16: 'Q5_K_S', 17: 'Q5_K_M',
  18: 'Q6_K', 19: 'IQ2_XXS', 20: 'IQ2_XS', 21: 'Q2_K_S', 22: 'IQ3_XS', 23: 'IQ3_XXS', 24: 'IQ1_S',
  25: 'IQ4_NL', 26: 'IQ3_S', 27: 'IQ3_M', 28: 'IQ2_S', 29: 'IQ2_M', 30: 'IQ4_XS', 31: 'IQ1_M',
  32: 'BF16', 36: 'TQ1_0', 37: 'TQ2_0', 38: 'MXFP4_MOE',
};
