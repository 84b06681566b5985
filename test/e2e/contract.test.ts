// The contract scripts rely on: exit codes, one JSON document under --json,
// flags anywhere, messages on stderr without stack traces, colour and tables
// only for a terminal.

import { execa } from 'execa';
import { mkdir, readFile, readdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, test } from 'vitest';
import { BIN, NODE, childEnv, expectNoStack, storeDir, tempDir, tzkv, tzkvJson } from './helpers.js';

/** A second process that holds the store's writer lock (docs/format.md "LOCK") until its stdin closes. */
function holdLock(dir: string) {
  const script = `
const fs = require('fs'), os = require('os');
const dir = process.argv[1];
const stat = fs.readFileSync('/proc/self/stat', 'latin1');
const startTime = stat.slice(stat.lastIndexOf(')') + 2).split(' ')[19];
const holder = { pid: process.pid, host: os.hostname(), startTime, acquiredAt: new Date().toISOString(), command: 'test holder', token: 'e2e' };
fs.writeFileSync(dir + '/LOCK', JSON.stringify(holder) + '\\n', { flag: 'wx' });
process.stdout.write('held\\n');
process.stdin.on('end', () => fs.unlinkSync(dir + '/LOCK'));
process.stdin.resume();`;
  const child = execa(process.execPath, ['-e', script, dir], { stdin: 'pipe', reject: false });
  const held = new Promise<void>((resolve) => child.stdout!.once('data', () => resolve()));
  return { child, held };
}

describe('exit codes', () => {
  test('0 success, 1 not found, 2 usage, 5 I/O', async () => {
    const dir = await storeDir();
    expect((await tzkv(['put', '-d', dir, 'k', 'v'])).exitCode).toBe(0);
    expect((await tzkv(['get', '-d', dir, 'missing'])).exitCode).toBe(1);
    for (const args of [['get', '-d', dir], ['put', '-d', dir, 'k', 'v', '--no-such-flag'], ['no-such-command'], ['put', '-d', dir, 'k', 'v', '--ttl', 'abc']]) {
      const run = await tzkv(args);
      expect(run.exitCode, args.join(' ')).toBe(2);
      expect(run.stdout).toBe('');
      expect(run.stderr).toMatch(/^tzkv: /);
      expectNoStack(run);
    }
    const file = join(await tempDir(), 'a-file');
    await writeFile(file, 'not a store');
    expect((await tzkv(['get', '-d', file, 'k'])).exitCode).toBe(5);
  });

  test('3 when another process holds the writer lock; reads go on; the write succeeds once it is released', async () => {
    const dir = await storeDir();
    await tzkv(['put', '-d', dir, 'k', 'before']);
    const { child, held } = holdLock(dir);
    await held;
    try {
      const started = Date.now();
      const locked = await tzkv(['put', '-d', dir, 'k', 'after', '--lock-timeout', '300ms']);
      expect(locked.exitCode).toBe(3);
      expect(Date.now() - started).toBeGreaterThanOrEqual(300);
      expect(locked.stderr).toContain(`pid ${child.pid}`);
      expectNoStack(locked);
      const fromEnv = await tzkvJson<{ error: { code: string } }>(['del', '-d', dir, 'k'], { env: { TZKV_LOCK_TIMEOUT: '0' } });
      expect(fromEnv.run.exitCode).toBe(3);
      expect(fromEnv.json.error.code).toBe('LOCKED');
      expect((await tzkv(['get', '-d', dir, 'k'])).stdout).toBe('before');
      expect((await tzkv(['put', '-d', dir, 'k', 'v', '--lock-timeout', 'soon'])).exitCode).toBe(2);
    } finally {
      child.stdin!.end();
      await child;
    }
    expect((await tzkv(['put', '-d', dir, 'k', 'after', '--lock-timeout', '0'])).exitCode).toBe(0);
    expect((await tzkv(['get', '-d', dir, 'k'])).stdout).toBe('after');
  });

  test('4 for corruption', async () => {
    const dir = join(await tempDir(), 'store');
    await tzkv(['put', '-d', dir, 'k', 'v']);
    await writeFile(join(dir, 'MANIFEST'), 'garbage');
    const run = await tzkv(['get', '-d', dir, 'k']);
    expect(run.exitCode).toBe(4);
    expectNoStack(run);
  });
});

describe('--json', () => {
  test('every command prints exactly one JSON document, on success and on failure', async () => {
    const dir = await storeDir();
    const runs = [
      ['put', '-d', dir, 'k', 'v'],
      ['get', '-d', dir, 'k'],
      ['get', '-d', dir, 'missing'],
      ['ttl', '-d', dir, 'k'],
      ['keys', '-d', dir],
      ['export', '-d', dir],
      ['stats', '-d', dir],
      ['verify', '-d', dir],
      ['compact', '-d', dir, '--dry-run'],
      ['del', '-d', dir, 'k'],
      ['put', '-d', dir],
      ['nonsense'],
    ];
    for (const args of runs) {
      const { run, json } = await tzkvJson(args);
      expect(json, args.join(' ')).toBeTypeOf('object');
      if (run.exitCode !== 0) expect(json).toMatchObject({ error: { exitCode: run.exitCode } });
    }
    const imported = await tzkvJson(['import', '-d', dir, '-'], { input: '{"key":"a","value":"b"}\n' });
    expect(imported.json).toEqual({ imported: 1, expired: 0 });
  });
});

