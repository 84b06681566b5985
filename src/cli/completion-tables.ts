// The tables a completion script consults, from the spec (completion-spec.ts),
// as case branches any shell can write (completion-sh.ts for bash and zsh,
// completion-fish.ts). Each table answers one question, so that a script's
// logic names no command or flag:
//   command  which command the words typed name ("set": put; "lock": the topic of "lock acquire")
//   spec     a command's flags ("--name:summary"), the spellings that take a value, and the
//            words that may follow it ("name:summary": its subcommands; after the bare line, every command)
//   values   what completes "COMMAND -b" (a flag's value) or "COMMAND #0" (an argument):
//            key, file, dir, "choice A B C"
//   pass     the store flags of the line that `tzkv keys` is given too (-d: --dir)

import type { CompletionCommand, CompletionFlag, CompletionSpec, Values } from './completion-spec.js';

/** A case pattern: `text` literally, with any text before it (` --dir` for every command) or after it (`del #` for every argument). */
export interface Pattern {
  text: string;
  anyBefore?: boolean;
  anyAfter?: boolean;
}

export interface Branch<T> {
  patterns: Pattern[];
  value: T;
}

interface CommandSpec {
  flags: string[];
  valueFlags: string[];
  next: string[];
}

export interface Tables {
  command: Array<Branch<string>>;
  spec: Array<Branch<CommandSpec>>;
  values: Array<Branch<string>>;
  pass: Array<Branch<string>>;
}

/** Every spelling of a flag: --name, and -c when it has one. */
const spellings = (flag: CompletionFlag): string[] => [`--${flag.name}`, ...(flag.char === undefined ? [] : [`-${flag.char}`])];

/** A value kind as the scripts take it: key, file, dir, "choice A B C", or "" for nothing. */
function kindWord(values: Values | undefined): string {
  if (values === undefined || values === 'none') return '';
  return typeof values === 'string' ? values : `choice ${values.choices.join(' ')}`;
}

const exactly = (...texts: string[]): Pattern[] => texts.map((text) => ({ text }));

const described = (name: string, summary: string): string => (summary === '' ? name : `${name}:${summary}`);

/** Every word sequence that begins a longer command id ("lock" for "lock acquire") and is no command of its own. */
function bareTopics(spec: CompletionSpec): string[] {
  const found = new Set<string>();
  for (const { id } of spec.commands) {
    const words = id.split(' ');
    for (let i = 1; i < words.length; i++) found.add(words.slice(0, i).join(' '));
  }
  return [...found].filter((topic) => !spec.commands.some((command) => command.id === topic));
}

/** The words that may follow `parent` (a command, a topic, or '' for the bare line), with their summaries. */
function nextWords(spec: CompletionSpec, parent: string): string[] {
  const under = (id: string) => (parent === '' ? !id.includes(' ') : id.startsWith(`${parent} `) && !id.slice(parent.length + 1).includes(' '));
  const last = (id: string) => id.slice(id.lastIndexOf(' ') + 1);
  const words = spec.commands.flatMap((command) => [command.id, ...command.aliases].filter(under).map((name) => described(last(name), command.summary)));
  return [...words, ...bareTopics(spec).filter(under).map(last)];
}

/** Each command, the bare line ('') and each bare topic, with its flags. */
function owners(spec: CompletionSpec): Array<[string, readonly CompletionFlag[]]> {
  return [['', spec.rootFlags], ...spec.commands.map((command): [string, CompletionFlag[]] => [command.id, command.flags]), ...bareTopics(spec).map((topic): [string, CompletionFlag[]] => [topic, []])];
}

/**
 * One branch per value kind. A flag spelling with the same kind wherever it
 * is declared (-d: dir) gets one pattern for every command.
 */
function valueBranches(spec: CompletionSpec): Array<Branch<string>> {
  const kinds = new Map<string, Set<string>>();
  const flagsWithValues = owners(spec).flatMap(([id, flags]) => flags.filter((flag) => kindWord(flag.value) !== '').map((flag) => ({ id, flag })));
  for (const { flag } of flagsWithValues) for (const written of spellings(flag)) kinds.set(written, (kinds.get(written) ?? new Set()).add(kindWord(flag.value)));
  const byKind = new Map<string, Pattern[]>();
  const add = (kind: string, pattern: Pattern) => byKind.set(kind, [...(byKind.get(kind) ?? []), pattern]);
  const shared = new Set<string>();
  for (const { id, flag } of flagsWithValues) {
    for (const written of spellings(flag)) {
      if (kinds.get(written)!.size > 1) add(kindWord(flag.value), { text: `${id} ${written}` });
      else if (!shared.has(written)) {
        shared.add(written);
        add(kindWord(flag.value), { text: ` ${written}`, anyBefore: true });
      }
    }
  }
  return [...[...byKind].map(([kind, patterns]) => ({ patterns, value: kind })), ...spec.commands.flatMap(argumentBranches)];
}

/** `COMMAND #N` for each argument that completes; when the last one repeats, its pattern takes every later N. */
function argumentBranches(command: CompletionCommand): Array<Branch<string>> {
  const branches = command.args.flatMap((values, at) => (kindWord(values) === '' ? [] : [{ patterns: exactly(`${command.id} #${at}`), value: kindWord(values) }]));
  const last = kindWord(command.args.at(-1));
  if (command.repeats && last !== '') branches.push({ patterns: [{ text: `${command.id} #`, anyAfter: true }], value: last });
  return branches;
}

export function completionTables(spec: CompletionSpec): Tables {
  return {
    command: [
      ...spec.commands.map((command) => ({ patterns: exactly(command.id, ...command.aliases), value: command.id })),
      ...bareTopics(spec).map((topic) => ({ patterns: exactly(topic), value: topic })),
    ],
    spec: owners(spec).map(([id, flags]) => ({
      patterns: exactly(id),
      value: {
        flags: flags.map((flag) => described(`--${flag.name}`, flag.summary)),
        valueFlags: flags.filter((flag) => flag.value !== undefined).flatMap(spellings),
        next: nextWords(spec, id),
      },
    })),
    values: valueBranches(spec),
    pass: spec.storeFlags.map((flag) => ({ patterns: exactly(...spellings(flag)), value: `--${flag.name}` })),
  };
}
