#!/usr/bin/env node
// Speculative decoding: decode tok/s with and without it, the acceptance
// rate (accepted / drafted guesses) and the mean accepted length per
// verification step, greedy, for: prompt lookup on a copy-heavy prompt (the
// text repeats, so what comes next appeared before) and on a prompt where
// nothing recurs (the adaptive draft length should fall to zero and cost
// nothing); a draft model: stories260K-q4_0 for stories260K-f32, and the
// target as its own draft (every guess right: the upper bound of acceptance,
// at the cost of running the model twice); the same on a synthetic
// Llama-3.2-1B Q4_0 model. Runs alternate plain / speculative; medians of --runs.
// Usage: node bench/speculative.mjs [--models ../shared/models] [--runs 5] [--tokens 128] [--threads 2] [--no-1b]
import { mkdtempSync, rmSync } from 'node:fs';
import { cpus, loadavg, tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';

import { loadModel, synthModel } from '../dist/index.js';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const { values } = parseArgs({
  options: {
    models: { type: 'string', default: resolve(root, '..', 'shared', 'models') },
    runs: { type: 'string', default: '5' },
    tokens: { type: 'string', default: '128' },
    threads: { type: 'string', default: '2' },
    'no-1b': { type: 'boolean', default: false },
  },
});
const runs = Number(values.runs), N = Number(values.tokens), threads = Number(values.threads);
const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

const STORY = 'Once upon a time, there was a little girl named Lily. She loved to play outside in the park with her dog Max. ' +
  'One day, Lily and Max saw a big red ball under a tree. Lily said, "Look, Max! A ball!" Max barked and ran to the ball. ' +
  'They played with the ball all day, and when the sun went down they went home happy.';
// the story, then its start again: a continuation that copies
const COPY_HEAVY = `${STORY} ${STORY} ${STORY.slice(0, 60)}`;

async function measure(model, prompt, speculative) {
  const plain = [], spec = [];
  let last;
  await model.generate(prompt, { maxTokens: 4 }); // warm the caches
  for (let r = 0; r < runs; ++r) {
    const a = await model.generate(prompt, { maxTokens: N, ignoreEos: true });
    plain.push(a.timings.tokensPerSecond);
    last = await model.generate(prompt, { maxTokens: N, ignoreEos: true, speculative });
    spec.push(last.timings.tokensPerSecond);
    if (JSON.stringify(a.tokens) !== JSON.stringify(last.tokens)) throw new Error('speculative greedy output differs from plain');
  }
  const s = last.speculation;
  return {
    plain: median(plain), spec: median(spec),
    acceptance: s.drafted > 0 ? s.accepted / s.drafted : 0,
    meanAccepted: s.steps > 0 ? s.accepted / s.steps : 0,
    steps: s.steps,
  };
}

const rows = [];
const work = mkdtempSync(join(tmpdir(), 'lmrt-spec-bench-'));
const load = loadavg()[0];
try {
  const lookup = { type: 'prompt-lookup', ngram: 3 };
  {
    const model = await loadModel(join(values.models, 'stories260K-f32.gguf'), { threads });
    rows.push({ name: 'stories260K-f32, prompt lookup, copy-heavy prompt', ...(await measure(model, COPY_HEAVY, lookup)) });
    // random token ids: nothing recurs, so nothing is guessed after the first misses
    const noise = [1, ...Array.from({ length: 200 }, (_, i) => 3 + ((i * 7919) % 509))];
    rows.push({ name: 'stories260K-f32, prompt lookup, nothing recurs', ...(await measure(model, noise, lookup)) });
    const draft = await loadModel(join(values.models, 'stories260K-q4_0.gguf'), { threads, contextSize: 16 });
    rows.push({ name: 'stories260K-f32, draft stories260K-q4_0', ...(await measure(model, STORY.slice(0, 60), { draft })) });
    rows.push({ name: 'stories260K-f32, itself as draft', ...(await measure(model, STORY.slice(0, 60), { draft: model })) });
    draft.dispose();
    model.dispose();
  }
  if (!values['no-1b']) {
    const path = join(work, 'llama-1b-q4_0.gguf');
    await synthModel(path, { arch: 'llama', preset: '1b', type: 'Q4_0', seed: 1 });
    const model = await loadModel(path, { threads, contextSize: 2048 });
    // random weights: repeat a stretch of ids many times and the model tends to follow it
    const stretch = Array.from({ length: 40 }, (_, i) => 1000 + ((i * 104729) % 100000));
    const prompt = [128000, ...stretch, ...stretch, ...stretch, ...stretch.slice(0, 20)];
    rows.push({ name: 'synthetic Llama-3.2-1B Q4_0, prompt lookup, repeated ids', ...(await measure(model, prompt, lookup)) });
    // the model's own greedy text, then its prompt again: a text full of what it writes
    const start = [128000, ...stretch.slice(0, 24)];
    const own = (await model.generate(start, { maxTokens: 96, ignoreEos: true })).tokens;
    rows.push({ name: 'synthetic Llama-3.2-1B Q4_0, prompt lookup, after its own earlier text', ...(await measure(model, [...start, ...own, ...start.slice(1)], lookup)) });
    const noise = [128000, ...Array.from({ length: 120 }, (_, i) => 1000 + ((i * 7919 + i * i * 31) % 120000))];
    rows.push({ name: 'synthetic Llama-3.2-1B Q4_0, prompt lookup, nothing recurs', ...(await measure(model, noise, lookup)) });
    model.dispose();
  }
} finally {
  rmSync(work, { recursive: true, force: true });
}

console.log(`speculative decoding: ${N} greedy tokens, ${threads} threads, medians of ${runs} alternating runs`);
console.log(`machine: ${cpus()[0]?.model ?? 'unknown'}, ${cpus().length} logical CPUs, 1-minute load average at start ${load.toFixed(2)}`);
console.log('| case | plain tok/s | speculative tok/s | speed-up | acceptance rate | mean accepted per step |');
console.log('|---|---:|---:|---:|---:|---:|');
for (const r of rows) {
  console.log(`| ${r.name} | ${r.plain.toFixed(1)} | ${r.spec.toFixed(1)} | ${(r.spec / r.plain).toFixed(2)}x | ${(100 * r.acceptance).toFixed(0)}% | ${r.meanAccepted.toFixed(2)} |`);
}
console.log(JSON.stringify({ tokens: N, threads, runs, rows }));
