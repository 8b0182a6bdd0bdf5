/**
 * synthModel: writes a random-weight model of a named shape and type, with
 * metadata and a tokenizer complete enough for llama.cpp to load it. Same
 * arguments, same file, byte for byte.
 * @module
 */
import { InvalidArgumentError } from '../errors.js';
import type { GgufValue } from '../gguf/inspect.js';
import { ENCODABLE_TYPES, type EncodableType, type GgufValueType } from '../gguf/types.js';
import { writeGguf, type GgufTensorSpec } from '../gguf/write.js';
import { copyingWeights } from './copying.js';
import { SYNTH_PRESETS, type SynthArch, type SynthShape } from './presets.js';
import { bytePairVocab, sentencePieceVocab, type SynthVocab } from './vocab.js';

/**
 * Options of {@link synthModel}.
 *
 * @example
 * ```ts
 * const options: SynthOptions = { arch: 'qwen2', preset: 'tiny', type: 'Q8_0', seed: 7 };
 * await synthModel('qwen2-tiny.gguf', options);
 * ```
 */
export interface SynthOptions {
  /** Architecture (default `'llama'`). */
  arch?: SynthArch;
  /** Preset name from {@link SYNTH_PRESETS} (default `'tiny'`). */
  preset?: string;
  /** Type of the 2-D weight matrices (default `'F32'`); norms and biases stay F32. */
  type?: EncodableType;
  /**
   * Other types for some matrices, by the end of their name: e.g. a
   * Q4_K_M-style mix is `{ type: 'Q4_K', tensorTypes: { 'attn_v.weight':
   * 'Q6_K', 'ffn_down.weight': 'Q6_K', 'token_embd.weight': 'Q6_K' } }`.
   */
  tensorTypes?: Readonly<Record<string, EncodableType>>;
  /** Seed of the weights (default 0). */
  seed?: number;
  /**
   * Wire the first two layers as an induction circuit (a previous-token head
   * and a head that looks up what followed the current token before), all
   * other weights small noise: greedy decoding then continues any text it
   * has seen, `… A B … A` → `B`, as real models do when quoting or editing.
   * For measuring speculative decoding. `arch: 'llama'` only. Default false.
   */
  copying?: boolean;
  /** A sliding attention window in tokens (Llama-family only; Mistral's `attention.sliding_window`). Default: none. */
  slidingWindow?: number;
  /** Progress in bytes of tensor data written. */
  onProgress?: (doneBytes: number, totalBytes: number) => void;
}

/**
 * What {@link synthModel} wrote.
 *
 * @example
 * ```ts
 * const r: SynthResult = await synthModel('gpt2.gguf', { arch: 'gpt2', preset: '124m' });
 * console.log(r.parameterCount, r.shape.follows);
 * ```
 */
export interface SynthResult {
  path: string;
  arch: SynthArch;
  preset: string;
  shape: SynthShape;
  parameterCount: number;
  /** Tensors stored in another type because their rows are not whole blocks of the requested one. */
  fallbacks: { tensor: string; type: EncodableType }[];
}

const FILE_TYPE: Record<EncodableType, number> = {
  F32: 0, F16: 1, BF16: 32, Q8_0: 7, Q5_0: 8, Q5_1: 9, Q4_0: 2, Q4_K: 14, Q5_K: 16, Q6_K: 18,
};

const BLOCK_SIZE: Record<EncodableType, number> = {
  F32: 1, F16: 1, BF16: 1, Q8_0: 32, Q5_0: 32, Q5_1: 32, Q4_0: 32, Q4_K: 256, Q5_K: 256, Q6_K: 256,
};

/** FNV-1a over the seed and the tensor name: each tensor its own stream. */
function tensorSeed(seed: number, name: string): bigint {
  let h = 0xcbf29ce484222325n ^ BigInt.asUintN(64, BigInt(seed));
  for (const byte of Buffer.from(name, 'utf8')) {
    h ^= BigInt(byte);
    h = BigInt.asUintN(64, h * 0x100000001b3n);
  }
  return h;
}

