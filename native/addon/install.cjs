// `npm install` hook: use a prebuilt binary when one loads on this machine,
// otherwise build the addon from source with cmake-js, saying why and what
// the build needs. LMRT_BUILD_FROM_SOURCE=1 skips the prebuilt binary.
'use strict';
const path = require('path');
const { spawnSync } = require('child_process');
const os = require('os');

const root = path.resolve(__dirname, '..', '..');
const target = `${process.platform}-${process.arch}`;

function loadsPrebuilt() {
  try {
    require('node-gyp-build')(root);
    return null;
  } catch (err) {
    return String(err && err.message ? err.message : err).split('\n')[0];
  }
}

function has(cmd, args) {
  const r = spawnSync(cmd, args, { stdio: 'ignore' });
  return !r.error && r.status === 0;
}

function fail(lines) {
  console.error(['', 'lmrt: cannot build the native addon from source.', ...lines, ''].join('\n'));
  process.exit(1);
}

const why = process.env.LMRT_BUILD_FROM_SOURCE === '1' ? 'LMRT_BUILD_FROM_SOURCE=1' : loadsPrebuilt();
if (why === null) process.exit(0);

console.log(`lmrt: no prebuilt binary loads on ${target} (${why}); building from source.`);
if (!has('cmake', ['--version'])) {
  fail(['  cmake was not found on PATH. Install CMake >= 3.18 (e.g. `apt-get install cmake`',
        '  or `brew install cmake`) and run `npm install` again.']);
}
const cxx = process.env.CXX || 'c++';
if (!has(cxx, ['--version'])) {
  fail([`  no C++ compiler (\`${cxx}\`) was found. Install g++ or clang with C++17 support`,
        '  (e.g. `apt-get install g++` or `xcode-select --install`) and run `npm install` again.']);
}

const cmakeJs = require.resolve('cmake-js/bin/cmake-js');
const jobs = String(Math.max(1, os.availableParallelism ? os.availableParallelism() : os.cpus().length));
const r = spawnSync(process.execPath, [cmakeJs, 'compile', '--parallel', jobs], { cwd: root, stdio: 'inherit' });
if (r.status !== 0) fail(['  cmake-js compile failed; the compiler output above says why.']);
