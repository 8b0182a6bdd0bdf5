#!/usr/bin/env node
// npm run pack:cuda [-- --library <liblmrt_cuda.so>] [--out <folder>]: packs
// the CUDA backend as its own npm package, @lmrt/cuda-<platform>-<arch>,
// which users install beside lmrt for NVIDIA GPUs (lmrt finds it at run
// time; the CPU package carries no CUDA code). The library is the one
// `npm run build:cuda` or `npm run test:cuda` built (build/Release or
// build/cuda-tests) unless --library names another; its version is lmrt's,
// and lmrt refuses a library of another ABI by name. Prints the tarball's path.
import { execFileSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const { values } = parseArgs({ options: { library: { type: 'string' }, out: { type: 'string' } } });
const libraryName = process.platform === 'darwin' ? 'liblmrt_cuda.dylib' : 'liblmrt_cuda.so';
const candidates = values.library ? [resolve(values.library)] : ['build/Release', 'build/cuda-tests'].map((d) => join(root, d, libraryName));
const library = candidates.find((p) => existsSync(p));
if (library === undefined) {
  console.error(`pack:cuda: no CUDA library at ${candidates.join(' or ')}: build it with npm run build:cuda (needs nvcc)`);
  process.exit(1);
}

const lmrt = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8'));
const target = `${process.platform}-${process.arch}`;
const name = `@lmrt/cuda-${target}`;
const folder = join(root, 'build', 'cuda-package');
rmSync(folder, { recursive: true, force: true });
mkdirSync(folder, { recursive: true });
copyFileSync(library, join(folder, libraryName));
writeFileSync(join(folder, 'package.json'), `${JSON.stringify({
  name,
  version: lmrt.version,
  description: `lmrt's CUDA backend for ${target}: install beside lmrt to run models on NVIDIA GPUs (sm_80 and newer)`,
  license: lmrt.license,
  os: [process.platform],
  cpu: [process.arch],
  files: [libraryName, 'README.md'],
  peerDependencies: { lmrt: lmrt.version },
}, null, 2)}\n`);
writeFileSync(join(folder, 'README.md'), `# ${name}

The CUDA backend of [lmrt](https://www.npmjs.com/package/lmrt) ${lmrt.version} for ${target}.

\`\`\`sh
npm install lmrt ${name}
\`\`\`

lmrt finds this package at run time: \`loadModel(path, { backend: 'cuda' })\`
runs on the GPU, and the default \`'auto'\` does when a GPU is there.
\`npx lmrt doctor\` shows whether the library loaded and which GPU it sees.
It needs the NVIDIA driver only (the CUDA runtime is linked in) and a GPU
of compute capability 8.0 or newer (Ampere, Hopper). Its version must be
lmrt's own.
`);
const out = resolve(values.out ?? join(root, 'build'));
mkdirSync(out, { recursive: true });
const packed = JSON.parse(execFileSync('npm', ['pack', '--json', '--pack-destination', out], { cwd: folder, encoding: 'utf8' }));
console.log(join(out, packed[0].filename));
