/**
 * How well a model predicts a text: perplexity as llama.cpp's
 * llama-perplexity computes it, and the KL divergence and top-token
 * agreement of a (quantised) model against its base.
 * @module
 */
import { InvalidArgumentError } from '../errors.js';
import type { Model } from '../model/model.js';

/**
 * Options of {@link measurePerplexity}.
 *
 * @example
 * ```ts
 * const options: PerplexityOptions = { contextSize: 512, chunks: 20, base: f16Model };
 * ```
 */
export interface PerplexityOptions {
  /** Tokens per chunk (llama.cpp's --ctx-size; default 512). The model's context must hold them. */
  contextSize?: number;
  /** Score at most this many chunks (default: all the text gives). */
  chunks?: number;
  /** The unquantised model to compare with (same vocabulary): adds {@link PerplexityResult.kl}. */
  base?: Model;
  /** After each chunk: chunks done, of all. */
  onProgress?: (done: number, total: number) => void;
}

/**
 * What {@link measurePerplexity} measured.
 *
 * @example
 * ```ts
 * const r: PerplexityResult = await measurePerplexity(model, text);
 * console.log(`PPL ${r.perplexity.toFixed(4)} ± ${r.error.toFixed(4)}`);
 * ```
 */
export interface PerplexityResult {
  /** exp of the mean negative log-likelihood of the scored tokens. */
  perplexity: number;
  /** Its standard error, as llama.cpp reports it (± after PPL). */
  error: number;
  /** Mean negative log-likelihood (natural log). */
  nll: number;
  /** Tokens scored: the second half of each chunk, less one. */
  tokens: number;
  chunks: number;
  contextSize: number;
  /** Against `base`: the per-token KL divergence from the base's distribution to this model's, and agreement. */
  kl?: {
    /** Mean KL(base ‖ model) per scored token, in nats. */
    mean: number;
    /** Its standard error. */
    error: number;
    /** The largest per-token KL divergence. */
    max: number;
    /** The fraction of scored positions where both models' most likely token is the same. */
    top1: number;
    /** The base model's perplexity on the same tokens. */
    basePerplexity: number;
  };
}

/** log(sum(exp(row))) and the index of the largest entry (the first of equal ones). */
function logSumExp(row: Float32Array): { lse: number; top: number } {
  let max = -Infinity, top = 0;
  for (let i = 0; i < row.length; ++i) {
    if (row[i]! > max) max = row[i]!, top = i;
  }
  let sum = 0;
  for (let i = 0; i < row.length; ++i) sum += Math.exp(row[i]! - max);
  return { lse: max + Math.log(sum), top };
}

/**
 * Scores `text` as llama.cpp's llama-perplexity does: the text is
 * tokenized (with BOS where the model adds one) and cut into chunks of
 * `contextSize` tokens; each chunk is evaluated on its own, its first token
 * replaced by BOS, and the tokens of its second half are scored by the
 * logits before them. Perplexity is exp of their mean negative
 * log-likelihood. With `base`, the same chunks through the base model give
 * the KL divergence of this model's next-token distributions from the
 * base's and how often the two agree on the most likely token (what
 * llama-perplexity's --kl-divergence reports).
 *
 * @throws {@link InvalidArgumentError} when the text is shorter than two
 *   chunks, the model's context cannot hold one, or the base model's
 *   vocabulary differs
 *
 * @example
 * ```ts
 * const q4 = await loadModel('model-q4_k_m.gguf', { contextSize: 512 });
 * const f16 = await loadModel('model-f16.gguf', { contextSize: 512 });
 * const r = await measurePerplexity(q4, readFileSync('wiki.test.raw', 'utf8'), { base: f16, chunks: 20 });
 * console.log(r.perplexity, r.kl?.mean, r.kl?.top1);
 * ```
 */
