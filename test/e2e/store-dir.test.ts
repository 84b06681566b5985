// The store directory (docs/cli.md "The store directory"): which commands may
// create one, what a missing or empty one means, and that making a directory
// always ends with an answer. Every line runs by both start paths.

import { readdir, symlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { beforeEach, describe, expect, test } from 'vitest';
import { type Run, type RunOptions, START_PATHS, expectNoStack, storeDir, tempDir, tzkv as runTzkv } from './helpers.js';

/** Each test's own $XDG_DATA_HOME: a line that reaches the default store never touches the real one. */
let dataHome: string;
beforeEach(async () => {
  dataHome = await tempDir();
});

const tzkv = (args: string[], options: RunOptions = {}): Promise<Run> => runTzkv(args, { ...options, env: { XDG_DATA_HOME: dataHome, ...options.env } });

/** A hang is a failure: these paths made Node's recursive mkdir loop forever. */
const HANG_MS = 10_000;

/** Paths where no directory can be made, each for its own reason. */
async function unmakeable(): Promise<string[]> {
  const base = await tempDir();
  await writeFile(join(base, 'file'), 'a regular file');
  await symlink(join(base, 'nowhere'), join(base, 'dangling'));
  return ['/proc/x', '/proc/x/y', '/sys/x', join(base, 'file', 'sub'), join(base, 'dangling'), join(base, 'dangling', 'sub')];
}

describe.each(START_PATHS)('making a directory ends with a clear error, by $path', ({ env }) => {
  test('put -d PATH', async () => {
    for (const dir of await unmakeable()) {
      const run = await tzkv(['put', 'k', 'v', '-d', dir], { env, timeout: HANG_MS });
      expect(run.exitCode, dir).toBe(5);
      expect(run.stderr, dir).toMatch(new RegExp(`^tzkv: cannot create store directory ${dir}: \\S.*\\n$`));
      expectNoStack(run);
    }
  });

  test('the reason names what stopped it', async () => {
    const [proc, , , throughFile, dangling, throughDangling] = await unmakeable();
    const stderr = async (dir: string) => (await tzkv(['put', 'k', 'v', '-d', dir], { env, timeout: HANG_MS })).stderr;
    expect(await stderr(proc)).toMatch(/: \/proc does not take new directories/);
    expect(await stderr(throughFile)).toMatch(/: \S+\/file is not a directory\n$/);
    expect(await stderr(dangling)).toMatch(/: \S+\/dangling is a symbolic link to \S+\/nowhere, which does not exist\n$/);
    expect(await stderr(throughDangling)).toMatch(/: \S+\/dangling is a symbolic link to \S+\/nowhere, which does not exist\n$/);
  });

  test('replicate --to PATH', async () => {
    const dir = await storeDir();
    expect((await tzkv(['put', '-d', dir, 'k', 'v'], { env })).exitCode).toBe(0);
    for (const to of await unmakeable()) {
      const run = await tzkv(['replicate', '-d', dir, '--to', to], { env, timeout: HANG_MS });
      expect(run.exitCode, to).toBe(5);
      expect(run.stderr, to).toMatch(new RegExp(`^tzkv: cannot create follower directory ${to}: \\S.*\\n$`));
    }
  });

  test('a code cache directory that cannot be made: the command runs without a cache', async () => {
    const dir = await storeDir();
    for (const cache of await unmakeable()) {
      const run = await tzkv(['put', '-d', dir, 'k', cache], { env: { ...env, XDG_CACHE_HOME: cache }, timeout: HANG_MS });
      expect(run, cache).toMatchObject({ exitCode: 0, stderr: '' });
    }
    expect((await tzkv(['get', '-d', dir, 'k'])).stdout).toMatch(/dangling\/sub$/);
  });

  test('parents that can be made are made, one level at a time', async () => {
    const dir = join(await tempDir(), 'a', 'b', 'c');
    expect((await tzkv(['put', '-d', dir, 'k', 'v'], { env })).exitCode).toBe(0);
    expect((await tzkv(['get', '-d', dir, 'k'], { env })).stdout).toBe('v');
  });
});

/** Every command, with what it needs besides a store. */
const EVERY_COMMAND: string[][] = [
  ['put', 'k', 'v'],
  ['get', 'k'],
  ['del', 'k'],
  ['keys'],
  ['ttl', 'k'],
  ['ttl', 'k', '1h'],
  ['incr', 'k'],
  ['import', '-'],
  ['export'],
  ['stats'],
  ['compact'],
  ['verify'],
  ['verify', '--repair'],
  ['unlock'],
  ['unlock', '--force'],
  ['promote'],
  ['replicate', '--to', 'elsewhere'],
];

describe.each(START_PATHS)('an empty path is a usage error, never the default, by $path', ({ env }) => {
  test('-d "" and --dir= on every command', async () => {
    const cwd = await tempDir();
    for (const line of EVERY_COMMAND) {
      for (const dir of [['-d', ''], ['--dir=']]) {
        const run = await tzkv([...line, ...dir], { env, cwd, input: '{"key":"a","value":"b"}\n' });
        const what = `tzkv ${[...line, ...dir].join(' ')}`;
        expect(run.exitCode, what).toBe(2);
        expect(run.stderr, what).toMatch(/^tzkv: invalid --dir "": a store directory cannot be empty \(leave -d out for the default store\)\n/);
        expectNoStack(run);
      }
    }
    expect(await readdir(dataHome)).toEqual([]);
    expect(await readdir(cwd)).toEqual([]);
  });

  test('an empty --to, --out, --file or import FILE', async () => {
    const dir = await storeDir();
    expect((await tzkv(['put', '-d', dir, 'k', 'v'], { env })).exitCode).toBe(0);
    const cwd = await tempDir();
    const cases: Array<[string[], RegExp]> = [
      [['replicate', '-d', dir, '--to', ''], /^tzkv: invalid --to "": a follower directory cannot be empty\n/],
      [['export', '-d', dir, '-o', ''], /^tzkv: invalid --out "": a file name cannot be empty \("-" is stdout\)\n/],
      [['put', '-d', dir, 'k', '-f', ''], /^tzkv: invalid --file "": a file name cannot be empty \("-" is stdin\)\n/],
      [['import', '-d', dir, ''], /^tzkv: invalid FILE "": a file name cannot be empty \("-" is stdin\)\n/],
    ];
    for (const [line, message] of cases) {
      const run = await tzkv(line, { env, cwd });
      expect(run.exitCode, line.join(' ')).toBe(2);
      expect(run.stderr, line.join(' ')).toMatch(message);
    }
    expect(await readdir(cwd)).toEqual([]);
    expect(await readdir(dataHome)).toEqual([]);
    expect((await tzkv(['get', '-d', dir, 'k'], { env })).stdout).toBe('v');
  });
});
