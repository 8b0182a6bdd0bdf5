/**
 * The flags every generating command shares (`run`, `chat`, `generate`):
 * model loading, sampling and stopping. Defaults are the library's.
 */
import { existsSync } from 'node:fs';

import { InvalidArgumentError } from '../errors.js';
import type { GenerateOptions } from '../generation/options.js';
import { loadModel, type Backend, type KvCacheType, type Model } from '../model/model.js';
import { parseModelSource } from '../pull/source.js';
import { pullModel } from '../pull/pull.js';
import type { Flag, FlagValues } from './flags.js';
import type { CliIo } from './io.js';
import { progressBar } from './progress.js';

export const MODEL_FLAGS: readonly Flag[] = [
  { name: 'threads', short: 't', value: 'N', help: 'compute threads (default: physical cores)' },
  { name: 'context-size', short: 'c', value: 'N', help: 'KV cache capacity in tokens (default: the model\'s, at most 4096)' },
  { name: 'kv-cache-type', value: 'type', help: 'how the KV cache stores keys and values: f16 (default), bf16 or q8_0 (half the memory)' },
  { name: 'backend', value: 'name', help: 'where the model runs: auto (default: CUDA when available, else the CPU), cpu or cuda' },
  { name: 'gpu-layers', value: 'N', help: 'with CUDA, how many of the last layers the GPU runs, the CPU the others (default all; 0: the CPU)' },
  { name: 'cache-dir', value: 'dir', help: 'where models named by URL or hf: are kept (default ~/.cache/lmrt/models)' },
];

export const SAMPLING_FLAGS: readonly Flag[] = [
  { name: 'max-tokens', short: 'n', value: 'N', help: 'most tokens to generate (default 256)' },
  { name: 'temperature', value: 'T', help: '0 (default) is greedy; above 0 samples' },
  { name: 'top-k', value: 'K', help: 'keep the K most likely tokens, 0 = all (default 40)' },
  { name: 'top-p', value: 'P', help: 'nucleus: keep tokens up to probability mass P (default 0.95)' },
  { name: 'min-p', value: 'P', help: 'keep tokens at least P times as likely as the best (default 0.05)' },
  { name: 'typical-p', value: 'P', help: 'locally typical sampling mass, 1 = off (default)' },
  { name: 'repeat-penalty', value: 'X', help: 'penalise recent tokens, 1 = off (default)' },
  { name: 'repeat-last-n', value: 'N', help: 'how many recent tokens the penalties see, -1 = all (default 64)' },
  { name: 'frequency-penalty', value: 'X', help: 'subtract X per earlier occurrence (default 0)' },
  { name: 'presence-penalty', value: 'X', help: 'subtract X once a token occurred (default 0)' },
  { name: 'logit-bias', value: 'id=bias', multiple: true, help: 'add bias to a token\'s logit (-inf bans it)' },
  { name: 'seed', short: 's', value: 'N', help: 'random seed (default: random)' },
  { name: 'stop', value: 'text', multiple: true, help: 'stop before this text (not printed)' },
  { name: 'stop-token', value: 'id', multiple: true, help: 'stop at this token id' },
  { name: 'ignore-eos', help: 'keep going past end-of-generation tokens' },
];

export const SPECULATIVE_FLAGS: readonly Flag[] = [
  { name: 'draft', value: 'gguf', help: 'speculative decoding with this smaller model (same vocabulary) guessing ahead: same output, fewer steps' },
  { name: 'prompt-lookup', help: 'speculative decoding guessing from earlier text instead' },
  { name: 'ngram', value: 'N', help: 'with --prompt-lookup: the longest suffix to look up (default 3)' },
  { name: 'draft-max', value: 'N', help: 'most tokens guessed per step (default 3 with --draft, 7 with --prompt-lookup)' },
];

/**
 * Loads the --draft model when given (the caller disposes it) and sets the
 * speculative options for it.
 */
export async function openDraft(values: FlagValues, options: GenerateOptions, io: CliIo): Promise<Model | undefined> {
  if (values.draft === undefined) return undefined;
  if (values['prompt-lookup'] === true) throw new InvalidArgumentError('--draft and --prompt-lookup are two ways to guess: pick one');
  const draftMax = num('draft-max', values['draft-max'], true);
  // the draft's own context goes unused (drafting runs in one the target makes): keep it small
  const draft = await openModel(String(values.draft), { ...values, 'context-size': '16' }, io);
  options.speculative = { draft, ...(draftMax !== undefined ? { maxDraftTokens: draftMax } : {}) };
  return draft;
}

/** A numeric flag's value (undefined when absent); throws naming the flag when it is not a number. */
export function num(flag: string, v: string | boolean | string[] | undefined, integer = false): number | undefined {
  if (v === undefined) return undefined;
  const n = Number(v);
  if (typeof v !== 'string' || v.trim() === '' || Number.isNaN(n) || (integer && !Number.isInteger(n))) {
    throw new InvalidArgumentError(`--${flag} must be ${integer ? 'an integer' : 'a number'}, got '${String(v)}'`);
  }
  return n;
}

function list(v: string | boolean | string[] | undefined): string[] {
  return v === undefined ? [] : Array.isArray(v) ? v : [String(v)];
}

