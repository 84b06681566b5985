// put/del --if-value and --if-version, put --get, incr --ttl (docs/cli.md "put",
// "del", "incr"): the same lines on a directory (both start paths) and on etcd,
// where each condition is one transaction.

import { afterEach, describe, expect, test } from 'vitest';
import { type EtcdCluster, startEtcd } from './fixtures/etcd.js';
import { etcd, needsServer } from '../helpers/servers.js';
import { expectNoStack, START_PATHS, storeDir, tzkv, tzkvJson } from './helpers.js';

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
  expect((await run('put', 'nothing', 'v2', '--if-value', 'v0')).exitCode).toBe(1);
  expect((await run('get', 'nothing')).exitCode).toBe(1);
  expect((await run('get', 'cfg')).stdout).toBe('v1');
  expect((await run('put', 'cfg', 'v2', '--if-value', 'v1', '--ttl', '1h')).exitCode).toBe(0);
  expect((await run('get', 'cfg')).stdout).toBe('v2');
  expect(Number((await run('ttl', 'cfg')).stdout)).toBeGreaterThan(3500);
  expect((await run('put', 'cfg', 'v2b', '--if-value=v2')).exitCode).toBe(0);

  // --if-version: the version from get --json, stale once the key is written.
  const read = await json<{ value: string; version: string }>('get', 'cfg');
  expect(read.json.value).toBe('v2b');
  expect(read.json.version).toMatch(/./);
  expect((await run('put', 'cfg', 'v3', '--if-version', read.json.version)).exitCode).toBe(0);
  const again = await run('put', 'cfg', 'v4', '--if-version', read.json.version);
  expect(again.exitCode).toBe(1);
  expect(again.stderr).toContain('version of "cfg"');
  expect((await run('get', 'cfg')).stdout).toBe('v3');
  expect((await json<{ version: string }>('get', 'cfg')).json.version).not.toBe(read.json.version);

  // --get: the old value on stdout, nothing for a new key; with --json under "previous".
  expect(await run('put', '--get', 'cfg', 'v5')).toMatchObject({ exitCode: 0, stdout: 'v3' });
  expect(await run('put', '--get', 'fresh', 'x')).toMatchObject({ exitCode: 0, stdout: '' });
  const swapped = await json<unknown>('put', '--get', 'cfg', 'v6');
  expect(swapped.json).toEqual({ key: 'cfg', bytes: 2, expiresAt: null, previous: { value: 'v5', expiresAt: null } });
  expect((await json<unknown>('put', '--get', 'new2', 'y')).json).toMatchObject({ previous: null });
  expect(await run('put', '--get', 'cfg', 'v7', '--if-value', 'nope')).toMatchObject({ exitCode: 1, stdout: '' });
  expect(await run('put', '--get', 'cfg', 'v7', '--if-value', 'v6')).toMatchObject({ exitCode: 0, stdout: 'v6' });

  // del --if-value / --if-version: one key, exit 1 and nothing deleted when it differs.
  expect((await run('del', 'cfg', '--if-value', 'v6')).exitCode).toBe(1);
  expect((await run('del', 'missing', '--if-value', 'v6')).exitCode).toBe(1);
  expect((await run('get', 'cfg')).stdout).toBe('v7');
  expect((await json<unknown>('del', 'cfg', '--if-value', 'v7')).json).toEqual({ deleted: 1 });
  expect((await run('get', 'cfg')).exitCode).toBe(1);
  const fresh = await json<{ version: string }>('get', 'fresh');
  expect((await run('del', 'fresh', '--if-version', fresh.json.version)).exitCode).toBe(0);
  expect((await run('get', 'fresh')).exitCode).toBe(1);

  // Usage errors: two conditions, or a condition with more than one key.
  for (const line of [
    ['put', 'k', 'v', '--if-value', 'a', '--if-absent'],
    ['put', 'k', 'v', '--if-value', 'a', '--if-version', '1'],
    ['del', 'a', 'b', '--if-value', 'a'],
  ]) {
    const usage = await run(...line);
    expect(usage.exitCode, line.join(' ')).toBe(2);
    expectNoStack(usage);
  }

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
    test(`put/del --if-value, --if-version, put --get and incr --ttl (${path})`, async () => {
      await compareAndSwap(await storeDir(), env);
    }, 60_000);
  }

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
  }, 120_000);
});
