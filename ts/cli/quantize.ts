/** `lmrt quantize <in.gguf> <out.gguf> --type q4_k_m`: a quantised copy of a model. */
import { humanBytes } from './format.js';
import { UsageError, type Command } from './command.js';
import { progressBar } from './progress.js';
import { QUANTIZE_PRESETS, quantizeModel, type QuantizePreset } from '../quantize/quantize.js';

export const quantizeCommand: Command = {
  name: 'quantize',
  usage: 'lmrt quantize <in.gguf> <out.gguf> --type <preset> [options]',
  summary: 'write a quantised copy of a model (llama.cpp\'s presets)',
  description: `Writes a quantised copy of a GGUF model with one of llama.cpp's presets,
${QUANTIZE_PRESETS.map((p) => p.toLowerCase()).join(', ')}, choosing each tensor's type as llama-quantize does:
Q4_K_M and Q5_K_M keep the output and some layers' attn_v and ffn_down in
Q6_K, norms stay F32, and rows that are not whole blocks of a type fall back
(Q4_K to Q5_0, Q5_K to Q5_1, Q6_K to Q8_0, else F16). Reads F32, F16 or BF16
weights; quantised ones are requantised, with a warning. Streams tensor by
tensor, so memory stays near a few chunks, and prints each type's count and
the sizes at the end.`,
  flags: [
    { name: 'type', short: 't', value: 'preset', help: `the preset: ${QUANTIZE_PRESETS.map((p) => p.toLowerCase()).join('|')} (required)` },
    { name: 'threads', value: 'N', help: 'threads encoding (default: one per CPU)' },
    { name: 'quiet', short: 'q', help: 'no progress bar' },
  ],
  positionals: true,
  async run(values, positionals, io) {
    if (positionals.length !== 2) throw new UsageError('quantize takes an input and an output file');
    const given = values.type as string | undefined;
    if (given === undefined) throw new UsageError('--type is required');
    const type = QUANTIZE_PRESETS.find((p) => p.toLowerCase() === given.toLowerCase());
    if (type === undefined) throw new UsageError(`--type ${given}: the presets are ${QUANTIZE_PRESETS.map((p) => p.toLowerCase()).join(', ')}`);
    const threads = values.threads !== undefined ? Number(values.threads) : undefined;
    const [input, output] = positionals as [string, string];
    const bar = values.quiet ? undefined : progressBar(io, `quantizing to ${type}`);
    try {
      const r = await quantizeModel(input, output, {
        type: type as QuantizePreset, ...(threads !== undefined ? { threads } : {}), ...(bar ? { onProgress: bar.update } : {}),
      });
      bar?.done();
      for (const w of r.warnings) io.err(`lmrt quantize: warning: ${w}`);
      const counts = new Map<string, number>();
      for (const t of r.tensors) counts.set(t.to, (counts.get(t.to) ?? 0) + 1);
      io.out(`${r.path}: ${type}, ${r.tensors.length} tensors (${[...counts].map(([t, n]) => `${n} ${t}`).join(', ')}), ` +
        `${humanBytes(r.bytesIn)} -> ${humanBytes(r.bytesOut)} of weights (${((8 * r.bytesOut) / r.tensors.reduce((s, t) => s + t.elements, 0)).toFixed(2)} bits per weight)`);
      return 0;
    } finally {
      bar?.done();
    }
  },
};