describe('the command line', () => {
  test('flags go before or after the arguments, and before the command', async () => {
    const dir = await storeDir();
    expect((await tzkv(['put', '--ttl', '1h', 'a', 'v1', '-d', dir])).exitCode).toBe(0);
    expect((await tzkv(['put', 'b', '-d', dir, 'v2', '--ttl', '1h'])).exitCode).toBe(0);
    expect((await tzkv(['-d', dir, 'put', 'c', 'v3'])).exitCode).toBe(0);
    expect((await tzkv(['--dir', dir, '--json', 'keys'])).stdout).toBe('["a","b","c"]\n');
    expect((await tzkv(['get', 'b', '-d', dir])).stdout).toBe('v2');
    expect((await tzkvJson(['get', '-d', dir, 'a'])).json).toMatchObject({ value: 'v1' });
  });

  test('-d falls back to TZKV_DIR, then to $XDG_DATA_HOME/tzkv, then to ~/.local/share/tzkv', async () => {
    const tmp = await tempDir();
    const env = { TZKV_DIR: join(tmp, 'from-env') };
    expect((await tzkv(['put', 'k', 'env'], { env })).exitCode).toBe(0);
    expect((await tzkv(['get', '-d', join(tmp, 'from-env'), 'k'])).stdout).toBe('env');
    const xdg = { XDG_DATA_HOME: join(tmp, 'xdg'), HOME: join(tmp, 'home') };
    expect((await tzkv(['put', 'k', 'xdg'], { env: xdg })).exitCode).toBe(0);
    expect((await tzkv(['get', '-d', join(tmp, 'xdg', 'tzkv'), 'k'])).stdout).toBe('xdg');
    const home = { HOME: join(tmp, 'home'), XDG_DATA_HOME: 'relative/is/ignored' };
    expect((await tzkv(['put', 'k', 'home'], { env: home })).exitCode).toBe(0);
    expect((await tzkv(['get', '-d', join(tmp, 'home', '.local', 'share', 'tzkv'), 'k'])).stdout).toBe('home');
    for (const d of ['from-env', join('xdg', 'tzkv'), join('home', '.local', 'share', 'tzkv')]) {
      expect((await tzkv(['verify', '-d', join(tmp, d)])).exitCode).toBe(0);
    }
  });

  test('colour only when asked for or on a terminal: FORCE_COLOR and NO_COLOR', async () => {
    const dir = await storeDir();
    await tzkv(['put', '-d', dir, 'k', 'v']);
    expect((await tzkv(['verify', '-d', dir])).stdout).not.toMatch(/\x1b\[/);
    expect((await tzkv(['verify', '-d', dir], { env: { FORCE_COLOR: '1' } })).stdout).toMatch(/\x1b\[32mok/);
    expect((await tzkv(['verify', '-d', dir], { env: { FORCE_COLOR: '1', NO_COLOR: '1' } })).stdout).not.toMatch(/\x1b\[/);
    expect((await tzkv(['verify', '-d', dir], { env: { FORCE_COLOR: '0' } })).stdout).not.toMatch(/\x1b\[/);
  });

  test('a terminal gets a table; a pipe gets plain lines', async () => {
    const dir = await storeDir();
    await tzkv(['put', '-d', dir, 'k', 'v']);
    const command = [NODE, BIN, 'stats', '-d', dir].map((word) => `'${word.replace(/'/g, "'\\''")}'`).join(' ');
    const tty = await execa('script', ['-qec', command, '/dev/null'], { env: childEnv({ NO_COLOR: '1' }), extendEnv: false, reject: false });
    expect(tty.exitCode).toBe(0);
    expect(tty.stdout).toMatch(/[│┌]/);
    expect(tty.stdout).toMatch(/keys\s+│\s+1/);
    expect((await tzkv(['stats', '-d', dir])).stdout).not.toMatch(/[│┌]/);
  });
});

describe('store directories', () => {
  test('a regular file as --dir is refused and left alone', async () => {
    const file = join(await tempDir(), 'file');
    await writeFile(file, 'precious');
    for (const args of [['put', '-d', file, 'k', 'v'], ['get', '-d', file, 'k'], ['keys', '-d', file]]) {
      const run = await tzkv(args);
      expect(run.exitCode, args[0]).toBe(5);
      expect(run.stderr).toContain(file);
    }
    expect(await readFile(file, 'utf8')).toBe('precious');
  });

  test('a directory of other files is refused and left alone', async () => {
    const dir = join(await tempDir(), 'photos');
    await mkdir(dir);
    await writeFile(join(dir, 'cat.jpg'), 'meow');
    const run = await tzkv(['put', '-d', dir, 'k', 'v']);
    expect(run.exitCode).toBe(5);
    expect(run.stderr).toContain(dir);
    expect(await readdir(dir)).toEqual(['cat.jpg']);
  });

  test.each(['get', 'keys', 'ttl', 'export', 'stats', 'verify'])('%s on a missing directory fails naming it and creates nothing', async (command) => {
    const parent = await tempDir();
    const dir = join(parent, 'missing', 'store');
    const args = ['get', 'ttl'].includes(command) ? [command, '-d', dir, 'k'] : [command, '-d', dir];
    const run = await tzkv(args);
    expect(run.exitCode).toBe(5);
    expect(run.stderr).toContain(dir);
    expectNoStack(run);
    expect(await readdir(parent)).toEqual([]);
  });

  test('a write creates a missing directory; an empty directory is an empty store', async () => {
    const parent = await tempDir();
    const dir = join(parent, 'a', 'b', 'store');
    expect((await tzkv(['put', '-d', dir, 'k', 'v'])).exitCode).toBe(0);
    expect((await tzkv(['get', '-d', dir, 'k'])).stdout).toBe('v');
    const empty = join(parent, 'empty');
    await mkdir(empty);
    expect(await tzkv(['keys', '-d', empty])).toMatchObject({ exitCode: 0, stdout: '' });
    expect((await tzkv(['get', '-d', empty, 'k'])).exitCode).toBe(1);
  });
});
