/** The README's first example runs as written. */
import { execFileSync } from 'node:child_process';
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';

import { tempDir } from './helpers/models.js';

const ROOT = resolve(__dirname, '..', '..');
const tmp = tempDir();
afterAll(tmp.cleanup);

describe('README', () => {
  it('first example runs and prints what it says', () => {
    const readme = readFileSync(join(ROOT, 'README.md'), 'utf8');
    const code = /## First example\s+```js\n([\s\S]*?)```/.exec(readme)?.[1];
    expect(code, 'README has a "First example" js block').toBeDefined();
    // inside the package folder so that `import 'lmrt'` resolves to this package
    const dir = join(ROOT, 'build', 'readme-example');
    mkdirSync(dir, { recursive: true });
    const script = join(dir, 'example.mjs');
    writeFileSync(script, code!);
    try {
      const out = execFileSync(process.execPath, [script], { cwd: tmp.dir, encoding: 'utf8' });
      expect(out).toMatch(/^llama \d+ Q4_0\n\d+ \d+ ".*"\n$/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