function vocabFor(shape: SynthShape): SynthVocab {
  switch (shape.tokenizer) {
    case 'spm':
      return sentencePieceVocab(shape.vocab);
    case 'gpt-2':
      return bytePairVocab(shape.vocab, {
        tokens: [{ id: shape.vocab - 1, text: '<|endoftext|>' }],
        bosId: shape.vocab - 1, eosId: shape.vocab - 1, addBos: false, pre: 'gpt-2',
      });
    case 'qwen2':
      return bytePairVocab(shape.vocab, {
        tokens: ['<|endoftext|>', '<|im_start|>', '<|im_end|>'].map((text, i) => ({ id: shape.vocab - 3 + i, text })),
        bosId: shape.vocab - 3, eosId: shape.vocab - 3, addBos: false, pre: 'qwen2',
      });
    case 'smollm':
      return bytePairVocab(shape.vocab, {
        tokens: ['<|endoftext|>', '<|im_start|>', '<|im_end|>'].map((text, id) => ({ id, text })),
        bosId: 1, eosId: 2, addBos: false, pre: 'smollm',
      });
    case 'llama-bpe': {
      const named: Record<number, string> = {
        0: '<|begin_of_text|>', 1: '<|end_of_text|>', 6: '<|start_header_id|>', 7: '<|end_header_id|>', 9: '<|eot_id|>',
      };
      const first = shape.vocab - 256;
      let reserved = 0;
      const tokens = Array.from({ length: 256 }, (_, i) => ({
        id: first + i,
        text: named[i] ?? `<|reserved_special_token_${reserved++}|>`,
      }));
      return bytePairVocab(shape.vocab, { tokens, bosId: first, eosId: first + 9, addBos: true, pre: 'llama-bpe' });
    }
  }
}

function tokenizerMetadata(v: SynthVocab): [Record<string, GgufValue>, Record<string, GgufValueType>] {
  const meta: Record<string, GgufValue> = {
    'tokenizer.ggml.model': v.model,
    'tokenizer.ggml.tokens': v.tokens,
  };
  if (v.pre !== undefined) meta['tokenizer.ggml.pre'] = v.pre;
  if (v.scores !== undefined) meta['tokenizer.ggml.scores'] = v.scores;
  meta['tokenizer.ggml.token_type'] = v.tokenTypes;
  if (v.merges !== undefined) meta['tokenizer.ggml.merges'] = v.merges;
  meta['tokenizer.ggml.bos_token_id'] = v.bosId;
  meta['tokenizer.ggml.eos_token_id'] = v.eosId;
  if (v.unknownId !== undefined) meta['tokenizer.ggml.unknown_token_id'] = v.unknownId;
  meta['tokenizer.ggml.add_bos_token'] = v.addBos;
  meta['tokenizer.ggml.add_eos_token'] = false;
  return [meta, { 'tokenizer.ggml.merges': 'array<string>', 'tokenizer.ggml.tokens': 'array<string>' }];
}

class TensorPlan {
  readonly tensors: GgufTensorSpec[] = [];
  readonly fallbacks: { tensor: string; type: EncodableType }[] = [];
  parameters = 0;

  /**
   * @param designed weights given by value (a copying model's circuit)
   * @param noise factor on the random weights' scale
   */
  constructor(
    private readonly type: EncodableType,
    private readonly seed: number,
    private readonly designed = new Map<string, Float32Array>(),
    private readonly noise = 1,
    private readonly overrides: Readonly<Record<string, EncodableType>> = {},
  ) {}

  /** A 2-D weight: uniform with standard deviation noise/sqrt(rows), or designed; in the requested type. */
  matrix(name: string, shape: [number, number], seedName = name): void {
    let type = this.type;
    for (const [suffix, t] of Object.entries(this.overrides)) if (name.endsWith(suffix)) type = t;
    if (shape[0] % BLOCK_SIZE[type] !== 0) {
      type = shape[0] % 32 === 0 ? 'Q8_0' : 'F16';
      this.fallbacks.push({ tensor: name, type });
    }
    const designed = this.designed.get(name);
    this.add(name, type, shape, designed
      ?? { fill: 'uniform', scale: this.noise * Math.sqrt(3 / shape[0]), seed: tensorSeed(this.seed, seedName) });
  }

  /** A 1-D (or small) tensor kept in F32: a norm's ones or a bias's small values. */
  vector(name: string, shape: number[], fill: 'ones' | 'small'): void {
    this.add(name, 'F32', shape,
      fill === 'ones' ? { fill: 'constant', value: 1 } : { fill: 'uniform', scale: 0.02, seed: tensorSeed(this.seed, name) });
  }

  private add(name: string, type: EncodableType, shape: number[], data: GgufTensorSpec['data']): void {
    this.tensors.push({ name, type, shape, data });
    this.parameters += shape.reduce((a, b) => a * b, 1);
  }
}

