// put/del --if-value and --if-version, put --get and getset, incr --ttl
// (docs/cli.md "put", "getset", "del", "incr"): the same lines on a directory
// (both start paths) and on etcd, where each condition is one transaction.

import { execa } from 'execa';
import { existsSync, readdirSync } from 'node:fs';
import { afterEach, describe, expect, test } from 'vitest';
import { type EtcdCluster, startEtcd } from './fixtures/etcd.js';
import { etcd, needsServer } from '../helpers/servers.js';
import { BIN, childEnv, expectNoStack, NODE, START_PATHS, storeDir, tempDir, tzkv, tzkvJson } from './helpers.js';

/** Every compare-and-swap line against the store at `location`. */
async function compareAndSwap(location: string, env: Record<string, string>): Promise<void> {
  const run = (...args: string[]) => tzkv([...args, '-d', location], { env });
  const json = <T>(...args: string[]) => tzkvJson<T>([...args, '-d', location], { env });
  expect((await run('put', 'cfg', 'v1')).exitCode).toBe(0);

  // --if-value: another value (or none) is exit 1 and leaves the key alone.
  const stale = await run('put', 'cfg', 'v2', '--if-value', 'v0');
  expect(stale).toMatchObject({ exitCode: 1, stdout: '' });
  expect(stale.stderr).toContain('is not the one given by --if-value');
  expectNoStack(stale);
  const missing = await run('put', 'nothing', 'v2', '--if-value', 'v0');
  expect(missing).toMatchObject({ exitCode: 1, stdout: '' });
  expect(missing.stderr).toBe('tzkv: key not found: "nothing" (--if-value needs it): left as it was\n');
  // A value stored from a pipe keeps its newline; the message says so when that is the only difference.
  expect((await tzkv(['put', '-d', location, 'piped', '-'], { env, input: 'v1\n' })).exitCode).toBe(0);
  const piped = await run('put', 'piped', 'v2', '--if-value', 'v1');
  expect(piped.exitCode).toBe(1);
  expect(piped.stderr).toContain('; it ends with a newline, which OLD lacks');
  expect((await run('get', 'nothing')).exitCode).toBe(1);
  expect((await run('get', 'cfg')).stdout).toBe('v1');
  // A conditional put that writes prints nothing, as a plain put: only --get (getset) prints the old value.
  expect(await run('put', 'cfg', 'v2', '--if-value', 'v1', '--ttl', '1h')).toMatchObject({ exitCode: 0, stdout: '' });
  expect((await run('get', 'cfg')).stdout).toBe('v2');
  expect(Number((await run('ttl', 'cfg')).stdout)).toBeGreaterThan(3500);
  expect(await run('put', 'cfg', 'v2b', '--if-value=v2')).toMatchObject({ exitCode: 0, stdout: '' });

  // --if-version: the version from get --json, stale once the key is written.
  const read = await json<{ value: string; version: string }>('get', 'cfg');
  expect(read.json.value).toBe('v2b');
  expect(read.json.version).toMatch(/./);
  expect(await run('put', 'cfg', 'v3', '--if-version', read.json.version)).toMatchObject({ exitCode: 0, stdout: '' });
  const again = await run('put', 'cfg', 'v4', '--if-version', read.json.version);
  expect(again.exitCode).toBe(1);
  expect(again.stderr).toContain('version of "cfg"');
  expect((await run('get', 'cfg')).stdout).toBe('v3');
  expect((await json<{ version: string }>('get', 'cfg')).json.version).not.toBe(read.json.version);

  // --get: the old value on stdout, nothing for a new key; with --json under "previous".
  expect(await run('put', '--get', 'cfg', 'v5')).toMatchObject({ exitCode: 0, stdout: 'v3' });
  expect(await run('put', '--get', 'fresh', 'x')).toMatchObject({ exitCode: 0, stdout: '' });
  const v5 = (await json<{ version: string }>('get', 'cfg')).json.version;
  const swapped = await json<{ version: string }>('put', '--get', 'cfg', 'v6');
  expect(swapped.json).toEqual({ key: 'cfg', bytes: 2, expiresAt: null, version: expect.any(String), previous: { value: 'v5', expiresAt: null, version: v5 } });
  // put --json's version is the one written: the next conditional write can use it without a read.
  expect((await json<{ version: string }>('get', 'cfg')).json.version).toBe(swapped.json.version);
  expect((await json<unknown>('put', '--get', 'new2', 'y')).json).toMatchObject({ previous: null });
  expect(await run('put', '--get', 'cfg', 'v7', '--if-value', 'nope')).toMatchObject({ exitCode: 1, stdout: '' });
  expect(await run('put', '--get', 'cfg', 'v7', '--if-value', 'v6')).toMatchObject({ exitCode: 0, stdout: 'v6' });

  // getset is put --get: the old value on stdout. A missing or expired key is written too: exit 0, nothing
  // printed, "previous": null under --json (which tells it from an empty value).
  expect(await run('getset', 'cfg', 'v7b')).toMatchObject({ exitCode: 0, stdout: 'v7', stderr: '' });
  expect(await run('getset', 'cfg', 'v7')).toMatchObject({ exitCode: 0, stdout: 'v7b' });
  expect(await run('getset', 'brand-new', '')).toMatchObject({ exitCode: 0, stdout: '' });
  expect((await json<unknown>('getset', 'brand-new', 'z')).json).toMatchObject({ key: 'brand-new', previous: { value: '' } });
  expect((await json<unknown>('getset', 'other-new', 'z')).json).toMatchObject({ key: 'other-new', bytes: 1, previous: null });
  expect((await run('put', 'short', 's', '--ttl', '1ms')).exitCode).toBe(0);
  // etcd's lease is a whole second, revoked by its leader a moment after.
  await new Promise((resolve) => setTimeout(resolve, location.startsWith('etcd') ? 2000 : 20));
  expect(await run('getset', 'short', 't')).toMatchObject({ exitCode: 0, stdout: '' });
  const refused = await run('getset', 'cfg', 'v8', '--if-value', 'nope');
  expect(refused).toMatchObject({ exitCode: 1, stdout: '' });
  expect(refused.stderr).toContain('is not the one given by --if-value');
  expect(await tzkv(['getset', '-d', location, 'cfg', '--if-value', 'v7', '--', '-v8'], { env })).toMatchObject({ exitCode: 0, stdout: 'v7' });
  expect(await run('put', 'cfg', 'v7', '--if-value=-v8')).toMatchObject({ exitCode: 0 });

  // del --if-value / --if-version: one key, exit 1 and nothing deleted when it differs.
  expect((await run('del', 'cfg', '--if-value', 'v6')).exitCode).toBe(1);
  expect((await run('del', 'missing', '--if-value', 'v6')).exitCode).toBe(1);
  expect((await run('get', 'cfg')).stdout).toBe('v7');
  expect((await json<unknown>('del', 'cfg', '--if-value', 'v7')).json).toEqual({ deleted: 1 });
  expect((await run('get', 'cfg')).exitCode).toBe(1);
  const fresh = await json<{ version: string }>('get', 'fresh');
  expect((await run('del', 'fresh', '--if-version', fresh.json.version)).exitCode).toBe(0);
  expect((await run('get', 'fresh')).exitCode).toBe(1);

  // Usage errors: two conditions, a condition with more than one key, a version of no store's shape.
  for (const [line, message] of [
    [['put', 'k', 'v', '--if-value', 'a', '--if-absent'], 'give one of --if-absent, --if-value and --if-version'],
    [['put', 'k', 'v', '--if-value', 'a', '--if-version', '1'], 'give one of --if-absent, --if-value and --if-version'],
    [['getset', 'k', 'v', '--if-value', 'a', '--if-version', '1'], 'give one of --if-absent, --if-value and --if-version'],
    [['del', 'k', '--if-value', 'a', '--if-version', '1'], 'give --if-value or --if-version, not both'],
    [['del', 'a', 'b', '--if-value', 'a'], '--if-value and --if-version delete one KEY, got 2'],
    [['del', '--prefix', 'a', '--if-value', 'a'], '--if-value and --if-version delete one KEY, not --prefix or --all'],
    [['put', 'k', 'v', '--if-version', 'latest'], '"latest" is not a version'],
    [['put', 'k', 'v', '--if-version', '0'], '"0" is not a version'],
    [['del', 'k', '--if-version', '3:16'], '"3:16" is not a version'],
  ] as Array<[string[], string]>) {
    const usage = await run(...line);
    expect(usage.exitCode, line.join(' ')).toBe(2);
    expect(usage.stderr, line.join(' ')).toContain(message);
    expectNoStack(usage);
    const asJson = await json<{ error: { code: string } }>(...line);
    expect(asJson.run.exitCode).toBe(2);
    expect(asJson.json.error.code).toBe('INVALID_ARGUMENT');
  }
  expect((await run('get', 'k')).exitCode).toBe(1);

  // incr --ttl: an expiry for a key it creates; an existing key keeps its own.
  expect((await run('incr', 'hits', '--ttl', '1h')).stdout).toBe('1\n');
  expect(Number((await run('ttl', 'hits')).stdout)).toBeGreaterThan(3500);
  expect((await run('incr', 'hits', '--ttl', '10s')).stdout).toBe('2\n');
  expect(Number((await run('ttl', 'hits')).stdout)).toBeGreaterThan(3500);
  expect((await run('put', 'plain', '5')).exitCode).toBe(0);
  expect((await run('incr', 'plain', '--ttl', '1h')).stdout).toBe('6\n');
  expect((await run('ttl', 'plain')).stdout).toBe('-1\n');
  expect((await run('incr', 'hits', '--ttl', '1.5h')).exitCode).toBe(2);
}

