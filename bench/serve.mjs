#!/usr/bin/env node
// Serving throughput: N concurrent greedy streams on a Llama-3.2-1B-shaped
// model (synthetic Q4_0 weights), in lmrt (continuous batching through the
// Model API) and in llama.cpp (node-llama-cpp, one context with N sequences,
// which batches their evaluations), same file, same threads, one run.
// Prints aggregate generated tok/s, time to first token and inter-token
// latency (p50/p99) per concurrency, and writes an SVG chart of throughput
// against concurrency for both engines.
// Usage: node bench/serve.mjs [--concurrency 1,4,16,64] [--tokens 16] [--threads 2] [--svg bench-serve.svg] [--no-peer]
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';

import { loadModel, synthModel } from '../dist/index.js';

const { values } = parseArgs({
  options: {
    concurrency: { type: 'string', default: '1,4,16,64' },
    tokens: { type: 'string', default: '16' },
    threads: { type: 'string', default: '2' },
    svg: { type: 'string', default: 'bench-serve.svg' },
    'no-peer': { type: 'boolean', default: false },
  },
});
const levels = values.concurrency.split(',').map(Number);
const N = Number(values.tokens);
const threads = Number(values.threads);
const pct = (xs, p) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length ? s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))] : NaN;
};
// distinct prompts of 12 tokens
const promptFor = (i) => [1, ...Array.from({ length: 11 }, (_, k) => 1000 + ((i * 7919 + k * 104729) % 100000))];

// Runs `c` streams at once; each reports token arrival times.
async function measure(c, startStream) {
  const t0 = performance.now();
  const ttft = [], itl = [];
  let tokens = 0;
  await Promise.all(Array.from({ length: c }, async (_, i) => {
    let last;
    await startStream(i, () => {
      const now = performance.now();
      if (last === undefined) ttft.push(now - t0);
      else itl.push(now - last);
      last = now;
      ++tokens;
    });
  }));
  const wall = performance.now() - t0;
  return { c, tokPerSec: (tokens / wall) * 1000, ttft50: pct(ttft, 50), ttft99: pct(ttft, 99), itl50: pct(itl, 50), itl99: pct(itl, 99) };
}

async function lmrtRuns(path) {
  const out = [];
  for (const c of levels) {
    const model = await loadModel(path, { threads, contextSize: Math.max(512, c * (N + 16) + 64), maxSequences: c, batchSize: 512 });
    await model.generate(promptFor(999), { maxTokens: 2 }); // warm up
    out.push(await measure(c, async (i, onToken) => {
      for await (const chunk of model.stream(promptFor(i), { maxTokens: N, ignoreEos: true })) for (const _ of chunk.tokens) onToken();
    }));
    model.dispose();
    console.error(`lmrt c=${c}: ${out.at(-1).tokPerSec.toFixed(2)} tok/s`);
  }
  return out;
}

async function peerRuns(path) {
  const { getLlama } = await import('node-llama-cpp');
  const llama = await getLlama({ gpu: false, build: 'never', progressLogs: false, logLevel: 'error' });
  const model = await llama.loadModel({ modelPath: path, gpuLayers: 0 });
  const out = [];
  for (const c of levels) {
    const context = await model.createContext({ sequences: c, contextSize: Math.max(512, c * (N + 16) + 64), threads, flashAttention: false, batchSize: 512 });
    out.push(await measure(c, async (i, onToken) => {
      const seq = context.getSequence();
      let n = 0;
      for await (const token of seq.evaluate(promptFor(i), { temperature: 0 })) {
        void token;
        onToken();
        if (++n === N) break;
      }
    }));
    await context.dispose();
    console.error(`llama.cpp c=${c}: ${out.at(-1).tokPerSec.toFixed(2)} tok/s`);
  }
  await model.dispose();
  return out;
}

