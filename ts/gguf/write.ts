/**
 * writeGguf: writes GGUF v3 files — any metadata, tensors of the types lmrt
 * can encode, or pre-encoded bytes of any type.
 * @module
 */
import { InvalidArgumentError } from '../errors.js';
import { callNative } from '../native/binding.js';
import { RawTensorSource, type RawArray, type RawTensorIn, type RawValue } from '../native/types.js';
import type { GgufValue } from './inspect.js';
import { GGML_TYPES, GGUF_VALUE_TYPES, parseGgmlType, type GgmlType, type GgufValueType } from './types.js';

/**
 * Values produced in native code while writing, so large tensors never exist in JS.
 *
 * @example
 * ```ts
 * await writeGguf('w.gguf', {
 *   tensors: [{ name: 'w', type: 'Q8_0', shape: [256, 64], data: { fill: 'uniform', scale: 0.02, seed: 1 } }],
 * });
 * ```
 */
export type GgufTensorFill =
  /** Uniform in [-scale, scale); the same seed gives the same values in every type. */
  | { fill: 'uniform'; scale: number; seed?: number | bigint }
  /** Every element equals `value`. */
  | { fill: 'constant'; value: number };

/**
 * A tensor to write.
 *
 * @example
 * ```ts
 * const spec: GgufTensorSpec = { name: 'bias', type: 'F32', shape: [4], data: Float32Array.of(0, 1, 2, 3) };
 * await writeGguf('bias.gguf', { tensors: [spec] });
 * ```
 */
export interface GgufTensorSpec {
  /** Tensor name (at most 64 bytes), unique in the file. */
  name: string;
  /** Storage type. Float data and fills need an encodable type (see {@link ENCODABLE_TYPES}). */
  type: GgmlType;
  /** Dimensions, innermost (row) first; the row length must be a multiple of the type's block size. */
  shape: number[];
  /**
   * `Float32Array`: values to encode into `type`. `Uint8Array`: bytes already
   * in `type`'s block layout. Or a {@link GgufTensorFill}.
   */
  data: Float32Array | Uint8Array | GgufTensorFill;
}

/**
 * Options of {@link writeGguf}.
 *
 * @example
 * ```ts
 * const options: WriteGgufOptions = {
 *   metadata: { 'general.architecture': 'llama', 'llama.block_count': 2 },
 *   metadataTypes: { 'llama.block_count': 'uint32' },
 *   tensors: [],
 * };
 * await writeGguf('meta.gguf', options);
 * ```
 */
export interface WriteGgufOptions {
  /** Metadata to write, in insertion order. */
  metadata?: Record<string, GgufValue>;
  /**
   * The GGUF type of metadata values whose type cannot be inferred or must
   * not be: JS integers default to uint32/int32 and other numbers to float32,
   * so e.g. a float key holding `10000` needs `'float32'` here. The
   * `metadataTypes` of {@link inspectGguf}'s result fits.
   */
  metadataTypes?: Record<string, GgufValueType>;
  /** Tensors, written in this order. */
  tensors?: GgufTensorSpec[];
  /** Data alignment in bytes, a power of two (default 32, written as general.alignment when different). */
  alignment?: number;
  /** Called as tensor data is written: bytes done and total. */
  onProgress?: (doneBytes: number, totalBytes: number) => void;
}

const TYPED_ARRAY_TYPES: [new (...args: never[]) => unknown, GgufValueType][] = [
  [Uint8Array, 'array<uint8>'], [Int8Array, 'array<int8>'], [Uint16Array, 'array<uint16>'],
  [Int16Array, 'array<int16>'], [Uint32Array, 'array<uint32>'], [Int32Array, 'array<int32>'],
  [Float32Array, 'array<float32>'], [Float64Array, 'array<float64>'], [BigUint64Array, 'array<uint64>'],
  [BigInt64Array, 'array<int64>'],
];

const TYPED_ARRAY_BY_ELEM: Record<string, (new (values: ArrayLike<number | bigint>) => ArrayBufferView) | undefined> = {
  uint8: Uint8Array, int8: Int8Array, uint16: Uint16Array, int16: Int16Array, uint32: Uint32Array,
  int32: Int32Array, float32: Float32Array, float64: Float64Array,
  uint64: BigUint64Array as never, int64: BigInt64Array as never,
};

function inferNumberType(values: number[]): GgufValueType {
  if (values.every(Number.isInteger)) {
    if (values.every((v) => v >= 0 && v <= 0xffffffff)) return 'uint32';
    if (values.every((v) => v >= -0x80000000 && v <= 0x7fffffff)) return 'int32';
  }
  return 'float32';
}

/** The type a value gets when none is given. @internal */
export function inferValueType(key: string, value: GgufValue): GgufValueType {
  switch (typeof value) {
    case 'string': return 'string';
    case 'boolean': return 'bool';
    case 'bigint': return value >= 0n ? 'uint64' : 'int64';
    case 'number': return inferNumberType([value]);
    default: break;
  }
  for (const [ctor, type] of TYPED_ARRAY_TYPES) if (value instanceof ctor) return type;
  if (Array.isArray(value)) {
    if (value.length === 0) {
      throw new InvalidArgumentError(`metadata '${key}': cannot infer the element type of an empty array; give it in metadataTypes`);
    }
    const first = value[0];
    if (value.every((v) => typeof v === 'string')) return 'array<string>';
    if (value.every((v) => typeof v === 'boolean')) return 'array<bool>';
    if (value.every((v) => typeof v === 'number')) return `array<${inferNumberType(value as number[])}>`;
    if (value.every((v) => typeof v === 'object')) return `array<${inferValueType(key, first as GgufValue)}>`;
  }
  throw new InvalidArgumentError(`metadata '${key}': unsupported value ${String(value)}`);
}

