#!/usr/bin/env node
// Speculative decoding: decode tok/s with and without it, the acceptance
// rate (accepted / drafted guesses) and the mean accepted length per
// verification step, greedy, for: prompt lookup on a copy-heavy prompt (the
// text repeats, so what comes next appeared before) and on a prompt where
// nothing recurs (the adaptive draft length should fall to zero and cost
// nothing); a draft model: stories260K-q4_0 for stories260K-f32, and the
// target as its own draft (every guess right: the upper bound of acceptance,
// at the cost of running the model twice). Then a synthetic Llama-3.2-1B Q4_0
// whose first two layers are an induction circuit (`synthModel({copying:
// true})`: it continues a text it has seen, as real models do when they
// quote or edit) on a copy-heavy prompt, and one with random weights, which
// copies nothing, so that every guess is rejected and the draft length must
// fall to zero. Runs alternate plain / speculative; medians of --runs.
// Usage: node bench/speculative.mjs [--models ../shared/models] [--runs 5] [--tokens 128] [--threads 2]
//        [--stories-threads 1] [--no-1b]
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
    // two threads only add wake-ups to a step of stories260K's size (see the CPU performance issue)
    'stories-threads': { type: 'string', default: '1' },
    'no-1b': { type: 'boolean', default: false },
  },
});
const runs = Number(values.runs), N = Number(values.tokens), threads = Number(values.threads);
const storiesThreads = Number(values['stories-threads']);
const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

const STORY = 'Once upon a time, there was a little girl named Lily. She loved to play outside in the park with her dog Max. ' +
  'One day, Lily and Max saw a big red ball under a tree. Lily said, "Look, Max! A ball!" Max barked and ran to the ball. ' +
  'They played with the ball all day, and when the sun went down they went home happy.';
// the story, then its start again: a continuation that copies
const COPY_HEAVY = `${STORY} ${STORY} ${STORY.slice(0, 60)}`;

// The speed-up is the median of each alternating pair's ratio, which a
// drift of the machine's speed over the runs leaves alone.
async function measure(model, prompt, speculative, count = runs) {
  const plain = [], spec = [], ratio = [];
  let last;
  await model.generate(prompt, { maxTokens: 4 }); // warm the caches
  await model.generate(prompt, { maxTokens: 4, speculative }); // and the draft's context
  for (let r = 0; r < count; ++r) {
    const a = await model.generate(prompt, { maxTokens: N, ignoreEos: true });
    plain.push(a.timings.tokensPerSecond);
    last = await model.generate(prompt, { maxTokens: N, ignoreEos: true, speculative });
    spec.push(last.timings.tokensPerSecond);
    ratio.push(last.timings.tokensPerSecond / a.timings.tokensPerSecond);
    if (JSON.stringify(a.tokens) !== JSON.stringify(last.tokens)) throw new Error('speculative greedy output differs from plain');
  }
  const s = last.speculation;
  return {
    plain: median(plain), spec: median(spec), speedup: median(ratio),
    acceptance: s.drafted > 0 ? s.accepted / s.drafted : 0,
    meanAccepted: s.steps > 0 ? s.accepted / s.steps : 0,
    steps: s.steps,
  };
}

/** `count` distinct ids in [lo, hi), from a seeded generator. */
function distinctIds(count, lo, hi, seed) {
  const seen = new Set();
  let x = seed;
  while (seen.size < count) {
    x = (Math.imul(x, 1103515245) + 12345) >>> 0;
    seen.add(lo + (x % (hi - lo)));
  }
  return [...seen];
}

