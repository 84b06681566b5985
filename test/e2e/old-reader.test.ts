// The release users already have installed (test/fixtures/release-v1: the fast
// path as of format version 1) against the stores this tzkv writes
// (docs/format.md "Format version 2"): a plain store stays version 1, so the
// old release keeps reading and writing it, and each reads what the other wrote.
import { execa } from 'execa';
import { join } from 'node:path';
import { describe, expect, test } from 'vitest';
import { NODE, ROOT, childEnv, storeDir, tzkv } from './helpers.js';

const OLD_BIN = join(ROOT, 'test', 'fixtures', 'release-v1', 'bin', 'run.js');

/** Runs the old release's `tzkv ...args`. */
async function oldTzkv(args: string[]): Promise<{ exitCode: number; stdout: string; stderr: string }> {
  const r = await execa(NODE, [OLD_BIN, ...args], { reject: false, env: childEnv(), extendEnv: false, input: '', stripFinalNewline: false });
  return { exitCode: r.exitCode ?? -1, stdout: String(r.stdout), stderr: String(r.stderr) };
}

describe('the last format-1 release and this tzkv share plain stores', () => {
  test('a store the old release wrote is read and written here, and the old release reads what this tzkv wrote', async () => {
    const dir = await storeDir();
    expect((await oldTzkv(['put', '-d', dir, 'old', 'written by the old release'])).exitCode).toBe(0);
    expect(await tzkv(['get', '-d', dir, 'old'])).toMatchObject({ exitCode: 0, stdout: 'written by the old release' });
    expect((await tzkv(['put', '-d', dir, 'new', 'written by this tzkv'])).exitCode).toBe(0);
    expect((await tzkv(['del', '-d', dir, 'old'])).exitCode).toBe(0);
    expect(await oldTzkv(['get', '-d', dir, 'new'])).toMatchObject({ exitCode: 0, stdout: 'written by this tzkv' });
    expect((await oldTzkv(['get', '-d', dir, 'old'])).exitCode).toBe(1);
    expect(await oldTzkv(['keys', '-d', dir])).toMatchObject({ exitCode: 0, stdout: 'new\n' });
  });
});
