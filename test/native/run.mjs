#!/usr/bin/env node
// Builds and runs the native C++ tests with plain CMake (no Node involved in
// the binary). `--sanitize` builds them with ASan + UBSan in a separate
// folder; `--arch aarch64` cross-builds them with Debian's AArch64 toolchain
// (g++-aarch64-linux-gnu) and runs them under qemu-user (qemu-aarch64).
// Extra arguments after `--` go to the test binary (a name filter).
import { spawnSync } from 'node:child_process';
import { availableParallelism } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');
const args = process.argv.slice(2);
const sanitize = args.includes('--sanitize');
const archAt = args.indexOf('--arch');
const arch = archAt >= 0 ? args[archAt + 1] : undefined;
if (arch !== undefined && arch !== 'aarch64') {
  console.error(`test:native: --arch must be aarch64 (got ${arch})`);
  process.exit(2);
}
const dash = args.indexOf('--');
const filter = dash >= 0 ? args.slice(dash + 1) : [];
const buildDir = join(root, 'build', arch ? `native-tests-${arch}` : sanitize ? 'native-tests-asan' : 'native-tests');
if (arch) {
  for (const [tool, pkg] of [['aarch64-linux-gnu-g++', 'g++-aarch64-linux-gnu'], ['qemu-aarch64', 'qemu-user']]) {
    if (spawnSync(tool, ['--version'], { stdio: 'ignore' }).error) {
      console.error(`test:native --arch aarch64 needs ${tool}: apt-get install ${pkg}`);
      process.exit(1);
    }
  }
}

function run(cmd, cmdArgs, env = process.env) {
  const r = spawnSync(cmd, cmdArgs, { cwd: root, stdio: 'inherit', env });
  if (r.error) {
    console.error(`test:native: cannot run ${cmd}: ${r.error.message}`);
    process.exit(1);
  }
  if (r.status !== 0) process.exit(r.status ?? 1);
}

run('cmake', ['-S', root, '-B', buildDir, `-DLMRT_SANITIZE=${sanitize ? 'ON' : 'OFF'}`,
  `-DCMAKE_BUILD_TYPE=${sanitize ? 'Debug' : 'Release'}`, '--log-level=WARNING',
  ...(arch ? [`-DCMAKE_TOOLCHAIN_FILE=${join(root, 'cmake', `${arch}-linux-gnu.cmake`)}`] : [])]);
run('cmake', ['--build', buildDir, '--parallel', String(availableParallelism())]);
const env = {
  ...process.env,
  LMRT_TEST_MODELS: process.env.LMRT_TEST_MODELS ?? resolve(root, '..', 'shared', 'models'),
  ASAN_OPTIONS: process.env.ASAN_OPTIONS ?? 'detect_leaks=1:abort_on_error=1',
  UBSAN_OPTIONS: process.env.UBSAN_OPTIONS ?? 'print_stacktrace=1:halt_on_error=1',
};
const binary = join(buildDir, 'lmrt_native_tests');
if (arch) run('qemu-aarch64', ['-L', `/usr/${arch}-linux-gnu`, binary, ...filter], env);
else run(binary, filter, env);
