// What shell completion knows of the CLI, read from oclif's command table (the
// manifest): each command's words and aliases, its summary, its flags and what
// completes each flag's value and each argument. The scripts for bash, zsh and
// fish (completion-sh.ts, completion-fish.ts) are written from it, so a new
// command, flag or alias completes without an edit here.

import type { Command } from '@oclif/core/command';

/**
 * What completes a value: a key of the store (`tzkv keys PREFIX`), a file, a
 * directory, one of a fixed list, or nothing.
 */
export type Values = 'key' | 'file' | 'dir' | 'none' | { choices: readonly string[] };

export interface CompletionFlag {
  /** The long name, without "--". */
  name: string;
  char?: string;
  summary: string;
  /** What its value is; undefined for a flag that takes none. */
  value?: Values;
}

export interface CompletionCommand {
  /** The words that name it: "put", "lock acquire". */
  id: string;
  /** Its other names, as words ("set"). */
  aliases: string[];
  summary: string;
  /** Its flags, the base command's included, and --help. */
  flags: CompletionFlag[];
  /** What completes each argument, in order. */
  args: Values[];
  /** Whether the last argument takes any number of words (del KEY...). */
  repeats: boolean;
}

export interface CompletionSpec {
  /** The executable's name (tzkv). */
  bin: string;
  version: string;
  /** What may come before the command: the flags every command has, --help and --version. */
  rootFlags: CompletionFlag[];
  commands: CompletionCommand[];
  /**
   * The flags of a line that `tzkv keys` is given when it lists keys for a
   * completion, so that it reads the same store and bucket: the value flags
   * every command has (where the store is, how to reach it) and --bucket.
   */
  storeFlags: CompletionFlag[];
}

/** The flag that says which bucket a key is in: `tzkv keys -b NAME` lists that bucket's keys. */
const BUCKET_FLAG = 'bucket';

/**
 * Arguments and flags of these names complete keys of the store: KEY
 * (src/cli/flags.ts keyArg, get's and del's KEY...), PREFIX (keys, export)
 * and --prefix (get, del, watch).
 */
const KEY_NAMES = ['key', 'prefix'];

/** An argument of this name is a file (import FILE). */
const FILE_ARGUMENT = 'file';

/** What completes a value, from what the help calls it (helpValue) and its fixed options. */
function valuesOf(helpValue: string | string[] | undefined, options: readonly string[] | undefined): Values {
  if (options !== undefined && options.length > 0) return { choices: options };
  if (helpValue === 'DIR') return 'dir';
  if (helpValue === 'FILE' || helpValue === 'PATH') return 'file';
  return 'none';
}

function flagOf(flag: Command.Flag.Cached): CompletionFlag {
  const summary = (flag.summary ?? flag.description ?? '').split('\n')[0];
  const shape: CompletionFlag = { name: flag.name, summary, ...(flag.char === undefined ? {} : { char: flag.char }) };
  if (flag.type === 'option') shape.value = KEY_NAMES.includes(flag.name) ? 'key' : valuesOf(flag.helpValue, flag.options);
  return shape;
}

const HELP: CompletionFlag = { name: 'help', char: 'h', summary: 'Show help.' };
const VERSION: CompletionFlag = { name: 'version', char: 'v', summary: 'Show the version.' };
const JSON_FLAG: CompletionFlag = { name: 'json', summary: 'Print exactly one JSON document on stdout.' };

/** The lines src/cli/main.ts takes besides the command table: `tzkv help [COMMAND]` and `tzkv version [--json]`. */
function builtIns(commands: readonly CompletionCommand[]): CompletionCommand[] {
  const names = commands.flatMap((command) => [command.id, ...command.aliases]).filter((name) => !name.includes(' '));
  return [
    { id: 'help', aliases: [], summary: 'Show the help of a command.', flags: [], args: [{ choices: names }], repeats: false },
    { id: 'version', aliases: [], summary: 'Show the version of tzkv.', flags: [JSON_FLAG, HELP], args: [], repeats: false },
  ];
}

function argumentOf(arg: Command.Arg.Cached): Values {
  if (KEY_NAMES.includes(arg.name)) return 'key';
  if (arg.name === FILE_ARGUMENT) return 'file';
  return valuesOf(undefined, arg.options);
}

/**
 * The spec of the commands oclif loaded (`config.commands`, which lists an
 * alias as a command of its own too: those entries are folded into their
 * command's). `baseFlags` are the names of the flags every command has.
 */
export function completionSpec(commands: readonly Command.Loadable[], baseFlags: readonly string[], bin: string, version: string): CompletionSpec {
  const own = commands.filter((command) => !command.hidden && !command.aliases.includes(command.id));
  const words = (id: string) => id.split(':').join(' ');
  const shaped = own.map(
    (command): CompletionCommand => ({
      id: words(command.id),
      aliases: command.aliases.map(words),
      summary: (command.summary ?? command.description ?? '').split('\n')[0],
      flags: [...Object.values(command.flags).filter((flag) => !flag.hidden).map(flagOf), HELP],
      args: Object.values(command.args).map(argumentOf),
      repeats: command.strict === false,
    }),
  );
  const first = shaped[0]?.flags ?? [];
  const rootFlags = [...first.filter((flag) => baseFlags.includes(flag.name)), HELP, VERSION];
  const storeFlags = first.filter((flag) => flag.value !== undefined && baseFlags.includes(flag.name));
  const bucket = shaped.flatMap((command) => command.flags).find((flag) => flag.name === BUCKET_FLAG);
  return { bin, version, rootFlags, commands: [...shaped, ...builtIns(shaped)], storeFlags: bucket === undefined ? storeFlags : [...storeFlags, bucket] };
}
