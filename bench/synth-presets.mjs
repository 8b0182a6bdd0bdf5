#!/usr/bin/env node
// Writes every `lmrt synth` preset (or those named) in one type, loads each
// in llama.cpp (node-llama-cpp, CPU), evaluates a short prompt and prints a
// table: file size, write time, whether llama.cpp accepted it, and whether
// its logits are finite. Usage:
//   node bench/synth-presets.mjs [--type q4_0] [--only llama/1b,gpt2/124m] [--dir /tmp]
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { getLlama } from 'node-llama-cpp';

import { SYNTH_PRESETS, parseGgmlType, synthModel } from '../dist/index.js';

const { values } = parseArgs({ options: { type: { type: 'string', default: 'q4_0' }, only: { type: 'string' }, dir: { type: 'string' } } });
const type = parseGgmlType(values.type);
const wanted = values.only?.split(',');
const dir = mkdtempSync(join(values.dir ?? tmpdir(), 'lmrt-synth-bench-'));
const llama = await getLlama({ gpu: false, build: 'never', progressLogs: false });
const rows = [];
try {
  for (const [arch, presets] of Object.entries(SYNTH_PRESETS)) {
    for (const preset of Object.keys(presets)) {
      if (wanted && !wanted.includes(`${arch}/${preset}`)) continue;
      const path = join(dir, `${arch}-${preset}.gguf`);
      const t0 = performance.now();
      const r = await synthModel(path, { arch, preset, type });
      const writeS = (performance.now() - t0) / 1000;
      let accepted = 'no', finite = '-';
      try {
        const model = await llama.loadModel({ modelPath: path, gpuLayers: 0 });
        const context = await model.createContext({ contextSize: 64, threads: 2, batchSize: 16 });
        const prompt = model.tokenize('Once upon a time').slice(0, 8);
        const out = await context.getSequence().controlledEvaluate(
          prompt.map((t, i) => (i === prompt.length - 1 ? [t, { generateNext: { logits: true } }] : t)));
        const logits = [...out.at(-1).next.logits.values()];
        accepted = 'yes';
        finite = logits.length === presets[preset].vocab && logits.every(Number.isFinite) ? 'yes' : 'NO';
        await context.dispose();
        await model.dispose();
      } catch (err) {
        accepted = `no: ${String(err.message ?? err).split('\n')[0]}`;
      }
      rows.push({ model: `${arch}/${preset}`, type, params: r.parameterCount, bytes: statSync(path).size, writeS, accepted, finite });
      rmSync(path);
    }
  }
} finally {
  rmSync(dir, { recursive: true, force: true });
}
console.log('| model | type | parameters | file size | write s | llama.cpp loads | finite logits |');
console.log('|---|---|---:|---:|---:|---|---|');
for (const r of rows) {
  console.log(`| ${r.model} | ${r.type} | ${(r.params / 1e6).toFixed(1)}M | ${(r.bytes / 2 ** 20).toFixed(1)} MiB | ${r.writeS.toFixed(1)} | ${r.accepted} | ${r.finite} |`);
}
console.log(JSON.stringify(rows));
