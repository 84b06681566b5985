// Words that start with "-" but are none of the command's flags. oclif reads
// `-bugfix release` as `-b "ugfix release"` (a short flag glues onto its
// value), so `tzkv put note "-bugfix release"` stored key `ugfix release:note`,
// and `tzkv put -dash v` made a store in ./ash. Such a word is refused before
// oclif parses the line: exit 2, with the line that stores it as a value.

import { TzkvError } from '../errors.js';

/** What this check needs of an oclif flag definition. */
export interface FlagShape {
  char?: string;
  /** 'option' takes a value, 'boolean' does not. */
  type: string;
}

/**
 * Throws INVALID_ARGUMENT for the first word of `argv` (before `--`) that
 * starts with "-" and is not one of `flags` as oclif takes it: `--name`,
 * `--name=value` or `-c` on its own (a value flag's value, the next word, is
 * the flag's whatever it looks like). A long flag oclif does not know is left
 * to oclif's own message. `command` is the command's name (`put`).
 */
export function refuseDashWords(argv: readonly string[], flags: Readonly<Record<string, FlagShape>>, command: string): void {
  const shorts = new Map<string, FlagShape>();
  for (const flag of Object.values(flags)) if (flag.char !== undefined) shorts.set(flag.char, flag);
  const flagWords: string[] = [];
  const args: string[] = [];
  let wrong: { word: string; glued?: string } | undefined;
  for (let i = 0; i < argv.length; i++) {
    const word = argv[i];
    if (word === '--') {
      args.push(...argv.slice(i + 1));
      break;
    }
    if (!word.startsWith('-') || word === '-') {
      args.push(word);
      continue;
    }
    const long = word.startsWith('--') ? flags[word.slice(2)] : undefined;
    const short = word.length === 2 ? shorts.get(word[1]) : undefined;
    const known = long ?? short;
    if (known !== undefined || (word.startsWith('--') && word.includes('='))) {
      flagWords.push(word);
      if (known?.type === 'option' && i + 1 < argv.length) flagWords.push(argv[++i]);
      continue;
    }
    if (word.startsWith('--')) {
      flagWords.push(word); // oclif says it does not know it
      continue;
    }
    const glued = shorts.get(word[1]);
    wrong ??= glued?.type === 'option' ? { word, glued: `-${word[1]} ${shellWord(word.slice(2))}` } : { word };
    args.push(word);
  }
  if (wrong === undefined) return;
  const first = args.findIndex((arg) => arg.startsWith('-') && arg !== '-');
  const line = ['tzkv', command, ...flagWords, ...args.slice(0, first), '--', ...args.slice(first)].map(shellWord).join(' ');
  const asValue = `an argument that starts with "-" goes after "--": ${line}`;
  throw new TzkvError(
    'INVALID_ARGUMENT',
    wrong.glued === undefined
      ? `${shellWord(wrong.word)} is not a flag of tzkv ${command}; ${asValue}`
      : `${shellWord(wrong.word)} would be read as flags (${wrong.glued}); ${asValue}; for the flag, write ${wrong.glued}`,
  );
}

/** `word` as a shell user types it: bare when safe, else in double quotes. */
export function shellWord(word: string): string {
  return /^[A-Za-z0-9_@%+=:,./-]+$/.test(word) ? word : `"${word.replace(/["\\$`]/g, '\\$&')}"`;
}
