// A full disk, for real: an 8 MiB tmpfs mounted by the test (the tests run as
// root). A write that does not fit fails with exit 5, and the process that
// failed undoes it before it exits (docs/design.md "Failures"): the disk's
// free space is back to what it was, verify is clean, every earlier key reads
// as before, and the next write works without help. Readers work on a full
// disk and on a read-only file system.
import { execFileSync } from 'node:child_process';
import { closeSync, mkdtempSync, openSync, readdirSync, rmSync, rmdirSync, statfsSync, writeFileSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { TestContext } from 'vitest';
import { expectNoStack, tempDir, tzkv } from './helpers.js';

const mnt = mkdtempSync(join(tmpdir(), 'tzkv-full-disk-'));
let refused = '';

beforeAll(() => {
  try {
    execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=8m', 'tmpfs', mnt], { stdio: 'pipe' });
  } catch (err) {
    refused = `mounting an 8 MiB tmpfs was refused (${String((err as { stderr?: Buffer }).stderr ?? err).trim()}): these tests need root and tmpfs`;
  }
});

afterAll(() => {
  if (!refused) execFileSync('umount', ['-l', mnt], { stdio: 'pipe' });
  rmdirSync(mnt);
});

afterEach(() => {
  if (refused) return;
  for (const name of readdirSync(mnt)) rmSync(join(mnt, name), { recursive: true, force: true });
});

/** Skips the test, saying why, where the tmpfs could not be mounted. */
function needsTmpfs(ctx: TestContext): void {
  if (refused) ctx.skip(refused);
}

/** Free bytes on the tmpfs, as df shows them. */
function free(): number {
  const s = statfsSync(mnt);
  return s.bavail * s.bsize;
}

/** JSON lines of `count` records `${prefix}N` → a value of `size` bytes that names its version. */
async function records(count: number, size: number, version: string): Promise<string> {
  const file = join(await tempDir(), `records-${version}.jsonl`);
  const lines: string[] = [];
  for (let i = 0; i < count; i++) lines.push(JSON.stringify({ key: `key${i}`, value: `${version}:${'v'.repeat(size)}` }));
  writeFileSync(file, `${lines.join('\n')}\n`);
  return file;
}

/** Fills the tmpfs with a file until a write fails; returns its path. */
function fill(): string {
  const path = join(mnt, 'filler');
  const fd = openSync(path, 'w');
  const chunk = Buffer.alloc(64 * 1024, 1);
  try {
    for (;;) writeSync(fd, chunk);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOSPC') throw err;
  } finally {
    closeSync(fd);
  }
  for (let size = 32 * 1024; size >= 1; size >>= 1) {
    try {
      writeFileSync(path, Buffer.alloc(size), { flag: 'a' });
    } catch {
      // that much no longer fits
    }
  }
  return path;
}

/** The refused write cost nothing: free space as before, verify clean, `keys` read back as `expected`. */
async function expectAsBefore(dir: string, freeBefore: number, expected: Record<string, string>): Promise<void> {
  expect(free(), 'free bytes on the disk after the failed write').toBe(freeBefore);
  const verify = await tzkv(['verify', '-d', dir]);
  expect(verify.exitCode, verify.stdout + verify.stderr).toBe(0);
  expect(verify.stdout, 'no warning either').not.toMatch(/warning/);
  for (const [key, value] of Object.entries(expected)) {
    const get = await tzkv(['get', key, '-d', dir]);
    expect(get.exitCode, `get ${key}: ${get.stderr}`).toBe(0);
    expect(get.stdout.startsWith(value), `get ${key}: ${get.stdout.slice(0, 40)}`).toBe(true);
  }
}

/** The next write works without help. */
async function expectWritable(dir: string): Promise<void> {
  const put = await tzkv(['put', 'after', 'works', '-d', dir]);
  expect(put.exitCode, put.stderr).toBe(0);
  expect((await tzkv(['get', 'after', '-d', dir])).stdout).toBe('works');
  expect((await tzkv(['verify', '-d', dir])).exitCode).toBe(0);
}

describe('a write that does not fit on the disk', () => {
  it('an import larger than the free space: exit 5, and the store and the disk are as before', async (ctx) => {
    needsTmpfs(ctx);
    const dir = join(mnt, 'store');
    expect((await tzkv(['put', 'a', 'one', '-d', dir])).exitCode).toBe(0);
    expect((await tzkv(['put', 'b', 'two', '-d', dir])).exitCode).toBe(0);
    const input = await records(100_000, 60, 'big');
    const before = free();
    const run = await tzkv(['import', input, '-d', dir]);
    expect(run.exitCode, run.stderr).toBe(5);
    expect(run.stderr).toMatch(/no space left on device/);
    expectNoStack(run);
    await expectAsBefore(dir, before, { a: 'one', b: 'two' });
    expect((await tzkv(['get', 'key1', '-d', dir])).exitCode, 'nothing of the import').toBe(1);
    await expectWritable(dir);
  });

  it('a put of a value larger than the free space: the same', async (ctx) => {
    needsTmpfs(ctx);
    const dir = join(mnt, 'store');
    expect((await tzkv(['put', 'a', 'one', '-d', dir])).exitCode).toBe(0);
    const big = join(await tempDir(), 'big');
    writeFileSync(big, Buffer.alloc(9 * 1024 * 1024, 7));
    const before = free();
    const run = await tzkv(['put', 'big', '--file', big, '-d', dir]);
    expect(run.exitCode, run.stderr).toBe(5);
    expect(run.stderr).toMatch(/no space left on device/);
    expectNoStack(run);
    await expectAsBefore(dir, before, { a: 'one' });
    expect((await tzkv(['get', 'big', '-d', dir])).exitCode).toBe(1);
    await expectWritable(dir);
  });

  it('a compaction with too little space for its output: the same, its temporary files gone', async (ctx) => {
    needsTmpfs(ctx);
    const dir = join(mnt, 'store');
    expect((await tzkv(['import', await records(20_000, 100, 'first'), '-d', dir])).exitCode).toBe(0);
    expect((await tzkv(['import', await records(20_000, 100, 'second'), '-d', dir])).exitCode).toBe(0);
    const files = readdirSync(dir).sort();
    const before = free();
    const run = await tzkv(['compact', '-d', dir]);
    expect(run.exitCode, run.stderr).toBe(5);
    expect(run.stderr).toMatch(/no space left on device/);
    expectNoStack(run);
    expect(readdirSync(dir).sort(), 'the files of the store, no more').toEqual(files);
    await expectAsBefore(dir, before, { key0: 'second:', key19999: 'second:' });
    await expectWritable(dir);
  });

  it('a disk too full for the lock file: a clear exit 5 naming the cause; once space is freed, the next write works', async (ctx) => {
    needsTmpfs(ctx);
    const dir = join(mnt, 'store');
    expect((await tzkv(['put', 'a', 'one', '-d', dir])).exitCode).toBe(0);
    const filler = fill();
    const files = readdirSync(dir).sort();
    for (const args of [['put', 'b', 'two'], ['del', 'a'], ['incr', 'n']]) {
      const run = await tzkv([...args, '-d', dir]);
      expect(run.exitCode, `${args[0]}: ${run.stderr}`).toBe(5);
      expect(run.stderr).toMatch(/writer lock/);
      expect(run.stderr).toMatch(/no space left on device/);
      expectNoStack(run);
      expect(readdirSync(dir).sort(), `${args[0]} left nothing behind`).toEqual(files);
    }
    rmSync(filler);
    await expectWritable(dir);
    expect((await tzkv(['get', 'a', '-d', dir])).stdout).toBe('one');
  });
});

describe('readers on a disk that cannot be written', () => {
  /** get, keys, export, stats and verify, each exit 0 with what the store holds. */
  async function expectReadable(dir: string): Promise<void> {
    expect((await tzkv(['get', 'a', '-d', dir])).stdout).toBe('one');
    expect((await tzkv(['keys', '-d', dir])).stdout).toBe('a\nb\n');
    const exported = await tzkv(['export', '-d', dir]);
    expect(exported.exitCode, exported.stderr).toBe(0);
    expect(exported.stdout.trim().split('\n')).toHaveLength(2);
    const stats = await tzkv(['stats', '-d', dir]);
    expect(stats.exitCode, stats.stderr).toBe(0);
    const verify = await tzkv(['verify', '-d', dir]);
    expect(verify.exitCode, verify.stderr).toBe(0);
  }

  it('a full disk', async (ctx) => {
    needsTmpfs(ctx);
    const dir = join(mnt, 'store');
    expect((await tzkv(['put', 'a', 'one', '-d', dir])).exitCode).toBe(0);
    expect((await tzkv(['put', 'b', 'two', '-d', dir])).exitCode).toBe(0);
    fill();
    await expectReadable(dir);
  });

  it('a read-only file system', async (ctx) => {
    needsTmpfs(ctx);
    const dir = join(mnt, 'store');
    expect((await tzkv(['put', 'a', 'one', '-d', dir])).exitCode).toBe(0);
    expect((await tzkv(['put', 'b', 'two', '-d', dir])).exitCode).toBe(0);
    execFileSync('mount', ['-o', 'remount,ro', mnt]);
    try {
      await expectReadable(dir);
      const put = await tzkv(['put', 'c', 'three', '-d', dir]);
      expect(put.exitCode).toBe(5);
      expect(put.stderr).toMatch(/read-only file system/);
    } finally {
      execFileSync('mount', ['-o', 'remount,rw', mnt]);
    }
  });
});
