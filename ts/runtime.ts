/**
 * What this process runs lmrt with: the package, the native binary loaded,
 * the CPU kernels chosen and the CUDA backend's state (`lmrt doctor`).
 * @module
 */
import { readFileSync } from 'node:fs';
import { availableParallelism, cpus } from 'node:os';
import { join, relative, sep } from 'node:path';

import { findCudaPackage } from './native/cuda-package.js';
import { callNativeSync, lmrtPackageRoot, nativeBinaryPath } from './native/binding.js';

/**
 * The report of {@link runtimeInfo}.
 *
 * @example
 * ```ts
 * const info: RuntimeInfo = runtimeInfo();
 * console.log(info.binary.path, info.cpu.kernelVariant);
 * ```
 */
export interface RuntimeInfo {
  /** lmrt's package version. */
  version: string;
  /** `<platform>-<arch>`, as prebuilt binaries are named (e.g. `linux-x64`). */
  platform: string;
  /** Versions of what lmrt runs on. */
  versions: {
    node: string;
    /** The highest N-API version this Node offers (lmrt needs 8). */
    napi: string;
    /** The C library at run time, e.g. `glibc 2.36` (`''` where not glibc). */
    libc: string;
  };
  binary: {
    /** The native addon file loaded. */
    path: string;
    /** Whether it is a prebuilt binary from `prebuilds/` (else a local build). */
    prebuilt: boolean;
    /** Its compiler and target, e.g. `g++ 12.2.0, x86_64`. */
    build: string;
  };
  cpu: {
    model: string;
    threads: number;
    /**
     * The kernel variants this CPU can run (`ref` always; `avx2` with FMA
     * and F16C; `avx512` with F, BW and VL; `neon`; `neon_dotprod`).
     */
    kernelVariants: string[];
    /** The variant the kernels run: the best available, capped by `LMRT_KERNELS`. */
    kernelVariant: string;
    /** `LMRT_KERNELS` as set (`''` when not). */
    forced: string;
  };
  cuda: {
    /** The optional CUDA package found (`@lmrt/cuda-<platform>-<arch>@version`), `''` when none is installed. */
    package: string;
    /** The library path looked at. */
    library: string;
    /** Whether it opened and is of this lmrt's version. */
    loaded: boolean;
    /** CUDA devices it sees. */
    devices: number;
    /** Device 0's name, `''` without one. */
    device: string;
    /** Why it is unusable (not loaded, or no device), `''` otherwise. */
    message: string;
  };
}

/**
 * Reports the binary, CPU kernels and CUDA backend this process would run
 * models with. Loads the addon (and opens the CUDA library, where present)
 * if not yet done.
 *
 * @throws {@link NativeUnavailableError} when the native addon does not load
 *
 * @example
 * ```ts
 * const { cpu, cuda } = runtimeInfo();
 * console.log(`kernels: ${cpu.kernelVariant}; CUDA: ${cuda.devices} device(s)`);
 * ```
 */
export function runtimeInfo(): RuntimeInfo {
  const root = lmrtPackageRoot();
  const { version } = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as { version: string };
  const path = nativeBinaryPath();
  const system = callNativeSync((b) => b.systemInfo());
  const pkg = findCudaPackage();
  const cuda = callNativeSync((b) => b.cudaStatus(pkg?.library));
  const header = (process.report?.getReport() as { header?: { glibcVersionRuntime?: string } } | undefined)?.header;
  const cpuList = cpus();
  return {
    version,
    platform: `${process.platform}-${process.arch}`,
    versions: {
      node: process.versions.node,
      napi: process.versions.napi ?? '',
      libc: header?.glibcVersionRuntime !== undefined ? `glibc ${header.glibcVersionRuntime}` : '',
    },
    binary: {
      path,
      prebuilt: relative(root, path).split(sep)[0] === 'prebuilds',
      build: system.build,
    },
    cpu: {
      model: cpuList[0]?.model.trim() ?? '',
      threads: availableParallelism(),
      kernelVariants: system.kernelVariants,
      kernelVariant: system.kernelVariant,
      forced: process.env['LMRT_KERNELS'] ?? '',
    },
    cuda: {
      package: pkg !== undefined ? `${pkg.name}@${pkg.version}` : '',
      library: cuda.library,
      loaded: cuda.loaded,
      devices: cuda.devices,
      device: cuda.device,
      message: cuda.message,
    },
  };
}
