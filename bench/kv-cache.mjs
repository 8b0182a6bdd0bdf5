#!/usr/bin/env node
// The KV-cache seed workload: GPT-2 124M (synthetic weights, F32), prompt
// "Hello, I am", N new tokens greedy — once decoding incrementally over the
// paged KV cache, once recomputing the whole sequence every step (each step
// evaluates prompt + generated tokens in a fresh sequence and reads the last
// row). Both must produce the same tokens. llama.cpp (node-llama-cpp, same
// file, same threads) decodes the same prompt as the peer of the cached
// path. Prints a table and a JSON line; exits 1 if the two lmrt runs differ.
// Usage: node bench/kv-cache.mjs [--tokens 200] [--threads 2] [--no-peer]
import { mkdtempSync, rmSync } from 'node:fs';
import { availableParallelism, cpus, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';

import { inspectGguf, loadModel, synthModel } from '../dist/index.js';

const { values } = parseArgs({
  options: {
    tokens: { type: 'string', default: '200' },
    threads: { type: 'string', default: '2' },
    'no-peer': { type: 'boolean', default: false },
  },
});
const N = Number(values.tokens);
const threads = Number(values.threads);
const PROMPT = 'Hello, I am';
const loadBefore = loadavg()[0]; // a busy machine halves the bandwidth of a 2-core box

function argmax(row) {
  let best = 0;
  for (let i = 1; i < row.length; ++i) if (row[i] > row[best]) best = i;
  return best;
}

// llama.cpp's own greedy loop (sequence.evaluate at temperature 0): no
// logits cross into JS, so the peer is timed on its fast path.
async function peerDecode(path, prompt) {
  const { getLlama } = await import('node-llama-cpp');
  const llama = await getLlama({ gpu: false, build: 'never', progressLogs: false, logLevel: 'error' });
  const model = await llama.loadModel({ modelPath: path, gpuLayers: 0 });
  const context = await model.createContext({ contextSize: 512, batchSize: 512, threads, flashAttention: false });
  try {
    const sequence = context.getSequence();
    const tokens = [];
    const t0 = performance.now();
    let t1 = t0;
    for await (const token of sequence.evaluate(prompt, { temperature: 0 })) {
      if (tokens.length === 0) t1 = performance.now();
      tokens.push(token);
      if (tokens.length === N) break;
    }
    const t2 = performance.now();
    return { tokens, prefillMs: t1 - t0, decodeMs: t2 - t1 };
  } finally {
    await context.dispose();
    await model.dispose();
  }
}

const work = mkdtempSync(join(tmpdir(), 'lmrt-kv-bench-'));
try {
  const path = join(work, 'gpt2-124m-f32.gguf');
  await synthModel(path, { arch: 'gpt2', preset: '124m', type: 'F32', seed: 1 });
  const model = await loadModel(path, { threads, contextSize: 512 });
  const prompt = Array.from(model.tokenize(PROMPT));

  // With the KV cache: prefill once, then one token per step.
  const cached = await model.generate(prompt, { maxTokens: N, ignoreEos: true });

  // Without: every step evaluates the whole sequence from scratch.
  const recomputed = [];
  const t0 = performance.now();
  for (let i = 0; i < N; ++i) recomputed.push(argmax(await model.logits([...prompt, ...recomputed])));
  const recomputeMs = performance.now() - t0;

  const peer = values['no-peer'] ? undefined : await peerDecode(path, prompt);
  // A decoded token reads every weight once, except the embedding tables (one row each).
  const { tensors, fileSize } = await inspectGguf(path);
  const bytesPerToken = tensors.filter((t) => !/^(token|position)_embd/.test(t.name)).reduce((sum, t) => sum + t.byteLength, 0);
  model.dispose();

  const firstDiff = cached.tokens.findIndex((t, i) => t !== recomputed[i]);
  const cachedMs = cached.timings.prefillMs + cached.timings.decodeMs;
  const rate = (n, ms) => (n / ms) * 1000;
  const rows = [
    ['lmrt, KV cache', rate(N, cachedMs), rate(N - 1, cached.timings.decodeMs)],
    ['lmrt, recompute every step', rate(N, recomputeMs), undefined],
    ...(peer ? [['llama.cpp, KV cache', rate(N, peer.prefillMs + peer.decodeMs), rate(N - 1, peer.decodeMs)]] : []),
  ];
  console.log(`GPT-2 124M (synthetic, F32, file ${(fileSize / 1e6).toFixed(0)} MB, ${(bytesPerToken / 1e6).toFixed(0)} MB of weights read per token), prompt "${PROMPT}" (${prompt.length} tokens), ${N} tokens greedy, ${threads} threads`);
  console.log(`machine: ${cpus()[0]?.model ?? 'unknown'}, ${availableParallelism()} logical CPUs, 1-minute load average at start ${loadBefore.toFixed(2)}`);
  console.log('| run | tok/s (whole request) | decode tok/s | decode GB/s of weights |');
  console.log('|---|---:|---:|---:|');
  for (const [name, whole, decode] of rows) {
    const gbs = decode === undefined ? '' : ((decode * bytesPerToken) / 1e9).toFixed(1);
    console.log(`| ${name} | ${whole.toFixed(1)} | ${decode === undefined ? '' : decode.toFixed(1)} | ${gbs} |`);
  }
  console.log(`KV cache vs recompute: ${(recomputeMs / cachedMs).toFixed(1)}x faster`);
  if (peer) console.log(`lmrt vs llama.cpp decode: ${((peer.decodeMs / (N - 1)) / (cached.timings.decodeMs / (N - 1))).toFixed(2)}x; same tokens as llama.cpp: ${peer.tokens.every((t, i) => t === cached.tokens[i]) ? 'all' : `first ${peer.tokens.findIndex((t, i) => t !== cached.tokens[i])}`}`);
  console.log(`identical tokens (cache vs recompute): ${firstDiff < 0 ? 'yes' : `NO, first difference at ${firstDiff}`}`);
  console.log(JSON.stringify({ tokens: N, threads, cachedMs, recomputeMs, decodeMs: cached.timings.decodeMs, peerDecodeMs: peer?.decodeMs, identical: firstDiff < 0 }));
  if (firstDiff >= 0) process.exitCode = 1;
} finally {
  rmSync(work, { recursive: true, force: true });
}
