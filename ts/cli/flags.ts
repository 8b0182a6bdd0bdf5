/**
 * Command-line flags described once: the parser options for node:util's
 * parseArgs and the help text come from the same list, so `--help` always
 * lists every flag.
 */
import { parseArgs } from 'node:util';

/** One flag: `--name` (and `-short`), a string or a switch, repeatable or not. */
export interface Flag {
  name: string;
  short?: string;
  /** Placeholder of the value, e.g. `N`; absent for switches. */
  value?: string;
  multiple?: boolean;
  help: string;
}

export type FlagValues = Record<string, string | boolean | string[] | undefined>;

/** Parses `args` against `flags` (plus --help); unknown flags are errors. */
export function parseFlags(args: string[], flags: readonly Flag[], allowPositionals = false): { values: FlagValues; positionals: string[] } {
  const options: Record<string, { type: 'string' | 'boolean'; short?: string; multiple?: boolean }> = {
    help: { type: 'boolean', short: 'h' },
  };
  for (const f of flags) {
    options[f.name] = { type: f.value === undefined ? 'boolean' : 'string', ...(f.short ? { short: f.short } : {}), ...(f.multiple ? { multiple: true } : {}) };
  }
  const { values, positionals } = parseArgs({ args, options, allowPositionals, strict: true });
  return { values: values as FlagValues, positionals };
}

/** The flags' lines for a help text, aligned. */
export function flagHelp(flags: readonly Flag[]): string {
  const left = flags.map((f) => `${f.short ? `-${f.short}, ` : '    '}--${f.name}${f.value ? ` <${f.value}>` : ''}${f.multiple ? ' ...' : ''}`);
  const width = Math.max(...left.map((l) => l.length)) + 2;
  return flags.map((f, i) => `  ${left[i]!.padEnd(width)}${f.help}`).join('\n');
}