const rows = [];
const work = mkdtempSync(join(tmpdir(), 'lmrt-spec-bench-'));
const load = loadavg()[0];
try {
  const lookup = { type: 'prompt-lookup', ngram: 3 };
  {
    // a run takes tens of milliseconds: more of them
    const more = 4 * runs;
    const model = await loadModel(join(values.models, 'stories260K-f32.gguf'), { threads: storiesThreads });
    rows.push({ name: 'stories260K-f32, prompt lookup, copy-heavy prompt', ...(await measure(model, COPY_HEAVY, lookup, more)) });
    // random token ids: nothing recurs, so nothing is guessed after the first misses
    const noise = [1, ...Array.from({ length: 200 }, (_, i) => 3 + ((i * 7919) % 509))];
    rows.push({ name: 'stories260K-f32, prompt lookup, nothing recurs', ...(await measure(model, noise, lookup, more)) });
    const draft = await loadModel(join(values.models, 'stories260K-q4_0.gguf'), { threads: storiesThreads, contextSize: 16 });
    rows.push({ name: 'stories260K-f32, draft stories260K-q4_0', ...(await measure(model, STORY.slice(0, 60), { draft }, more)) });
    rows.push({ name: 'stories260K-f32, itself as draft', ...(await measure(model, STORY.slice(0, 60), { draft: model }, more)) });
    draft.dispose();
    model.dispose();
  }
  if (!values['no-1b']) {
    // A passage of distinct ids, then its first words again: the copying model's
    // one-token induction continues it exactly (repeated ids would leave it to
    // choose between what followed each occurrence).
    const passage = distinctIds(160, 1000, 120000, 7);
    const copyPrompt = [128000, ...passage, 198, 198, ...passage.slice(0, 16)];
    const write = async (name, options) => {
      const path = join(work, `${name}.gguf`);
      await synthModel(path, { arch: 'llama', type: 'Q4_0', ...options });
      return path;
    };
    const paths = {
      copying: await write('1b-copying', { preset: '1b', copying: true }),
      random: await write('1b-random', { preset: '1b', seed: 1 }),
      draftCopying: await write('1b-draft-copying', { preset: '1b-draft', copying: true }),
      draftRandom: await write('1b-draft-random', { preset: '1b-draft', seed: 2 }),
    };
    const target = await loadModel(paths.copying, { threads, contextSize: 2048 });
    const small = await loadModel(paths.draftCopying, { threads, contextSize: 16 });
    const wrong = await loadModel(paths.draftRandom, { threads, contextSize: 16 });
    const name = 'synthetic Llama-3.2-1B Q4_0 that copies';
    rows.push({ name: `${name}, prompt lookup, copy-heavy prompt`, ...(await measure(target, copyPrompt, lookup)) });
    rows.push({ name: `${name}, draft: 2-layer copying model`, ...(await measure(target, copyPrompt, { draft: small })) });
    rows.push({ name: `${name}, itself as draft`, ...(await measure(target, copyPrompt, { draft: target })) });
    // a random draft: every guess wrong, the draft length falls to zero
    // (a small effect in a noisy machine: three times the pairs)
    rows.push({ name: `${name}, draft: 2-layer random model (guesses rejected)`, ...(await measure(target, copyPrompt, { draft: wrong }, 3 * runs)) });
    for (const m of [target, small, wrong]) m.dispose();
    const random = await loadModel(paths.random, { threads, contextSize: 2048 });
    // random weights do not copy the passage: lookup's guesses from it fail (those from the model's own loops do not)
    rows.push({ name: 'synthetic Llama-3.2-1B Q4_0 (random), prompt lookup', ...(await measure(random, copyPrompt, lookup)) });
    random.dispose();
  }
} finally {
  rmSync(work, { recursive: true, force: true });
}

console.log(`speculative decoding: ${N} greedy tokens; ${threads} threads (stories260K: ${storiesThreads}); ` +
  `medians of ${runs} alternating runs (stories260K: ${4 * runs}, guesses rejected: ${3 * runs}); speed-up = median of the pairs' ratios`);
console.log(`machine: ${cpus()[0]?.model ?? 'unknown'}, ${cpus().length} logical CPUs, 1-minute load average at start ${load.toFixed(2)}`);
console.log('| case | plain tok/s | speculative tok/s | speed-up | acceptance rate | mean accepted per step |');
console.log('|---|---:|---:|---:|---:|---:|');
for (const r of rows) {
  console.log(`| ${r.name} | ${r.plain.toFixed(1)} | ${r.spec.toFixed(1)} | ${r.speedup.toFixed(2)}x | ${(100 * r.acceptance).toFixed(0)}% | ${r.meanAccepted.toFixed(2)} |`);
}
console.log(JSON.stringify({ tokens: N, threads, storiesThreads, runs, rows }));
