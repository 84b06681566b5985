// A word that starts with "-" but is none of the command's flags: oclif glues
// a short flag onto the rest of the word (`-bugfix` = `-b ugfix`), so such a
// word is refused (exit 2) with the line that takes it as an argument.
// Every line runs by both start paths, in an empty directory that must stay empty.

import { readdir } from 'node:fs/promises';
import { describe, expect, test } from 'vitest';
import { START_PATHS, expectNoStack, storeDir, tempDir, tzkv } from './helpers.js';

describe.each(START_PATHS)('words that look like flags, by $path', ({ env }) => {
  /** Runs a line in an empty directory, with an empty default store location; both must stay empty. */
  async function refused(line: string[]): Promise<string> {
    const cwd = await tempDir();
    const home = await tempDir();
    const run = await tzkv(line, { env: { ...env, XDG_DATA_HOME: home }, cwd });
    const what = `tzkv ${line.join(' ')}`;
    expect(run.exitCode, what).toBe(2);
    expect(run.stdout, what).toBe('');
    expectNoStack(run);
    expect(await readdir(cwd), what).toEqual([]);
    expect(await readdir(home), what).toEqual([]);
    return run.stderr;
  }

  test('put note "-bugfix release" is refused, and the message gives the line that stores it', async () => {
    expect(await refused(['put', 'note', '-bugfix release'])).toBe(
      'tzkv: "-bugfix release" would be read as flags (-b "ugfix release"); an argument that starts with "-" goes after "--": tzkv put note -- "-bugfix release"; for the flag, write -b "ugfix release"\n',
    );
    const dir = await storeDir();
    expect((await tzkv(['put', '-d', dir, 'note', '--', '-bugfix release'], { env })).exitCode).toBe(0);
    expect(await tzkv(['get', '-d', dir, 'note'], { env })).toMatchObject({ exitCode: 0, stdout: '-bugfix release' });
  });

  test('put -dash v makes no store in ./ash', async () => {
    expect(await refused(['put', '-dash', 'v'])).toBe(
      'tzkv: -dash would be read as flags (-d ash); an argument that starts with "-" goes after "--": tzkv put -- -dash v; for the flag, write -d ash\n',
    );
  });

  test('every short flag that takes a value, glued onto one, on every command that has it', async () => {
    const lines: string[][] = [
      ['put', 'k', 'v', '-bjobs'],
      ['get', '-busers', 'k'],
      ['del', 'k', '-bx'],
      ['keys', '-bx'],
      ['ttl', 'k', '-bx'],
      ['import', '-', '-bx'],
      ['export', '-bx'],
      ['keys', '-n5'],
      ['put', 'k', '-fvalue.txt'],
      ['export', '-oout.jsonl'],
      ['put', 'k', 'v', '-d=store'],
      ...['get k', 'put k v', 'del k', 'keys', 'ttl k', 'incr k', 'import -', 'export', 'stats', 'compact', 'verify', 'unlock', 'promote', 'replicate --to f'].map((line) => [...line.split(' '), '-dstore']),
    ];
    for (const line of lines) expect(await refused(line), line.join(' ')).toMatch(/^tzkv: \S+ would be read as flags \(-[bdnfo] \S+\); an argument that starts with "-" goes after "--": tzkv /);
  });

  test('a word that is no flag at all gets the same advice', async () => {
    expect(await refused(['put', 'k', '-x'])).toBe('tzkv: -x is not a flag of tzkv put; an argument that starts with "-" goes after "--": tzkv put k -- -x\n');
    expect(await refused(['incr', 'stock', '-3', '--lock-timeout', '1s'])).toBe(
      'tzkv: -3 is not a flag of tzkv incr; an argument that starts with "-" goes after "--": tzkv incr --lock-timeout 1s stock -- -3\n',
    );
  });

  test('--json: the error document', async () => {
    const cwd = await tempDir();
    const run = await tzkv(['put', 'note', '-bugfix', '--json'], { env, cwd });
    expect(run.exitCode).toBe(2);
    expect(JSON.parse(run.stdout).error).toMatchObject({ code: 'INVALID_ARGUMENT', exitCode: 2 });
    expect(await readdir(cwd)).toEqual([]);
  });

  test('after "--" anything is an argument; a flag value may start with "-"', async () => {
    const dir = await storeDir();
    expect((await tzkv(['put', '-d', dir, '--', '-k', '-v'], { env })).exitCode).toBe(0);
    expect((await tzkv(['get', '-d', dir, '--', '-k'], { env })).stdout).toBe('-v');
    expect((await tzkv(['put', '-d', dir, '-b', '-weird', 'k', 'v'], { env })).exitCode).toBe(0);
    expect((await tzkv(['keys', '-d', dir], { env })).stdout).toBe('-k\n-weird:k\n');
    expect((await tzkv(['incr', '-d', dir, 'n', '--', '-3'], { env })).stdout).toBe('-3\n');
    expect((await tzkv(['set', '-d', dir, '--', '-5', '-5'], { env })).exitCode).toBe(0);
    expect((await tzkv(['incr', '-d', dir, '--', '-5', '-5'], { env })).stdout).toBe('-10\n');
    expect((await tzkv(['ttl', '-d', dir, '--', '-k', '1h'], { env })).stdout).toBe('3600\n');
    expect((await tzkv(['rm', '-d', dir, '--json', '--', '-k', '-5'], { env })).stdout).toBe('{"deleted":2}\n');
  });

  test('put --help shows "--" for a value that starts with "-"', async () => {
    const help = await tzkv(['put', '--help'], { env });
    expect(help.exitCode).toBe(0);
    expect(help.stdout).toContain('tzkv put note -- "-bugfix release"');
  });

  test('every command with a key or a value says in --help where one that starts with "-" goes', async () => {
    const lines: Record<string, RegExp[]> = {
      put: [/KEY +The key .*after "--" when it starts with "-"/, /\[VALUE\] +The value .*after "--" when it starts with "-"/],
      get: [/\[KEY\.\.\.\] +Keys to read .*after "--" when one\s+starts with "-"/, /\$ tzkv get -- -draft/],
      ttl: [/KEY +The key .*after "--" when it starts with "-"/],
      incr: [/KEY +The key .*after "--" when it starts with "-"/, /\[BY\] +How much to add .*after "--" when negative/, /\$ tzkv incr stock:widget -- -3/],
      del: [/\[KEY\.\.\.\] +Keys to delete .*after\s+"--" when one starts with "-"/, /\$ tzkv del -- -key-starting-with-a-dash/],
    };
    for (const [command, expected] of Object.entries(lines)) {
      const help = await tzkv([command, '--help'], { env });
      expect(help.exitCode, command).toBe(0);
      for (const line of expected) expect(help.stdout, command).toMatch(line);
    }
  });
});
