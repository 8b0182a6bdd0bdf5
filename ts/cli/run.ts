/** `lmrt run <model> [prompt]`: stream a continuation to the terminal. */
import { UsageError, type Command } from './command.js';
import { MODEL_FLAGS, SAMPLING_FLAGS, SPECULATIVE_FLAGS, generateOptionsFrom, openDraft, openModel, statsLine } from './generation-flags.js';
import { writer, type CliIo } from './io.js';

async function readAll(stream: NodeJS.ReadableStream): Promise<string> {
  let text = '';
  for await (const chunk of stream) text += typeof chunk === 'string' ? chunk : (chunk as Buffer).toString('utf8');
  return text;
}

async function promptFrom(positionals: string[], io: CliIo): Promise<string> {
  if (positionals.length > 1) return positionals.slice(1).join(' ');
  if (io.stdin && !io.stdin.isTTY) return (await readAll(io.stdin)).replace(/\n$/, '');
  throw new UsageError('a prompt is required: lmrt run <model> "<prompt>" (or pipe it on standard input)');
}

export const runCommand: Command = {
  name: 'run',
  usage: 'lmrt run <model> [prompt] [options]',
  summary: 'stream a continuation of a prompt to the terminal',
  description: `Loads <model> (a GGUF file, a URL or hf:owner/repo/file.gguf, downloaded
into the cache first) and streams the continuation of [prompt] (or of
standard input) as it is generated. Ctrl-C stops the generation. A summary
(tokens, speed, finish reason) goes to standard error.`,
  flags: [...SAMPLING_FLAGS, ...SPECULATIVE_FLAGS, ...MODEL_FLAGS, { name: 'quiet', short: 'q', help: 'no summary line on standard error' }],
  positionals: true,
  async run(values, positionals, io) {
    if (positionals.length === 0) throw new UsageError('a model is required');
    const options = generateOptionsFrom(values);
    const prompt = await promptFrom(positionals, io);
    using model = await openModel(positionals[0], values, io);
    const draft = await openDraft(values, options, io);
    using _draft = draft ?? { [Symbol.dispose]: () => undefined };
    const controller = new AbortController();
    const unhook = io.onInterrupt?.(() => controller.abort());
    try {
      const write = writer(io);
      const stream = model.stream(prompt, { ...options, signal: controller.signal });
      for await (const chunk of stream) write(chunk.text);
      write('\n');
      const r = await stream.result;
      if (!values.quiet) io.err(statsLine(r));
      return r.finishReason === 'abort' ? 130 : 0;
    } finally {
      unhook?.();
    }
  },
};
