#!/usr/bin/env node
// What the sampling chain costs next to a decode step, at a 128k-token
// vocabulary: Llama-3.2-1B's shape (synthetic weights, Q4_0, vocab 128256).
// The chain runs on a real logits row of that model; the decode step is
// timed in lmrt and in llama.cpp (node-llama-cpp, same file, same threads).
// Prints medians and each chain's share of lmrt's decode step.
// Usage: node bench/sampling.mjs [--threads 2] [--reps 30] [--no-peer]
import { mkdtempSync, rmSync } from 'node:fs';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';

import { loadModel, Sampler, synthModel } from '../dist/index.js';

const { values } = parseArgs({
  options: {
    threads: { type: 'string', default: '2' },
    reps: { type: 'string', default: '30' },
    'no-peer': { type: 'boolean', default: false },
  },
});
const threads = Number(values.threads);
const reps = Number(values.reps);
const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

const CHAINS = [
  ['greedy (temperature 0)', { temperature: 0 }],
  ['default: top-k 40, top-p 0.95, min-p 0.05, t 0.8', { temperature: 0.8 }],
  ['default + repeat/frequency/presence penalties + bias', { temperature: 0.8, repeatPenalty: 1.1, frequencyPenalty: 0.2, presencePenalty: 0.2, logitBias: { 13: 2, 42: -5 } }],
  ['top-p 0.95 over the whole vocabulary (top-k off)', { temperature: 0.8, topK: 0, minP: 0 }],
  ['min-p 0.05 over the whole vocabulary (top-k off)', { temperature: 0.8, topK: 0, topP: 1 }],
  ['typical 0.9 over the whole vocabulary (top-k off)', { temperature: 0.8, topK: 0, topP: 1, minP: 0, typicalP: 0.9 }],
  ['temperature only (every token a candidate)', { temperature: 0.8, topK: 0, topP: 1, minP: 0 }],
];

async function peerDecodeMs(path, prompt, n) {
  const { getLlama } = await import('node-llama-cpp');
  const llama = await getLlama({ gpu: false, build: 'never', progressLogs: false, logLevel: 'error' });
  const model = await llama.loadModel({ modelPath: path, gpuLayers: 0 });
  const context = await model.createContext({ contextSize: 256, threads, flashAttention: false });
  try {
    const times = [];
    let last = performance.now();
    let count = 0;
    for await (const token of context.getSequence().evaluate(prompt, { temperature: 0 })) {
      void token;
      const now = performance.now();
      if (count > 0) times.push(now - last);
      last = now;
      if (++count === n) break;
    }
    return median(times);
  } finally {
    await context.dispose();
    await model.dispose();
  }
}

const work = mkdtempSync(join(tmpdir(), 'lmrt-sampling-bench-'));
try {
  const path = join(work, 'llama-1b-q4_0.gguf');
  const t0 = performance.now();
  await synthModel(path, { arch: 'llama', preset: '1b', type: 'Q4_0', seed: 1 });
  console.error(`synthesised ${path} in ${((performance.now() - t0) / 1000).toFixed(0)} s`);
  const model = await loadModel(path, { threads, contextSize: 256 });
  const prompt = Array.from(model.tokenize('The quick brown fox jumps over the lazy dog because'));
  const gen = await model.generate(prompt, { maxTokens: 17, ignoreEos: true });
  const stepMs = gen.timings.decodeMs / 16;
  const row = await model.logits(prompt);
  const vocab = model.info.vocabSize;
  const history = Array.from({ length: 64 }, (_, i) => (i * 7919) % vocab);

  const rows = [];
  for (const [name, options] of CHAINS) {
    const sampler = new Sampler({ ...options, seed: 1 }, vocab);
    for (const t of history) sampler.accept(t);
    for (let i = 0; i < 3; ++i) sampler.sample(row); // warm up the JIT
    const times = [];
    for (let i = 0; i < reps; ++i) {
      const s = performance.now();
      sampler.sample(row);
      times.push(performance.now() - s);
    }
    rows.push([name, median(times)]);
  }
  const peerStep = values['no-peer'] ? undefined : await peerDecodeMs(path, prompt, 17);
  model.dispose();

  console.log(`sampling chain vs decode step: vocabulary ${vocab}, Llama-3.2-1B shape (synthetic, Q4_0), ${threads} threads`);
  console.log(`machine: ${cpus()[0]?.model ?? 'unknown'}, 1-minute load average ${loadavg()[0].toFixed(2)}; medians of ${reps}`);
  console.log(`decode step: lmrt ${stepMs.toFixed(1)} ms${peerStep !== undefined ? `, llama.cpp ${peerStep.toFixed(1)} ms` : ''}`);
  console.log('| chain | ms per token | share of lmrt decode step |');
  console.log('|---|---:|---:|');
  for (const [name, ms] of rows) console.log(`| ${name} | ${ms.toFixed(2)} | ${((100 * ms) / stepMs).toFixed(1)}% |`);
  console.log(JSON.stringify({ vocab, threads, stepMs, peerStepMs: peerStep, chains: Object.fromEntries(rows) }));
} finally {
  rmSync(work, { recursive: true, force: true });
}
