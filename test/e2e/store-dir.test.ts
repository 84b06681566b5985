// The store directory (docs/cli.md "The store directory"): which commands may
// create one, what a missing or empty one means, and that making a directory
// always ends with an answer. Every line runs by both start paths.

import { symlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, test } from 'vitest';
import { START_PATHS, expectNoStack, storeDir, tempDir, tzkv } from './helpers.js';

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
