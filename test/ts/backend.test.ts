/**
 * Choosing a backend: `backend: 'cpu' | 'cuda' | 'auto'` and `gpuLayers`
 * (the last layers on the GPU, the ones before on the CPU).
 * Where the CUDA backend's library or a GPU is missing, 'cuda' fails with
 * an error that names what is missing and 'auto' runs on the CPU; where both
 * are present (a GPU machine with `npm run build:cuda` done), 'cuda' must
 * generate what the CPU generates.
 */
import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';

import { BackendError, loadModel } from '../../ts/index.js';
import { HAVE_MODELS, modelPath } from './helpers/models.js';

const root = resolve(import.meta.dirname, '..', '..');
// the addon's folder, where loadModel looks for liblmrt_cuda by default
const cudaLibrary = join(root, 'build', 'Release', 'liblmrt_cuda.so');
const savedLibrary = process.env.LMRT_CUDA_LIBRARY;

afterEach(() => {
  if (savedLibrary === undefined) delete process.env.LMRT_CUDA_LIBRARY;
  else process.env.LMRT_CUDA_LIBRARY = savedLibrary;
});

async function cudaRuns(): Promise<boolean> {
  if (!existsSync(cudaLibrary)) return false;
  try {
    using m = await loadModel(modelPath('stories260K-f32.gguf'), { backend: 'cuda' });
    return m.info.backend === 'cuda';
  } catch (err) {
    if (err instanceof BackendError && err.code === 'E_BACKEND_UNAVAILABLE') return false;
    throw err;
  }
}

describe.skipIf(!HAVE_MODELS)('backends', () => {
  it("'cuda' without the CUDA library names the path it looked at", async () => {
    process.env.LMRT_CUDA_LIBRARY = join(root, 'no-such-dir', 'liblmrt_cuda.so');
    const err = await loadModel(modelPath('stories260K-f32.gguf'), { backend: 'cuda' }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(BackendError);
    expect(err).toMatchObject({ code: 'E_BACKEND_UNAVAILABLE', message: expect.stringContaining('no-such-dir/liblmrt_cuda.so') });
  });

  it("'cuda' refuses a library that is not lmrt's CUDA backend", async () => {
    process.env.LMRT_CUDA_LIBRARY = join(root, 'build', 'Release', 'lmrt.node'); // a shared library, but the addon
    const err = await loadModel(modelPath('stories260K-f32.gguf'), { backend: 'cuda' }).catch((e: unknown) => e);
    expect(err).toMatchObject({ code: 'E_BACKEND_UNAVAILABLE', message: expect.stringMatching(/is not a CUDA backend of this lmrt version/) });
  });

  it("'auto' runs on the CPU where CUDA cannot, and generates what 'cpu' generates", async () => {
    process.env.LMRT_CUDA_LIBRARY = join(root, 'no-such-dir', 'liblmrt_cuda.so');
    using auto = await loadModel(modelPath('stories260K-q8_0.gguf'));
    using cpu = await loadModel(modelPath('stories260K-q8_0.gguf'), { backend: 'cpu' });
    expect(auto.info).toMatchObject({ backend: 'cpu', device: '', deviceBytes: 0 });
    const a = await auto.generate('Once upon a time', { maxTokens: 24, temperature: 0 });
    const b = await cpu.generate('Once upon a time', { maxTokens: 24, temperature: 0 });
    expect(a.tokens).toEqual(b.tokens);
  });

  it('a split model needs the CUDA backend too; gpuLayers 0 is the CPU', async () => {
    process.env.LMRT_CUDA_LIBRARY = join(root, 'no-such-dir', 'liblmrt_cuda.so');
    const err = await loadModel(modelPath('stories260K-f32.gguf'), { backend: 'cuda', gpuLayers: 2 }).catch((e: unknown) => e);
    expect(err).toMatchObject({ code: 'E_BACKEND_UNAVAILABLE' });
    using auto = await loadModel(modelPath('stories260K-f32.gguf'), { backend: 'auto', gpuLayers: 2 });
    expect(auto.info).toMatchObject({ backend: 'cpu', gpuLayers: 0 });
    using none = await loadModel(modelPath('stories260K-f32.gguf'), { backend: 'cuda', gpuLayers: 0 });
    expect(none.info).toMatchObject({ backend: 'cpu', gpuLayers: 0 });
  });

  it('bad backend options are named', async () => {
    const path = modelPath('stories260K-f32.gguf');
    await expect(loadModel(path, { backend: 'gpu' as never })).rejects.toThrow(/backend must be 'auto', 'cpu' or 'cuda' \(got "gpu"\)/);
    await expect(loadModel(path, { gpuLayers: -2 })).rejects.toThrow(/gpuLayers must be an integer >= 0 \(got -2\)/);
    await expect(loadModel(path, { device: 1.5 })).rejects.toThrow(/device must be a CUDA device index \(got 1.5\)/);
    await expect(loadModel(path, { backend: 'cuda', kvCacheType: 'q8_0' })).rejects.toThrow(/KV cache in f16 only/);
  });

  it("'cuda' generates the CPU's tokens where a GPU is present (else says why it did not run)", async (ctx) => {
    if (!(await cudaRuns())) {
      console.warn(`SKIPPED: no CUDA backend here (${existsSync(cudaLibrary) ? 'no usable GPU' : `${cudaLibrary} not built: npm run build:cuda`})`);
      ctx.skip();
    }
    for (const file of ['stories260K-f32.gguf', 'stories260K-q4_0.gguf']) {
      using cpu = await loadModel(modelPath(file), { backend: 'cpu' });
      const want = await cpu.generate('Once upon a time', { maxTokens: 64, temperature: 0 });
      for (const gpuLayers of [undefined, 2]) {
        using gpu = await loadModel(modelPath(file), { backend: 'cuda', ...(gpuLayers !== undefined ? { gpuLayers } : {}) });
        expect(gpu.info).toMatchObject({ backend: 'cuda', gpuLayers: gpuLayers ?? 5 });
        expect(gpu.info.deviceBytes).toBeGreaterThan(0);
        const got = await gpu.generate('Once upon a time', { maxTokens: 64, temperature: 0 });
        expect(got.tokens, `${file} gpuLayers ${gpuLayers}`).toEqual(want.tokens);
      }
    }
  });
});
