/** `lmrt synth`: write a random-weight model of a named shape and type. */
import { InvalidArgumentError } from '../errors.js';
import { ENCODABLE_TYPES, parseGgmlType, type EncodableType } from '../gguf/types.js';
import { SYNTH_PRESETS, type SynthArch } from '../synth/presets.js';
import { synthModel } from '../synth/synth.js';
import { humanBytes, humanCount } from './format.js';
import type { CliIo } from './io.js';

const presetList = Object.entries(SYNTH_PRESETS)
  .map(([arch, presets]) => `  --arch ${arch}: ${Object.entries(presets).map(([p, s]) => `${p} (${s.follows})`).join(', ')}`)
  .join('\n');

export const SYNTH_HELP = `Usage: lmrt synth --out <file.gguf> [--arch llama|qwen2|qwen3|gpt2] [--preset <name>]
                  [--type ${ENCODABLE_TYPES.map((t) => t.toLowerCase()).join('|')}] [--seed N] [--copying]

Writes a random-weight model of a real model's shape, with a tokenizer that
llama.cpp loads. Defaults: --arch llama --preset tiny --type f32 --seed 0.
--copying (llama only) wires layers 0 and 1 as an induction circuit, so the
model continues any text it has seen: a model to measure speculative decoding on.
Presets:
${presetList}`;

export interface SynthArgs {
  out?: string;
  arch?: string;
  preset?: string;
  type?: string;
  seed?: string;
  copying: boolean;
  quiet: boolean;
}

export async function runSynth(args: SynthArgs, io: CliIo): Promise<number> {
  if (args.out === undefined) {
    io.err(SYNTH_HELP);
    return 2;
  }
  const type = parseGgmlType(args.type ?? 'f32');
  if (!(ENCODABLE_TYPES as readonly string[]).includes(type)) {
    throw new InvalidArgumentError(`--type ${args.type}: synth writes ${ENCODABLE_TYPES.join(', ')}`);
  }
  const seed = args.seed === undefined ? 0 : Number(args.seed);
  if (!Number.isSafeInteger(seed)) throw new InvalidArgumentError(`--seed must be an integer, got '${args.seed}'`);
  let lastPercent = -1;
  const result = await synthModel(args.out, {
    arch: (args.arch ?? 'llama') as SynthArch,
    preset: args.preset ?? 'tiny',
    type: type as EncodableType,
    seed,
    copying: args.copying,
    onProgress: (done, total) => {
      const percent = total === 0 ? 100 : Math.floor((100 * done) / total);
      if (!args.quiet && process.stderr.isTTY && percent !== lastPercent) {
        lastPercent = percent;
        process.stderr.write(`\rwriting ${args.out}: ${percent}% of ${humanBytes(total)}`);
      }
    },
  });
  if (lastPercent >= 0) process.stderr.write('\n');
  io.out(`wrote ${result.path}: ${result.arch} ${result.preset} (${result.shape.follows}), ` +
    `${humanCount(result.parameterCount)} parameters, ${type}${args.copying ? ', copying' : ''}`);
  for (const f of result.fallbacks) io.out(`  ${f.tensor}: rows are not whole ${type} blocks, stored as ${f.type}`);
  return 0;
}
