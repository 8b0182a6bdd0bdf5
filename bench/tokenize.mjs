#!/usr/bin/env node
// Tokenizer throughput: lmrt and llama.cpp (node-llama-cpp) tokenize the
// same ~1 MB text with the same vocabulary; prints MB/s (median of runs)
// and the ratio, and checks that both give the same ids.
// Usage: node bench/tokenize.mjs [--models ../shared/models] [--runs 5] [--mb 1]
import { readdirSync } from 'node:fs';
import { join, resolve, dirname, basename } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { getLlama } from 'node-llama-cpp';

import { loadTokenizer } from '../dist/index.js';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const { values } = parseArgs({
  options: { models: { type: 'string', default: resolve(root, '..', 'shared', 'models') }, runs: { type: 'string', default: '5' }, mb: { type: 'string', default: '1' } },
});
const runs = Number(values.runs);

// A deterministic mixed text: prose, code, numbers and some non-Latin scripts.
const PARTS = [
  'Once upon a time, there was a little girl named Lily. She loved to play outside in the sunshine. ',
  "It's 3:45 pm and we've got 1,234,567 items (about 89.5%) left to process.\n",
  'function add(a, b) {\n    return a + b; // sum\n}\n\n',
  'Съешь же ещё этих мягких французских булок. 我能吞下玻璃而不伤身体。 Ça coûte 12,50 €.\n',
  '    indented    text\twith\ttabs   and   spaces 😀 👍🏽\n',
];
function makeText(bytes) {
  let text = '';
  for (let i = 0; Buffer.byteLength(text) < bytes; ++i) text += PARTS[(i * 7 + (i >> 3)) % PARTS.length];
  return text;
}

function median(xs) {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)];
}

function time(fn) {
  const times = [];
  let result;
  for (let r = 0; r < runs; ++r) {
    const t0 = performance.now();
    result = fn();
    times.push(performance.now() - t0);
  }
  return { ms: median(times), result };
}

const text = makeText(Number(values.mb) * 1024 * 1024);
const mb = Buffer.byteLength(text) / (1024 * 1024);
const llama = await getLlama({ gpu: false, build: 'never', progressLogs: false, logLevel: 'error' });
const files = readdirSync(join(values.models, 'vocab')).filter((f) => f.endsWith('.gguf')).map((f) => join(values.models, 'vocab', f));
files.push(join(values.models, 'stories260K-f32.gguf'));

const rows = [];
for (const file of files) {
  const name = basename(file, '.gguf').replace(/^ggml-vocab-/, '');
  const ours = await loadTokenizer(file);
  const peer = await llama.loadModel({ modelPath: file, vocabOnly: true });
  const a = time(() => ours.tokenize(text, { addSpecial: false }));
  const b = time(() => peer.tokenize(text, false));
  const same = a.result.length === b.result.length && a.result.every((v, i) => v === b.result[i]);
  rows.push({ name, tokens: a.result.length, lmrt: mb / (a.ms / 1000), llama: mb / (b.ms / 1000), same });
  ours.dispose();
  await peer.dispose();
}

console.log(`Tokenize ${mb.toFixed(2)} MB of mixed text, median of ${runs} runs, 1 thread, ${new Date().toISOString().slice(0, 10)}`);
console.log('| vocabulary | tokens | lmrt MB/s | llama.cpp MB/s | lmrt / llama.cpp | same ids |');
console.log('|---|---:|---:|---:|---:|---|');
for (const r of rows) {
  console.log(`| ${r.name} | ${r.tokens} | ${r.lmrt.toFixed(2)} | ${r.llama.toFixed(2)} | ${(r.lmrt / r.llama).toFixed(2)}x | ${r.same ? 'yes' : 'NO'} |`);
}
console.log(JSON.stringify(rows));
