// The words of a `tzkv lock` line (docs/cli.md "lock"): one NAME before "--",
// COMMAND after it. The "--" is required, so that a mistyped subcommand
// (`tzkv lock acquir x`) or a COMMAND's own flags (`tzkv lock x ls -la`) are
// never taken for a lock and a command to run, or for tzkv's flags.

import { TzkvError } from '../errors.js';
import { type FlagShape, shellWord } from './dash-words.js';
import { closest } from './suggest.js';

/** lock's subcommands: `tzkv lock list` is never a lock named "list". */
const SUBCOMMANDS = ['acquire', 'list', 'release'];

/** What a `tzkv lock` line asks: a COMMAND to run holding the lock NAME, or a subcommand written after flags. */
export type LockLine = { name: string; command: string[] } | { subcommand: string; argv: string[] };

const USAGE = 'tzkv lock NAME [--ttl D] [--wait D] -- COMMAND... (tzkv lock --help says more)';

/**
 * Reads the words after `lock` (flags included, as oclif hands them to the
 * command; `flags` are its flags). A first word that is a subcommand is that
 * subcommand, with the other words (oclif finds `tzkv lock list` but not
 * `tzkv lock -d DIR list`). Otherwise INVALID_ARGUMENT, suggesting the line
 * meant, unless the words are NAME, "--" and COMMAND.
 */
export function readLockLine(argv: readonly string[], flags: Readonly<Record<string, FlagShape>>): LockLine {
  const end = argv.indexOf('--');
  const before = end === -1 ? argv : argv.slice(0, end);
  const at = wordsAt(before, flags);
  if (at.length > 0 && SUBCOMMANDS.includes(before[at[0]!]!)) {
    return { subcommand: `lock:${before[at[0]!]}`, argv: argv.filter((_, i) => i !== at[0]) };
  }
  const [name, ...extra] = at.map((i) => before[i]!);
  if (name === undefined) throw new TzkvError('INVALID_ARGUMENT', `tzkv lock needs a lock NAME before "--": ${USAGE}`);
  const line = (words: readonly string[]) => ['tzkv', 'lock', ...words].map(shellWord).join(' ');
  if (end === -1) {
    const meant = name === 'help' ? '--help' : closest(name, SUBCOMMANDS);
    if (meant !== undefined) {
      const fixed = argv.map((word, i) => (i === at[0] ? meant : word));
      throw new TzkvError('INVALID_ARGUMENT', `"${name}" is not a lock subcommand: did you mean \`${line(fixed)}\`? (to run a COMMAND holding the lock "${name}": tzkv lock ${shellWord(name)} -- COMMAND...)`);
    }
    if (extra.length > 0) {
      const split = at[1]!;
      throw new TzkvError('INVALID_ARGUMENT', `COMMAND goes after "--", so that its own flags stay its own: ${line([...argv.slice(0, split), '--', ...argv.slice(split)])}`);
    }
  }
  if (extra.length > 0) {
    throw new TzkvError('INVALID_ARGUMENT', `tzkv lock takes one NAME before "--", got ${at.length} words (${[name, ...extra].map(shellWord).join(' ')}): ${USAGE}`);
  }
  const command = end === -1 ? [] : argv.slice(end + 1);
  if (command.length === 0) throw new TzkvError('INVALID_ARGUMENT', `tzkv lock ${shellWord(name)} needs a COMMAND after "--": ${USAGE}`);
  return { name, command };
}

/**
 * The indexes of the words that are neither flags nor a value flag's value.
 * A long flag lock does not know is left to oclif's message; a short one
 * (`-la`) is a word: COMMAND's flag, most likely.
 */
function wordsAt(words: readonly string[], flags: Readonly<Record<string, FlagShape>>): number[] {
  const shorts = new Map<string, FlagShape>();
  for (const flag of Object.values(flags)) if (flag.char !== undefined) shorts.set(flag.char, flag);
  const at: number[] = [];
  for (let i = 0; i < words.length; i++) {
    const word = words[i]!;
    const flag = word.startsWith('--') ? (flags[word.slice(2)] ?? { type: 'boolean' }) : word.length === 2 && word.startsWith('-') ? shorts.get(word[1]!) : undefined;
    if (flag === undefined) at.push(i);
    else if (flag.type === 'option') i++;
  }
  return at;
}
