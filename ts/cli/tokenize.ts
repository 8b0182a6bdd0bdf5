/** `lmrt tokenize --model <gguf> --text <text> [--no-add-special] [--parse-special] [--json]`. */
import { InvalidArgumentError } from '../errors.js';
import { loadTokenizer } from '../tokenizer/tokenizer.js';
import type { CliIo } from './io.js';

export const TOKENIZE_HELP = `Usage: lmrt tokenize --model <file.gguf> --text <text> [--no-add-special] [--parse-special] [--json]

Prints the token ids of <text> (one line, space-separated; --json prints
{tokens: [...]}). By default BOS/EOS are added as the model's metadata says
(--no-add-special turns that off) and special-token texts are not parsed
(--parse-special matches them). The model may be a vocabulary-only GGUF.`;

export interface TokenizeArgs {
  model?: string;
  text?: string;
  addSpecial: boolean;
  parseSpecial: boolean;
  json: boolean;
}

export async function runTokenize(args: TokenizeArgs, io: CliIo): Promise<number> {
  if (args.model === undefined || args.text === undefined) {
    io.err(TOKENIZE_HELP);
    return 2;
  }
  if (args.model === '') throw new InvalidArgumentError('--model must name a GGUF file');
  using tokenizer = await loadTokenizer(args.model);
  const tokens = Array.from(tokenizer.tokenize(args.text, { addSpecial: args.addSpecial, parseSpecial: args.parseSpecial }));
  io.out(args.json ? JSON.stringify({ tokens }) : tokens.join(' '));
  return 0;
}
