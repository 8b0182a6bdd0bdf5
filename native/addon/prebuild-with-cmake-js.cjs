#!/usr/bin/env node
// prebuildify drives node-gyp (`rebuild --target=… --arch=… --release`); this
// stands in for node-gyp (`prebuildify --node-gyp <this file>`) and builds
// the addon with cmake-js instead, into the build/Release folder prebuildify
// collects from.
'use strict';
const path = require('path');
const os = require('os');
const { spawnSync } = require('child_process');

const args = process.argv.slice(2);
const arch = (args.find((a) => a.startsWith('--arch=')) || '').slice('--arch='.length);
const debug = args.includes('--debug');
const jobs = String(os.availableParallelism ? os.availableParallelism() : os.cpus().length);
const cmakeJs = require.resolve('cmake-js/bin/cmake-js');
const cmd = [cmakeJs, 'rebuild', '--parallel', jobs, ...(arch ? ['--arch', arch] : []), ...(debug ? ['--debug'] : [])];
const r = spawnSync(process.execPath, cmd, { cwd: path.resolve(__dirname, '..', '..'), stdio: 'inherit' });
process.exit(r.status === null ? 1 : r.status);
