/**
 * inspectGguf: a GGUF file's metadata and tensor table, typed.
 * @module
 */
import { callNative } from '../native/binding.js';
import type { RawArray, RawGguf, RawValue } from '../native/types.js';
import { InvalidArgumentError } from '../errors.js';
import { FILE_TYPES, ggmlTypeName, valueTypeName, type GgmlType, type GgufValueType } from './types.js';

/**
 * A metadata value. Integers up to 32 bits and floats are numbers, 64-bit
 * integers are bigints; numeric arrays are typed arrays of their element
 * type (`Float32Array`, `BigUint64Array`, …); bool and string arrays are JS
 * arrays; arrays of arrays nest.
 *
 * @example
 * ```ts
 * const { metadata } = await inspectGguf('model.gguf');
 * const name: GgufValue = metadata['general.name']; // a string here; arrays come as arrays or typed arrays
 * ```
 */
export type GgufValue =
  | number | bigint | boolean | string
  | Uint8Array | Int8Array | Uint16Array | Int16Array | Uint32Array | Int32Array
  | Float32Array | Float64Array | BigUint64Array | BigInt64Array
  | boolean[] | string[] | GgufValue[];

/**
 * One tensor's entry in the file's tensor table.
 *
 * @example
 * ```ts
 * const { tensors } = await inspectGguf('model.gguf');
 * for (const t of tensors) console.log(t.name, t.type, t.shape, t.byteLength);
 * ```
 */
export interface GgufTensorInfo {
  /** e.g. `blk.0.attn_q.weight`. */
  name: string;
  /** GGML type name; `TYPE_<id>` for an id this version of lmrt does not know. */
  type: GgmlType | `TYPE_${number}`;
  /** Dimensions, innermost (contiguous row) first, as GGUF stores them. */
  shape: number[];
  /** Byte offset of the data, relative to {@link GgufFile.dataOffset}. */
  offset: number;
  /** Size of the tensor's data in bytes. */
  byteLength: number;
  /** Number of elements (the product of `shape`). */
  elementCount: number;
}

/**
 * What {@link inspectGguf} returns.
 *
 * @example
 * ```ts
 * const file: GgufFile = await inspectGguf('model.gguf');
 * console.log(file.architecture, file.parameterCount, file.fileType, file.contextLength);
 * ```
 */
export interface GgufFile {
  /** GGUF format version (2 or 3). */
  version: number;
  /** Alignment of tensor data (general.alignment, default 32). */
  alignment: number;
  /** Absolute byte offset where tensor data begins. */
  dataOffset: number;
  /** File size in bytes. */
  fileSize: number;
  /** `general.architecture`, e.g. `'llama'`. */
  architecture: string | undefined;
  /** All metadata, in file order. */
  metadata: Record<string, GgufValue>;
  /** The GGUF type of each metadata value (`'uint32'`, `'array<string>'`, …). */
  metadataTypes: Record<string, GgufValueType>;
  /** The tensor table, in file order. */
  tensors: GgufTensorInfo[];
  /** Total number of tensor elements (parameters). */
  parameterCount: number;
  /** `general.file_type` as llama.cpp names it (`'Q4_K_M'`), when present. */
  fileType: string | undefined;
  /** `<arch>.context_length`, when present. */
  contextLength: number | undefined;
}

function arrayType(raw: RawArray): GgufValueType {
  const elem = valueTypeName(raw.elemType);
  if (elem !== 'array') return `array<${elem}>`;
  const first = (raw.items as RawArray[])[0];
  return first === undefined ? 'array<array<uint8>>' : `array<${arrayType(first)}>`;
}

function convert(raw: RawValue): GgufValue {
  if (typeof raw !== 'object') return raw;
  if (raw.elemType === 9) return (raw.items as RawArray[]).map(convert);
  return raw.items as GgufValue;
}

/** @internal */
export function fromRaw(raw: RawGguf): GgufFile {
  const metadata: Record<string, GgufValue> = {};
  const metadataTypes: Record<string, GgufValueType> = {};
  for (const [key, type, value] of raw.metadata) {
    metadata[key] = convert(value);
    metadataTypes[key] = type === 9 ? arrayType(value as RawArray) : (valueTypeName(type) as GgufValueType);
  }
  const tensors = raw.tensors.map((t) => ({
    name: t.name,
    type: ggmlTypeName(t.type),
    shape: t.shape,
    offset: t.offset,
    byteLength: t.byteLength,
    elementCount: t.shape.reduce((a, b) => a * b, 1),
  }));
  const architecture = typeof metadata['general.architecture'] === 'string' ? metadata['general.architecture'] : undefined;
  const ctx = architecture === undefined ? undefined : metadata[`${architecture}.context_length`];
  const ftype = metadata['general.file_type'];
  return {
    version: raw.version,
    alignment: raw.alignment,
    dataOffset: raw.dataOffset,
    fileSize: raw.fileSize,
    architecture,
    metadata,
    metadataTypes,
    tensors,
    parameterCount: tensors.reduce((sum, t) => sum + t.elementCount, 0),
    fileType: typeof ftype === 'number' ? (FILE_TYPES[ftype] ?? `unknown (${ftype})`) : undefined,
    contextLength: typeof ctx === 'number' ? ctx : typeof ctx === 'bigint' ? Number(ctx) : undefined,
  };
}

/**
 * Reads a GGUF file's header: metadata and tensor table. The file is mapped,
 * validated in full (every count, offset and tensor extent is checked
 * against the file size) and never copied; parsing runs off the JS thread.
 *
 * @param source - a file path, or the file's bytes
 * @throws {@link GgufError} for a malformed or unsupported file,
 *   {@link IoError} when it cannot be read
 *
 * @example
 * ```ts
 * const gguf = await inspectGguf('model.gguf');
 * console.log(gguf.architecture, gguf.tensors.length, gguf.metadata['general.name']);
 * ```
 */
export async function inspectGguf(source: string | Uint8Array): Promise<GgufFile> {
  if (typeof source === 'string') {
    if (source.length === 0) throw new InvalidArgumentError('inspectGguf: path is empty');
    return fromRaw(await callNative((b) => b.ggufInspect(source)));
  }
  if (!(source instanceof Uint8Array)) {
    throw new InvalidArgumentError('inspectGguf: expected a file path or a Uint8Array');
  }
  return fromRaw(await callNative((b) => b.ggufInspect('<buffer>', source)));
}
