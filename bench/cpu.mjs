#!/usr/bin/env node
// CPU prefill and decode, lmrt against llama.cpp (node-llama-cpp, same GGUF,
// same threads), runs alternating between the engines; medians of --runs.
// Per row: prefill tok/s of a --prompt-token prompt (half the context where
// that is shorter), decode tok/s over --tokens greedy tokens, both engines'
// ratio, and decode as a fraction of the bandwidth roofline: this machine's
// read bandwidth (same threads) divided by the bytes of weights a decode step
// reads. The bandwidth of this VM drifts by a third within minutes, so each
// run is set against the mean of two measurements bracketing it (just before
// its engine opens and just after it closes), and the row's fraction is the
// median over its runs. Then the per-step overhead: decode
// tok/s of the 2-layer dim-64 `micro` model at 1 and 2 threads.
// Writes bench/results/cpu.json and cpu.md (the README quotes the latter).
// Usage: node bench/cpu.mjs [--runs 5] [--threads 2] [--prompt 512] [--tokens 128]
//        [--only q4_0,stories] [--models ../shared/models] [--no-peer]
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, loadavg, tmpdir } from 'node:os';
import { basename, dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';

import { inspectGguf, loadModel, measureMemoryBandwidth, synthModel } from '../dist/index.js';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const { values } = parseArgs({
  options: {
    runs: { type: 'string', default: '5' },
    threads: { type: 'string', default: '2' },
    prompt: { type: 'string', default: '512' },
    tokens: { type: 'string', default: '128' },
    only: { type: 'string' },
    models: { type: 'string', default: resolve(root, '..', 'shared', 'models') },
    'no-peer': { type: 'boolean', default: false },
  },
});
const runs = Number(values.runs), threads = Number(values.threads);
const promptTokens = Number(values.prompt), N = Number(values.tokens);
const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

// [name, how to get the file]; synthetic ones are written into a temporary folder
const K_M_SIX = { 'attn_v.weight': 'Q6_K', 'ffn_down.weight': 'Q6_K', 'token_embd.weight': 'Q6_K' };
const Q4_K_M = { type: 'Q4_K', tensorTypes: K_M_SIX };
const Q5_K_M = { type: 'Q5_K', tensorTypes: K_M_SIX };
const MODELS = [
  ['llama 1B Q4_0', { preset: '1b', type: 'Q4_0' }],
  ['llama 1B Q8_0', { preset: '1b', type: 'Q8_0' }],
  ['llama 1B Q4_K_M (Q4_K, Q6_K attn_v/ffn_down/embd)', { preset: '1b', ...Q4_K_M }],
  ['llama 1B Q5_K_M (Q5_K, Q6_K attn_v/ffn_down/embd)', { preset: '1b', ...Q5_K_M }],
  ['llama 1B F16', { preset: '1b', type: 'F16' }],
  ['gpt2 124M F32', { arch: 'gpt2', preset: '124m', type: 'F32' }],
  ['gpt2 124M Q8_0', { arch: 'gpt2', preset: '124m', type: 'Q8_0' }],
  ['llama 100M Q8_0', { preset: '100m', type: 'Q8_0' }],
  ...['f32', 'f16', 'q8_0', 'q4_0'].map((t) => [`stories260K ${t.toUpperCase()}`, { file: `stories260K-${t}.gguf` }]),
];
const wanted = values.only?.split(',').map((s) => s.toLowerCase());
const selected = MODELS.filter(([name]) => !wanted || wanted.some((w) => name.toLowerCase().includes(w)));

/** Bytes of weights one decode step reads: every tensor, less the embedding table when the output is separate (one row of it is read). */
async function decodeBytes(path) {
  const file = await inspectGguf(path);
  const tied = !file.tensors.some((t) => t.name === 'output.weight');
  return file.tensors.reduce((sum, t) => sum + (t.name === 'token_embd.weight' && !tied ? 0 : t.byteLength), 0);
}

/** A prompt of `n` ids (the first varies per run so that no prefix cache serves it). */
function promptOf(n, vocab, run, bos) {
  const ids = [bos, 10 + (run % 50)];
  for (let i = 2; i < n; ++i) ids.push(100 + ((i * 7919) % Math.max(1, vocab - 200)));
  return ids;
}

async function lmrtEngine(path, contextSize, threadCount) {
  const model = await loadModel(path, { threads: threadCount, contextSize });
  const bos = model.tokenizer.specialTokens.bos ?? 1;
  const vocab = model.info.vocabSize;
  return {
    vocab, bos,
    async prefill(tokens) {
      const r = await model.generate(tokens, { maxTokens: 1 });
      return (tokens.length / r.timings.prefillMs) * 1000;
    },
    async decode(tokens) {
      const r = await model.generate(tokens, { maxTokens: N, ignoreEos: true });
      return { rate: ((r.tokens.length - 1) / r.timings.decodeMs) * 1000, tokens: r.tokens };
    },
    async dispose() { model.dispose(); },
  };
}

let llama;
async function peerEngine(path, contextSize, threadCount) {
  const { getLlama } = await import('node-llama-cpp');
  llama ??= await getLlama({ gpu: false, build: 'never', progressLogs: false, logLevel: 'error' });
  const model = await llama.loadModel({ modelPath: path, gpuLayers: 0 });
  const context = await model.createContext({ contextSize, batchSize: Math.min(512, contextSize), threads: threadCount, flashAttention: false });
  const sequence = context.getSequence();
  return {
    async prefill(tokens) {
      await sequence.clearHistory();
      const t0 = performance.now();
      await sequence.evaluateWithoutGeneratingNewTokens(tokens);
      return (tokens.length / (performance.now() - t0)) * 1000;
    },
    // llama.cpp's own greedy loop: no logits cross into JS
    async decode(tokens) {
      await sequence.clearHistory();
      const out = [];
      let t1 = 0;
      for await (const token of sequence.evaluate(tokens, { temperature: 0 })) {
        if (out.length === 0) t1 = performance.now();
        out.push(token);
        if (out.length === N) break;
      }
      return { rate: ((out.length - 1) / (performance.now() - t1)) * 1000, tokens: out };
    },
    async dispose() {
      await context.dispose();
      await model.dispose();
    },
  };
}

/**
 * Medians of prefill and decode over alternating runs of the engines. Each
 * run opens its engine afresh and closes it after: compute threads one
 * engine leaves spinning must not slow the other's next run.
 */
async function measure(path, contextSize, threadCount, withPeer, bytes = 0) {
  const engines = [['lmrt', lmrtEngine]];
  if (withPeer) engines.push(['llama.cpp', peerEngine]);
  const results = Object.fromEntries(engines.map(([name]) => [name, { prefill: [], decode: [], roofline: [] }]));
  const probe = await lmrtEngine(path, contextSize, threadCount);
  const { vocab, bos } = probe;
  await probe.dispose();
  const n = Math.min(promptTokens, Math.floor(contextSize / 2));
  const short = promptOf(8, vocab, 0, bos);
  let same;
  for (let r = 0; r < runs; ++r) {
    const order = r % 2 === 0 ? engines : [...engines].reverse();
    const decoded = {};
    for (const [name, open] of order) {
      const before = bytes > 0 ? await sampleBandwidth() : 0;
      const e = await open(path, contextSize, threadCount);
      let rate;
      try {
        await e.decode(short.slice(0, 4)); // warm up
        results[name].prefill.push(await e.prefill(promptOf(n, vocab, r + 1, bos)));
        const d = await e.decode(short);
        rate = d.rate;
        results[name].decode.push(d.rate);
        decoded[name] = d.tokens;
      } finally {
        await e.dispose();
      }
      if (bytes > 0) results[name].roofline.push((rate * bytes) / ((before + (await sampleBandwidth())) / 2));
    }
    if (withPeer) same = JSON.stringify(decoded.lmrt) === JSON.stringify(decoded['llama.cpp']);
  }
  const med = (name, key) => (results[name] ? median(results[name][key]) : undefined);
  return {
    prompt: n,
    lmrt: { prefill: med('lmrt', 'prefill'), decode: med('lmrt', 'decode'), roofline: med('lmrt', 'roofline') },
    peer: withPeer ? { prefill: med('llama.cpp', 'prefill'), decode: med('llama.cpp', 'decode'), roofline: med('llama.cpp', 'roofline') } : undefined,
    sameTokens: same,
  };
}

const load = loadavg()[0];
// every measurement, for the header's median and range
const bandwidthSamples = [];
let bandwidth = 0;
async function sampleBandwidth() {
  const rate = await measureMemoryBandwidth({ threads, bytes: 512 * 2 ** 20, passes: 3 });
  bandwidthSamples.push(rate);
  return rate;
}
const work = mkdtempSync(join(tmpdir(), 'lmrt-cpu-bench-'));
const rows = [];
const overhead = [];
try {
  for (const [name, source] of selected) {
    let path;
    if (source.file) path = join(values.models, source.file);
    else {
      path = join(work, 'model.gguf');
      await synthModel(path, { arch: 'llama', seed: 1, ...source });
    }
    const bytes = await decodeBytes(path);
    const contextSize = source.file ? 512 : 2048;
    const m = await measure(path, contextSize, threads, !values['no-peer'], bytes);
    rows.push({ name, file: source.file ?? basename(path), bytes, ...m });
    console.error(`${name}: lmrt ${m.lmrt.prefill.toFixed(1)} / ${m.lmrt.decode.toFixed(1)} tok/s` +
      (m.peer ? `, llama.cpp ${m.peer.prefill.toFixed(1)} / ${m.peer.decode.toFixed(1)}` : ''));
    if (!source.file) rmSync(path);
  }
  // per-step overhead: a model whose step is almost all fixed cost
  const micro = join(work, 'micro.gguf');
  await synthModel(micro, { arch: 'llama', preset: 'micro', type: 'F32', seed: 1 });
  for (const t of [1, 2]) overhead.push({ threads: t, ...(await measure(micro, 512, t, !values['no-peer'])) });
} finally {
  rmSync(work, { recursive: true, force: true });
}
bandwidth = median(bandwidthSamples) ?? 0;

const f = (x, d = 1) => (x === undefined ? '-' : x.toFixed(d));
const ratio = (a, b) => (a === undefined || b === undefined ? '-' : `${(a / b).toFixed(2)}x`);
const lines = [];
lines.push(`CPU prefill and decode, ${new Date().toISOString().slice(0, 10)}, \`npm run bench:cpu\`: ${cpus()[0]?.model ?? 'unknown CPU'}, ` +
  `${cpus().length} logical CPUs, ${threads} threads, medians of ${runs} alternating runs; 1-minute load average at start ${load.toFixed(2)}. ` +
  `Read bandwidth measured before and after every run (${threads} threads): median ${(bandwidth / 1e9).toFixed(1)} GB/s ` +
  `(${(Math.min(...bandwidthSamples) / 1e9).toFixed(1)}-${(Math.max(...bandwidthSamples) / 1e9).toFixed(1)}); ` +
  `a run's decode / roofline divides its weight bytes per second by the mean of the two measurements around it, and the table gives the median over runs. ` +
  `Prefill: a ${promptTokens}-token prompt (half the context where shorter); decode: ${N} greedy tokens.`);
lines.push('');
lines.push('| model | weights read per token | prefill lmrt tok/s | prefill llama.cpp tok/s | ratio | decode lmrt tok/s | decode llama.cpp tok/s | ratio | lmrt decode / roofline | llama.cpp decode / roofline | same tokens |');
lines.push('|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|');
for (const r of rows) {
  lines.push(`| ${r.name} | ${(r.bytes / 2 ** 20).toFixed(r.bytes < 10 * 2 ** 20 ? 2 : 0)} MiB | ${f(r.lmrt.prefill)} | ${f(r.peer?.prefill)} | ${ratio(r.lmrt.prefill, r.peer?.prefill)} | ` +
    `${f(r.lmrt.decode)} | ${f(r.peer?.decode)} | ${ratio(r.lmrt.decode, r.peer?.decode)} | ${(100 * r.lmrt.roofline).toFixed(0)}% | ` +
    `${r.peer ? `${(100 * r.peer.roofline).toFixed(0)}%` : '-'} | ${r.sameTokens === undefined ? '-' : r.sameTokens ? 'yes' : 'no'} |`);
}
lines.push('');
lines.push('Per-step overhead (the 2-layer dim-64 `micro` model, F32; decode tok/s and ms per token):');
lines.push('');
lines.push('| threads | lmrt tok/s | lmrt ms/token | llama.cpp tok/s | llama.cpp ms/token |');
lines.push('|---:|---:|---:|---:|---:|');
for (const o of overhead) {
  lines.push(`| ${o.threads} | ${f(o.lmrt.decode)} | ${f(1000 / o.lmrt.decode, 3)} | ${f(o.peer?.decode)} | ${o.peer ? f(1000 / o.peer.decode, 3) : '-'} |`);
}
const table = lines.join('\n');
console.log(table);
const out = join(root, 'bench', 'results');
mkdirSync(out, { recursive: true });
writeFileSync(join(out, 'cpu.md'), `${table}\n`);
writeFileSync(join(out, 'cpu.json'), `${JSON.stringify({ date: new Date().toISOString(), cpu: cpus()[0]?.model, threads, runs, promptTokens, tokens: N, bandwidth, bandwidthSamples, load, rows, overhead }, null, 2)}\n`);
