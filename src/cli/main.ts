// The oclif start path: what the CLI bundle's entry (src/commands/index.ts,
// which holds the command table and hands this file the command names) runs
// for every line the fast path (src/cli/fast-argv.ts) leaves to oclif. Also
// buildManifest() for scripts/manifest.mjs.

import { Config, Plugin } from '@oclif/core/config';
import type { PJSON } from '@oclif/core/interfaces';
import { run } from '@oclif/core/run';
import { settings } from '@oclif/core/settings';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { TzkvError } from '../errors.js';
import { hasFlag, jsonRequested, reportFailure } from './failure.js';
import { VALUE_FLAGS } from './fast-argv.js';
import { exitWhenDone } from './finish.js';
import { printJson, writeOut } from './output.js';
import { closest } from './suggest.js';
import { mark } from './trace.js';

/**
 * Runs one tzkv command line; `root` is the package directory, `commands` every
 * name of the command table oclif loads (ids and aliases). Sets
 * process.exitCode; exits only as a last resort (below).
 */
export async function runCli(argv: string[], root: string, commands: readonly string[]): Promise<void> {
  // The package is compiled already: never look for TypeScript sources.
  settings.enableAutoTranspile = false;
  try {
    // No user or dev plugins: tzkv's data directory is not a plugin directory.
    // package.json read here, at once, spares oclif's slower search for it.
    const pjson = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as PJSON;
    const config = await Config.load({ root, pjson, userPlugins: false, devPlugins: false });
    mark('config');
    const line = commandFirst(argv, commands);
    if (line[0] === 'version') await printVersion(config, line.slice(1));
    else await run(withAliasesInList(checkCommand(line, commands), config), config);
    mark('command');
  } catch (err) {
    reportFailure(err, { json: jsonRequested(argv) });
  }
  exitWhenDone();
}


/** The index of the first word before `--` that is neither a flag nor a value flag's value, or -1. */
function wordAt(argv: readonly string[]): number {
  for (let i = 0; i < argv.length; i++) {
    const word = argv[i];
    if (word === '--') break;
    if (VALUE_FLAGS.has(word)) {
      i++;
      continue;
    }
    if (!word.startsWith('-')) return i;
  }
  return -1;
}

/**
 * oclif wants the command first; users also write `tzkv -d DIR get KEY`.
 * Moves the first word that names a command to the front when only flags
 * precede it. `tzkv help [COMMAND]` is `tzkv [COMMAND] --help`; with no
 * command, `-v` and `--version` are `tzkv version`, and `--help` or `-h`
 * asks for the list of commands.
 */
export function commandFirst(argv: string[], commands: readonly string[]): string[] {
  if (argv[0] === 'help') return [...argv.slice(1), '--help'];
  const at = wordAt(argv);
  if (at > 0 && (commands.includes(argv[at]) || argv[at] === 'version')) return [argv[at], ...argv.slice(0, at), ...argv.slice(at + 1)];
  if (at === -1 && hasFlag(argv, '-h', '--help')) return ['--help'];
  if (at === -1 && hasFlag(argv, '-v', '--version')) return ['version', ...argv.filter((word) => word !== '-v' && word !== '--version')];
  return argv;
}

/**
 * `line` (after commandFirst) when oclif can run it: a command, nothing (the
 * list of commands) or `--help`. Otherwise a usage error (exit 2) in tzkv's
 * words, where oclif would say "command gte:a not found" or "command --json
 * not found": no command at all, or an unknown one, with the nearest command.
 */
function checkCommand(line: string[], commands: readonly string[]): string[] {
  const [first] = line;
  if (first === undefined || first === '--help' || commands.includes(first)) return line;
  const list = '`tzkv --help` lists the commands';
  const at = wordAt(line);
  if (at === -1) throw new TzkvError('INVALID_ARGUMENT', `no command given (${list})`);
  const nearest = closest(line[at], commands);
  throw new TzkvError('INVALID_ARGUMENT', `unknown command ${JSON.stringify(line[at])}${nearest ? `: did you mean ${JSON.stringify(nearest)}?` : ''} (${list})`);
}

/**
 * The list of commands (`tzkv --help`) shows each command once, its aliases
 * after its summary (package.json sets oclif's hideAliasesFromRoot: oclif would
 * list `set` as a command of its own). Returns `line`.
 */
function withAliasesInList(line: string[], config: Config): string[] {
  if (line.length > 1 || (line.length === 1 && line[0] !== '--help')) return line;
  for (const command of config.commands) {
    // An alias's own entry has its alias for id; the command's has the summary to extend.
    if (command.aliases.length > 0 && !command.aliases.includes(command.id)) command.summary = `${command.summary ?? ''} (also: ${command.aliases.join(', ')})`;
  }
  return line;
}

/** `tzkv version [--json]`: the version line oclif's --version prints, or {"version", "platform", "node"}. */
async function printVersion(config: Config, rest: string[]): Promise<void> {
  const extra = rest.find((word) => word !== '--json');
  if (extra === '--help' || extra === '-h') return writeOut('Prints the version of tzkv, the platform and Node.\n\nUSAGE\n  $ tzkv version [--json]\n  $ tzkv -v\n  $ tzkv --version\n');
  if (extra !== undefined) throw new TzkvError('INVALID_ARGUMENT', `version takes no arguments but --json, got ${JSON.stringify(extra)}`);
  if (rest.includes('--json')) return printJson({ version: config.version, platform: `${config.platform}-${config.arch}`, node: process.version });
  return writeOut(`${config.userAgent}\n`);
}

/** The manifest oclif would write for the package at `root` (`oclif manifest`). */
export async function buildManifest(root: string): Promise<unknown> {
  settings.enableAutoTranspile = false;
  const plugin = new Plugin({ root, type: 'core', isRoot: true, ignoreManifest: true, errorOnManifestCreate: true });
  await plugin.load();
  return plugin.manifest;
}
