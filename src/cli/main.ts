// The entry point of the CLI bundle (dist/tzkv.cjs): bin/run.js → launch.ts →
// main(). Also exports the command table oclif loads from this same file,
// and buildManifest() for scripts/build.mjs.

import { Config, Plugin } from '@oclif/core/config';
import type { PJSON } from '@oclif/core/interfaces';
import { run } from '@oclif/core/run';
import { settings } from '@oclif/core/settings';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { jsonRequested, reportFailure } from './failure.js';
import { VALUE_FLAGS_BEFORE_COMMAND } from './fast-argv.js';
import { exitWhenDone } from './finish.js';
import { mark } from './trace.js';

import { COMMANDS } from './commands.js';

export { COMMANDS };

/** Runs one tzkv command line; `root` is the package directory. Sets process.exitCode; exits only as a last resort (below). */
export async function main(argv: string[], root: string): Promise<void> {
  // The package is compiled already: never look for TypeScript sources.
  settings.enableAutoTranspile = false;
  try {
    // No user or dev plugins: tzkv's data directory is not a plugin directory.
    // package.json read here, at once, spares oclif's slower search for it.
    const pjson = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as PJSON;
    const config = await Config.load({ root, pjson, userPlugins: false, devPlugins: false });
    mark('config');
    await run(commandFirst(argv), config);
    mark('command');
  } catch (err) {
    reportFailure(err, { json: jsonRequested(argv) });
  }
  exitWhenDone();
}


/**
 * oclif wants the command first; users also write `tzkv -d DIR get KEY`.
 * Moves the first word that names a command to the front when only flags
 * precede it. `tzkv help [COMMAND]` is `tzkv [COMMAND] --help`.
 */
export function commandFirst(argv: string[]): string[] {
  if (argv[0] === 'help') return [...argv.slice(1), '--help'];
  for (let i = 0; i < argv.length; i++) {
    const word = argv[i];
    if (word === '--') break;
    if (VALUE_FLAGS_BEFORE_COMMAND.has(word)) {
      i++;
      continue;
    }
    if (word.startsWith('-')) continue;
    if (i > 0 && Object.hasOwn(COMMANDS, word)) return [word, ...argv.slice(0, i), ...argv.slice(i + 1)];
    break;
  }
  return argv;
}

/** The manifest oclif would write for the package at `root` (`oclif manifest`). */
export async function buildManifest(root: string): Promise<unknown> {
  settings.enableAutoTranspile = false;
  const plugin = new Plugin({ root, type: 'core', isRoot: true, ignoreManifest: true, errorOnManifestCreate: true });
  await plugin.load();
  return plugin.manifest;
}
