#!/usr/bin/env node
// `npm run fuzz [-- <libFuzzer flags>]`: builds the libFuzzer target for the
// GGUF reader with clang (ASan + UBSan) and runs it over a corpus seeded
// with the real models and synthetic files. Default: 60 seconds.
import { spawnSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, readdirSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');
const buildDir = join(root, 'build', 'fuzz');
const corpus = join(buildDir, 'corpus');
const models = process.env.LMRT_TEST_MODELS ?? resolve(root, '..', 'shared', 'models');
const cxx = process.env.LMRT_FUZZ_CXX ?? 'clang++';

function run(cmd, args) {
  const r = spawnSync(cmd, args, { cwd: root, stdio: 'inherit' });
  if (r.error) throw r.error;
  if (r.status !== 0) process.exit(r.status ?? 1);
}

if (spawnSync(cxx, ['--version'], { stdio: 'ignore' }).status !== 0) {
  console.error(`fuzz: ${cxx} not found. libFuzzer needs clang and its runtime, e.g.\n` +
    '  apt-get install clang libclang-rt-14-dev   (Debian/Ubuntu)\n' +
    'or set LMRT_FUZZ_CXX to a clang++ with -fsanitize=fuzzer support.');
  process.exit(1);
}
run('cmake', ['-S', root, '-B', buildDir, '-DLMRT_FUZZ=ON', `-DCMAKE_CXX_COMPILER=${cxx}`,
  '-DCMAKE_BUILD_TYPE=RelWithDebInfo', '--log-level=WARNING']);
run('cmake', ['--build', buildDir, '--target', 'lmrt_fuzz_gguf', '--parallel', String(availableParallelism())]);

mkdirSync(corpus, { recursive: true });
const seeds = [];
for (const dir of [models, join(models, 'vocab')]) {
  if (!existsSync(dir)) continue;
  for (const f of readdirSync(dir)) if (f.endsWith('.gguf') && (f.includes('stories') || f.includes('llama-spm'))) seeds.push(join(dir, f));
}
for (const s of seeds) copyFileSync(s, join(corpus, s.split('/').pop()));
const extra = process.argv.slice(2);
const hasTime = extra.some((a) => a.startsWith('-max_total_time') || a.startsWith('-runs'));
run(join(buildDir, 'lmrt_fuzz_gguf'), [corpus, ...(hasTime ? [] : ['-max_total_time=60']), '-max_len=1048576', ...extra]);
