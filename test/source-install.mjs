#!/usr/bin/env node
// The fallback the install takes where no prebuilt binary matches: the packed
// package, installed with LMRT_BUILD_FROM_SOURCE=1 into an empty project,
// builds its addon from the sources it ships (cmake-js, the machine's
// compiler), and that build loads and generates. Run by .ci/run (a full
// compile: minutes, so not part of npm test).
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const models = resolve(process.env.LMRT_TEST_MODELS ?? join(root, '..', 'shared', 'models'));
const dir = mkdtempSync(join(tmpdir(), 'lmrt-source-install-'));
try {
  const [packed] = JSON.parse(execFileSync('npm', ['pack', '--json', '--ignore-scripts', '--pack-destination', dir], { cwd: root, encoding: 'utf8' }));
  const project = join(dir, 'app');
  mkdirSync(project);
  writeFileSync(join(project, 'package.json'), JSON.stringify({ name: 'app', version: '1.0.0', private: true, type: 'module' }));
  const install = spawnSync('npm', ['install', join(dir, packed.filename), '--prefer-offline', '--no-audit', '--no-fund', '--foreground-scripts'], {
    cwd: project, encoding: 'utf8', env: { ...process.env, LMRT_BUILD_FROM_SOURCE: '1' },
  });
  const log = `${install.stdout}\n${install.stderr}`;
  if (install.status !== 0) throw new Error(`npm install failed:\n${log}`);
  if (!/building from source/.test(log)) throw new Error(`the install did not say it builds from source:\n${log}`);
  writeFileSync(join(project, 'run.mjs'), `import { loadModel, runtimeInfo } from 'lmrt';
const info = runtimeInfo();
const model = await loadModel(${JSON.stringify(join(models, 'stories260K-q8_0.gguf'))}, { threads: 2 });
const r = await model.generate('Once upon a time', { maxTokens: 24 });
model.dispose();
console.log(JSON.stringify({ binary: info.binary, text: r.text, tokens: r.tokens.length }));
`);
  const out = JSON.parse(execFileSync(process.execPath, [join(project, 'run.mjs')], { cwd: project, encoding: 'utf8' }).trim().split('\n').pop());
  const expected = join(project, 'node_modules', 'lmrt', 'build', 'Release', 'lmrt.node');
  if (out.binary.prebuilt || out.binary.path !== expected) throw new Error(`loaded ${out.binary.path}, not the source build at ${expected}`);
  if (out.tokens !== 24 || out.text.length === 0) throw new Error(`generation gave ${out.tokens} tokens: ${JSON.stringify(out.text)}`);
  console.log(`source install: built ${expected} (${out.binary.build}); generated ${JSON.stringify(out.text.slice(0, 60))}…`);
} finally {
  rmSync(dir, { recursive: true, force: true });
}
