#!/usr/bin/env node
// npm run test:cuda: builds the CUDA backend (liblmrt_cuda) and its kernel
// tests with this machine's nvcc for sm_80 and sm_90, then runs the tests,
// which pass with a note where there is no CUDA device.
import { spawnSync } from 'node:child_process';
import { availableParallelism } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');
const buildDir = join(root, 'build', 'cuda-tests');

function run(cmd, args) {
  const r = spawnSync(cmd, args, { cwd: root, stdio: 'inherit' });
  if (r.error) {
    console.error(`test:cuda: cannot run ${cmd}: ${r.error.message}`);
    process.exit(1);
  }
  if (r.status !== 0) process.exit(r.status ?? 1);
}

if (spawnSync('nvcc', ['--version'], { stdio: 'ignore' }).status !== 0) {
  console.error('test:cuda needs nvcc (the CUDA toolkit) on PATH');
  process.exit(1);
}
run('cmake', ['-S', root, '-B', buildDir, '-DLMRT_CUDA=ON', '-DCMAKE_BUILD_TYPE=Release', '--log-level=WARNING']);
run('cmake', ['--build', buildDir, '--parallel', String(availableParallelism()), '--target', 'lmrt_cuda', 'lmrt_cuda_tests']);
run(join(buildDir, 'lmrt_cuda_tests'), []);
