/** `lmrt generate --model <gguf> --prompt <text> [sampling flags] [--json]`. */
import { UsageError, type Command } from './command.js';
import { MODEL_FLAGS, SAMPLING_FLAGS, SPECULATIVE_FLAGS, generateOptionsFrom, openDraft, openModel } from './generation-flags.js';

export const generateCommand: Command = {
  name: 'generate',
  usage: 'lmrt generate --model <model> --prompt <text> [options]',
  summary: 'continue a prompt and print the result (--json for all of it)',
  description: `Generates a continuation of <text> and prints it, or with --json
{text, tokens, finishReason, usage: {promptTokens, completionTokens, cachedTokens},
timings: {prefillMs, decodeMs, tokensPerSecond}} (and logprobs with --logprobs).
Greedy unless --temperature is above 0. <model> is a GGUF file, a URL or
hf:owner/repo/file.gguf (downloaded into the cache first).`,
  flags: [
    { name: 'model', short: 'm', value: 'model', help: 'the model: a GGUF file, a URL or hf:owner/repo/file.gguf' },
    { name: 'prompt', short: 'p', value: 'text', help: 'the text to continue' },
    ...SAMPLING_FLAGS,
    ...SPECULATIVE_FLAGS,
    { name: 'logprobs', value: 'N', help: 'report log-probabilities with the N most likely alternatives (with --json)' },
    ...MODEL_FLAGS,
    { name: 'json', help: 'print the whole result as JSON' },
  ],
  positionals: false,
  async run(values, _positionals, io) {
    if (values.model === undefined) throw new UsageError('--model is required');
    if (values.prompt === undefined) throw new UsageError('--prompt is required');
    const options = generateOptionsFrom(values);
    if (values.logprobs !== undefined) options.logprobs = Number(values.logprobs);
    using model = await openModel(values.model as string | undefined, values, io);
    const draft = await openDraft(values, options, io);
    using _draft = draft ?? { [Symbol.dispose]: () => undefined };
    const r = await model.generate(String(values.prompt), options);
    io.out(values.json ? JSON.stringify(r) : r.text);
    return 0;
  },
};
