/**
 * The real models for tests: LMRT_TEST_MODELS (default ../shared/models).
 * When the folder is missing, suites that need it are skipped loudly.
 */
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';

export const MODELS_DIR = resolve(process.env.LMRT_TEST_MODELS ?? join(__dirname, '..', '..', '..', '..', 'shared', 'models'));
export const HAVE_MODELS = existsSync(join(MODELS_DIR, 'stories260K-f32.gguf'));

if (!HAVE_MODELS) {
  console.warn(`\n*** real models not found in ${MODELS_DIR} (set LMRT_TEST_MODELS): tests that need them are SKIPPED ***\n`);
}

export function modelPath(name: string): string {
  return join(MODELS_DIR, name);
}

export const STORIES = ['stories260K-f32.gguf', 'stories260K-f16.gguf', 'stories260K-q8_0.gguf', 'stories260K-q4_0.gguf'];
export const VOCABS = ['llama-spm', 'phi-3', 'gpt-2', 'falcon', 'mpt', 'starcoder', 'refact', 'deepseek-coder',
  'deepseek-llm', 'bert-bge'].map((v) => `vocab/ggml-vocab-${v}.gguf`);

/** A fresh temporary folder, removed by the returned cleanup. */
export function tempDir(): { dir: string; cleanup: () => void } {
  const dir = mkdtempSync(join(tmpdir(), 'lmrt-test-'));
  return { dir, cleanup: () => rmSync(dir, { recursive: true, force: true }) };
}
