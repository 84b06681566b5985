// The names people type from other tools: `set` is put, `rm` and `delete` are
// del, `ls` and `list` are keys (the commands' `static aliases`). An alias is
// its command on both start paths, the help says which names a command has,
// and a mistyped alias gets "did you mean". test/e2e/fast-path.test.ts runs
// alias lines both ways too.

import { describe, expect, test } from 'vitest';
import { START_PATHS, storeDir, tzkv } from './helpers.js';

const ALIASES: Array<[alias: string, command: string]> = [
  ['set', 'put'],
  ['rm', 'del'],
  ['delete', 'del'],
  ['ls', 'keys'],
  ['list', 'keys'],
];

describe.each(START_PATHS)('aliases, by $path', ({ env }) => {
  test('each alias line does what its command line does', async () => {
    const dir = await storeDir();
    const run = async (...line: string[]) => {
      const result = await tzkv(line, { env: { ...env, TZKV_TRACE_STARTUP: '1' } });
      // The trace names the path taken: an alias costs what its command costs.
      const trace = /^tzkv start-up: .*\n/m;
      expect(result.stderr.includes('fast path'), line.join(' ')).toBe(env.TZKV_NO_FAST_PATH === undefined);
      return { exitCode: result.exitCode, stdout: result.stdout, stderr: result.stderr.replace(trace, '') };
    };
    // Two writes make two records: only the versions they print differ.
    const unversioned = (result: { stdout: string }) => ({ ...result, stdout: result.stdout.replace(/"version":"[^"]+"/, '"version":V') });
    expect(unversioned(await run('set', '-d', dir, 'a', '1', '--json'))).toEqual(unversioned(await run('put', '-d', dir, 'a', '1', '--json')));
    await run('set', '-d', dir, 'b', '2');
    await run('set', '-d', dir, '--', 'c', '-3');
    expect(await run('ls', '-d', dir)).toEqual({ exitCode: 0, stdout: 'a\nb\nc\n', stderr: '' });
    expect(await run('list', '-d', dir, 'b', '--json')).toEqual(await run('keys', '-d', dir, 'b', '--json'));
    expect(await run('get', '-d', dir, 'c')).toMatchObject({ exitCode: 0, stdout: '-3' });
    expect(await run('rm', '-d', dir, 'a', '--json')).toEqual({ exitCode: 0, stdout: '{"deleted":1}\n', stderr: '' });
    expect(await run('delete', '-d', dir, 'b', 'c', 'x', '--json')).toEqual({ exitCode: 0, stdout: '{"deleted":2}\n', stderr: '' });
    expect(await run('list', '-d', dir)).toEqual({ exitCode: 0, stdout: '', stderr: '' });
  });

  test('an alias on a store that is not there fails as its command does', async () => {
    const dir = await storeDir();
    for (const [alias, command, ...rest] of [
      ['ls', 'keys'],
      ['rm', 'del', 'k'],
    ]) {
      const byAlias = await tzkv([alias, '-d', dir, ...rest], { env });
      expect(byAlias.exitCode, alias).toBe(5);
      expect(byAlias).toEqual(await tzkv([command, '-d', dir, ...rest], { env }));
    }
  });
});

describe('aliases in the help', () => {
  test('tzkv --help lists each command once, with its other names', async () => {
    const run = await tzkv(['--help']);
    expect(run.exitCode).toBe(0);
    expect(run.stdout).toMatch(/^ {2}put +Store a value under a key\. \(also: set\)$/m);
    expect(run.stdout).toMatch(/^ {2}del +Delete keys\b.* \(also: rm, delete\)$/m);
    expect(run.stdout).toMatch(/^ {2}keys +List keys\b.* \(also: ls, list\)$/m);
    for (const [alias] of ALIASES) expect(run.stdout, alias).not.toMatch(new RegExp(`^ {2}${alias} `, 'm'));
  });

  test.each(ALIASES)('tzkv %s --help shows its usage, and tzkv %s --help lists it under ALIASES', async (alias, command) => {
    const byAlias = await tzkv([alias, '--help']);
    expect(byAlias.exitCode).toBe(0);
    expect(byAlias.stdout).toMatch(new RegExp(`USAGE\\n {2}\\$ tzkv ${alias} `));
    const own = await tzkv([command, '--help']);
    expect(own.stdout).toMatch(new RegExp(`\\nALIASES\\n(?: {2}\\$ tzkv \\S+\\n)*? {2}\\$ tzkv ${alias}\\n`));
    expect((await tzkv(['help', alias])).stdout).toBe(byAlias.stdout);
  });
});
