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
import { chatCommand } from './chat.js';
import { doctorCommand } from './doctor.js';
import { UsageError, type Command } from './command.js';
import { flagHelp, parseFlags } from './flags.js';
import { generateCommand } from './generate.js';
import { pullCommand } from './pull.js';
import { perplexityCommand } from './perplexity.js';
import { quantizeCommand } from './quantize.js';
import { runCommand } from './run.js';
import { serveCommand } from './serve.js';

const COMMANDS: readonly Command[] = [runCommand, chatCommand, serveCommand, generateCommand, pullCommand, quantizeCommand, perplexityCommand, doctorCommand];

const HELP = `Usage: lmrt <command> [options]

Commands:
${COMMANDS.map((c) => `  ${c.name.padEnd(10)}${c.summary}`).join('\n')}
  info      show a GGUF file's metadata and tensors
  tokenize  print the token ids of a text
  synth     write a random-weight model of a named shape

A <model> is a GGUF file, a URL or hf:owner/repo/file.gguf (downloaded into
the cache first). Run 'lmrt <command> --help' for a command's options.`;

function commandHelp(c: Command): string {
  return `Usage: ${c.usage}\n\n${c.description}\n\nOptions:\n${flagHelp(c.flags)}\n  -h, --help  this help`;
}

/** Runs the CLI with `argv` (without node and script) and returns the exit code. */
export async function main(argv: string[], io: CliIo = processIo): Promise<number> {
  const [command, ...rest] = argv;
  try {
    const table = COMMANDS.find((c) => c.name === command);
    if (table !== undefined) {
      const { values, positionals } = parseFlags(rest, table.flags, table.positionals);
      if (values.help) return help(io, commandHelp(table));
      try {
        return await table.run(values, positionals, io);
      } catch (err) {
        if (!(err instanceof UsageError)) throw err;
        io.err(`lmrt ${table.name}: ${err.message}\nUsage: ${table.usage} (lmrt ${table.name} --help for the options)`);
        return 2;
      }
    }
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
            type: { type: 'string' }, seed: { type: 'string' }, copying: { type: 'boolean', default: false },
            quiet: { type: 'boolean', short: 'q', default: false },
            help: { type: 'boolean', short: 'h' },
          },
        });
        if (values.help) return help(io, SYNTH_HELP);
        return await runSynth({ ...values, copying: values.copying ?? false, quiet: values.quiet ?? false }, io);
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
