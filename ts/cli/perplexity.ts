/** `lmrt perplexity <model> --file text.txt [--ctx 512] [--kl-base base.gguf]`. */
import { readFileSync } from 'node:fs';

import { IoError } from '../errors.js';
import { measurePerplexity } from '../quality/perplexity.js';
import { UsageError, type Command } from './command.js';
import { MODEL_FLAGS, openModel } from './generation-flags.js';

export const perplexityCommand: Command = {
  name: 'perplexity',
  usage: 'lmrt perplexity <model> --file <text.txt> [options]',
  summary: 'perplexity of a text (and KL divergence against a base model)',
  description: `Measures a model's perplexity on a text as llama.cpp's llama-perplexity
does: the text's tokens (BOS first) in chunks of --ctx tokens, each
evaluated on its own with BOS as its first token, the second half of each
scored by the logits before it. Prints PPL ± its standard error (with the
chunks done on a progress line meanwhile). With --kl-base,
the same chunks through the base (unquantised) model also give the mean KL
divergence of the model's next-token distribution from the base's, and how
often both put the same token first (llama-perplexity's --kl-divergence).`,
  flags: [
    { name: 'file', short: 'f', value: 'text.txt', help: 'the text to score (required)' },
    { name: 'ctx', value: 'N', help: 'tokens per chunk (default 512)' },
    { name: 'chunks', value: 'N', help: 'score at most N chunks' },
    { name: 'kl-base', value: 'model', help: 'the base model for KL divergence and top-token agreement' },
    ...MODEL_FLAGS,
    { name: 'json', help: 'print the result as JSON' },
  ],
  positionals: true,
  async run(values, positionals, io) {
    if (positionals.length !== 1) throw new UsageError('perplexity takes one model');
    if (values.file === undefined) throw new UsageError('--file is required');
    const ctx = values.ctx !== undefined ? Number(values.ctx) : 512;
    const chunks = values.chunks !== undefined ? Number(values.chunks) : undefined;
    let text: string;
    try {
      text = readFileSync(String(values.file), 'utf8');
    } catch (err) {
      throw new IoError(`cannot read ${String(values.file)}: ${(err as Error).message}`);
    }
    // the context holds one chunk (at least): the model's own unless --context-size asks for more
    const given = values['context-size'] !== undefined ? Number(values['context-size']) : 0;
    const modelValues = { ...values, 'context-size': String(Math.max(given, Number.isInteger(ctx) ? ctx : 0, 1)) };
    using model = await openModel(positionals[0], modelValues, io);
    using base = values['kl-base'] !== undefined ? await openModel(String(values['kl-base']), modelValues, io) : undefined;
    let shown = 0;
    const r = await measurePerplexity(model, text, {
      contextSize: ctx,
      ...(chunks !== undefined ? { chunks } : {}),
      ...(base !== undefined ? { base } : {}),
      onProgress: (done, total) => {
        if (values.json) return;
        if (done - shown >= Math.max(1, Math.floor(total / 20)) || done === total) {
          io.progress?.(`perplexity: chunk ${done} of ${total}`);
          shown = done;
        }
      },
    });
    io.progress?.(undefined);
    if (values.json) {
      io.out(JSON.stringify(r));
      return 0;
    }
    io.out(`perplexity: ${r.perplexity.toFixed(4)} ± ${r.error.toFixed(4)} (${r.tokens} tokens scored, ${r.chunks} chunks of ${r.contextSize})`);
    if (r.kl !== undefined) {
      io.out(`KL divergence from the base: mean ${r.kl.mean.toFixed(6)} ± ${r.kl.error.toFixed(6)}, max ${r.kl.max.toFixed(6)}; ` +
        `same top token: ${(100 * r.kl.top1).toFixed(2)}%; base perplexity ${r.kl.basePerplexity.toFixed(4)}`);
    }
    return 0;
  },
};
