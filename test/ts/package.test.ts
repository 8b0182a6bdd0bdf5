/** The package's entry points: ESM and CommonJS builds export the same API with types. */
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';

const ROOT = resolve(__dirname, '..', '..');
const pkg = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as {
  name: string; bin: Record<string, string>; exports: Record<string, { import: { types: string; default: string }; require: { types: string; default: string } }>;
};

describe('package entry points', () => {
  it('declares name lmrt, the lmrt bin and dual exports whose files exist', () => {
    expect(pkg.name).toBe('lmrt');
    expect(Object.keys(pkg.bin)).toEqual(['lmrt']);
    const dot = pkg.exports['.']!;
    for (const f of [dot.import.types, dot.import.default, dot.require.types, dot.require.default, pkg.bin['lmrt']!]) {
      expect(existsSync(join(ROOT, f)), `${f} (run npm run build:ts)`).toBe(true);
    }
  });

  it('require(\'lmrt\') and import(\'lmrt\') give the same API', () => {
    const script = `
      const cjs = require('lmrt');
      import('lmrt').then(async (esm) => {
        const names = (m) => Object.keys(m).filter((k) => k !== 'default' && k !== 'module.exports').sort().join(',');
        if (names(cjs) !== names(esm)) throw new Error('exports differ: ' + names(cjs) + ' vs ' + names(esm));
        const g = await esm.inspectGguf(${JSON.stringify(join(ROOT, 'package.json'))}).catch((e) => e);
        console.log(names(esm), g.code);
      });`;
    const out = execFileSync(process.execPath, ['-e', script], { encoding: 'utf8', cwd: ROOT });
    expect(out).toContain('inspectGguf');
    expect(out).toContain('synthModel');
    expect(out).toContain('E_GGUF_INVALID');
  });
});

describe('package contents (npm pack --dry-run)', () => {
  interface Packed { size: number; unpackedSize: number; files: { path: string; size: number }[] }
  const packed = (JSON.parse(execFileSync('npm', ['pack', '--dry-run', '--json', '--ignore-scripts'], { cwd: ROOT, encoding: 'utf8' })) as Packed[])[0]!;
  const paths = packed.files.map((f) => f.path);

  it('holds the JS bundles, the types, the CLI, the install hook and the sources of a fallback build', () => {
    for (const p of ['package.json', 'README.md', 'CMakeLists.txt', 'dist/index.js', 'dist/index.cjs', 'dist/index.d.ts', 'dist/index.d.cts',
      'dist/cli.js', 'native/addon/install.cjs', 'native/include/lmrt.h', 'native/engine/c_api_model.cpp', 'native/kernels/registry.cpp']) {
      expect(paths, p).toContain(p);
    }
    // every source CMakeLists.txt names for the addon ships
    const cmake = readFileSync(join(ROOT, 'CMakeLists.txt'), 'utf8');
    const sources = [...cmake.matchAll(/^\s+(native\/(?:core|gguf|tokenizer|kernels\/(?:cpu|ref)|kv|models|engine|addon)\/[\w/.-]+\.cpp)\b/gm)];
    expect(sources.length).toBeGreaterThan(40);
    for (const [, source] of sources) expect(paths, `${source} (CMakeLists.txt builds it)`).toContain(source);
  });

  it('leaves out tests, benchmarks, scripts, source maps, build output and generators', () => {
    const unwanted = paths.filter((p) => /^(test|bench|scripts|build|docs|node_modules|\.ci|\.device)\//.test(p) || p.endsWith('.map') ||
      p.includes('/tools/') || p.endsWith('.tgz') || p.endsWith('.gguf'));
    expect(unwanted).toEqual([]);
    // the prebuilt binaries present are all .node files of <platform>-<arch> folders
    for (const p of paths.filter((q) => q.startsWith('prebuilds/'))) expect(p).toMatch(/^prebuilds\/(linux|darwin)-(x64|arm64)\/lmrt(\.glibc)?\.node$/);
    console.log(`npm pack: ${packed.files.length} files, ${(packed.size / 2 ** 20).toFixed(2)} MiB packed, ${(packed.unpackedSize / 2 ** 20).toFixed(2)} MiB unpacked` +
      ` (prebuilt binaries: ${paths.filter((p) => p.startsWith('prebuilds/')).join(', ') || 'none'})`);
  });
});
