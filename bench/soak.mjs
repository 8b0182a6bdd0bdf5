#!/usr/bin/env node
// Soak: an lmrt server on loopback under continuous load for a while, with
// clients that disconnect at random in the middle of streams. Checks that
// nothing crashes, no 5xx answers, no KV blocks stay in use once the load
// stops, and resident memory at the end is within 10% of what it was after
// warm-up. Prints a summary and a JSON line; exits 1 if a check fails.
// Usage: node --expose-gc bench/soak.mjs [--seconds 300] [--clients 8] [--warmup 20] [--model path.gguf]
// (--expose-gc lets it collect garbage before measuring memory.)
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';

import { createServer, loadModel, synthModel } from '../dist/index.js';

const { values } = parseArgs({
  options: {
    seconds: { type: 'string', default: '300' },
    clients: { type: 'string', default: '8' },
    warmup: { type: 'string', default: '20' },
    model: { type: 'string' },
    seed: { type: 'string', default: '1' },
  },
});
const seconds = Number(values.seconds), clients = Number(values.clients), warmup = Math.min(Number(values.warmup), seconds / 2);
let rngState = Number(values.seed) >>> 0 || 1;
const rand = () => {
  rngState ^= rngState << 13; rngState >>>= 0;
  rngState ^= rngState >>> 17;
  rngState ^= rngState << 5; rngState >>>= 0;
  return rngState / 2 ** 32;
};

const work = mkdtempSync(join(tmpdir(), 'lmrt-soak-'));
let path = values.model;
if (!path) {
  path = join(work, 'llama-tiny-q8_0.gguf');
  await synthModel(path, { arch: 'llama', preset: 'tiny', type: 'Q8_0', seed: 2 });
}
const model = await loadModel(path, { threads: 2, contextSize: 2048, maxSequences: 8 });
const server = createServer({ model, log: null, chatTemplate: '{{ bos_token }}{% for m in messages %}{{ m.role }}: {{ m.content }}\n{% endfor %}' });
const { url } = await server.listen(0);

const counts = { requests: 0, ok: 0, disconnected: 0, status4xx: 0, status5xx: 0, errors: 0 };
const words = ['once', 'upon', 'a', 'time', 'there', 'was', 'cat', 'dog', 'sun', 'tree', 'happy', 'big'];
const text = (n) => Array.from({ length: n }, () => words[Math.floor(rand() * words.length)]).join(' ');

async function oneRequest() {
  const chat = rand() < 0.5;
  const stream = rand() < 0.6;
  const body = chat
    ? { messages: [{ role: 'user', content: text(3 + Math.floor(rand() * 30)) }], max_tokens: 1 + Math.floor(rand() * 64), stream, temperature: rand() < 0.5 ? 0 : 0.8 }
    : { prompt: text(3 + Math.floor(rand() * 30)), max_tokens: 1 + Math.floor(rand() * 64), stream, temperature: rand() < 0.5 ? 0 : 0.8, n: rand() < 0.1 ? 2 : 1 };
  if (rand() < 0.05) body.temperature = 9; // a deliberate 400
  const controller = new AbortController();
  const disconnect = stream && rand() < 0.3;
  ++counts.requests;
  try {
    const res = await fetch(`${url}/v1/${chat ? 'chat/completions' : 'completions'}`, {
      method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body), signal: controller.signal,
    });
    if (res.status >= 500) ++counts.status5xx;
    else if (res.status >= 400) ++counts.status4xx;
    if (disconnect && res.ok) {
      const reader = res.body.getReader();
      await reader.read();
      controller.abort();
      ++counts.disconnected;
      return;
    }
    await res.arrayBuffer();
    if (res.ok) ++counts.ok;
  } catch (err) {
    if (err.name === 'AbortError') ++counts.disconnected;
    else ++counts.errors;
  }
}

const started = performance.now();
const deadline = started + seconds * 1000;
let rssWarm;
const warmTimer = setTimeout(() => {
  globalThis.gc?.();
  rssWarm = process.memoryUsage().rss;
}, warmup * 1000);
await Promise.all(Array.from({ length: clients }, async () => {
  while (performance.now() < deadline) await oneRequest();
}));
clearTimeout(warmTimer);
rssWarm ??= process.memoryUsage().rss;
// let aborted generations unwind
for (let i = 0; i < 200 && (model.schedulerStats.running > 0 || model.schedulerStats.waiting > 0); ++i) await new Promise((r) => setTimeout(r, 25));
globalThis.gc?.();
const metrics = await (await fetch(`${url}/metrics`)).text();
const used = Number(/lmrt_kv_blocks_used (\d+)/.exec(metrics)?.[1]);
const rssEnd = process.memoryUsage().rss;
await server.close();
model.dispose();
rmSync(work, { recursive: true, force: true });

const growth = (rssEnd - rssWarm) / rssWarm;
const checks = {
  'no 5xx': counts.status5xx === 0,
  'no client errors': counts.errors === 0,
  'KV blocks used after the load = 0': used === 0,
  'RSS at the end within 10% of after warm-up': growth <= 0.1,
};
console.log(`soak: ${seconds} s, ${clients} clients on ${url}`);
console.log(`requests ${counts.requests}: ${counts.ok} ok, ${counts.disconnected} disconnected on purpose, ${counts.status4xx} 4xx (deliberate bad bodies), ${counts.status5xx} 5xx, ${counts.errors} client errors`);
console.log(`KV blocks used after the load: ${used}; RSS after warm-up ${(rssWarm / 2 ** 20).toFixed(1)} MiB, at the end ${(rssEnd / 2 ** 20).toFixed(1)} MiB (${(growth * 100).toFixed(1)}%)`);
for (const [name, ok] of Object.entries(checks)) console.log(`${ok ? 'ok  ' : 'FAIL'} ${name}`);
console.log(JSON.stringify({ seconds, clients, ...counts, kvBlocksUsed: used, rssWarm, rssEnd, checks }));
process.exitCode = Object.values(checks).every(Boolean) ? 0 : 1;
