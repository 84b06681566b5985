// `tzkv completion bash|zsh|fish` (docs/cli.md "Shell completion"): each
// script, run by its shell (test/e2e/shells.ts), completes command names and
// aliases, flags, fixed flag values, directories, and keys from a real store
// on the store and bucket the line names; listing keys never creates a store,
// gives up quickly and prints nothing on error. A shell that is not installed
// skips its tests with the command that installs it (test/helpers/servers.ts).

import { existsSync } from 'node:fs';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { describe, expect, test } from 'vitest';
import type { Command } from '@oclif/core/command';
import { completionScript } from '../../src/cli/completion-action.js';
import { bash, etcd, fish, needsServer, zsh } from '../helpers/servers.js';
import { etcdForFile } from './fixtures/etcd.js';
import { storeDir, tempDir, tzkv } from './helpers.js';
import { Completer, type Shell } from './shells.js';

const SHELLS: Array<[Shell, typeof bash]> = [
  ['bash', bash],
  ['zsh', zsh],
  ['fish', fish],
];

/** A store with keys that have a colon, a space, a leading "-", control characters, and a bucket. */
async function seededStore(): Promise<string> {
  const dir = await storeDir();
  for (const line of [
    ['session:42', 'a'],
    ['session:43', 'b'],
    ['my key', 'c'],
    ['evil\x1b]0;pwned\x07', 'd'],
    ['evilplain', 'e'],
    ['-draft', 'f'],
  ]) {
    const run = await tzkv(['put', '-d', dir, '--', ...line]);
    expect(run.exitCode, run.stderr).toBe(0);
  }
  expect((await tzkv(['put', '-d', dir, '-b', 'users', 'ann', '1'])).exitCode).toBe(0);
  return dir;
}

describe.each(SHELLS)('tzkv completion %s', (shell, need) => {
  needsServer(need);
  const complete = async (line: string) => (await (await Completer.create()).complete(shell, line)).candidates;

  test('command names and their aliases', async () => {
    expect((await complete('tzkv ge')).sort()).toEqual(['get', 'getset']);
    expect((await complete('tzkv s')).sort()).toEqual(['serve', 'set', 'stats']);
    expect((await complete('tzkv l')).sort()).toEqual(['list', 'lock', 'ls']);
    // A command's subcommands, wherever the flags are.
    expect((await complete('tzkv lock ')).sort()).toEqual(['acquire', 'list', 'release']);
    expect(await complete('tzkv -d /tmp/anywhere lock rel')).toEqual(['release']);
    expect((await complete('tzkv de')).sort()).toEqual(['del', 'delete']);
    // The lines around the command table: tzkv help COMMAND, tzkv version.
    expect((await complete('tzkv help ve')).sort()).toEqual(['verify']);
    expect(await complete('tzkv vers')).toEqual(['version']);
    const all = await complete('tzkv -d /tmp/anywhere ');
    for (const name of ['put', 'set', 'get', 'del', 'rm', 'keys', 'ls', 'completion', 'verify']) expect(all, name).toContain(name);
  });

  test('flags of the command, and values where they are a fixed set', async () => {
    expect((await complete('tzkv put --if')).sort()).toEqual(['--if-absent', '--if-value', '--if-version']);
    expect((await complete('tzkv set k v --if')).sort()).toEqual(['--if-absent', '--if-value', '--if-version']);
    expect(await complete('tzkv keys --li')).toEqual(['--limit']);
    // (fish offers near misses when nothing starts with the word: none may start with it.)
    expect((await complete('tzkv get --if')).filter((flag) => flag.startsWith('--if'))).toEqual([]);
    expect(await complete('tzkv --js')).toEqual(['--json']);
    expect((await complete('tzkv import --format ')).sort()).toEqual(['json', 'jsonl', 'tsv']);
    expect((await complete('tzkv completion ')).sort()).toEqual(['bash', 'fish', 'zsh']);
  });

  test('--dir completes directories', async () => {
    const parent = await tempDir();
    await tzkv(['put', '-d', join(parent, 'store'), 'k', 'v']);
    const found = await complete(`tzkv get -d ${parent}/st`);
    expect(found.length, found.join(' ')).toBe(1);
    expect(found[0]).toMatch(/store\/?$/);
  });

  test('a KEY argument completes keys from the store the line names', async () => {
    const dir = await seededStore();
    expect((await complete(`tzkv get -d ${dir} sess`)).sort()).toEqual(['session:42', 'session:43']);
    // After a colon bash replaces only what follows it (COMP_WORDBREAKS): its candidates are the rest.
    expect((await complete(`tzkv -d ${dir} set session:4`)).sort()).toEqual(shell === 'bash' ? ['42', '43'] : ['session:42', 'session:43']);
    expect(await complete(`tzkv ttl --dir=${dir} my`)).toEqual([shell === 'bash' ? 'my\\ key' : 'my key']);
    expect(await complete(`tzkv rm -d ${dir} -b users `)).toEqual(['ann']);
    // del takes any number of keys.
    expect((await complete(`tzkv delete -d ${dir} session:42 evilplain sess`)).sort()).toEqual(['session:42', 'session:43']);
    expect(await complete(`tzkv get -d ${dir} -- -`)).toEqual(['-draft']);
    // A key with control characters would act on the terminal: never offered.
    expect(await complete(`tzkv incr -d ${dir} evil`)).toEqual(['evilplain']);
    // A PREFIX (keys, export) and --prefix complete keys too.
    expect((await complete(`tzkv ls -d ${dir} se`)).sort()).toEqual(['session:42', 'session:43']);
    expect((await complete(`tzkv del -d ${dir} --prefix se`)).sort()).toEqual(['session:42', 'session:43']);
    // A VALUE is not a key.
    expect(await complete(`tzkv put -d ${dir} session:42 sess`)).toEqual([]);
  });

  test('listing keys creates no store, and says nothing when there is none', async () => {
    const missing = join(await tempDir(), 'missing');
    expect(await complete(`tzkv get -d ${missing} `)).toEqual([]);
    expect(existsSync(missing)).toBe(false);
    // The default store ($XDG_DATA_HOME/tzkv) before anything was written to it.
    const home = await tempDir();
    const completer = await Completer.create({ XDG_DATA_HOME: home });
    expect((await completer.complete(shell, 'tzkv get ')).candidates).toEqual([]);
    expect(existsSync(join(home, 'tzkv'))).toBe(false);
    expect(await complete(`tzkv get -d ${missing} -b users `)).toEqual([]);
  });
});

