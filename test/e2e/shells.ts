// Completion as each shell does it, on the script `tzkv completion SHELL`
// prints, with `tzkv` on PATH (a wrapper that runs the built bin/run.js):
//   bash  the script's function, called with COMP_LINE, COMP_POINT, COMP_WORDS and
//         COMP_CWORD as readline sets them; the candidates are COMPREPLY
//   zsh   an interactive zsh on a pseudo-terminal (zsh/zpty) with the script
//         autoloaded from $fpath and compinit run, typing the line and Tab; every
//         compadd call records the matches it adds, and a key bound to a widget
//         records the line after the completion
//   fish  `complete -C LINE`, fish's own completion of a command line
// Each returns the candidates (without fish's descriptions), in order, once each.

import { execa } from 'execa';
import { chmod, mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { BIN, NODE, childEnv, tempDir, tzkv } from './helpers.js';

export type Shell = 'bash' | 'zsh' | 'fish';

export interface Completed {
  candidates: string[];
  /** zsh only: the line after Tab (the one candidate inserted, or the common part). */
  line?: string;
}

/** `text` as one word in single quotes (bash, zsh, sh). */
const quoted = (text: string): string => `'${text.replaceAll("'", `'\\''`)}'`;

/** A directory with `tzkv` in it, for PATH. */
async function binDirectory(): Promise<string> {
  const dir = join(await tempDir(), 'bin');
  await mkdir(dir);
  await writeFile(join(dir, 'tzkv'), `#!/bin/sh\nexec ${quoted(NODE)} ${quoted(BIN)} "$@"\n`);
  await chmod(join(dir, 'tzkv'), 0o755);
  return dir;
}

/**
 * COMP_WORDS as bash's readline makes them for `line`: words split at blanks
 * outside quotes, and each run of the other COMP_WORDBREAKS characters
 * (`"'><=;|&(:` by default; here : and =, the ones tzkv lines hold) a word of its own.
 */
function readlineWords(line: string): string[] {
  const words: string[] = [];
  let word = '';
  let quote = '';
  let breakRun = false;
  const flush = () => {
    if (word !== '') words.push(word);
    word = '';
  };
  for (let i = 0; i < line.length; i++) {
    const c = line[i];
    if (quote !== '') {
      word += c;
      if (c === quote) quote = '';
      continue;
    }
    if (c === '\\' && i + 1 < line.length) {
      if (breakRun) flush();
      breakRun = false;
      word += c + line[++i];
      continue;
    }
    if (c === ' ' || c === '\t') {
      flush();
      breakRun = false;
      continue;
    }
    const isBreak = c === ':' || c === '=';
    if (isBreak !== breakRun) flush();
    breakRun = isBreak;
    if (c === '"' || c === "'") quote = c;
    word += c;
  }
  flush();
  // The word at the cursor: empty after a blank (after a break, the break itself: `session:` ends in ":").
  if (line === '' || /[ \t]$/.test(line)) words.push('');
  return words;
}

const unique = (lines: string[]): string[] => [...new Set(lines.filter((line) => line !== ''))];

const SHELLS = ['bash', 'zsh', 'fish'] as const;

/** What `tzkv completion SHELL` prints, for each shell (asked once). */
let cliScripts: Promise<Record<Shell, string>> | undefined;

async function askScripts(): Promise<Record<Shell, string>> {
  const scripts = {} as Record<Shell, string>;
  for (const shell of SHELLS) {
    const run = await tzkv(['completion', shell]);
    if (run.exitCode !== 0) throw new Error(`tzkv completion ${shell}: ${run.stderr}`);
    scripts[shell] = run.stdout;
  }
  return scripts;
}

export class Completer {
  private constructor(
    private readonly env: Record<string, string>,
    private readonly scripts: string,
  ) {}

