#!/usr/bin/env node
// Generates test/fixtures/parity/<model>.json: what llama.cpp (through
// node-llama-cpp, CPU, no flash attention) computes for synthetic models of
// each architecture and type and for the real models: the last-position
// logits of a 20-token prompt, and 32 greedy tokens with llama.cpp's top-2
// logit margin at each step. Synthetic models are rebuilt by the test from
// the recorded arguments; the file hash in the fixture proves they match.
// The -kv-bf16 and -kv-q8_0 fixtures store llama.cpp's KV cache in that type
// (a q8_0 V cache needs its flash attention, so that one has it on).
// Usage: node bench/parity-fixtures.mjs [--models ../shared/models] [--only name,name]
import { createHash } from 'node:crypto';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { getLlama } from 'node-llama-cpp';

import { synthModel } from '../dist/index.js';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const { values } = parseArgs({ options: { models: { type: 'string', default: resolve(root, '..', 'shared', 'models') }, only: { type: 'string' } } });
const only = values.only?.split(',');
const outDir = join(root, 'test', 'fixtures', 'parity');
const nlcVersion = JSON.parse(readFileSync(join(root, 'node_modules', 'node-llama-cpp', 'package.json'), 'utf8')).version;
const SEED = 7;
const GREEDY_STEPS = 32;

const synthetic = [
  ...['F32', 'F16', 'Q8_0', 'Q4_0', 'Q4_K', 'Q6_K'].map((type) => ({ arch: 'llama', type })),
  ...['qwen2', 'qwen3', 'gpt2'].flatMap((arch) => ['F32', 'F16', 'Q8_0', 'Q4_0'].map((type) => ({ arch, type }))),
];
const real = ['stories260K-f32.gguf', 'stories260K-f16.gguf', 'stories260K-q8_0.gguf', 'stories260K-q4_0.gguf'];

// 20 prompt tokens: a deterministic walk over ordinary (non-special) ids.
function promptFor(vocab, first) {
  const ids = first === undefined ? [] : [first];
  let x = 12345;
  while (ids.length < 20) {
    x = (x * 1103515245 + 12345) % 2147483648;
    ids.push(3 + (x % (vocab - 8)));
  }
  return ids;
}

function argmaxAndMargin(row) {
  let best = 0, second = -1;
  for (let i = 1; i < row.length; ++i) {
    if (row[i] > row[best]) {
      second = best;
      best = i;
    } else if (second < 0 || row[i] > row[second]) {
      second = i;
    }
  }
  return { token: best, margin: row[best] - row[second] };
}

const llama = await getLlama({ gpu: false, build: 'never', progressLogs: false, logLevel: 'error' });
const work = mkdtempSync(join(tmpdir(), 'lmrt-parity-'));
mkdirSync(outDir, { recursive: true });
try {
  const jobs = [
    ...synthetic.map((s) => ({ name: `${s.arch}-tiny-${s.type.toLowerCase()}`, synth: { arch: s.arch, preset: 'tiny', type: s.type, seed: SEED } })),
    ...real.map((file) => ({ name: file.replace('.gguf', ''), file })),
    ...['bf16', 'q8_0'].map((kv) => ({ name: `llama-tiny-f32-kv-${kv}`, synth: { arch: 'llama', preset: 'tiny', type: 'F32', seed: SEED }, kvCacheType: kv })),
  ];
  for (const job of jobs) {
    if (only && !only.includes(job.name)) continue;
    const path = job.file ? join(values.models, job.file) : join(work, `${job.name}.gguf`);
    if (job.synth) await synthModel(path, job.synth);
    const sha256 = createHash('sha256').update(readFileSync(path)).digest('hex');
    const model = await llama.loadModel({ modelPath: path, gpuLayers: 0 });
    const flashAttention = job.kvCacheType === 'q8_0';
    const kvTypes = job.kvCacheType ? { experimentalKvCacheKeyType: job.kvCacheType.toUpperCase(), experimentalKvCacheValueType: job.kvCacheType.toUpperCase() } : {};
    const context = await model.createContext({ contextSize: 128, batchSize: 64, threads: 2, flashAttention, ...kvTypes });
    const sequence = context.getSequence();
    const vocab = model.tokens.vocabSize ?? 512;
    const prompt = promptFor(512, job.arch === 'gpt2' || job.synth?.arch === 'gpt2' ? undefined : model.tokens.bos ?? undefined);
    const toRow = (map) => {
      const row = new Array(map.size).fill(0);
      for (const [t, v] of map) row[t] = v;
      return row;
    };
    const first = await sequence.controlledEvaluate(prompt.map((t, i) => (i === prompt.length - 1 ? [t, { generateNext: { logits: true } }] : t)));
    const logits = toRow(first.at(-1).next.logits);
    const greedy = [];
    let row = logits;
    for (let step = 0; step < GREEDY_STEPS; ++step) {
      const { token, margin } = argmaxAndMargin(row);
      greedy.push({ token, margin });
      if (step + 1 === GREEDY_STEPS) break;
      const out = await sequence.controlledEvaluate([[token, { generateNext: { logits: true } }]]);
      row = toRow(out.at(-1).next.logits);
    }
    writeFileSync(join(outDir, `${job.name}.json`), `${JSON.stringify({
      name: job.name,
      source: job.synth ? { synth: job.synth } : { file: job.file },
      ...(job.kvCacheType ? { kvCacheType: job.kvCacheType } : {}),
      sha256,
      generatedBy: `llama.cpp through node-llama-cpp ${nlcVersion}, CPU, flash attention ${flashAttention ? 'on' : 'off'}${job.kvCacheType ? `, KV cache ${job.kvCacheType}` : ''} (bench/parity-fixtures.mjs)`,
      vocab,
      prompt,
      logits,
      greedy,
    })}\n`);
    console.log(`${job.name}: top ${greedy[0].token}, smallest margin ${Math.min(...greedy.map((g) => g.margin)).toExponential(2)}`);
    await context.dispose();
    await model.dispose();
  }
} finally {
  rmSync(work, { recursive: true, force: true });
}