describe('tzkv completion on an etcd store, in bash', () => {
  needsServer(bash);
  needsServer(etcd);
  const etcdStore = etcdForFile('completion');

  test('keys come from the cluster the line names', async () => {
    const store = etcdStore();
    for (const key of ['job:1', 'job:2', 'other']) expect((await tzkv(['put', '-d', store, key, 'v'])).exitCode).toBe(0);
    const completer = await Completer.create();
    expect((await completer.complete('bash', `tzkv get -d ${store} jo`)).candidates.sort()).toEqual(['job:1', 'job:2']);
  });

  test('a server that never answers costs 2 s at most, and nothing is offered', async () => {
    // Accepts connections and stays silent: the etcd client alone would wait its 5 s timeout.
    const silent = createServer(() => undefined);
    await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve));
    const { port } = silent.address() as { port: number };
    try {
      const completer = await Completer.create();
      const started = Date.now();
      expect((await completer.complete('bash', `tzkv get -d etcd://127.0.0.1:${port}/x `)).candidates).toEqual([]);
      expect(Date.now() - started).toBeLessThan(4500);
    } finally {
      silent.close();
    }
  });
});

/** A command as oclif's manifest has it, for a table with commands tzkv does not have (yet). */
function loadable(id: string, fields: Partial<Command.Cached>): Command.Loadable {
  return { id, aliases: [], hidden: false, hiddenAliases: [], flags: {}, args: {}, load: () => Promise.reject(new Error('not loaded')), ...fields };
}

describe('a script written from another command table', () => {
  // New commands complete with no edit to the completion code: a topic with subcommands (lock acquire), its own
  // flags, an alias of a subcommand, and a new alias at the top.
  const table = [
    loadable('get', { summary: 'Print a value.', args: { key: { name: 'key' } }, aliases: ['fetch'] }),
    loadable('lock', { summary: 'Run a command under a lock.', args: { name: { name: 'name' } }, strict: false }),
    loadable('lock:acquire', { summary: 'Take a lock.', flags: { ttl: { name: 'ttl', type: 'option', helpValue: 'DURATION', multiple: false } }, args: { name: { name: 'name' } } }),
    loadable('lock:list', { summary: 'Show the holders.', aliases: ['lock:ls'] }),
  ];
  const scripts = Object.fromEntries(
    (['bash', 'zsh', 'fish'] as const).map((shell) => [shell, completionScript({ shell, commands: table, baseFlags: [], bin: 'tzkv', version: '0' })]),
  ) as Record<Shell, string>;

  describe.each(SHELLS)('in %s', (shell, need) => {
    needsServer(need);
    test('offers the subcommands of a topic, their flags, and the aliases', async () => {
      const completer = await Completer.create({}, scripts);
      const complete = async (line: string) => (await completer.complete(shell, line)).candidates.sort();
      expect(await complete('tzkv ')).toEqual(['fetch', 'get', 'help', 'lock', 'version']);
      expect(await complete('tzkv lock ')).toEqual(['acquire', 'list', 'ls']);
      expect(await complete('tzkv lock acquire --')).toEqual(['--help', '--ttl']);
      expect(await complete('tzkv lock ls --')).toEqual(['--help']);
      expect(await complete('tzkv lock nightly ')).toEqual([]);
    });
  });
});