describe('compare-and-swap on a directory', () => {
  for (const { path, env } of START_PATHS) {
    test(`put/del --if-value, --if-version, put --get, getset and incr --ttl (${path})`, async () => {
      await compareAndSwap(await storeDir(), env);
    }, 180_000); // some 75 processes, each start slowed when the machine is busy
  }

  test('a missing store directory: a condition never starts one (exit 5, as del); getset and put --get do, as put', async () => {
    for (const { env } of START_PATHS) {
      const dir = await storeDir();
      for (const line of [
        ['put', 'k', 'v', '--if-value', 'old'],
        ['put', 'k', 'v', '--if-version', '1:16:0a0b0c0d', '--get'],
        ['getset', 'k', 'v', '--if-value', 'old'],
        ['del', 'k', '--if-value', 'old'],
      ]) {
        const missing = await tzkv([...line, '-d', dir], { env });
        expect(missing.exitCode, line.join(' ')).toBe(5);
        expect(missing.stderr).toContain(`no tzkv store at ${dir}`);
        expect(existsSync(dir), line.join(' ')).toBe(false);
      }
      expect(await tzkv(['getset', 'k', 'v', '-d', dir], { env })).toMatchObject({ exitCode: 0, stdout: '', stderr: '' });
      expect((await tzkv(['get', 'k', '-d', dir], { env })).stdout).toBe('v');
      // The default store not written to yet holds no keys: a condition fails (exit 1), and nothing is created.
      const home = await tempDir();
      for (const line of [['put', 'k', 'v', '--if-value', 'old'], ['del', 'k', '--if-version', '7']]) {
        expect((await tzkv(line, { env: { ...env, XDG_DATA_HOME: home } })).exitCode, line.join(' ')).toBe(1);
      }
      expect(readdirSync(home)).toEqual([]);
    }
  }, 60_000);

  test('a while-read loop of getset lines keeps its lines and prints each old value', async () => {
    const dir = await storeDir();
    await tzkv(['put', '-d', dir, 'b', 'old-b']);
    const loop = 'printf "a 1\\nb 2\\nc 3\\n" | while read k v; do "$NODE" "$BIN" getset -d "$DIR" "$k" "$v"; echo " [$k: $?]"; done';
    // The first loop finds a and c missing; the second finds what the first wrote.
    for (const [{ env }, printed] of [
      [START_PATHS[0], ' [a: 0]\nold-b [b: 0]\n [c: 0]'],
      [START_PATHS[1], '1 [a: 0]\n2 [b: 0]\n3 [c: 0]'],
    ] as const) {
      const run = await execa('bash', ['-c', loop], { env: childEnv({ ...env, NODE, BIN, DIR: dir }), extendEnv: false, reject: false });
      expect(run.stderr).toBe('');
      expect(run.stdout).toBe(printed);
    }
  }, 60_000);

  test('concurrent --if-value swaps from one value: exactly one wins', async () => {
    const dir = await storeDir();
    await tzkv(['put', '-d', dir, 'slot', 'free']);
    const runs = await Promise.all([1, 2, 3, 4, 5, 6].map((i) => tzkv(['put', '-d', dir, 'slot', `taken by ${i}`, '--if-value', 'free'])));
    expect(runs.filter((r) => r.exitCode === 0)).toHaveLength(1);
    expect(runs.filter((r) => r.exitCode === 1)).toHaveLength(5);
  }, 60_000);
});

describe('compare-and-swap on etcd', () => {
  needsServer(etcd);
  const clusters: EtcdCluster[] = [];
  afterEach(async () => {
    while (clusters.length > 0) await clusters.pop()!.stop();
  });

  test('the same lines, each condition one transaction', async () => {
    const c = await startEtcd(1);
    clusters.push(c);
    await compareAndSwap(c.url('cas'), {});
    // A directory store's version never matches an etcd key.
    expect((await tzkv(['put', '-d', c.url('cas'), 'plain', 'x', '--if-version', '1:39:0a1b2c3d'])).exitCode).toBe(1);
  }, 240_000);
});
