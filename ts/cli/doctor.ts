/** `lmrt doctor [--json]`: what this machine runs lmrt with. */
import { runtimeInfo, type RuntimeInfo } from '../runtime.js';
import type { Command } from './command.js';

function doctorText(r: RuntimeInfo): string {
  const cuda = r.cuda.devices > 0
    ? `${r.cuda.devices} device(s), ${r.cuda.device}`
    : r.cuda.loaded ? `no device: ${r.cuda.message}` : `not available: ${r.cuda.message}`;
  const variants = r.cpu.kernelVariants.join(', ');
  return [
    `lmrt:            ${r.version} on ${r.platform}`,
    `node:            ${r.versions.node} (N-API ${r.versions.napi})`,
    `libc:            ${r.versions.libc || '(not glibc)'}`,
    `binary:          ${r.binary.path} (${r.binary.prebuilt ? 'prebuilt' : 'local build'}; ${r.binary.build})`,
    `cpu:             ${r.cpu.model} (${r.cpu.threads} threads)`,
    `kernel variants: ${variants} (this CPU)`,
    `kernels chosen:  ${r.cpu.kernelVariant}${r.cpu.forced ? ` (LMRT_KERNELS=${r.cpu.forced})` : ''}`,
    `cuda package:    ${r.cuda.package || `(none: npm install @lmrt/cuda-${r.platform} for NVIDIA GPUs)`}`,
    `cuda library:    ${r.cuda.library}${r.cuda.loaded ? '' : ' (not loaded)'}`,
    `cuda:            ${cuda}`,
  ].join('\n');
}

export const doctorCommand: Command = {
  name: 'doctor',
  usage: 'lmrt doctor [--json]',
  summary: 'show the binary, CPU kernels and CUDA backend lmrt runs with',
  description: `Prints the platform, the native binary loaded (a prebuilt one or a
local build), the CPU kernel variants this CPU can run and the one chosen
(LMRT_KERNELS=ref|avx2|avx512|neon caps it), the CUDA backend's package,
library and devices with the reason when it is unusable, and the Node,
N-API and C library versions. --json prints the same as one object.`,
  flags: [{ name: 'json', help: 'print JSON' }],
  positionals: false,
  async run(values, _positionals, io) {
    const report = runtimeInfo();
    io.out(values.json ? JSON.stringify(report, null, 2) : doctorText(report));
    return 0;
  },
};
