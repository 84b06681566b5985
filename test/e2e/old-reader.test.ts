// The release users already have installed (test/fixtures/release-v1: the fast
// path as of format version 1) against the stores this tzkv writes
// (docs/format.md "Format version 2"): a plain store stays version 1, so the
// old release keeps reading and writing it, and each reads what the other wrote.
import { execa } from 'execa';
import { readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, test } from 'vitest';
import { NODE, ROOT, childEnv, storeDir, tempDir, tzkv } from './helpers.js';

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

/** Every file of dir and its bytes. */
function snapshot(dir: string): Record<string, string> {
  return Object.fromEntries(readdirSync(dir).map((f) => [f, readFileSync(join(dir, f)).toString('base64')]));
}

describe('the last format-1 release refuses a version 2 store with VERSION and changes nothing', () => {
  for (const kind of [['--encrypt'], ['--compress'], ['--encrypt', '--compress']]) {
    test(`init ${kind.join(' ')}`, async () => {
      const dir = await storeDir();
      const keyFile = join(await tempDir(), 'key');
      writeFileSync(keyFile, Buffer.alloc(32, 7).toString('base64'));
      const env = { TZKV_KEY_FILE: keyFile };
      expect((await tzkv(['init', '-d', dir, ...kind], { env })).exitCode).toBe(0);
      expect((await tzkv(['put', '-d', dir, 'k', 'v'], { env })).exitCode).toBe(0);
      const before = snapshot(dir);
      for (const args of [['get', 'k'], ['put', 'k2', 'v2'], ['del', 'k'], ['keys']]) {
        const run = await oldTzkv([...args, '-d', dir]);
        expect(run.exitCode, `old tzkv ${args.join(' ')}: ${run.stderr}`).toBe(5);
        expect(run.stderr).toContain('format version 2 is newer than this tzkv understands (1)');
        expect(run.stdout).toBe('');
      }
      expect(snapshot(dir)).toEqual(before);
      expect(await tzkv(['get', '-d', dir, 'k'], { env })).toMatchObject({ exitCode: 0, stdout: 'v' });
    });
  }
});
