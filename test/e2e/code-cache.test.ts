// The V8 code cache (src/cli/code-cache.ts) lives only in a private directory
// of the user's: anything planted where it could be written by someone else,
// or that is not the cache it claims to be, is ignored.

import { chmod, mkdir, readFile, readdir, rm, stat, symlink, utimes, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, test } from 'vitest';
import { storeDir, tempDir, tzkv } from './helpers.js';

async function prepared() {
  const dir = await storeDir();
  await tzkv(['put', '-d', dir, 'k', 'v'], { env: { TZKV_NO_CODE_CACHE: '1' } });
  const cacheHome = await tempDir();
  const get = (env: Record<string, string> = {}) => tzkv(['get', '-d', dir, 'k'], { env: { XDG_CACHE_HOME: cacheHome, ...env } });
  return { cacheHome, cacheDir: join(cacheHome, 'tzkv'), get };
}

const files = async (dir: string) => (await readdir(dir)).filter((name) => name.endsWith('.v8cache'));

describe('code cache', () => {
  test('is made under $XDG_CACHE_HOME/tzkv, private, and reused', async () => {
    const { cacheDir, get } = await prepared();
    expect((await get()).stdout).toBe('v');
    expect((await stat(cacheDir)).mode & 0o777).toBe(0o700);
    const [name] = await files(cacheDir);
    expect(name).toMatch(/^bundle-.+\.v8cache$/);
    const first = await stat(join(cacheDir, name));
    expect(first.mode & 0o777).toBe(0o600);
    expect((await get()).stdout).toBe('v');
    const second = await stat(join(cacheDir, name));
    expect(second.mtimeMs).toBe(first.mtimeMs);
    expect(await files(cacheDir)).toEqual([name]);
  });

  test('a garbage cache file is rejected by V8 and replaced', async () => {
    const { cacheDir, get } = await prepared();
    await get();
    const [name] = await files(cacheDir);
    await writeFile(join(cacheDir, name), Buffer.alloc(4096, 7), { mode: 0o600 });
    expect(await get()).toMatchObject({ exitCode: 0, stdout: 'v', stderr: '' });
    expect((await readFile(join(cacheDir, name))).equals(Buffer.alloc(4096, 7))).toBe(false);
  });

  test('a cache directory others can write to is neither read nor written', async () => {
    const { cacheDir, get } = await prepared();
    await get();
    const [name] = await files(cacheDir);
    await chmod(cacheDir, 0o777);
    const planted = Buffer.alloc(4096, 9);
    await writeFile(join(cacheDir, name), planted);
    expect(await get()).toMatchObject({ exitCode: 0, stdout: 'v' });
    expect((await readFile(join(cacheDir, name))).equals(planted)).toBe(true);
  });

  test('a cache file others can write to, or a link, is not read', async () => {
    const { cacheDir, get } = await prepared();
    await get();
    const [name] = await files(cacheDir);
    const path = join(cacheDir, name);
    await chmod(path, 0o666);
    expect(await get()).toMatchObject({ exitCode: 0, stdout: 'v' });
    expect((await stat(path)).mode & 0o777).toBe(0o600);

    const elsewhere = join(await tempDir(), 'planted');
    await writeFile(elsewhere, Buffer.alloc(4096, 3));
    await rm(path);
    await symlink(elsewhere, path);
    expect(await get()).toMatchObject({ exitCode: 0, stdout: 'v' });
    expect((await readFile(elsewhere)).equals(Buffer.alloc(4096, 3))).toBe(true);
  });

  test('caches of other builds stay until they are a month old', async () => {
    const { cacheDir, get } = await prepared();
    await get();
    const [name] = await files(cacheDir);
    // bundle-<node version>-<arch>-<build>.v8cache
    const prefix = `${name.split('-').slice(0, 3).join('-')}-`;
    const recent = `${prefix}recentbuild-1-1.v8cache`;
    const old = `${prefix}oldbuild-1-1.v8cache`;
    for (const other of [recent, old]) await writeFile(join(cacheDir, other), 'x', { mode: 0o600 });
    const monthAgo = new Date(Date.now() - 40 * 24 * 3600 * 1000);
    await utimes(join(cacheDir, old), monthAgo, monthAgo);
    await rm(join(cacheDir, name));
    expect((await get()).stdout).toBe('v');
    expect((await files(cacheDir)).sort()).toEqual([name, recent].sort());
  });

  test('beyond eight caches of other builds of the same bundle, the oldest go; other bundles\' stay', async () => {
    const { cacheDir, get } = await prepared();
    await get();
    const [name] = await files(cacheDir);
    // bundle-<node version>-<arch>-<bundle>-<build>.v8cache; `get` runs the fast bundle.
    const parts = name.split('-');
    expect(parts[3]).toBe('fast');
    const prefix = `${parts.slice(0, 3).join('-')}-`;
    const sameBundle = Array.from({ length: 10 }, (_, i) => `${prefix}fast-build${i}-1-1.v8cache`);
    const otherBundle = Array.from({ length: 10 }, (_, i) => `${prefix}tzkv-build${i}-1-1.v8cache`);
    for (const [i, other] of [...sameBundle, ...otherBundle].entries()) {
      await writeFile(join(cacheDir, other), 'x', { mode: 0o600 });
      // build0 is the newest of each bundle, build9 the oldest; all within the month.
      const at = new Date(Date.now() - ((i % 10) + 1) * 3600 * 1000);
      await utimes(join(cacheDir, other), at, at);
    }
    await rm(join(cacheDir, name));
    expect((await get()).stdout).toBe('v');
    expect((await files(cacheDir)).sort()).toEqual([name, ...sameBundle.slice(0, 8), ...otherBundle].sort());
  });

  test('a relative XDG_CACHE_HOME is ignored for ~/.cache; TZKV_NO_CODE_CACHE=1 makes none', async () => {
    const { cacheHome, get } = await prepared();
    const home = join(cacheHome, 'home');
    await mkdir(home);
    expect((await get({ XDG_CACHE_HOME: 'relative', HOME: home })).stdout).toBe('v');
    expect(await files(join(home, '.cache', 'tzkv'))).toHaveLength(1);
    const other = join(cacheHome, 'none');
    expect((await get({ XDG_CACHE_HOME: other, TZKV_NO_CODE_CACHE: '1' })).stdout).toBe('v');
    await expect(stat(other)).rejects.toThrow();
  });
});
