// The store directory (docs/cli.md "The store directory"): which commands may
// create one, what a missing or empty one means, and that making a directory
// always ends with an answer. Every line runs by both start paths.

import { existsSync } from 'node:fs';
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

/** The lines that may start a store, and what each prints then. */
const CREATORS: Array<{ line: string[]; exitCode: number }> = [
  { line: ['put', 'k', 'v'], exitCode: 0 },
  { line: ['import', '-'], exitCode: 0 },
  { line: ['incr', 'n'], exitCode: 0 },
  { line: ['ttl', 'k', '1h'], exitCode: 1 },
];

/** Every other command: each needs a store to be there. */
const NON_CREATORS: string[][] = [
  ['get', 'k'],
  ['del', 'k'],
  ['keys'],
  ['ttl', 'k'],
  ['export'],
  ['export', '-o', 'out.jsonl'],
  ['stats'],
  ['compact'],
  ['compact', '--dry-run'],
  ['compact', '--if-needed'],
  ['verify'],
  ['verify', '--repair'],
  ['unlock'],
  ['unlock', '--force'],
  ['promote'],
  ['replicate', '--to', 'follower'],
];

/** Every command, with what it needs besides a store. */
const EVERY_COMMAND: string[][] = [...CREATORS.map(({ line }) => line), ...NON_CREATORS];

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

describe.each(START_PATHS)('only put, import, incr, ttl KEY DURATION and replicate --to start a store, by $path', ({ env }) => {
  test('every other command on a missing directory: exit 5 naming it, and nothing created', async () => {
    const base = await tempDir();
    const dir = join(base, 'typo', 'sub');
    for (const line of NON_CREATORS) {
      const what = `tzkv ${line.join(' ')} -d DIR`;
      const run = await tzkv([...line, '-d', dir], { env, cwd: base });
      expect(run.exitCode, what).toBe(5);
      expect(run.stdout, what).toBe('');
      expect(run.stderr, what).toBe(`tzkv: no tzkv store at ${dir}: the directory does not exist\n`);
      expect(await readdir(base), what).toEqual([]);
    }
  });

  test('the commands that may, do, parents included', async () => {
    for (const { line, exitCode } of CREATORS) {
      const base = await tempDir();
      const dir = join(base, 'new', 'store');
      const run = await tzkv([...line, '-d', dir], { env, input: '{"key":"a","value":"b"}\n' });
      expect(run.exitCode, line.join(' ')).toBe(exitCode);
      expect((await tzkv(['verify', '-d', dir], { env })).exitCode, line.join(' ')).toBe(0);
    }
    const leader = await storeDir();
    expect((await tzkv(['put', '-d', leader, 'k', 'v'], { env })).exitCode).toBe(0);
    const follower = join(await tempDir(), 'new', 'follower');
    expect((await tzkv(['replicate', '-d', leader, '--to', follower], { env })).exitCode).toBe(0);
    expect((await tzkv(['get', '-d', follower, 'k'], { env })).stdout).toBe('v');
  });

  test('an empty directory holds no store: verify, compact, del and promote say so (exit 5) and leave it empty', async () => {
    const dir = await tempDir();
    for (const line of [['verify'], ['verify', '--repair'], ['compact'], ['compact', '--if-needed'], ['del', 'k'], ['promote']]) {
      const what = `tzkv ${line.join(' ')} -d DIR`;
      const run = await tzkv([...line, '-d', dir], { env });
      expect(run.exitCode, what).toBe(5);
      expect(run.stdout, what).toBe('');
      expect(run.stderr, what).toBe(`tzkv: no tzkv store at ${dir}: the directory holds none\n`);
      expect(await readdir(dir), what).toEqual([]);
    }
    const json = await tzkv(['verify', '-d', dir, '--json'], { env });
    expect(JSON.parse(json.stdout)).toEqual({ error: { code: 'NO_STORE', message: `no tzkv store at ${dir}: the directory holds none`, exitCode: 5 } });
  });

  test('reads of an empty directory see an empty store, and leave it empty', async () => {
    const dir = await tempDir();
    expect(await tzkv(['get', '-d', dir, 'k'], { env })).toMatchObject({ exitCode: 1, stdout: '' });
    expect(await tzkv(['keys', '-d', dir], { env })).toMatchObject({ exitCode: 0, stdout: '' });
    expect(await tzkv(['export', '-d', dir], { env })).toMatchObject({ exitCode: 0, stdout: '' });
    expect(await tzkv(['stats', '-d', dir], { env })).toMatchObject({ exitCode: 0, stderr: '' });
    expect(await readdir(dir)).toEqual([]);
  });
});

