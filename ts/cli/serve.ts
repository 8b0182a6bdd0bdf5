/** `lmrt serve <model>`: the OpenAI-compatible HTTP server. */
import { readFileSync } from 'node:fs';

import { InvalidArgumentError } from '../errors.js';
import { createServer } from '../server/server.js';
import { UsageError, type Command } from './command.js';
import type { FlagValues } from './flags.js';
import { MODEL_FLAGS, num, openDraft, openModel } from './generation-flags.js';
import type { GenerateOptions } from '../generation/options.js';

function count(flag: string, v: FlagValues[string]): number | undefined {
  const n = num(flag, v, true);
  if (n !== undefined && n < 0) throw new InvalidArgumentError(`--${flag} must be a non-negative integer, got '${String(v)}'`);
  return n;
}

export const serveCommand: Command = {
  name: 'serve',
  usage: 'lmrt serve <model> [options]',
  summary: 'an OpenAI-compatible HTTP server (/v1/completions, /v1/chat/completions)',
  description: `Serves <model> over HTTP with OpenAI's API: GET /v1/models, POST /v1/completions,
POST /v1/chat/completions (streamed with server-sent events when asked),
GET /health and GET /metrics (Prometheus). Concurrent requests share the
model's forward steps. Prints the address once listening; access logs are
JSON lines on standard error. SIGTERM or Ctrl-C stops accepting requests,
lets the ones in flight finish, then exits.`,
  flags: [
    { name: 'host', value: 'address', help: 'the address to listen on (default 127.0.0.1)' },
    { name: 'port', short: 'p', value: 'N', help: 'the port (default 8080; 0 picks a free one)' },
    { name: 'api-key', value: 'key', help: 'require Authorization: Bearer <key> on /v1 requests' },
    { name: 'max-concurrency', value: 'N', help: 'requests generating at once (default 8); more wait' },
    { name: 'ctx-size', value: 'N', help: 'KV cache capacity in tokens, all requests together' },
    { name: 'model-name', value: 'id', help: 'the model id reported by /v1/models (default: the file name)' },
    { name: 'chat-template', value: 'file', help: 'a Jinja chat template to use instead of the model\'s' },
    { name: 'max-tokens-limit', value: 'N', help: 'the largest max_tokens a request may ask for (default 4096)' },
    { name: 'draft', value: 'gguf', help: 'speculative decoding for every request with this smaller model (same vocabulary): same answers, fewer steps' },
    { name: 'draft-max', value: 'N', help: 'with --draft: most tokens guessed per step (default 3)' },
    ...MODEL_FLAGS.filter((f) => f.name !== 'context-size'),
    { name: 'quiet', short: 'q', help: 'no access logs' },
  ],
  positionals: true,
  async run(values, positionals, io) {
    if (positionals.length !== 1) throw new UsageError('serve takes one model');
    const maxSequences = count('max-concurrency', values['max-concurrency']);
    const contextSize = count('ctx-size', values['ctx-size']);
    const maxTokens = count('max-tokens-limit', values['max-tokens-limit']);
    const port = count('port', values.port) ?? 8080;
    const model = await openModel(positionals[0], {
      ...values,
      ...(contextSize !== undefined ? { 'context-size': String(contextSize) } : {}),
    }, io, maxSequences !== undefined ? { maxSequences } : {});
    const speculation: GenerateOptions = {};
    const draft = await openDraft(values, speculation, io);
    const server = createServer({
      model,
      ...(speculation.speculative ? { speculative: speculation.speculative } : {}),
      ...(values['model-name'] !== undefined ? { modelName: String(values['model-name']) } : {}),
      ...(values['api-key'] !== undefined ? { apiKey: String(values['api-key']) } : {}),
      ...(values['chat-template'] !== undefined ? { chatTemplate: readFileSync(String(values['chat-template']), 'utf8') } : {}),
      ...(maxTokens !== undefined ? { limits: { maxTokens } } : {}),
      ...(values.quiet ? { log: null } : {}),
    });
    const { url } = await server.listen(port, values.host !== undefined ? String(values.host) : '127.0.0.1');
    io.out(`lmrt serve: listening on ${url} (OpenAI API at ${url}/v1)`);
    await new Promise<void>((resolve) => {
      const stop = (): void => {
        process.off('SIGTERM', stop);
        unhook?.();
        io.err('lmrt serve: draining requests in flight…');
        void server.close().then(resolve);
      };
      process.on('SIGTERM', stop);
      const unhook = io.onInterrupt?.(stop);
    });
    draft?.dispose();
    model.dispose();
    return 0;
  },
};