/** The generation options the flags ask for (checked by the library when used). */
export function generateOptionsFrom(values: FlagValues): GenerateOptions {
  const o: GenerateOptions = {};
  const set = <K extends keyof GenerateOptions>(key: K, value: GenerateOptions[K] | undefined): void => {
    if (value !== undefined) o[key] = value;
  };
  set('maxTokens', num('max-tokens', values['max-tokens'], true));
  set('temperature', num('temperature', values.temperature));
  set('topK', num('top-k', values['top-k'], true));
  set('topP', num('top-p', values['top-p']));
  set('minP', num('min-p', values['min-p']));
  set('typicalP', num('typical-p', values['typical-p']));
  set('repeatPenalty', num('repeat-penalty', values['repeat-penalty']));
  set('repeatLastN', num('repeat-last-n', values['repeat-last-n'], true));
  set('frequencyPenalty', num('frequency-penalty', values['frequency-penalty']));
  set('presencePenalty', num('presence-penalty', values['presence-penalty']));
  set('seed', num('seed', values.seed, true));
  const bias = list(values['logit-bias']);
  if (bias.length > 0) {
    const logitBias: Record<number, number> = {};
    for (const entry of bias) {
      const m = /^(\d+)[=:](.+)$/.exec(entry);
      const b = m ? (/^-inf(inity)?$/i.test(m[2]!) ? -Infinity : Number(m[2])) : NaN;
      if (!m || Number.isNaN(b)) throw new InvalidArgumentError(`--logit-bias must be id=bias (e.g. 13=-2.5 or 13=-inf), got '${entry}'`);
      logitBias[Number(m[1])] = b;
    }
    o.logitBias = logitBias;
  }
  const stop = list(values.stop);
  if (stop.length > 0) o.stop = stop;
  const stopTokens = list(values['stop-token']).map((t) => num('stop-token', t, true)!);
  if (stopTokens.length > 0) o.stopTokens = stopTokens;
  if (values['ignore-eos'] === true) o.ignoreEos = true;
  const ngram = num('ngram', values.ngram, true), draftMax = num('draft-max', values['draft-max'], true);
  if (values['prompt-lookup'] === true) {
    o.speculative = { type: 'prompt-lookup', ...(ngram !== undefined ? { ngram } : {}), ...(draftMax !== undefined ? { maxDraftTokens: draftMax } : {}) };
  } else if (ngram !== undefined || (draftMax !== undefined && values.draft === undefined)) {
    throw new InvalidArgumentError('--ngram goes with --prompt-lookup, --draft-max with --prompt-lookup or --draft');
  }
  return o;
}

/**
 * Loads the model a command names: a GGUF path, or a URL / `hf:` name,
 * downloaded into the cache first (with a progress bar).
 */
export async function openModel(name: string | undefined, values: FlagValues, io: CliIo, extra: { maxSequences?: number } = {}): Promise<Model> {
  if (name === undefined || name === '') throw new InvalidArgumentError('a model is required: a GGUF file, a URL or hf:owner/repo/file.gguf');
  let path = name;
  if (!existsSync(name) && (name.startsWith('hf:') || /^https?:\/\//.test(name))) {
    parseModelSource(name);
    const bar = progressBar(io, `pulling ${name}`);
    try {
      path = (await pullModel(name, { cacheDir: values['cache-dir'] as string | undefined, onProgress: bar.update })).path;
    } finally {
      bar.done();
    }
  }
  io.progress?.(`loading ${path} …`);
  try {
    const threads = num('threads', values.threads, true);
    const contextSize = num('context-size', values['context-size'], true);
    const kvCacheType = values['kv-cache-type'];
    if (kvCacheType !== undefined && !['f16', 'bf16', 'q8_0'].includes(String(kvCacheType))) {
      throw new InvalidArgumentError(`--kv-cache-type must be f16, bf16 or q8_0, got '${String(kvCacheType)}'`);
    }
    const backend = values.backend;
    if (backend !== undefined && !['auto', 'cpu', 'cuda'].includes(String(backend))) {
      throw new InvalidArgumentError(`--backend must be auto, cpu or cuda, got '${String(backend)}'`);
    }
    const gpuLayers = num('gpu-layers', values['gpu-layers'], true);
    return await loadModel(path, {
      ...(threads !== undefined ? { threads } : {}),
      ...(backend !== undefined ? { backend: String(backend) as Backend } : {}),
      ...(gpuLayers !== undefined ? { gpuLayers } : {}),
      ...(contextSize !== undefined ? { contextSize } : {}),
      ...(kvCacheType !== undefined ? { kvCacheType: String(kvCacheType) as KvCacheType } : {}),
      ...extra,
    });
  } finally {
    io.progress?.(undefined);
  }
}

/** A one-line summary of a finished generation, for standard error. */
export function statsLine(r: { tokens: number[]; finishReason: string; timings: { prefillMs: number; tokensPerSecond: number } }): string {
  return `[${r.tokens.length} tokens, ${r.timings.tokensPerSecond.toFixed(1)} tok/s, prefill ${r.timings.prefillMs.toFixed(0)} ms, finish: ${r.finishReason}]`;
}
