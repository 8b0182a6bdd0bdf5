import { defineConfig } from 'tsup';

// Library: ESM + CommonJS with bundled .d.ts. CLI: one ESM file with a shebang.
export default defineConfig([
  {
    entry: { index: 'ts/index.ts' },
    tsconfig: 'ts/tsconfig.json',
    format: ['esm', 'cjs'],
    dts: true,
    shims: true,
    sourcemap: true,
    clean: true,
    target: 'node20',
    outDir: 'dist',
  },
  {
    entry: { cli: 'ts/cli/bin.ts' },
    tsconfig: 'ts/tsconfig.json',
    format: ['esm'],
    shims: true,
    sourcemap: true,
    target: 'node20',
    outDir: 'dist',
    banner: { js: '#!/usr/bin/env node' },
  },
]);