function toRaw(key: string, type: GgufValueType, value: GgufValue): [number, RawValue] {
  const match = /^array<(.+)>$/.exec(type);
  if (match === null) {
    const id = GGUF_VALUE_TYPES[type as keyof typeof GGUF_VALUE_TYPES];
    if (id === undefined || id === GGUF_VALUE_TYPES.array) throw new InvalidArgumentError(`metadata '${key}': unknown type '${type}'`);
    if (typeof value === 'object') throw new InvalidArgumentError(`metadata '${key}': expected a ${type}, got an array`);
    return [id, value];
  }
  const elemType = match[1] as GgufValueType;
  if (typeof value !== 'object' || value === null) {
    throw new InvalidArgumentError(`metadata '${key}': expected an array for type ${type}`);
  }
  const items = value as ArrayLike<unknown>;
  const [elemId] = elemType.startsWith('array<') ? [GGUF_VALUE_TYPES.array] : [GGUF_VALUE_TYPES[elemType as keyof typeof GGUF_VALUE_TYPES]];
  if (elemId === undefined) throw new InvalidArgumentError(`metadata '${key}': unknown element type '${elemType}'`);
  let raw: RawArray['items'];
  if (elemId === GGUF_VALUE_TYPES.array) {
    raw = Array.from(items, (v) => toRaw(key, elemType, v as GgufValue)[1] as RawArray);
  } else if (elemType === 'string' || elemType === 'bool') {
    raw = Array.from(items) as string[] | boolean[];
  } else {
    const Ctor = TYPED_ARRAY_BY_ELEM[elemType]!;
    raw = (items instanceof Ctor ? items : new Ctor(items as ArrayLike<number | bigint>)) as RawArray['items'];
  }
  return [GGUF_VALUE_TYPES.array, { elemType: elemId, items: raw }];
}

function tensorToRaw(t: GgufTensorSpec): RawTensorIn {
  if (typeof t.name !== 'string' || t.name.length === 0) throw new InvalidArgumentError('writeGguf: every tensor needs a name');
  const type = GGML_TYPES[parseGgmlType(t.type)];
  if (!Array.isArray(t.shape) || t.shape.some((d) => !Number.isSafeInteger(d) || d < 1)) {
    throw new InvalidArgumentError(`tensor '${t.name}': shape must be an array of positive integers`);
  }
  const base = { name: t.name, type, shape: t.shape };
  const d = t.data;
  if (d instanceof Float32Array) return { ...base, source: RawTensorSource.F32, data: d };
  if (d instanceof Uint8Array) return { ...base, source: RawTensorSource.Raw, data: d };
  if (d?.fill === 'uniform') {
    return { ...base, source: RawTensorSource.Uniform, scale: d.scale, seed: BigInt.asUintN(64, BigInt(d.seed ?? 0)) };
  }
  if (d?.fill === 'constant') return { ...base, source: RawTensorSource.Constant, scale: d.value };
  throw new InvalidArgumentError(`tensor '${t.name}': data must be a Float32Array, a Uint8Array or a fill`);
}

/**
 * Writes a GGUF (v3) file. Tensor data is encoded and written chunk by
 * chunk off the JS thread, so memory stays near one chunk; the file appears
 * under `path` only once complete (it is written to a temporary name first).
 *
 * @throws {@link InvalidArgumentError} for bad metadata or tensor specs,
 *   {@link GgufError} for a type lmrt cannot encode, {@link IoError} when the
 *   file cannot be written
 *
 * @example
 * ```ts
 * await writeGguf('tiny.gguf', {
 *   metadata: { 'general.architecture': 'llama', 'llama.rope.freq_base': 10000 },
 *   metadataTypes: { 'llama.rope.freq_base': 'float32' },
 *   tensors: [{ name: 'w', type: 'Q8_0', shape: [64, 4], data: { fill: 'uniform', scale: 0.1 } }],
 * });
 * ```
 */
export async function writeGguf(path: string, options: WriteGgufOptions = {}): Promise<void> {
  if (typeof path !== 'string' || path.length === 0) throw new InvalidArgumentError('writeGguf: path must be a non-empty string');
  const alignment = options.alignment ?? 32;
  if (!Number.isInteger(alignment) || alignment < 1 || (alignment & (alignment - 1)) !== 0 || alignment > 2 ** 30) {
    throw new InvalidArgumentError(`writeGguf: alignment ${alignment} is not a power of two`);
  }
  const metadata = { ...options.metadata };
  const types: Record<string, GgufValueType> = { ...options.metadataTypes };
  if (alignment !== 32) {
    metadata['general.alignment'] = alignment;
    types['general.alignment'] = 'uint32';
  }
  const kvs = Object.entries(metadata).map(([key, value]): [string, number, RawValue] => {
    const [type, raw] = toRaw(key, types[key] ?? inferValueType(key, value), value);
    return [key, type, raw];
  });
  const tensors = (options.tensors ?? []).map(tensorToRaw);
  await callNative((b) => b.ggufWrite(path, alignment, kvs, tensors, options.onProgress));
}
