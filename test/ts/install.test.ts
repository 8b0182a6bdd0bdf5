/** The `npm install` hook explains what a source build needs when it cannot run. */
import { spawnSync } from 'node:child_process';
import { symlinkSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';

import { tempDir } from './helpers/models.js';

const ROOT = resolve(__dirname, '..', '..');
const tmp = tempDir();
afterAll(tmp.cleanup);

/** Runs the install hook with PATH holding only the named programs. */
function installWith(programs: Record<string, string>) {
  const bin = join(tmp.dir, Object.keys(programs).join('-'));
  spawnSync('mkdir', ['-p', bin]);
  for (const [name, target] of Object.entries(programs)) symlinkSync(target, join(bin, name));
  return spawnSync(process.execPath, [join(ROOT, 'native/addon/install.cjs')], {
    cwd: ROOT, encoding: 'utf8',
    env: { PATH: bin, LMRT_BUILD_FROM_SOURCE: '1', HOME: tmp.dir },
  });
}

function which(cmd: string): string {
  return spawnSync('sh', ['-c', `command -v ${cmd}`], { encoding: 'utf8' }).stdout.trim();
}

describe('npm install hook', () => {
  it('names cmake when it is missing', () => {
    const r = installWith({ node: process.execPath });
    expect(r.status).toBe(1);
    expect(r.stdout).toMatch(/building from source/);
    expect(r.stderr).toMatch(/cmake was not found on PATH/);
  });

  it('names the C++ compiler when it is missing', () => {
    const r = installWith({ node: process.execPath, cmake: which('cmake') });
    expect(r.status).toBe(1);
    expect(r.stderr).toMatch(/no C\+\+ compiler/);
  });
});
