/**
 * The one typed description of the raw native binding (native/addon).
 * Nothing outside ts/native sees these shapes.
 * @internal
 * @module
 */

import type { KvStats, ModelInfo } from '../model/model.js';

/** A metadata array as the addon returns it. */
export interface RawArray {
  elemType: number;
  items: RawArrayItems;
}

export type RawArrayItems =
  | Uint8Array | Int8Array | Uint16Array | Int16Array | Uint32Array | Int32Array
  | Float32Array | Float64Array | BigUint64Array | BigInt64Array
  | boolean[] | string[] | RawArray[];

export type RawValue = number | bigint | boolean | string | RawArray;

export interface RawTensorInfo {
  name: string;
  type: number;
  shape: number[];
  offset: number;
  byteLength: number;
}

export interface RawGguf {
  version: number;
  alignment: number;
  dataOffset: number;
  fileSize: number;
  metadata: [key: string, type: number, value: RawValue][];
  tensors: RawTensorInfo[];
}

/** Tensor data sources, numbered as lmrt_tensor_source in lmrt.h. */
export const RawTensorSource = { F32: 0, Raw: 1, Uniform: 2, Constant: 3 } as const;
export type RawTensorSource = (typeof RawTensorSource)[keyof typeof RawTensorSource];

export interface RawTensorIn {
  name: string;
  type: number;
  shape: number[];
  source: RawTensorSource;
  data?: Float32Array | Uint8Array;
  scale?: number;
  seed?: bigint;
}

export interface RawTypeLayout {
  id: number;
  name: string;
  blockSize: number;
  blockBytes: number;
  canEncode: boolean;
}

export interface RawTokenizerInfo {
  type: 'spm' | 'bpe' | 'wpm';
  model: string;
  pre: string;
  vocabSize: number;
  bos: number; eos: number; eot: number; eom: number; unk: number; sep: number; pad: number; mask: number;
  fimPre: number; fimSuf: number; fimMid: number; fimPad: number; fimRep: number; fimSep: number;
  addBos: boolean; addEos: boolean; addSep: boolean; addSpacePrefix: boolean; cleanSpaces: boolean;
}

/** Flags of RawTokenizer.tokenize / detokenize, as lmrt.h numbers them. */
export const TokenizeFlags = { AddSpecial: 1, ParseSpecial: 2 } as const;
export const DetokenizeFlags = { RemoveSpecial: 1, UnparseSpecial: 2 } as const;

export interface RawTokenizer {
  tokenize(text: string | Uint8Array, flags: number): Int32Array;
  detokenize(ids: Int32Array, flags: number): Uint8Array;
  piece(id: number, special: boolean): Uint8Array;
  info(): RawTokenizerInfo;
  eog(): Int32Array;
  dispose(): void;
}

// The addon returns exactly the public shapes.
export type RawModelInfo = ModelInfo;
export type RawKvStats = KvStats;

/**
 * Step row flags, as LMRT_ROW_* in lmrt.h: logits wanted; a decoded token
 * (not a prompt row); with logits, only the greedy token, or only the top-k.
 */
export const RowFlag = { logits: 1, decode: 2, argmax: 4, topK: 8 } as const;

/** Where a step puts what greedy and top-k rows ask for instead of their logits, each kind in row order. */
export interface StepOutput {
  /** One id per `argmax` row. */
  tokens?: Int32Array;
  /** Entries per `topK` row (1 to 256). */
  topK?: number;
  /** `topK` per `topK` row: the largest logit first, equal logits the lower id first (NaN as -Infinity). */
  topIds?: Int32Array;
  topLogits?: Float32Array;
}

export interface RawContext {
  seqCreate(): number;
  seqFork(seq: number): number;
  seqTruncate(seq: number, length: number): void;
  seqRelease(seq: number): void;
  seqLength(seq: number): number;
  /** Starts an empty sequence from cached blocks matching the tokens (the first nPrompt prompt rows); positions reused. */
  seqReusePrefix(seq: number, tokens: Int32Array, nPrompt: number): number;
  /**
   * rows: [seq, token, pos, flags] quadruples; resolves to the logits rows
   * that were asked for. Rows flagged `argmax` or `topK` (with `logits`) put
   * their greedy token or top entries in `out` instead, and their logits are
   * not in the result.
   */
  step(rows: Int32Array, out?: StepOutput): Promise<Float32Array>;
  kvStats(): RawKvStats;
  dispose(): void;
}

export interface RawModel {
  info(): RawModelInfo;
  /** A string metadata value of the model's file; undefined when absent or not a string. */
  metaString(key: string): string | undefined;
  tokenizer(): RawTokenizer;
  /** kvType: a ggml type id (F16, BF16 or Q8_0). */
  createContext(options: { contextSize?: number; batchSize?: number; threads?: number; kvType?: number }): Promise<RawContext>;
  dispose(): void;
}

export interface NativeBinding {
  tokenizerOpen(path: string): Promise<RawTokenizer>;
  /** backend: 0 CPU, 1 CUDA, 2 auto (lmrt.h's LMRT_BACKEND_*); gpuLayers -1: all; cudaLibrary: the CUDA package's library. */
  modelOpen(
    path: string,
    options?: { mappedOnly?: boolean; backend?: number; gpuLayers?: number; device?: number; cudaLibrary?: string },
  ): Promise<RawModel>;
  ggufInspect(path: string, buffer?: Uint8Array): Promise<RawGguf>;
  ggufWrite(
    path: string,
    alignment: number,
    kvs: [key: string, type: number, value: RawValue][],
    tensors: RawTensorIn[],
    onProgress?: (done: number, total: number) => void,
  ): Promise<void>;
  typeLayouts(): RawTypeLayout[];
  /** Best of `passes` reads of a `bytes` buffer by `threads` threads, in bytes per second. */
  measureReadBandwidth(bytes: number, threads: number, passes: number): Promise<number>;
  /** preset: llama.cpp's general.file_type id; threads 0: one per CPU. Resolves with each tensor's choice. */
  quantizeModel(
    input: string, output: string, preset: number, threads: number, onProgress?: (done: number, total: number) => void,
  ): Promise<RawQuantizedTensor[]>;
  /** How the binary was built and which CPU kernel variants run. */
  systemInfo(): RawSystemInfo;
  /** Opens the CUDA backend's library (at `library`, else next to the addon; LMRT_CUDA_LIBRARY overrides both). */
  cudaStatus(library?: string): RawCudaStatus;
}

export interface RawQuantizedTensor {
  name: string;
  fromType: number;
  toType: number;
  fallback: boolean;
  requantized: boolean;
  elements: number;
  bytesIn: number;
  bytesOut: number;
}

export interface RawSystemInfo {
  /** Compiler and target, e.g. `g++ 12.2.0, x86_64`. */
  build: string;
  /** The variant the CPU kernels run: ref, avx2, avx512, neon or neon_dotprod. */
  kernelVariant: string;
  /** The variants this CPU can run. */
  kernelVariants: string[];
}

export interface RawCudaStatus {
  loaded: boolean;
  devices: number;
  library: string;
  message: string;
  device: string;
}
