#!/usr/bin/env node
// Builds and runs the native C++ tests with plain CMake (no Node involved in
// the binary). `--sanitize` builds them with ASan + UBSan in a separate
// folder. Extra arguments after `--` go to the test binary (a name filter).
import { spawnSync } from 'node:child_process';
import { availableParallelism } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');
const args = process.argv.slice(2);
const sanitize = args.includes('--sanitize');
const dash = args.indexOf('--');
const filter = dash >= 0 ? args.slice(dash + 1) : [];
const buildDir = join(root, 'build', sanitize ? 'native-tests-asan' : 'native-tests');

function run(cmd, cmdArgs, env = process.env) {
  const r = spawnSync(cmd, cmdArgs, { cwd: root, stdio: 'inherit', env });
  if (r.error) {
    console.error(`test:native: cannot run ${cmd}: ${r.error.message}`);
    process.exit(1);
  }
  if (r.status !== 0) process.exit(r.status ?? 1);
}

run('cmake', ['-S', root, '-B', buildDir, `-DLMRT_SANITIZE=${sanitize ? 'ON' : 'OFF'}`,
  `-DCMAKE_BUILD_TYPE=${sanitize ? 'Debug' : 'Release'}`, '--log-level=WARNING']);
run('cmake', ['--build', buildDir, '--parallel', String(availableParallelism())]);
const env = {
  ...process.env,
  LMRT_TEST_MODELS: process.env.LMRT_TEST_MODELS ?? resolve(root, '..', 'shared', 'models'),
  ASAN_OPTIONS: process.env.ASAN_OPTIONS ?? 'detect_leaks=1:abort_on_error=1',
  UBSAN_OPTIONS: process.env.UBSAN_OPTIONS ?? 'print_stacktrace=1:halt_on_error=1',
};
run(join(buildDir, 'lmrt_native_tests'), filter, env);
