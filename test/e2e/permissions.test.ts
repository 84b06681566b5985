// Stores are private by default (docs/design.md "Permissions"), as etcd keeps
// its data directory and ssh and gpg their files: a store directory tzkv
// creates is 0700 and its files 0600; --mode (or TZKV_MODE) shares one with
// a group; a directory others may write to is warned about on open and by
// verify; a symlink planted at a temp file's path is never written through.
import { chmodSync, readFileSync, readdirSync, statSync, symlinkSync, writeFileSync, lstatSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { storeDir, tempDir, tzkv, tzkvJson } from './helpers.js';

const modeOf = (path: string) => statSync(path).mode & 0o7777;
/** Every file of a store directory with its mode, octal. */
const fileModes = (dir: string) => Object.fromEntries(readdirSync(dir).map((name) => [name, modeOf(join(dir, name)).toString(8)]));

describe('a store tzkv creates', () => {
  for (const [path, env] of [
    ['the fast path', {}],
    ['oclif', { TZKV_NO_FAST_PATH: '1' }],
  ] as Array<[string, Record<string, string>]>) {
    it(`is private: the directory 0700, its files 0600 (${path})`, async () => {
      const dir = await storeDir();
      expect((await tzkv(['put', 'k', 'v', '-d', dir], { env })).exitCode).toBe(0);
      expect(modeOf(dir).toString(8)).toBe('700');
      const modes = fileModes(dir);
      expect(Object.keys(modes)).toContain('MANIFEST');
      for (const mode of Object.values(modes)) expect(mode).toBe('600');
    });

    it(`--mode 0750 shares it with a group: files 0640 (${path})`, async () => {
      const dir = await storeDir();
      expect((await tzkv(['put', 'k', 'v', '-d', dir, '--mode', '0750'], { env })).exitCode).toBe(0);
      expect(modeOf(dir).toString(8)).toBe('750');
      for (const mode of Object.values(fileModes(dir))) expect(mode).toBe('640');
      // Files created later, by a command without --mode, follow the directory.
      expect((await tzkv(['incr', 'n', '-d', dir], { env })).exitCode).toBe(0);
      expect((await tzkv(['compact', '-d', dir])).exitCode).toBe(0);
      for (const mode of Object.values(fileModes(dir))) expect(mode).toBe('640');
    });
  }

  it('TZKV_MODE does the same for import; 2770 lets the group write, whatever the umask (and is warned about)', async () => {
    const dir = await storeDir();
    const run = await tzkv(['import', '-d', dir, '-', '--format', 'tsv'], { input: 'a\t1\n', env: { TZKV_MODE: '2770' } });
    expect(run.exitCode, run.stderr).toBe(0);
    expect(modeOf(dir).toString(8)).toBe('2770');
    for (const mode of Object.values(fileModes(dir))) expect(mode).toBe('660');
    expect((await tzkv(['get', 'a', '-d', dir])).stderr).toMatch(/warning: .* writable by group \(mode 02770\)/);
    chmodSync(dir, 0o750); // for the verify after the test, which must be silent
  });

  it('replicate --to creates a private follower, or one of --mode', async () => {
    const dir = await storeDir();
    await tzkv(['put', 'k', 'v', '-d', dir]);
    const root = await tempDir();
    expect((await tzkv(['replicate', '-d', dir, '--to', join(root, 'private')])).exitCode).toBe(0);
    expect(modeOf(join(root, 'private')).toString(8)).toBe('700');
    for (const mode of Object.values(fileModes(join(root, 'private')))) expect(mode).toBe('600');
    expect((await tzkv(['replicate', '-d', dir, '--to', join(root, 'shared'), '--mode', '750'])).exitCode).toBe(0);
    expect(modeOf(join(root, 'shared')).toString(8)).toBe('750');
  });

  it('a mode the owner could not use, or not octal: exit 2 naming it, nothing created', async () => {
    const root = await tempDir();
    for (const mode of ['0644', '0777x', '4700']) {
      const run = await tzkv(['put', 'k', 'v', '-d', join(root, 'store'), '--mode', mode]);
      expect(run.exitCode, mode).toBe(2);
      expect(run.stderr, mode).toMatch(/mode/);
    }
    expect(readdirSync(root)).toEqual([]);
  });
});

describe('a store directory others may write to', () => {
  it('is warned about on stderr when opened, and by verify; everything still works', async () => {
    const dir = await storeDir();
    await tzkv(['put', 'k', 'v', '-d', dir]);
    chmodSync(dir, 0o777);
    try {
      const get = await tzkv(['get', 'k', '-d', dir]);
      expect(get.exitCode).toBe(0);
      expect(get.stdout).toBe('v');
      expect(get.stderr).toMatch(/^tzkv: warning: store directory .* is writable by group and others \(mode 0777\)/);
      const put = await tzkv(['put', 'k2', 'v', '-d', dir, '--json']);
      expect(put.exitCode).toBe(0);
      expect(put.stderr).toMatch(/warning/);
      const { run, json } = await tzkvJson<{ ok: boolean; warnings: Array<{ kind: string; message: string }> }>(['verify', '-d', dir]);
      expect(run.exitCode).toBe(0);
      expect(json.ok).toBe(true);
      expect(json.warnings).toContainEqual(expect.objectContaining({ kind: 'permissions', message: expect.stringMatching(/writable by group and others/) }));
    } finally {
      chmodSync(dir, 0o700);
    }
    expect((await tzkv(['get', 'k', '-d', dir])).stderr).toBe('');
  });
});

describe('a symlink planted at a temp file path', () => {
  it('is not followed: the write goes to a new file, the link target is untouched', async () => {
    const dir = await storeDir();
    await tzkv(['put', 'k', 'v', '-d', dir]);
    const victim = join(await tempDir(), 'victim');
    writeFileSync(victim, 'precious');
    symlinkSync(victim, join(dir, 'MANIFEST.tmp'));
    // Enough to flush the tail into an index run: the manifest is replaced through MANIFEST.tmp.
    const lines = Array.from({ length: 20_000 }, (_, i) => `key${i}\t${'x'.repeat(60)}`).join('\n');
    const run = await tzkv(['import', '-d', dir, '-', '--format', 'tsv'], { input: `${lines}\n` });
    expect(run.exitCode, run.stderr).toBe(0);
    expect(readFileSync(victim, 'utf8')).toBe('precious');
    expect(lstatSync(join(dir, 'MANIFEST')).isSymbolicLink()).toBe(false);
    expect(readdirSync(dir)).not.toContain('MANIFEST.tmp');
    expect((await tzkv(['get', 'key7', '-d', dir])).stdout).toBe('x'.repeat(60));
  });
});
