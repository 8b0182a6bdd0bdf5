/**
 * The `lmrt` command: dispatches subcommands, prints errors as one line
 * with their code (no stack traces), and returns the exit status.
 */
import { parseArgs } from 'node:util';

import { LmrtError } from '../errors.js';
import { INFO_HELP, runInfo } from './info.js';
import { processIo, type CliIo } from './io.js';
import { SYNTH_HELP, runSynth } from './synth.js';
import { TOKENIZE_HELP, runTokenize } from './tokenize.js';
import { GENERATE_HELP, runGenerate } from './generate.js';

const HELP = `Usage: lmrt <command> [options]

Commands:
  info <file.gguf> [--json]     show a GGUF file's metadata and tensors
  synth --out <file.gguf> ...   write a random-weight model (see lmrt synth --help)
  tokenize --model <gguf> --text <text> [--json]
                                print the token ids of a text
  generate --model <gguf> --prompt <text> [--max-tokens N] [--json]
                                continue a prompt (greedy)

Run 'lmrt <command> --help' for a command's options.`;

/** Runs the CLI with `argv` (without node and script) and returns the exit code. */
export async function main(argv: string[], io: CliIo = processIo): Promise<number> {
  const [command, ...rest] = argv;
  try {
    switch (command) {
      case 'info': {
        const { values, positionals } = parseArgs({
          args: rest, allowPositionals: true,
          options: { json: { type: 'boolean', default: false }, help: { type: 'boolean', short: 'h' } },
        });
        if (values.help) return help(io, INFO_HELP);
        return await runInfo({ positionals, json: values.json ?? false }, io);
      }
      case 'synth': {
        const { values } = parseArgs({
          args: rest,
          options: {
            out: { type: 'string', short: 'o' }, arch: { type: 'string' }, preset: { type: 'string' },
            type: { type: 'string' }, seed: { type: 'string' }, quiet: { type: 'boolean', short: 'q', default: false },
            help: { type: 'boolean', short: 'h' },
          },
        });
        if (values.help) return help(io, SYNTH_HELP);
        return await runSynth({ ...values, quiet: values.quiet ?? false }, io);
      }
      case 'tokenize': {
        const { values } = parseArgs({
          args: rest,
          options: {
            model: { type: 'string', short: 'm' }, text: { type: 'string', short: 't' },
            'no-add-special': { type: 'boolean', default: false }, 'parse-special': { type: 'boolean', default: false },
            json: { type: 'boolean', default: false }, help: { type: 'boolean', short: 'h' },
          },
        });
        if (values.help) return help(io, TOKENIZE_HELP);
        return await runTokenize({
          model: values.model, text: values.text, addSpecial: !values['no-add-special'],
          parseSpecial: values['parse-special'] ?? false, json: values.json ?? false,
        }, io);
      }
      case 'generate': {
        const { values } = parseArgs({
          args: rest,
          options: {
            model: { type: 'string', short: 'm' }, prompt: { type: 'string', short: 'p' }, 'max-tokens': { type: 'string', short: 'n' },
            temperature: { type: 'string' }, threads: { type: 'string', short: 't' }, json: { type: 'boolean', default: false },
            help: { type: 'boolean', short: 'h' },
          },
        });
        if (values.help) return help(io, GENERATE_HELP);
        return await runGenerate({
          model: values.model, prompt: values.prompt, maxTokens: values['max-tokens'], temperature: values.temperature,
          threads: values.threads, json: values.json ?? false,
        }, io);
      }
      case undefined:
      case 'help':
      case '--help':
      case '-h':
        return help(io, HELP);
      default:
        io.err(`lmrt: unknown command '${command}'\n\n${HELP}`);
        return 2;
    }
  } catch (err) {
    if (err instanceof LmrtError) {
      io.err(`lmrt: ${err.message} [${err.code}]`);
      return 1;
    }
    if ((err as { code?: string }).code?.startsWith('ERR_PARSE_ARGS')) {
      io.err(`lmrt: ${(err as Error).message}`);
      return 2;
    }
    throw err;
  }
}

function help(io: CliIo, text: string): number {
  io.out(text);
  return 0;
}
