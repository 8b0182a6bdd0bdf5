/**
 * Shapes of the synthetic models `lmrt synth` writes. Each preset follows a
 * real model family so that tests and benchmarks see realistic tensor sizes.
 * @module
 */

/**
 * Architectures `lmrt synth` can write.
 *
 * @example
 * ```ts
 * const arch: SynthArch = 'qwen3';
 * await synthModel('qwen3.gguf', { arch });
 * ```
 */
export type SynthArch = 'llama' | 'qwen2' | 'qwen3' | 'gpt2';

/**
 * A model's shape and hyper-parameters.
 *
 * @example
 * ```ts
 * const shape: SynthShape = SYNTH_PRESETS.gpt2['124m'];
 * console.log(shape.embedding, shape.layers, shape.heads);
 * ```
 */
export interface SynthShape {
  /** Which real model the shape follows. */
  follows: string;
  embedding: number;
  layers: number;
  heads: number;
  /** Key/value heads (grouped-query attention when fewer than `heads`). */
  kvHeads: number;
  feedForward: number;
  vocab: number;
  context: number;
  /** Vocabulary kind: SentencePiece, or byte-level BPE with its pre-tokenizer name. */
  tokenizer: 'spm' | 'llama-bpe' | 'smollm' | 'gpt-2' | 'qwen2';
  ropeBase: number;
  normEps: number;
  /** Whether the output projection is the token embedding (no output.weight). */
  tiedOutput: boolean;
  /** Per-head size when it is not embedding / heads (Qwen3). */
  headDim?: number;
}

/**
 * The presets per architecture.
 *
 * @example
 * ```ts
 * Object.keys(SYNTH_PRESETS.llama); // ['tiny', 'micro', '100m', '1b', '1b-draft', '8b']
 * SYNTH_PRESETS.llama['1b'].vocab; // 128256
 * ```
 */
export const SYNTH_PRESETS: Readonly<Record<SynthArch, Readonly<Record<string, SynthShape>>>> = {
  llama: {
    tiny: {
      follows: 'a stories260K-sized Llama, widened to whole K-quant blocks',
      embedding: 256, layers: 4, heads: 8, kvHeads: 4, feedForward: 768, vocab: 512, context: 512,
      tokenizer: 'spm', ropeBase: 10000, normEps: 1e-5, tiedOutput: true,
    },
    micro: {
      follows: 'a 2-layer, dim-64 toy whose step is all overhead (for measuring it)',
      embedding: 64, layers: 2, heads: 4, kvHeads: 2, feedForward: 192, vocab: 512, context: 512,
      tokenizer: 'spm', ropeBase: 10000, normEps: 1e-5, tiedOutput: true,
    },
    '100m': {
      follows: 'SmolLM-135M',
      embedding: 576, layers: 30, heads: 9, kvHeads: 3, feedForward: 1536, vocab: 49152, context: 2048,
      tokenizer: 'smollm', ropeBase: 10000, normEps: 1e-5, tiedOutput: true,
    },
    '1b': {
      follows: 'Llama-3.2-1B',
      embedding: 2048, layers: 16, heads: 32, kvHeads: 8, feedForward: 8192, vocab: 128256, context: 131072,
      tokenizer: 'llama-bpe', ropeBase: 500000, normEps: 1e-5, tiedOutput: true,
    },
    '1b-draft': {
      follows: 'a 2-layer draft model for the 1b and 8b presets (their vocabulary)',
      embedding: 256, layers: 2, heads: 4, kvHeads: 2, feedForward: 768, vocab: 128256, context: 131072,
      tokenizer: 'llama-bpe', ropeBase: 500000, normEps: 1e-5, tiedOutput: true,
    },
    '8b': {
      follows: 'Llama-3-8B',
      embedding: 4096, layers: 32, heads: 32, kvHeads: 8, feedForward: 14336, vocab: 128256, context: 8192,
      tokenizer: 'llama-bpe', ropeBase: 500000, normEps: 1e-5, tiedOutput: false,
    },
  },
  qwen2: {
    tiny: {
      follows: 'a Qwen2 scaled down (attention biases, NeoX RoPE)',
      embedding: 256, layers: 4, heads: 8, kvHeads: 4, feedForward: 768, vocab: 512, context: 512,
      tokenizer: 'qwen2', ropeBase: 1000000, normEps: 1e-6, tiedOutput: true,
    },
  },
  qwen3: {
    tiny: {
      follows: 'a Qwen3 scaled down (per-head Q/K norm, head size 64 > embedding / heads)',
      embedding: 256, layers: 4, heads: 8, kvHeads: 4, feedForward: 768, vocab: 512, context: 512,
      tokenizer: 'qwen2', ropeBase: 1000000, normEps: 1e-6, tiedOutput: false, headDim: 64,
    },
  },
  gpt2: {
    tiny: {
      follows: 'a GPT-2 scaled down to 4 layers',
      embedding: 256, layers: 4, heads: 4, kvHeads: 4, feedForward: 1024, vocab: 512, context: 256,
      tokenizer: 'gpt-2', ropeBase: 0, normEps: 1e-5, tiedOutput: true,
    },
    '124m': {
      follows: 'GPT-2 small',
      embedding: 768, layers: 12, heads: 12, kvHeads: 12, feedForward: 3072, vocab: 50257, context: 1024,
      tokenizer: 'gpt-2', ropeBase: 0, normEps: 1e-5, tiedOutput: true,
    },
  },
};
