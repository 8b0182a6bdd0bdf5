/**
 * Loads the native addon: a prebuilt binary under prebuilds/ first, a local
 * build under build/ second (node-gyp-build decides). The sole importer of
 * the addon; every call into it goes through {@link callNative} so native
 * errors surface as LmrtErrors.
 * @internal
 * @module
 */
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

import { fromNativeError, NativeUnavailableError } from '../errors.js';
import type { NativeBinding } from './types.js';

const require = createRequire(import.meta.url);

/** The package root: the nearest folder above this file with lmrt's package.json. */
function packageRoot(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (;;) {
    const pkg = join(dir, 'package.json');
    if (existsSync(pkg) && (require(pkg) as { name?: string }).name === 'lmrt') return dir;
    const parent = dirname(dir);
    if (parent === dir) throw new NativeUnavailableError('lmrt: cannot find the package root to load the native addon from');
    dir = parent;
  }
}

let binding: NativeBinding | undefined;
let bindingPath = '';

/** The loaded addon; throws NativeUnavailableError with the reason if it cannot load. */
export function native(): NativeBinding {
  if (binding === undefined) {
    const root = packageRoot();
    try {
      const { resolve } = require('node-gyp-build') as { resolve(dir: string): string };
      const path = resolve(root);
      binding = require(path) as NativeBinding;
      bindingPath = path;
    } catch (err) {
      throw new NativeUnavailableError(
        `lmrt: the native addon did not load for ${process.platform}-${process.arch} ` +
          `(${(err as Error).message.split('\n')[0]}). Reinstall lmrt, or build it with \`npm run build:native\`.`,
        { cause: err },
      );
    }
  }
  return binding;
}

/** The file the addon was loaded from (loading it first). */
export function nativeBinaryPath(): string {
  native();
  return bindingPath;
}

/** The folder of lmrt's package.json. */
export function lmrtPackageRoot(): string {
  return packageRoot();
}

/** Runs a native call, turning its errors (sync throws and rejections) into LmrtErrors. */
export async function callNative<T>(fn: (b: NativeBinding) => Promise<T>): Promise<T> {
  try {
    return await fn(native());
  } catch (err) {
    throw fromNativeError(err);
  }
}

/** The synchronous variant of {@link callNative}. */
export function callNativeSync<T>(fn: (b: NativeBinding) => T): T {
  try {
    return fn(native());
  } catch (err) {
    throw fromNativeError(err);
  }
}