export async function measurePerplexity(model: Model, text: string, options: PerplexityOptions = {}): Promise<PerplexityResult> {
  const n = options.contextSize ?? 512;
  if (!Number.isInteger(n) || n < 4) throw new InvalidArgumentError(`contextSize must be an integer of at least 4 (got ${JSON.stringify(options.contextSize)})`);
  if (options.chunks !== undefined && !(Number.isInteger(options.chunks) && options.chunks >= 1)) {
    throw new InvalidArgumentError(`chunks must be a positive integer (got ${JSON.stringify(options.chunks)})`);
  }
  const base = options.base;
  if (base !== undefined && base.info.vocabSize !== model.info.vocabSize) {
    throw new InvalidArgumentError(`the base model's vocabulary (${base.info.vocabSize} tokens) is not this model's (${model.info.vocabSize})`);
  }
  const tokens = model.tokenizer.tokenize(text);
  if (tokens.length < 2 * n) {
    throw new InvalidArgumentError(`perplexity with chunks of ${n} tokens needs at least ${2 * n} tokens; the text gives ${tokens.length}`);
  }
  const chunks = Math.min(Math.floor(tokens.length / n), options.chunks ?? Infinity);
  const bos = model.tokenizer.specialTokens.bos;
  const addBos = model.tokenizer.addsBos && bos !== undefined;
  const first = Math.floor(n / 2);
  const V = model.info.vocabSize;

  let nll = 0, nll2 = 0, count = 0;
  let baseNll = 0, kl = 0, kl2 = 0, klMax = 0, same = 0;
  // the base's log-probabilities of a chunk's scored positions, row by row
  const baseRows = base !== undefined ? new Float32Array((n - 1 - first) * V) : undefined;
  const baseTop = base !== undefined ? new Int32Array(n - 1 - first) : undefined;
  for (let c = 0; c < chunks; ++c) {
    const start = c * n;
    const chunk = Array.from(tokens.subarray(start, start + n));
    if (addBos) chunk[0] = bos!;
    if (base !== undefined) {
      await base.evaluate(chunk, {
        from: first,
        onLogits: (pos, row) => {
          if (pos >= n - 1) return;
          const { lse, top } = logSumExp(row);
          const out = baseRows!.subarray((pos - first) * V, (pos - first + 1) * V);
          for (let i = 0; i < V; ++i) out[i] = row[i]! - lse;
          baseTop![pos - first] = top;
          baseNll -= out[tokens[start + pos + 1]!]!;
        },
      });
    }
    await model.evaluate(chunk, {
      from: first,
      onLogits: (pos, row) => {
        if (pos >= n - 1) return; // the last row predicts past the chunk
        const { lse, top } = logSumExp(row);
        const v = lse - row[tokens[start + pos + 1]!]!;
        nll += v;
        nll2 += v * v;
        ++count;
        if (base !== undefined) {
          const lp = baseRows!.subarray((pos - first) * V, (pos - first + 1) * V);
          let d = 0;
          for (let i = 0; i < V; ++i) {
            const p = Math.exp(lp[i]!);
            if (p > 0) d += p * (lp[i]! - (row[i]! - lse));
          }
          d = Math.max(0, d); // rounding can leave an exact match a hair below 0
          kl += d;
          kl2 += d * d;
          klMax = Math.max(klMax, d);
          if (top === baseTop![pos - first]) ++same;
        }
      },
    });
    options.onProgress?.(c + 1, chunks);
  }
  const mean = nll / count;
  // llama.cpp's error: the standard error of the mean NLL, scaled by the perplexity
  const variance = nll2 / count - mean * mean;
  const perplexity = Math.exp(mean);
  const result: PerplexityResult = {
    perplexity, error: variance > 0 ? Math.sqrt(variance / (count - 1)) * perplexity : 0, nll: mean, tokens: count, chunks, contextSize: n,
  };
  if (base !== undefined) {
    const klMean = kl / count;
    const klVar = kl2 / count - klMean * klMean;
    result.kl = {
      mean: klMean, error: klVar > 0 ? Math.sqrt(klVar / (count - 1)) : 0, max: klMax, top1: same / count,
      basePerplexity: Math.exp(baseNll / count),
    };
  }
  return result;
}
