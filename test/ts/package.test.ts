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
