#!/usr/bin/env node
// npm run test:cuda: builds the CUDA backend (liblmrt_cuda) and its tests
// with this machine's nvcc for sm_80 and sm_90, writes the synthetic models
// the whole-model test compares beyond stories260K (K-quants, BF16, Qwen2,
// Qwen3, GPT-2, a sliding window), then runs the tests, which pass with a note
// where there is no CUDA device.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { availableParallelism, tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');
const buildDir = join(root, 'build', 'cuda-tests');

function run(cmd, args, env = process.env) {
  const r = spawnSync(cmd, args, { cwd: root, stdio: 'inherit', env });
  if (r.error) {
    console.error(`test:cuda: cannot run ${cmd}: ${r.error.message}`);
    process.exit(1);
  }
  if (r.status !== 0) process.exit(r.status ?? 1);
}

/** The synthetic models of the whole-model test: name -> synthModel options. */
export const CUDA_TEST_MODELS = {
  'llama-tiny-q4_k_m.gguf': { type: 'Q4_K', tensorTypes: { 'attn_v.weight': 'Q6_K', 'ffn_down.weight': 'Q6_K', 'token_embd.weight': 'Q6_K' } },
  'llama-tiny-q5_k_m.gguf': { type: 'Q5_K', tensorTypes: { 'attn_v.weight': 'Q6_K', 'ffn_down.weight': 'Q6_K', 'token_embd.weight': 'Q6_K' } },
  'llama-tiny-bf16.gguf': { type: 'BF16' },
  'llama-tiny-f16-window48.gguf': { type: 'F16', slidingWindow: 48 },
  'qwen2-tiny-q8_0.gguf': { arch: 'qwen2', type: 'Q8_0' },
  'qwen3-tiny-f32.gguf': { arch: 'qwen3', type: 'F32' },
  'gpt2-tiny-f32.gguf': { arch: 'gpt2', type: 'F32' },
  'gpt2-tiny-q8_0.gguf': { arch: 'gpt2', type: 'Q8_0' },
};

/** Writes the synthetic models into `dir` with the built package's synthModel. */
export async function writeCudaTestModels(dir) {
  const { synthModel } = await import(pathToFileURL(join(root, 'dist', 'index.js')).href);
  for (const [name, options] of Object.entries(CUDA_TEST_MODELS)) await synthModel(join(dir, name), options);
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) {
  if (spawnSync('nvcc', ['--version'], { stdio: 'ignore' }).status !== 0) {
    console.error('test:cuda needs nvcc (the CUDA toolkit) on PATH');
    process.exit(1);
  }
  run('cmake', ['-S', root, '-B', buildDir, '-DLMRT_CUDA=ON', '-DCMAKE_BUILD_TYPE=Release', '--log-level=WARNING']);
  run('cmake', ['--build', buildDir, '--parallel', String(availableParallelism()), '--target', 'lmrt_cuda', 'lmrt_cuda_tests']);
  const env = { ...process.env };
  let synthDir;
  if (existsSync(join(root, 'dist', 'index.js'))) {
    synthDir = mkdtempSync(join(tmpdir(), 'lmrt-cuda-models-'));
    await writeCudaTestModels(synthDir);
    env.LMRT_CUDA_SYNTH_MODELS = synthDir;
  } else {
    console.log('test:cuda: dist/ is not built (npm run build:ts), so the synthetic models are not written');
  }
  try {
    run(join(buildDir, 'lmrt_cuda_tests'), [], env);
  } finally {
    if (synthDir) rmSync(synthDir, { recursive: true, force: true });
  }
}
