#!/usr/bin/env node
// `npm test`: rebuilds what changed (the addon incrementally, the TS bundle),
// runs the native C++ tests, then the vitest suites.
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { availableParallelism } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const require = createRequire(import.meta.url);

function step(title, cmd, args) {
  console.log(`\n== ${title}`);
  const r = spawnSync(cmd, args, { cwd: root, stdio: 'inherit' });
  if (r.error) {
    console.error(`npm test: cannot run ${cmd}: ${r.error.message}`);
    process.exit(1);
  }
  if (r.status !== 0) process.exit(r.status ?? 1);
}

/** Path of a dependency's executable, from its package.json `bin`. */
function bin(pkg, name = pkg) {
  const manifest = require.resolve(`${pkg}/package.json`);
  const { bin: b } = JSON.parse(readFileSync(manifest, 'utf8'));
  return join(dirname(manifest), typeof b === 'string' ? b : b[name]);
}

const node = process.execPath;
step('native addon (incremental build)', node,
  [bin('cmake-js'), 'compile', '--parallel', String(availableParallelism())]);
step('TypeScript bundle', node, [bin('tsup'), '--config', 'ts/tsup.config.ts']);
step('typecheck', node, [bin('typescript', 'tsc'), '--noEmit', '-p', 'ts']);
step('API reference (typedoc; warnings fail)', node, [bin('typedoc'), '--options', 'docs/typedoc.json']);
step('native tests', node, [resolve(root, 'test/native/run.mjs')]);
const report = resolve(root, 'build', 'vitest-report.json');
step('TypeScript tests', node, [bin('vitest'), 'run', '--config', 'test/ts/vitest.config.ts', '--reporter=default',
  '--reporter=json', `--outputFile.json=${report}`]);
const r = JSON.parse(readFileSync(report, 'utf8'));
const skipped = r.numPendingTests + r.numTodoTests;
console.log(`\nvitest: ${r.numPassedTests} passed, ${r.numFailedTests} failed, ${skipped} skipped`);
