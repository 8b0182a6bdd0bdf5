/**
 * Finds the CUDA backend's optional package, `@lmrt/cuda-<platform>-<arch>`:
 * the CPU package ships no CUDA code, and users who want the GPU install
 * this package beside it (as node-llama-cpp's CUDA binaries come). Its
 * library is then what `backend: 'cuda' | 'auto'` opens; without it the
 * engine looks next to the addon (a source build's `npm run build:cuda`).
 * @internal
 * @module
 */
import { existsSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';

import { lmrtPackageRoot } from './binding.js';

/** The optional CUDA package as found. */
export interface CudaPackage {
  name: string;
  version: string;
  /** Its shared library. */
  library: string;
}

/** The package name for this platform, e.g. `@lmrt/cuda-linux-x64`. */
export function cudaPackageName(platform: string = process.platform, arch: string = process.arch): string {
  return `@lmrt/cuda-${platform}-${arch}`;
}

const LIBRARY = process.platform === 'darwin' ? 'liblmrt_cuda.dylib' : 'liblmrt_cuda.so';

/** The installed CUDA package, resolved from lmrt's own folder; undefined when none is installed. */
export function findCudaPackage(): CudaPackage | undefined {
  const name = cudaPackageName();
  let manifest: string;
  try {
    manifest = createRequire(join(lmrtPackageRoot(), 'package.json')).resolve(`${name}/package.json`);
  } catch {
    return undefined;
  }
  const library = join(dirname(manifest), LIBRARY);
  if (!existsSync(library)) return undefined;
  const { version } = JSON.parse(readFileSync(manifest, 'utf8')) as { version?: string };
  return { name, version: version ?? '', library };
}