function llamaTensors(s: SynthShape, plan: TensorPlan, arch: SynthArch): void {
  const headDim = s.headDim ?? s.embedding / s.heads;
  const qDim = headDim * s.heads;
  const kvDim = headDim * s.kvHeads;
  plan.matrix('token_embd.weight', [s.embedding, s.vocab]);
  for (let i = 0; i < s.layers; ++i) {
    const b = `blk.${i}`;
    plan.vector(`${b}.attn_norm.weight`, [s.embedding], 'ones');
    plan.matrix(`${b}.attn_q.weight`, [s.embedding, qDim]);
    plan.matrix(`${b}.attn_k.weight`, [s.embedding, kvDim]);
    plan.matrix(`${b}.attn_v.weight`, [s.embedding, kvDim]);
    if (arch === 'qwen2') {
      plan.vector(`${b}.attn_q.bias`, [qDim], 'small');
      plan.vector(`${b}.attn_k.bias`, [kvDim], 'small');
      plan.vector(`${b}.attn_v.bias`, [kvDim], 'small');
    }
    if (arch === 'qwen3') {
      plan.vector(`${b}.attn_q_norm.weight`, [headDim], 'ones');
      plan.vector(`${b}.attn_k_norm.weight`, [headDim], 'ones');
    }
    plan.matrix(`${b}.attn_output.weight`, [qDim, s.embedding]);
    plan.vector(`${b}.ffn_norm.weight`, [s.embedding], 'ones');
    plan.matrix(`${b}.ffn_gate.weight`, [s.embedding, s.feedForward]);
    plan.matrix(`${b}.ffn_up.weight`, [s.embedding, s.feedForward]);
    plan.matrix(`${b}.ffn_down.weight`, [s.feedForward, s.embedding]);
  }
  plan.vector('output_norm.weight', [s.embedding], 'ones');
  if (!s.tiedOutput) plan.matrix('output.weight', [s.embedding, s.vocab]);
}

function gpt2Tensors(s: SynthShape, plan: TensorPlan): void {
  plan.matrix('token_embd.weight', [s.embedding, s.vocab]);
  plan.vector('position_embd.weight', [s.embedding, s.context], 'small');
  for (let i = 0; i < s.layers; ++i) {
    const b = `blk.${i}`;
    plan.vector(`${b}.attn_norm.weight`, [s.embedding], 'ones');
    plan.vector(`${b}.attn_norm.bias`, [s.embedding], 'small');
    plan.matrix(`${b}.attn_qkv.weight`, [s.embedding, 3 * s.embedding]);
    plan.vector(`${b}.attn_qkv.bias`, [3 * s.embedding], 'small');
    plan.matrix(`${b}.attn_output.weight`, [s.embedding, s.embedding]);
    plan.vector(`${b}.attn_output.bias`, [s.embedding], 'small');
    plan.vector(`${b}.ffn_norm.weight`, [s.embedding], 'ones');
    plan.vector(`${b}.ffn_norm.bias`, [s.embedding], 'small');
    plan.matrix(`${b}.ffn_up.weight`, [s.embedding, s.feedForward]);
    plan.vector(`${b}.ffn_up.bias`, [s.feedForward], 'small');
    plan.matrix(`${b}.ffn_down.weight`, [s.feedForward, s.embedding]);
    plan.vector(`${b}.ffn_down.bias`, [s.embedding], 'small');
  }
  plan.vector('output_norm.weight', [s.embedding], 'ones');
  plan.vector('output_norm.bias', [s.embedding], 'small');
  // GPT-2 ties its output to the embedding: same seed, same values
  plan.matrix('output.weight', [s.embedding, s.vocab], 'token_embd.weight');
}

function hyperParameters(arch: SynthArch, s: SynthShape): [Record<string, GgufValue>, Record<string, GgufValueType>] {
  const meta: Record<string, GgufValue> = {
    [`${arch}.context_length`]: s.context,
    [`${arch}.embedding_length`]: s.embedding,
    [`${arch}.feed_forward_length`]: s.feedForward,
    [`${arch}.block_count`]: s.layers,
    [`${arch}.attention.head_count`]: s.heads,
  };
  const types: Record<string, GgufValueType> = {};
  if (arch === 'gpt2') {
    meta['gpt2.attention.layer_norm_epsilon'] = s.normEps;
    types['gpt2.attention.layer_norm_epsilon'] = 'float32';
  } else {
    const headDim = s.headDim ?? s.embedding / s.heads;
    meta[`${arch}.attention.head_count_kv`] = s.kvHeads;
    meta[`${arch}.rope.dimension_count`] = headDim;
    meta[`${arch}.attention.layer_norm_rms_epsilon`] = s.normEps;
    meta[`${arch}.rope.freq_base`] = s.ropeBase;
    meta[`${arch}.vocab_size`] = s.vocab;
    if (s.headDim !== undefined) {
      meta[`${arch}.attention.key_length`] = headDim;
      meta[`${arch}.attention.value_length`] = headDim;
    }
    types[`${arch}.attention.layer_norm_rms_epsilon`] = 'float32';
    types[`${arch}.rope.freq_base`] = 'float32';
  }
  return [meta, types];
}

