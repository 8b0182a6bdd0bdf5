/** What a subcommand of `lmrt` declares: its flags, help and entry point. */
import type { Flag, FlagValues } from './flags.js';
import type { CliIo } from './io.js';

export interface Command {
  name: string;
  /** The usage line, e.g. `lmrt run <model> [prompt] [options]`. */
  usage: string;
  /** One line for `lmrt --help`. */
  summary: string;
  /** What the command does, for `lmrt <command> --help`. */
  description: string;
  flags: readonly Flag[];
  positionals: boolean;
  run(values: FlagValues, positionals: string[], io: CliIo): Promise<number>;
}

/** A command used wrongly (a missing argument): `lmrt` prints the message and the usage, and exits 2. */
export class UsageError extends Error {}