describe.each(START_PATHS)('a default store never written to reads as empty, by $path', ({ env }) => {
  /** The default location two ways: $XDG_DATA_HOME/tzkv, and ~/.local/share/tzkv. */
  async function defaults(): Promise<Array<{ vars: Record<string, string | undefined>; store: string }>> {
    const home = await tempDir();
    return [
      { vars: { ...env }, store: join(dataHome, 'tzkv') },
      { vars: { ...env, XDG_DATA_HOME: undefined, HOME: home }, store: join(home, '.local', 'share', 'tzkv') },
    ];
  }

  test('get and ttl exit 1, keys and export print nothing, del deletes nothing; nothing is created', async () => {
    for (const { vars, store } of await defaults()) {
      expect(await tzkv(['get', 'k'], { env: vars })).toMatchObject({ exitCode: 1, stdout: '', stderr: 'tzkv: key not found: "k"\n' });
      expect(JSON.parse((await tzkv(['get', 'k', '--json'], { env: vars })).stdout).error.code).toBe('NOT_FOUND');
      expect(await tzkv(['ttl', 'k'], { env: vars })).toMatchObject({ exitCode: 1, stdout: '', stderr: 'tzkv: key not found: "k"\n' });
      expect(await tzkv(['keys'], { env: vars })).toMatchObject({ exitCode: 0, stdout: '', stderr: '' });
      expect(await tzkv(['keys', '--json'], { env: vars })).toMatchObject({ exitCode: 0, stdout: '[]\n', stderr: '' });
      expect(await tzkv(['keys', '-b', 'users', 'a'], { env: vars })).toMatchObject({ exitCode: 0, stdout: '', stderr: '' });
      expect(await tzkv(['export'], { env: vars })).toMatchObject({ exitCode: 0, stdout: '', stderr: '' });
      expect(await tzkv(['export', '--json'], { env: vars })).toMatchObject({ exitCode: 0, stdout: '[]\n', stderr: '' });
      expect(await tzkv(['del', 'k'], { env: vars })).toMatchObject({ exitCode: 0, stdout: '', stderr: '' });
      expect(await tzkv(['del', 'k', '--json'], { env: vars })).toMatchObject({ exitCode: 0, stdout: '{"deleted":0}\n', stderr: '' });
      expect(existsSync(store)).toBe(false);
    }
  });

  test('commands about the store itself still say there is none (exit 5)', async () => {
    for (const { vars, store } of await defaults()) {
      for (const line of [['stats'], ['verify'], ['compact'], ['unlock']]) {
        const run = await tzkv(line, { env: vars });
        expect(run.exitCode, line.join(' ')).toBe(5);
        expect(run.stderr, line.join(' ')).toBe(`tzkv: no tzkv store at ${store}: the directory does not exist\n`);
      }
      expect(existsSync(store)).toBe(false);
    }
  });

  test('a path given by -d or TZKV_DIR that does not exist stays exit 5: it may be a typo', async () => {
    const missing = join(await tempDir(), 'typo');
    for (const [line, vars] of [
      [['get', 'k', '-d', missing], env],
      [['keys', '-d', missing], env],
      [['del', 'k', '-d', missing], env],
      [['get', 'k'], { ...env, TZKV_DIR: missing }],
      [['keys'], { ...env, TZKV_DIR: missing }],
    ] as Array<[string[], Record<string, string>]>) {
      expect(await tzkv(line, { env: vars }), line.join(' ')).toMatchObject({ exitCode: 5, stdout: '', stderr: `tzkv: no tzkv store at ${missing}: the directory does not exist\n` });
    }
  });

  test('the plain lines above run by the start path named', async () => {
    const missing = join(await tempDir(), 'typo');
    for (const line of [['get', 'k'], ['keys'], ['del', 'k'], ['ttl', 'k'], ['get', 'k', '-d', missing], ['del', 'k', '-d', missing]]) {
      const run = await tzkv(line, { env: { ...env, TZKV_TRACE_STARTUP: '1' } });
      expect(run.stderr.includes('fast path'), line.join(' ')).toBe(env.TZKV_NO_FAST_PATH === undefined);
    }
  });

  test('the first put creates the default store', async () => {
    expect((await tzkv(['put', 'k', 'v'], { env })).exitCode).toBe(0);
    expect(await tzkv(['get', 'k'], { env })).toMatchObject({ exitCode: 0, stdout: 'v' });
    expect(await readdir(dataHome)).toEqual(['tzkv']);
  });
});
