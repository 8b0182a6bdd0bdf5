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

const node = process.execPath;
step('native addon (incremental build)', node,
  [require.resolve('cmake-js/bin/cmake-js'), 'compile', '--parallel', String(availableParallelism())]);
step('TypeScript bundle', node, [require.resolve('tsup/dist/cli-default.js')]);
step('typecheck', node, [require.resolve('typescript/bin/tsc'), '--noEmit', '-p', '.']);
step('native tests', node, [resolve(root, 'test/native/run.mjs')]);
const report = resolve(root, 'build', 'vitest-report.json');
step('TypeScript tests', node, [join(dirname(require.resolve('vitest/package.json')), 'vitest.mjs'), 'run', '--reporter=default',
  '--reporter=json', `--outputFile.json=${report}`]);
const r = JSON.parse(readFileSync(report, 'utf8'));
const skipped = r.numPendingTests + r.numTodoTests;
console.log(`\nvitest: ${r.numPassedTests} passed, ${r.numFailedTests} failed, ${skipped} skipped`);
