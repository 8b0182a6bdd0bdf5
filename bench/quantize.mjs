#!/usr/bin/env node
// What quantisation costs and gives, per preset, on stories260K (a real
// trained model, from its F32 file) and on a synthetic Llama-3.2-1B-shaped
// F16 model: file size and bits per weight; perplexity on
// test/fixtures/text/story.txt (real model only: a random model's is
// meaningless); KL divergence from the unquantised model and how often both
// put the same token first (the 1B model on the same text's tokens); decode
// tok/s (median per-token time of greedy decoding) in lmrt and in llama.cpp
// (node-llama-cpp, same file, same threads); and for the 1B model the time
// and peak resident memory of quantising it (lmrt quantize in a child
// process), against the largest tensor and the mapped input.
// Usage: node bench/quantize.mjs [--models ../shared/models] [--threads 2] [--no-1b] [--tokens 32]
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { cpus, loadavg, tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { getLlama } from 'node-llama-cpp';

import { inspectGguf, loadModel, measurePerplexity, QUANTIZE_PRESETS, quantizeModel, synthModel } from '../dist/index.js';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const { values } = parseArgs({
  options: {
    models: { type: 'string', default: resolve(root, '..', 'shared', 'models') },
    threads: { type: 'string', default: '2' },
    tokens: { type: 'string', default: '32' },
    'no-1b': { type: 'boolean', default: false },
  },
});
const threads = Number(values.threads);
const decodeTokens = Number(values.tokens);
const text = readFileSync(join(root, 'test', 'fixtures', 'text', 'story.txt'), 'utf8');
const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const llama = await getLlama({ gpu: false, build: 'never', progressLogs: false, logLevel: 'error' });
const work = mkdtempSync(join(tmpdir(), 'lmrt-quantize-bench-'));

// stories260K's decode steps are tiny: with 2 threads on 2 cores llama.cpp
// spends them handing work between threads (a median of 14 ms a token here
// against 0.7 ms with 1), so both run it with 1 thread; the 1B model with --threads
const tinyThreads = 1;

/** Median per-token decode time (ms) of greedy decoding in lmrt. */
async function lmrtDecodeMs(model, prompt) {
  const times = [];
  let last = 0;
  const stream = model.stream(prompt, { maxTokens: decodeTokens, ignoreEos: true });
  for await (const _ of stream) {
    const now = performance.now();
    if (last > 0) times.push(now - last);
    last = now;
  }
  return median(times);
}

/** The same in llama.cpp. */
async function peerDecodeMs(path, prompt, threads) {
  const model = await llama.loadModel({ modelPath: path, gpuLayers: 0 });
  const context = await model.createContext({ contextSize: 256, threads, flashAttention: false });
  try {
    const times = [];
    let last = performance.now(), count = 0;
    for await (const _ of context.getSequence().evaluate(prompt, { temperature: 0 })) {
      const now = performance.now();
      if (count > 0) times.push(now - last);
      last = now;
      if (++count === decodeTokens) break;
    }
    return median(times);
  } finally {
    await context.dispose();
    await model.dispose();
  }
}

/** One row: size, quality against the base, decode speed of both. */
async function measure(label, path, base, { perplexity, threads }) {
  const info = await inspectGguf(path);
  const weights = info.tensors.reduce((s, t) => s + t.byteLength, 0);
  const params = info.tensors.reduce((s, t) => s + t.shape.reduce((a, b) => a * b, 1), 0);
  const model = await loadModel(path, { threads, contextSize: 512 });
  let q, ours, prompt;
  try {
    q = await measurePerplexity(model, text, { contextSize: 128, chunks: perplexity ? undefined : 2, ...(base ? { base } : {}) });
    prompt = Array.from(model.tokenizer.tokenize('Once upon a time'));
    ours = await lmrtDecodeMs(model, prompt);
  } finally {
    model.dispose();
  }
  // llama.cpp alone on the cores: lmrt's model is gone (the base's threads sleep)
  const theirs = await peerDecodeMs(path, prompt, threads);
  return {
    label, size: statSync(path).size, bpw: (8 * weights) / params, ppl: perplexity ? q.perplexity : undefined,
    kl: q.kl?.mean, top1: q.kl?.top1, ours: 1000 / ours, theirs: 1000 / theirs,
  };
}

function table(title, rows) {
  console.log(`\n${title}`);
  console.log('| type | file | bits/weight | perplexity | KL vs base | same top token | lmrt tok/s | llama.cpp tok/s | lmrt / llama.cpp |');
  console.log('|---|---|---|---|---|---|---|---|---|');
  for (const r of rows) {
    const mb = r.size >= 1e9 ? `${(r.size / 1e9).toFixed(2)} GB` : `${(r.size / 1e6).toFixed(2)} MB`;
    console.log(`| ${r.label} | ${mb} | ${r.bpw.toFixed(2)} | ${r.ppl?.toFixed(4) ?? '–'} | ${r.kl === undefined ? '(base)' : r.kl.toFixed(5)} | ` +
      `${r.top1 === undefined ? '–' : `${(100 * r.top1).toFixed(1)}%`} | ${r.ours.toFixed(1)} | ${r.theirs.toFixed(1)} | ${(r.ours / r.theirs).toFixed(2)} |`);
  }
}

console.log(`machine: ${cpus()[0]?.model ?? 'unknown'} (${cpus().length} CPUs), ${threads} threads, 1-minute load ${loadavg()[0].toFixed(2)}`);
try {
  // stories260K from its F32 file
  const f32Path = join(values.models, 'stories260K-f32.gguf');
  const base = await loadModel(f32Path, { threads: tinyThreads, contextSize: 512 });
  const tiny = { perplexity: true, threads: tinyThreads };
  const rows = [await measure('F32', f32Path, undefined, tiny)];
  rows.push(await measure('F16', join(values.models, 'stories260K-f16.gguf'), base, tiny));
  for (const type of QUANTIZE_PRESETS) {
    const out = join(work, `stories260K-${type}.gguf`);
    await quantizeModel(f32Path, out, { type, threads });
    rows.push(await measure(type, out, base, tiny));
  }
  base.dispose();
  table(`stories260K (quantised from F32; perplexity and KL on story.txt, chunks of 128; decode with ${tinyThreads} thread)`, rows);

  if (!values['no-1b']) {
    const f16Path = join(work, 'llama-1b-f16.gguf');
    await synthModel(f16Path, { arch: 'llama', preset: '1b', type: 'F16', seed: 1 });
    const info = await inspectGguf(f16Path);
    const largest = Math.max(...info.tensors.map((t) => t.byteLength));
    const inputBytes = statSync(f16Path).size;
    const base1b = await loadModel(f16Path, { threads, contextSize: 512 });
    const big = { perplexity: false, threads };
    const rows1b = [await measure('F16', f16Path, undefined, big)];
    const memory = [];
    for (const type of QUANTIZE_PRESETS) {
      const out = join(work, `llama-1b-${type}.gguf`);
      // a child process of its own: its peak RSS is the quantiser's alone
      const script = `const { quantizeModel } = await import(${JSON.stringify(join(root, 'dist', 'index.js'))});
        const t0 = performance.now();
        await quantizeModel(${JSON.stringify(f16Path)}, ${JSON.stringify(out)}, { type: ${JSON.stringify(type)}, threads: ${threads} });
        // VmHWM, this process's own peak: getrusage's maxRSS also counts the parent's pages the fork shared before exec
        const hwm = /VmHWM:\\s+(\\d+) kB/.exec((await import('node:fs')).readFileSync('/proc/self/status', 'utf8'));
        console.log(JSON.stringify({ seconds: (performance.now() - t0) / 1000, maxRss: hwm ? Number(hwm[1]) * 1024 : process.resourceUsage().maxRSS * 1024 }));`;
      const r = JSON.parse(execFileSync(process.execPath, ['--input-type=module', '-e', script], { encoding: 'utf8' }).trim().split('\n').pop());
      memory.push({ type, ...r });
      rows1b.push(await measure(type, out, base1b, big));
      rmSync(out);
    }
    base1b.dispose();
    table(`Llama-3.2-1B-shaped synthetic F16 (random weights: KL and agreement on story.txt's tokens, 2 chunks of 128, no perplexity; decode with ${threads} threads)`, rows1b);
    console.log(`\nquantising it (${(inputBytes / 1e9).toFixed(2)} GB input, largest tensor ${(largest / 1e6).toFixed(0)} MB), ${threads} threads:`);
    console.log('| type | seconds | peak RSS | peak RSS / (1.5 x largest tensor + input) |');
    console.log('|---|---|---|---|');
    for (const m of memory) {
      console.log(`| ${m.type} | ${m.seconds.toFixed(1)} | ${(m.maxRss / 1e6).toFixed(0)} MB | ${(m.maxRss / (1.5 * largest + inputBytes)).toFixed(3)} |`);
    }
  }
} finally {
  rmSync(work, { recursive: true, force: true });
}
