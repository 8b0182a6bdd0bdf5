/** `lmrt generate --model <gguf> --prompt <text> --max-tokens N --temperature 0 [--json]`. */
import { InvalidArgumentError } from '../errors.js';
import { loadModel } from '../model/model.js';
import type { CliIo } from './io.js';

export const GENERATE_HELP = `Usage: lmrt generate --model <file.gguf> --prompt <text> [--max-tokens N] [--temperature 0]
                     [--threads N] [--json]

Generates a continuation of <text> with greedy decoding (--temperature 0;
sampling arrives with the generation API). Prints the text, or with --json
{text, tokens, finishReason, usage: {promptTokens, completionTokens},
timings: {prefillMs, decodeMs}}. Default --max-tokens 128.`;

export interface GenerateArgs {
  model?: string;
  prompt?: string;
  maxTokens?: string;
  temperature?: string;
  threads?: string;
  json: boolean;
}

function integer(flag: string, value: string | undefined, fallback: number | undefined): number | undefined {
  if (value === undefined) return fallback;
  const n = Number(value);
  if (!Number.isInteger(n) || n < 0) throw new InvalidArgumentError(`${flag} must be a non-negative integer, got '${value}'`);
  return n;
}

export async function runGenerate(args: GenerateArgs, io: CliIo): Promise<number> {
  if (args.model === undefined || args.prompt === undefined) {
    io.err(GENERATE_HELP);
    return 2;
  }
  if (args.temperature !== undefined && Number(args.temperature) !== 0) {
    throw new InvalidArgumentError(`--temperature ${args.temperature}: only greedy decoding (--temperature 0) is available so far`);
  }
  const maxTokens = integer('--max-tokens', args.maxTokens, 128)!;
  const threads = integer('--threads', args.threads, undefined);
  using model = await loadModel(args.model, threads ? { threads } : {});
  const r = await model.generate(args.prompt, { maxTokens });
  if (args.json) {
    io.out(JSON.stringify({
      text: r.text, tokens: r.tokens, finishReason: r.finishReason, usage: r.usage,
      timings: { prefillMs: r.timings.prefillMs, decodeMs: r.timings.decodeMs },
    }));
  } else {
    io.out(r.text);
  }
  return 0;
}
