// Plain get, put, getset, del, keys, incr, ttl and batch lines run without oclif (src/cli/fast-argv.ts,
// src/cli/fast.ts). Every line here runs twice, on two copies of the same
// store: once by the fast path and once through oclif (TZKV_NO_FAST_PATH=1).
// Output, exit code and the store left behind must be the same.

import { cp, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, test } from 'vitest';
import { type Run, storeDir, tempDir, tzkv, tzkvJson } from './helpers.js';

const TRACE = /^tzkv start-up: .*\n/m;

/** Times differ between the two runs by the time between them, and so do the checksums in the versions of records with an expiry. */
const normalise = (text: string, dir: string) =>
  text
    .split(dir)
    .join('DIR')
    .replace(/\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z/g, '<time>')
    .replace(/("version":"\d+:\d+:)[0-9a-f]{8}"/g, '$1<crc>"');

interface Case {
  /** The command line; DIR stands for the store's directory, VERSION for the version of key "a" in it. */
  line: string[];
  env?: Record<string, string>;
  /** A directory that is a regular file, or does not exist, instead of the store. */
  dir?: 'file' | 'missing';
  /** What stdin gives (batch -). */
  input?: string;
}

const OPS = 'put x 1\nincr x 4\nget x\nget a\nget blob\nget gone\nttl a\ndel a\nexpire x 1h\n';

const LONG_KEY = 'k'.repeat(70_000);

const CASES: Case[] = [
  { line: ['get', '-d', 'DIR', 'a'] },
  { line: ['get', 'a', '--dir', 'DIR', '--json'] },
  { line: ['-d', 'DIR', 'get', 'a'] },
  { line: ['--json', '-d', 'DIR', 'get', 'a'] },
  { line: ['get', '-d', 'DIR', '-b', 'users', '1'] },
  { line: ['get', '--dir=DIR', '--bucket=users', '1', '--json'] },
  { line: ['get', '-d', 'DIR', 'missing'] },
  { line: ['get', '-d', 'DIR', 'missing', '--json'] },
  { line: ['get', '-d', 'DIR', 'blob'] },
  { line: ['get', '-d', 'DIR', 'blob', '--json'] },
  { line: ['get', '-d', 'DIR', 'gone'] },
  { line: ['get', '-d', 'DIR', 'soon', '--json'] },
  { line: ['get', 'a'], env: { TZKV_DIR: 'DIR' } },
  { line: ['get', '-d', 'DIR', 'a'], dir: 'missing' },
  { line: ['get', '-d', 'DIR', 'a', '--json'], dir: 'file' },
  { line: ['get', '-d', 'DIR', LONG_KEY] },
  { line: ['put', '-d', 'DIR', 'k', 'v'] },
  { line: ['put', '-d', 'DIR', 'k', 'value with spaces ✓', '--json'] },
  { line: ['-d', 'DIR', '--if-absent', 'put', 'a', 'x'] },
  { line: ['put', '-d', 'DIR', 'a', 'x', '--if-absent', '--json'] },
  { line: ['put', '-d', 'DIR', 'new', 'x', '--if-absent', '--json'] },
  { line: ['put', '-d', 'DIR', 'k', 'v', '--ttl', '10m', '--json'] },
  { line: ['put', '-d', 'DIR', 'k', 'v', '--ttl=90s', '-b', 'jobs'] },
  { line: ['put', '-d', 'DIR', 'k', 'v', '--ttl', '5q'] },
  { line: ['put', '-d', 'DIR', 'k', 'v', '--ttl', '0', '--json'] },
  { line: ['put', '-d', 'DIR', 'k', 'v', '--lock-timeout', 'soon'] },
  { line: ['put', '-d', 'DIR', 'k', 'v'], env: { TZKV_LOCK_TIMEOUT: 'soon' } },
  { line: ['put', '-d', 'DIR', 'k', 'v', '--lock-timeout', '0'] },
  { line: ['put', 'k', 'v'], env: { TZKV_DIR: 'DIR' } },
  { line: ['put', '-d', 'DIR', 'k', 'v'], dir: 'missing' },
  { line: ['put', '-d', 'DIR', 'k', 'v', '--json'], dir: 'file' },
  { line: ['put', '-d', 'DIR', LONG_KEY, 'v', '--json'] },
  { line: ['put', '-d', 'DIR', '--', '-k', '--json'] },
  { line: ['get', '-d', 'DIR', '--json', '--', '-k'] },
  { line: ['get', '-d', 'DIR', '--', 'a'] },
  { line: ['put', '-d', 'DIR', '--if-absent', '--', 'a', '-x'] },
  { line: ['put', '-d', 'DIR', 'a', 'x', '--get'] },
  { line: ['put', '-d', 'DIR', 'a', 'x', '--get', '--json'] },
  { line: ['put', '-d', 'DIR', 'blob', 'x', '--get', '--json'] },
  { line: ['put', '-d', 'DIR', 'a', 'x', '--if-value', 'hello'] },
  { line: ['put', '-d', 'DIR', 'a', 'x', '--if-value=hello', '--get', '--json'] },
  { line: ['put', '-d', 'DIR', 'a', 'x', '--if-value', 'nope', '--json'] },
  { line: ['put', '-d', 'DIR', 'gone', 'x', '--if-value', 'x'] },
  { line: ['put', '-d', 'DIR', 'a', '--if-value', 'hello', '--', '-x'] },
  { line: ['put', '-d', 'DIR', 'a', 'x', '--if-version', 'VERSION', '--json'] },
  { line: ['put', '-d', 'DIR', 'a', 'x', '--if-version', '1:16:00000000'] },
  { line: ['put', '-d', 'DIR', 'a', 'x', '--if-version', 'latest'] },
  { line: ['put', '-d', 'DIR', 'a', 'x', '--if-value', 'hello', '--if-version', 'VERSION'] },
  { line: ['put', '-d', 'DIR', 'a', 'x', '--if-absent', '--if-value', 'hello'] },
  { line: ['put', '-d', 'DIR', 'k', 'v', '--if-value', 'x'], dir: 'missing' },
  { line: ['getset', '-d', 'DIR', 'a', 'new'] },
  { line: ['getset', '-d', 'DIR', 'fresh', 'x', '--json'] },
  { line: ['getset', '-d', 'DIR', 'gone', 'x'] },
  { line: ['getset', '-d', 'DIR', '-b', 'users', '1', 'bob', '--ttl', '1h', '--json'] },
  { line: ['getset', '-d', 'DIR', 'a', 'x', '--if-value', 'nope'] },
  { line: ['getset', '-d', 'DIR', '--', 'a', '-x'] },
  { line: ['getset', '-d', 'DIR', 'k', 'v'], dir: 'missing' },
  { line: ['del', '-d', 'DIR', 'a'] },
  { line: ['del', '-d', 'DIR', 'a', '--if-value', 'hello', '--json'] },
  { line: ['del', '-d', 'DIR', 'a', '--if-value', 'nope'] },
  { line: ['del', '-d', 'DIR', 'a', '--if-version', 'VERSION'] },
  { line: ['del', '-d', 'DIR', 'a', 'blob', '--if-value', 'hello'] },
  { line: ['del', '-d', 'DIR', 'a', '--if-value', 'hello', '--if-version', 'VERSION'] },
  { line: ['del', '-d', 'DIR', 'a', 'missing', 'blob', '--json'] },
  { line: ['del', '-d', 'DIR', '-b', 'users', '1', '--json'] },
  { line: ['del', '-d', 'DIR', '--', '-k', 'a'] },
  { line: ['del', '-d', 'DIR', 'a', '--lock-timeout', 'soon'] },
  { line: ['del', '-d', 'DIR', 'a'], dir: 'missing' },
  { line: ['del', '-d', 'DIR', 'a', '--json'], dir: 'file' },
  { line: ['keys', '-d', 'DIR'] },
  { line: ['keys', '-d', 'DIR', '--json'] },
  { line: ['keys', '-d', 'DIR', 's'] },
  { line: ['keys', '-d', 'DIR', '-n', '2'] },
  { line: ['keys', '-d', 'DIR', '--limit=1', '--json', 'b'] },
  { line: ['keys', '-d', 'DIR', '-b', 'users', '--json'] },
  { line: ['keys', '-d', 'DIR', 'nothing-here'] },
  { line: ['-d', 'DIR', 'keys', '--', '-'] },
  { line: ['keys', '-d', 'DIR', '-0'] },
  { line: ['-0', 'keys', '-d', 'DIR', 'b'] },
  { line: ['keys', '-d', 'DIR', '--null', '--json'] },
  { line: ['keys', '-d', 'DIR'], dir: 'missing' },
  { line: ['keys', '-d', 'DIR', '--json'], dir: 'file' },
  { line: ['incr', '-d', 'DIR', 'n'] },
  { line: ['incr', '-d', 'DIR', 'n', '41', '--json'] },
  { line: ['incr', '-d', 'DIR', '--', 'n', '-5'] },
  { line: ['incr', '-d', 'DIR', 'a'] },
  { line: ['incr', '-d', 'DIR', 'a', '--json'] },
  { line: ['incr', '-d', 'DIR', 'n', 'x'] },
  { line: ['incr', '-d', 'DIR', '-b', 'users', 'count', '--lock-timeout', '0'] },
  { line: ['incr', '-d', 'DIR', 'n'], dir: 'missing' },
  { line: ['incr', '-d', 'DIR', 'hits', '--ttl', '1m', '--json'] },
  { line: ['incr', '-d', 'DIR', 'hits', '--ttl', '5q'] },
  { line: ['ttl', '-d', 'DIR', 'a'] },
  { line: ['ttl', '-d', 'DIR', 'missing', '--json'] },
  { line: ['ttl', '-d', 'DIR', 'a', '10m', '--json'] },
  { line: ['ttl', '-d', 'DIR', 'soon', '--persist', '--json'] },
  { line: ['ttl', '-d', 'DIR', 'soon', '5q'] },
  { line: ['ttl', '-d', 'DIR', 'soon', '10m', '--persist'] },
  { line: ['ttl', '-d', 'DIR', '-b', 'users', '1', '1h'] },
  { line: ['ttl', '-d', 'DIR', 'a'], dir: 'file' },
  // Many keys at once (src/cli/many-keys.ts, key-listing.ts).
  { line: ['get', '-d', 'DIR', 'a', 'soon', 'a', '--json'] },
  { line: ['get', '-d', 'DIR', 'soon', 'a'] },
  { line: ['get', '-d', 'DIR', 'a', 'blob'] },
  { line: ['get', '-d', 'DIR', 'a', 'missing', 'gone'] },
  { line: ['get', '-d', 'DIR', 'a', 'missing', '--missing-ok', '--json'] },
  { line: ['get', '-d', 'DIR', 'missing', '--missing-ok'] },
  { line: ['get', '-d', 'DIR', 'a', '--with-keys', '-b', 'users'] },
  { line: ['get', '-d', 'DIR', '--prefix', 'users:', '--json'] },
  { line: ['get', '-d', 'DIR', '--prefix=s'] },
  { line: ['get', '-d', 'DIR', '--prefix', 'x*'] },
  { line: ['get', '-d', 'DIR'] },
  { line: ['get', '-d', 'DIR', '--prefix', 'a', 'a', '--json'] },
  { line: ['get', '-d', 'DIR', 'a', LONG_KEY] },
  { line: ['get', '-d', 'DIR', 'a', 'b'], dir: 'missing' },
  { line: ['del', '-d', 'DIR', '--prefix', 'users:', '--json'] },
  { line: ['del', '-d', 'DIR', '--prefix', 's', '--dry-run'] },
  { line: ['del', '-d', 'DIR', '--all', '--dry-run', '--json'] },
  { line: ['del', '-d', 'DIR', '-b', 'users', '--all'] },
  { line: ['del', '-d', 'DIR', '--all', 'a'] },
  { line: ['del', '-d', 'DIR', 'a', '--dry-run'] },
  { line: ['del', '-d', 'DIR'] },
  { line: ['del', '-d', 'DIR', '--prefix', 'a'], dir: 'missing' },
  { line: ['keys', '-d', 'DIR', '--match', '*o*'] },
  { line: ['keys', '-d', 'DIR', 's', '--match', '?oo?', '--json'] },
  { line: ['keys', '-d', 'DIR', '--match', '[ab'] },
  { line: ['keys', '-d', 'DIR', 'users:*'] },
  { line: ['keys', '-d', 'DIR', '--long'] },
  { line: ['keys', '-d', 'DIR', '-l', '-0', '-n', '2'] },
  { line: ['keys', '-d', 'DIR', '--long', '--json', '--match', '[!a]*'] },
  // The aliases: set (put), rm and delete (del), ls and list (keys).
  { line: ['set', '-d', 'DIR', 'k', 'v', '--json'] },
  { line: ['-d', 'DIR', 'set', '--', 'k', '-5'] },
  { line: ['rm', '-d', 'DIR', 'a', 'blob', '--json'] },
  { line: ['delete', '-d', 'DIR', 'a'] },
  { line: ['ls', '-d', 'DIR'] },
  { line: ['list', '-d', 'DIR', '-n', '1', '--json'] },
  { line: ['ls', '-d', 'DIR'], dir: 'missing' },
  { line: ['ls', '-d', 'DIR', '-l', 's'] },
  { line: ['batch', '-d', 'DIR', '-'], input: OPS },
  { line: ['batch', '-', '-d', 'DIR', '--json'], input: OPS },
  { line: ['-d', 'DIR', 'batch', '-', '--each'], input: 'put y 1\nput onlykey\nincr a\nget y\n' },
  { line: ['batch', '-d', 'DIR', '-', '--atomic', '-b', 'users'], input: 'get 1\nput 2 "bob smith"\n' },
  { line: ['batch', '-d', 'DIR', '-', '--lock-timeout', '0', '--json'], input: 'put z 1\nincr a\n' },
  { line: ['batch', '-d', 'DIR', '-'], input: 'put z 1\nPUT q 1\n' },
  { line: ['batch', '-d', 'DIR', 'DIR/../no-such-file'] },
  { line: ['batch', '-d', 'DIR', '-'], input: 'put z 1\n', dir: 'missing' },
  { line: ['batch', '-d', 'DIR', '-', '--json'], input: 'put z 1\n', dir: 'file' },
];

/** A store with plain, bucketed, binary, expired and expiring keys. */
async function seed(dir: string): Promise<void> {
  const blob = join(dir, '..', 'blob');
  await writeFile(blob, Buffer.from([0, 255, 10, 13, 0xc3]));
  for (const line of [
    ['put', '-d', dir, 'a', 'hello'],
    ['put', '-d', dir, '-b', 'users', '1', 'ann'],
    ['put', '-d', dir, 'blob', '--file', blob],
    ['put', '-d', dir, 'gone', 'x', '--ttl', '1ms'],
    ['put', '-d', dir, 'soon', 'y', '--ttl', '1h'],
  ]) {
    const run = await tzkv(line, { env: { TZKV_NO_FAST_PATH: '1' } });
    expect(run.exitCode, `${line.join(' ')}: ${run.stderr}`).toBe(0);
  }
}

async function runIn(dir: string, { line, env = {}, input }: Case, fast: boolean, version: string): Promise<Run> {
  const swap = (word: string) => (word === 'VERSION' ? version : word.split('DIR').join(dir));
  const vars: Record<string, string> = { TZKV_TRACE_STARTUP: '1' };
  for (const [name, value] of Object.entries(env)) vars[name] = swap(value);
  if (!fast) vars.TZKV_NO_FAST_PATH = '1';
  return tzkv(line.map((word) => (word === LONG_KEY ? word : swap(word))), { env: vars, ...(input === undefined ? {} : { input }) });
}

async function storeContents(dir: string): Promise<string> {
  const run = await tzkv(['export', '-d', dir], { env: { TZKV_NO_FAST_PATH: '1' } });
  return `${run.exitCode}\n${normalise(run.stdout, dir)}${normalise(run.stderr, dir)}`;
}

describe('the fast path for get, put, getset, del, keys, incr, ttl and batch', () => {
  test('gives the same output, exit code and store as oclif, for each line', async () => {
    const origin = await storeDir();
    await seed(origin);
    const version = (await tzkvJson<{ version: string }>(['get', '-d', origin, 'a'])).json.version;
    for (const c of CASES) {
      const base = await tempDir();
      const runs: Array<{ run: Run; dir: string }> = [];
      for (const fast of [true, false]) {
        const dir = join(base, fast ? 'fast' : 'oclif');
        if (c.dir === 'file') await writeFile(dir, 'not a store');
        else if (c.dir !== 'missing') await cp(origin, dir, { recursive: true });
        runs.push({ run: await runIn(dir, c, fast, version), dir });
      }
      const [fast, oclif] = runs;
      const what = `tzkv ${c.line.map((w) => (w === LONG_KEY ? 'k×70000' : w)).join(' ')}`;
      expect(fast.run.stderr, what).toMatch(/fast path/);
      expect(oclif.run.stderr, what).not.toMatch(/fast path/);
      expect(fast.run.exitCode, what).toBe(oclif.run.exitCode);
      expect(normalise(fast.run.stdout, fast.dir), what).toBe(normalise(oclif.run.stdout, oclif.dir));
      expect(normalise(fast.run.stderr.replace(TRACE, ''), fast.dir), what).toBe(normalise(oclif.run.stderr.replace(TRACE, ''), oclif.dir));
      if (c.dir === undefined) expect(await storeContents(fast.dir), what).toBe(await storeContents(oclif.dir));
    }
    // Four processes a line, about 520 in all: past the default 60 s on two cores busy with the rest of the suite.
  }, 600_000);

  test('lines it does not take go through oclif and work as before', async () => {
    const dir = await storeDir();
    const put = await tzkv(['put', '-d', dir, 'k', '-'], { input: 'from stdin', env: { TZKV_TRACE_STARTUP: '1' } });
    expect(put.exitCode).toBe(0);
    expect(put.stderr).not.toMatch(/fast path/);
    const help = await tzkv(['get', '--help'], { env: { TZKV_TRACE_STARTUP: '1' } });
    expect(help.exitCode).toBe(0);
    expect(help.stdout).toMatch(/USAGE/);
    expect(help.stderr).not.toMatch(/fast path/);
    const ttl = await tzkv(['ttl', '-d', dir, 'k', '1m', 'extra'], { env: { TZKV_TRACE_STARTUP: '1' } });
    expect(ttl.exitCode).toBe(2);
    expect(ttl.stderr).toMatch(/Unexpected argument: extra/);
    expect(ttl.stderr).not.toMatch(/fast path/);
    for (const line of [['batch', '-d', dir], ['batch', '-d', dir, '-', '--each', '--atomic']]) {
      const batch = await tzkv(line, { input: 'put b 1\n', env: { TZKV_TRACE_STARTUP: '1' } });
      expect(batch.exitCode, line.join(' ')).toBe(2);
      expect(batch.stderr, line.join(' ')).not.toMatch(/fast path/);
    }
  });
});
