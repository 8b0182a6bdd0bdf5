#!/usr/bin/env node
// Writes the models scripts/device-check.sh tests with into .device/ (an
// ignored folder, to carry to a GPU machine that has no Node): the
// synthetic models of test/cuda/run.mjs in .device/models, and stories260K
// from LMRT_TEST_MODELS (default ../shared/models) in .device/stories.
import { copyFileSync, existsSync, mkdirSync, rmSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

import { writeCudaTestModels } from '../test/cuda/run.mjs';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const synth = join(root, '.device', 'models'), stories = join(root, '.device', 'stories');
rmSync(synth, { recursive: true, force: true });
mkdirSync(synth, { recursive: true });
await writeCudaTestModels(synth);
const shared = resolve(root, process.env.LMRT_TEST_MODELS || '../shared/models');
if (existsSync(join(shared, 'stories260K-f32.gguf'))) {
  mkdirSync(stories, { recursive: true });
  for (const q of ['f32', 'f16', 'q8_0', 'q4_0']) copyFileSync(join(shared, `stories260K-${q}.gguf`), join(stories, `stories260K-${q}.gguf`));
} else {
  console.warn(`no stories260K in ${shared}: .device/stories not written`);
}
console.log(`wrote ${synth}${existsSync(stories) ? ` and ${stories}` : ''}`);