function chart(lmrt, peer) {
  const W = 560, H = 340, L = 60, B = 40, T = 30, R = 20;
  const all = [...lmrt, ...(peer ?? [])].map((r) => r.tokPerSec);
  const ymax = Math.max(...all) * 1.1;
  const x = (i) => L + (i * (W - L - R)) / Math.max(1, levels.length - 1);
  const y = (v) => H - B - (v / ymax) * (H - B - T);
  const line = (rows, color, name, dy) => `<polyline fill="none" stroke="${color}" stroke-width="2" points="${rows.map((r, i) => `${x(i)},${y(r.tokPerSec)}`).join(' ')}"/>`
    + rows.map((r, i) => `<circle cx="${x(i)}" cy="${y(r.tokPerSec)}" r="3" fill="${color}"/>`).join('')
    + `<text x="${W - R - 150}" y="${T + dy}" fill="${color}" font-size="12">${name}</text>`;
  const ticks = levels.map((c, i) => `<text x="${x(i)}" y="${H - B + 16}" font-size="11" text-anchor="middle">${c}</text>`).join('');
  const yticks = [0, 0.25, 0.5, 0.75, 1].map((f) => `<text x="${L - 6}" y="${y(f * ymax) + 4}" font-size="11" text-anchor="end">${(f * ymax).toFixed(1)}</text>`).join('');
  return `<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}" font-family="sans-serif">
<rect width="100%" height="100%" fill="white"/>
<text x="${L}" y="18" font-size="13">Aggregate generated tok/s vs concurrent streams (${cpus()[0]?.model ?? ''}, ${threads} threads)</text>
<line x1="${L}" y1="${H - B}" x2="${W - R}" y2="${H - B}" stroke="black"/><line x1="${L}" y1="${T}" x2="${L}" y2="${H - B}" stroke="black"/>
${ticks}${yticks}<text x="${(L + W - R) / 2}" y="${H - 6}" font-size="12" text-anchor="middle">concurrent streams</text>
${line(lmrt, '#1f77b4', 'lmrt', 0)}${peer ? line(peer, '#d62728', 'llama.cpp (node-llama-cpp)', 16) : ''}
</svg>
`;
}

const work = mkdtempSync(join(tmpdir(), 'lmrt-serve-bench-'));
try {
  const path = join(work, 'llama-1b-q4_0.gguf');
  await synthModel(path, { arch: 'llama', preset: '1b', type: 'Q4_0', seed: 1 });
  const load = loadavg()[0];
  const lmrt = await lmrtRuns(path);
  const peer = values['no-peer'] ? undefined : await peerRuns(path);
  console.log(`serving: Llama-3.2-1B shape (synthetic Q4_0), ${N} tokens per stream, greedy, ${threads} threads`);
  console.log(`machine: ${cpus()[0]?.model ?? 'unknown'}, ${cpus().length} logical CPUs, 1-minute load average at start ${load.toFixed(2)}`);
  console.log('| streams | lmrt tok/s | llama.cpp tok/s | ratio | lmrt TTFT p50/p99 ms | llama.cpp TTFT p50/p99 ms | lmrt ITL p50/p99 ms | llama.cpp ITL p50/p99 ms |');
  console.log('|---:|---:|---:|---:|---:|---:|---:|---:|');
  lmrt.forEach((r, i) => {
    const p = peer?.[i];
    const f = (v) => (Number.isFinite(v) ? v.toFixed(0) : '-');
    console.log(`| ${r.c} | ${r.tokPerSec.toFixed(2)} | ${p ? p.tokPerSec.toFixed(2) : '-'} | ${p ? (r.tokPerSec / p.tokPerSec).toFixed(2) + 'x' : '-'} | `
      + `${f(r.ttft50)}/${f(r.ttft99)} | ${p ? `${f(p.ttft50)}/${f(p.ttft99)}` : '-'} | ${f(r.itl50)}/${f(r.itl99)} | ${p ? `${f(p.itl50)}/${f(p.itl99)}` : '-'} |`);
  });
  writeFileSync(values.svg, chart(lmrt, peer));
  console.log(`chart: ${values.svg}`);
  console.log(JSON.stringify({ tokens: N, threads, lmrt, peer }));
} finally {
  rmSync(work, { recursive: true, force: true });
}