  /**
   * A completer with the scripts `tzkv completion SHELL` prints, or those
   * given; its `tzkv` runs with `env` (HOME and XDG_DATA_HOME of its own unless given).
   */
  static async create(env: Record<string, string> = {}, given?: Record<Shell, string>): Promise<Completer> {
    const home = await tempDir();
    const bin = await binDirectory();
    const vars = childEnv({ HOME: home, XDG_DATA_HOME: join(home, 'data'), ...env });
    vars.PATH = `${bin}:${vars.PATH ?? '/usr/bin:/bin'}`;
    const scripts = await tempDir();
    const texts = given ?? (await (cliScripts ??= askScripts()));
    for (const shell of SHELLS) await writeFile(join(scripts, shell === 'zsh' ? '_tzkv' : `tzkv.${shell}`), texts[shell]);
    return new Completer(vars, scripts);
  }

  complete(shell: Shell, line: string): Promise<Completed> {
    if (shell === 'bash') return this.bash(line);
    if (shell === 'zsh') return this.zsh(line);
    return this.fish(line);
  }

  private async bash(line: string): Promise<Completed> {
    const words = readlineWords(line);
    const program = [
      `source ${quoted(join(this.scripts, 'tzkv.bash'))}`,
      `COMP_LINE=${quoted(line)}; COMP_POINT=${line.length}`,
      `COMP_WORDS=(${words.map(quoted).join(' ')}); COMP_CWORD=${words.length - 1}`,
      '_tzkv tzkv "${COMP_WORDS[COMP_CWORD]}" "${COMP_WORDS[COMP_CWORD-1]}"',
      `printf '%s\\n' "\${COMPREPLY[@]}"`,
    ].join('\n');
    const run = await execa('bash', ['--norc', '--noprofile', '-c', program], { env: this.env, extendEnv: false, timeout: 30_000 });
    return { candidates: unique(run.stdout.split('\n')) };
  }

  private async zsh(line: string): Promise<Completed> {
    const out = join(await tempDir(), 'zsh.out');
    const record = quoted(out);
    const session = [
      "PS1=''; RPS1=''",
      `fpath=(${quoted(this.scripts)} $fpath); autoload -U compinit; compinit -u -D`,
      // Every match added, as compadd itself takes them (-O: the matches, not added); calls that only ask (-O, -A, -D) are not additions.
      `compadd() { if (( ! \${@[(I)-[OAD]*]} )); then local -a m; builtin compadd -O m "$@"; print -rl -- $m >> ${record}; fi; builtin compadd "$@"; }`,
      `tzkv-dump() { print -r -- "LINE:$BUFFER" >> ${record}; }; zle -N tzkv-dump; bindkey '^X' tzkv-dump`,
    ];
    const driver = [
      'zmodload zsh/zpty',
      'zpty z zsh -f -i',
      ...session.map((command) => `zpty -w z ${quoted(command)}`),
      `zpty -w -n z ${quoted(line)}$'\\t'`,
      "zpty -w -n z $'\\C-x'",
      `for i in {1..300}; do [[ -f ${record} ]] && grep -q '^LINE:' ${record} && break; sleep 0.1; done`,
      'zpty -d z',
    ].join('\n');
    await execa('zsh', ['-f', '-c', driver], { env: this.env, extendEnv: false, timeout: 60_000 });
    const lines = (await readFile(out, 'utf8')).split('\n');
    const last = lines.find((text) => text.startsWith('LINE:'));
    return { candidates: unique(lines.filter((text) => !text.startsWith('LINE:'))), line: last?.slice('LINE:'.length) };
  }

  private async fish(line: string): Promise<Completed> {
    const program = `source ${quoted(join(this.scripts, 'tzkv.fish'))}; complete -C $argv[1]`;
    const run = await execa('fish', ['--no-config', '-c', program, line], { env: this.env, extendEnv: false, timeout: 30_000 });
    return { candidates: unique(run.stdout.split('\n').map((candidate) => candidate.split('\t')[0])) };
  }
}