/**
 * Writes a random-weight model. Weights are uniform with standard deviation
 * 1/sqrt(fan-in), norms are ones, so activations stay finite; 2-D weights
 * whose rows are not whole blocks of `type` fall back to Q8_0 or F16, as
 * llama.cpp's quantiser does.
 *
 * @example
 * ```ts
 * await synthModel('tiny.gguf', { arch: 'llama', preset: 'tiny', type: 'Q4_0' });
 * ```
 */
export async function synthModel(path: string, options: SynthOptions = {}): Promise<SynthResult> {
  const arch = options.arch ?? 'llama';
  const presets = SYNTH_PRESETS[arch];
  if (presets === undefined) {
    throw new InvalidArgumentError(`unknown architecture '${arch}' (expected ${Object.keys(SYNTH_PRESETS).join(' or ')})`);
  }
  const presetName = options.preset ?? 'tiny';
  const shape = presets[presetName];
  if (shape === undefined) {
    throw new InvalidArgumentError(`unknown ${arch} preset '${presetName}' (expected one of ${Object.keys(presets).join(', ')})`);
  }
  const type = options.type ?? 'F32';
  if (!(ENCODABLE_TYPES as readonly string[]).includes(type)) {
    throw new InvalidArgumentError(`synth cannot write type '${type}' (expected one of ${ENCODABLE_TYPES.join(', ')})`);
  }
  const seed = options.seed ?? 0;
  if (!Number.isSafeInteger(seed)) throw new InvalidArgumentError(`seed must be an integer, got ${seed}`);

  const overrides = options.tensorTypes ?? {};
  for (const [suffix, t] of Object.entries(overrides)) {
    if (!(ENCODABLE_TYPES as readonly string[]).includes(t)) {
      throw new InvalidArgumentError(`tensorTypes['${suffix}']: synth cannot write type '${t}' (expected one of ${ENCODABLE_TYPES.join(', ')})`);
    }
  }
  if (options.copying === true && (arch !== 'llama' || shape.layers < 2)) {
    throw new InvalidArgumentError(`copying needs arch 'llama' with at least 2 layers, got ${arch}/${presetName}`);
  }
  // a copying model's noise is small enough that the circuit's logits margin (hundreds) stays far above it
  const plan = options.copying === true
    ? new TensorPlan(type, seed, copyingWeights(shape), 0.1, overrides)
    : new TensorPlan(type, seed, undefined, 1, overrides);
  if (arch === 'gpt2') gpt2Tensors(shape, plan);
  else llamaTensors(shape, plan, arch);
  const [hyper, hyperTypes] = hyperParameters(arch, shape);
  if (options.slidingWindow !== undefined) {
    if (arch === 'gpt2' || !Number.isInteger(options.slidingWindow) || options.slidingWindow < 1) {
      throw new InvalidArgumentError(`slidingWindow must be a positive integer for a Llama-family model, got ${String(options.slidingWindow)}`);
    }
    hyper[`${arch}.attention.sliding_window`] = options.slidingWindow;
    hyperTypes[`${arch}.attention.sliding_window`] = 'uint32';
  }
  const [tok, tokTypes] = tokenizerMetadata(vocabFor(shape));
  const metadata: Record<string, GgufValue> = {
    'general.architecture': arch,
    'general.name': `lmrt-synth-${arch}-${presetName}${options.copying === true ? '-copying' : ''}`,
    'general.file_type': FILE_TYPE[type],
    'general.quantization_version': 2,
    ...hyper,
    ...tok,
  };
  await writeGguf(path, {
    metadata,
    metadataTypes: { ...hyperTypes, ...tokTypes },
    tensors: plan.tensors,
    ...(options.onProgress ? { onProgress: options.onProgress } : {}),
  });
  return { path, arch, preset: presetName, shape, parameterCount: plan.parameters, fallbacks: plan.fallbacks };
}
