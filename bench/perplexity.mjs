#!/usr/bin/env node
// Perplexity as llama.cpp's llama-perplexity computes it, through
// node-llama-cpp (llama.cpp on the CPU), next to lmrt's measurePerplexity on
// the same text, models and chunk size: the same tokens (llama.cpp's own
// tokenizer), chunks of --ctx tokens with BOS first, the second half of
// each scored. Prints a table; --write-fixture writes llama.cpp's values to
// test/fixtures/perplexity/stories260K.json for the test.
// Usage: node bench/perplexity.mjs [--models ../shared/models] [--text test/fixtures/text/story.txt]
//                                  [--ctx 128] [--write-fixture] [model.gguf ...]
import { readFileSync, writeFileSync, mkdirSync } from 'node:fs';
import { basename, dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { getLlama } from 'node-llama-cpp';

import { loadModel, measurePerplexity } from '../dist/index.js';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const { values, positionals } = parseArgs({
  allowPositionals: true,
  options: {
    models: { type: 'string', default: resolve(root, '..', 'shared', 'models') },
    text: { type: 'string', default: join(root, 'test', 'fixtures', 'text', 'story.txt') },
    ctx: { type: 'string', default: '128' },
    'write-fixture': { type: 'boolean', default: false },
  },
});
const ctx = Number(values.ctx);
const textPath = resolve(values.text);
const text = readFileSync(textPath, 'utf8');
const models = positionals.length > 0 ? positionals.map((p) => resolve(p))
  : ['f32', 'f16', 'q8_0', 'q4_0'].map((t) => join(values.models, `stories260K-${t}.gguf`));
const nlcVersion = JSON.parse(readFileSync(join(root, 'node_modules', 'node-llama-cpp', 'package.json'), 'utf8')).version;

const llama = await getLlama({ gpu: false, build: 'never', logLevel: 'error', progressLogs: false });

/** llama-perplexity's procedure on llama.cpp's logits. */
async function llamaCppPerplexity(path) {
  const model = await llama.loadModel({ modelPath: path, gpuLayers: 0 });
  const context = await model.createContext({ contextSize: ctx, batchSize: ctx, threads: 2 });
  const sequence = context.getSequence();
  // as llama-perplexity's common_tokenize(ctx, text, add_special = true): BOS first where the model adds one
  const bos = model.tokens.bos;
  const addBos = (model.tokens.shouldPrependBosToken ?? true) && bos != null;
  const tokens = [...(addBos ? [bos] : []), ...model.tokenize(text)];
  const chunks = Math.floor(tokens.length / ctx);
  const first = Math.floor(ctx / 2);
  let nll = 0, count = 0;
  for (let c = 0; c < chunks; ++c) {
    const start = c * ctx;
    const chunk = tokens.slice(start, start + ctx);
    if (addBos) chunk[0] = bos;
    const out = await sequence.controlledEvaluate(chunk.map((t, i) => (i >= first && i < ctx - 1 ? [t, { generateNext: { logits: true } }] : t)));
    for (let pos = first; pos < ctx - 1; ++pos) {
      const logits = out[pos].next.logits;
      let max = -Infinity;
      for (const v of logits.values()) max = Math.max(max, v);
      let sum = 0;
      for (const v of logits.values()) sum += Math.exp(v - max);
      nll += max + Math.log(sum) - logits.get(tokens[start + pos + 1]);
      ++count;
    }
    await sequence.clearHistory();
  }
  await context.dispose();
  await model.dispose();
  return { perplexity: Math.exp(nll / count), tokens: count, chunks, total: tokens.length };
}

const rows = [];
for (const path of models) {
  const reference = await llamaCppPerplexity(path);
  const model = await loadModel(path, { contextSize: Math.max(ctx, 128), threads: 2 });
  const ours = await measurePerplexity(model, text, { contextSize: ctx });
  model.dispose();
  rows.push({ model: basename(path), llamacpp: reference.perplexity, lmrt: ours.perplexity, tokens: ours.tokens, theirTokens: reference.tokens });
}

console.log(`perplexity of ${basename(textPath)}, chunks of ${ctx} tokens (llama.cpp ${nlcVersion} via node-llama-cpp, CPU)`);
console.log('| model | llama.cpp | lmrt | lmrt / llama.cpp | tokens scored |');
console.log('|---|---|---|---|---|');
for (const r of rows) {
  console.log(`| ${r.model} | ${r.llamacpp.toFixed(4)} | ${r.lmrt.toFixed(4)} | ${(r.lmrt / r.llamacpp).toFixed(5)} | ${r.tokens}${r.tokens !== r.theirTokens ? ` (llama.cpp: ${r.theirTokens})` : ''} |`);
}

if (values['write-fixture']) {
  const dir = join(root, 'test', 'fixtures', 'perplexity');
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, 'stories260K.json'), `${JSON.stringify({
    generatedBy: `bench/perplexity.mjs with node-llama-cpp ${nlcVersion} (llama.cpp, CPU)`,
    text: 'test/fixtures/text/story.txt',
    contextSize: ctx,
    perplexity: Object.fromEntries(rows.map((r) => [r.model, { value: r.llamacpp, tokens: r.theirTokens }])),
  }, null, 2)}\n`);
  console.log(`wrote ${join(dir, 'stories260K.json')}`);
}
