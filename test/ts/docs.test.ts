/**
 * The API reference covers the public API: every symbol ts/index.ts exports
 * has a TSDoc comment with an example (typedoc, run by `npm test`, checks
 * the comments of members; this checks the examples).
 */
import { join, resolve } from 'node:path';
import ts from 'typescript';
import { describe, expect, it } from 'vitest';

const ROOT = resolve(__dirname, '..', '..');

describe('API documentation', () => {
  it('every public export has a summary and an @example', () => {
    const entry = join(ROOT, 'ts', 'index.ts');
    const program = ts.createProgram([entry], {
      module: ts.ModuleKind.ESNext, target: ts.ScriptTarget.ES2022, moduleResolution: ts.ModuleResolutionKind.Bundler, strict: true,
    });
    const checker = program.getTypeChecker();
    const exports = checker.getExportsOfModule(checker.getSymbolAtLocation(program.getSourceFile(entry)!)!);
    expect(exports.length).toBeGreaterThan(50);
    const lacking: string[] = [];
    for (const exported of exports) {
      const symbol = exported.flags & ts.SymbolFlags.Alias ? checker.getAliasedSymbol(exported) : exported;
      const summary = ts.displayPartsToString(symbol.getDocumentationComment(checker)).trim();
      const example = symbol.getJsDocTags(checker).some((t) => t.name === 'example');
      if (summary === '' || !example) lacking.push(`${exported.name}${summary === '' ? ' (no summary)' : ''}${example ? '' : ' (no example)'}`);
    }
    expect(lacking).toEqual([]);
  });
});

describe('Getting Started', () => {
  it('its first example runs and prints what the guide says', async () => {
    const { execFileSync } = await import('node:child_process');
    const { mkdirSync, readFileSync, rmSync, writeFileSync, mkdtempSync } = await import('node:fs');
    const { tmpdir } = await import('node:os');
    const guide = readFileSync(join(ROOT, 'docs', 'getting-started.md'), 'utf8');
    const code = /## Your first generation[\s\S]*?```js\n([\s\S]*?)```/.exec(guide)?.[1];
    const says = /It prints `([^`]+)`, `([^`]+)` and `([^`]+)`/.exec(guide);
    expect(code).toBeDefined();
    expect(says).not.toBeNull();
    // inside the package folder so that `import 'lmrt'` resolves to this package
    const dir = join(ROOT, 'build', 'docs-example');
    mkdirSync(dir, { recursive: true });
    const work = mkdtempSync(join(tmpdir(), 'lmrt-docs-'));
    try {
      writeFileSync(join(dir, 'first.mjs'), code!);
      const out = execFileSync(process.execPath, [join(dir, 'first.mjs')], { cwd: work, encoding: 'utf8' });
      expect(out).toBe(`${says![1]}\n${says![2]}\n${says![3]}\n`);
    } finally {
      rmSync(dir, { recursive: true, force: true });
      rmSync(work, { recursive: true, force: true });
    }
  });
});
