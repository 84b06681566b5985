// One contract, two backends (issue #8): the same process-level tests run
// against a store directory and against a real etcd server
// (test/e2e/fixtures/etcd.ts), through the built CLI. Whatever a script sees —
// stdout bytes, exit codes, JSON shapes — must not depend on where the keys live.
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, test } from 'vitest';
import { etcdForFile } from './fixtures/etcd.js';
import { type ServerNeed, etcd, needsServer } from '../helpers/servers.js';
import { expectNoStack, storeDir, tempDir, tzkv, tzkvJson } from './helpers.js';

const etcdStore = etcdForFile('suite');

const backends: Array<[string, () => Promise<string>, ServerNeed | undefined]> = [
  ['a store directory', () => storeDir(), undefined],
  ['an etcd server', async () => etcdStore(), etcd],
];

describe.each(backends)('against %s', (_name, newStore, server) => {
  if (server) needsServer(server);
  test('put, get, del: exact bytes, exit codes, JSON shapes', async () => {
    const s = await newStore();
    expect((await tzkv(['put', '-d', s, 'greeting', 'hello'])).exitCode).toBe(0);
    const got = await tzkv(['get', '-d', s, 'greeting']);
    expect([got.exitCode, got.stdout]).toEqual([0, 'hello']);
    const missing = await tzkv(['get', '-d', s, 'nope']);
    expect(missing.exitCode).toBe(1);
    expect(missing.stderr).toMatch(/not found/);
    expectNoStack(missing);
    const asJson = await tzkvJson<{ key: string; value: string; expiresAt: number | null }>(['get', '-d', s, 'greeting']);
    expect(asJson.json).toMatchObject({ key: 'greeting', value: 'hello', expiresAt: null });
    const del = await tzkvJson<{ deleted: number }>(['del', '-d', s, 'greeting', 'nope']);
    expect(del.json.deleted).toBe(1);
    expect((await tzkv(['get', '-d', s, 'greeting'])).exitCode).toBe(1);
  });

  test('binary values round-trip byte for byte', async () => {
    const s = await newStore();
    const bytes = Buffer.from(Array.from({ length: 4096 }, (_, i) => (i * 37) & 0xff));
    const file = join(await tempDir(), 'blob');
    await writeFile(file, bytes);
    expect((await tzkv(['put', '-d', s, 'blob', '--file', file])).exitCode).toBe(0);
    expect((await tzkv(['get', '-d', s, 'blob'])).bytes.equals(bytes)).toBe(true);
  });

  test('--if-absent writes only a new key; exit 1 leaves the value alone', async () => {
    const s = await newStore();
    expect((await tzkv(['put', '-d', s, 'k', 'first', '--if-absent'])).exitCode).toBe(0);
    const second = await tzkv(['put', '-d', s, 'k', 'second', '--if-absent']);
    expect(second.exitCode).toBe(1);
    expect((await tzkv(['get', '-d', s, 'k'])).stdout).toBe('first');
  });

  test('--ttl: the key is there, ttl counts down, then it is gone; --persist keeps a key', async () => {
    const s = await newStore();
    await tzkv(['put', '-d', s, 'kept', 'v', '--ttl', '3s']);
    expect((await tzkv(['ttl', '-d', s, 'kept', '--persist'])).exitCode).toBe(0);
    // Long enough that a loaded machine still reads the key before it expires.
    await tzkv(['put', '-d', s, 'short', 'v', '--ttl', '3s']);
    expect((await tzkv(['get', '-d', s, 'short'])).stdout).toBe('v');
    const ttl = Number((await tzkv(['ttl', '-d', s, 'short'])).stdout);
    expect(ttl).toBeGreaterThanOrEqual(0);
    expect(ttl).toBeLessThanOrEqual(3);
    expect((await tzkv(['ttl', '-d', s, 'kept'])).stdout.trim()).toBe('-1');
    await new Promise((r) => setTimeout(r, 4000));
    expect((await tzkv(['get', '-d', s, 'short'])).exitCode).toBe(1);
    expect((await tzkv(['get', '-d', s, 'kept'])).stdout).toBe('v');
  });

  test('keys: sorted by bytes, PREFIX, --limit, --json', async () => {
    const s = await newStore();
    for (const k of ['b:2', 'a:1', 'b:1', 'c', 'b:10']) await tzkv(['put', '-d', s, k, 'x']);
    expect((await tzkv(['keys', '-d', s])).stdout).toBe('a:1\nb:1\nb:10\nb:2\nc\n');
    expect((await tzkv(['keys', '-d', s, 'b:', '--limit', '2'])).stdout).toBe('b:1\nb:10\n');
    expect((await tzkvJson<string[]>(['keys', '-d', s, 'b:'])).json).toEqual(['b:1', 'b:10', 'b:2']);
  });

  test('import of 1,000 lines (many etcd transactions), export of the same; a second import changes nothing', async () => {
    const s = await newStore();
    const lines = Array.from({ length: 1000 }, (_, i) => JSON.stringify({ key: `user:${String(i).padStart(4, '0')}`, value: `profile ${i}` }));
    const input = join(await tempDir(), 'in.jsonl');
    await writeFile(input, lines.join('\n') + '\n');
    const first = await tzkvJson<{ imported: number }>(['import', '-d', s, input]);
    expect(first.run.exitCode, first.run.stderr).toBe(0);
    expect(first.json.imported).toBe(1000);
    const exported = await tzkv(['export', '-d', s]);
    const rows = exported.stdout.trimEnd().split('\n').map((l) => JSON.parse(l) as { key: string; value: string });
    expect(rows.map((r) => `${r.key}=${r.value}`)).toEqual(Array.from({ length: 1000 }, (_, i) => `user:${String(i).padStart(4, '0')}=profile ${i}`));
    expect((await tzkv(['import', '-d', s, input])).exitCode).toBe(0);
    expect((await tzkv(['export', '-d', s])).stdout).toBe(exported.stdout);
  });

  test('a malformed import line: exit 2 naming the line, nothing stored', async () => {
    const s = await newStore();
    await tzkv(['put', '-d', s, 'seed', 'x']);
    const input = join(await tempDir(), 'bad.jsonl');
    await writeFile(input, '{"key":"a","value":"1"}\n{"key":\n');
    const run = await tzkv(['import', '-d', s, input]);
    expect(run.exitCode).toBe(2);
    expect(run.stderr).toMatch(/line 2/);
    expect((await tzkv(['keys', '-d', s])).stdout).toBe('seed\n');
  });

  test('4 × 10 concurrent `tzkv incr` processes end at exactly 40', async () => {
    const s = await newStore();
    const worker = async () => {
      for (let i = 0; i < 10; i++) {
        const run = await tzkv(['incr', '-d', s, 'counter', '--lock-timeout', '30s']);
        expect(run.exitCode, run.stderr).toBe(0);
      }
    };
    await Promise.all([worker(), worker(), worker(), worker()]);
    expect((await tzkv(['get', '-d', s, 'counter'])).stdout).toBe('40');
  }, 60_000);

  test('stats --json counts the keys; verify of a healthy store exits 0', async () => {
    const s = await newStore();
    for (let i = 0; i < 5; i++) await tzkv(['put', '-d', s, `k${i}`, 'v']);
    await tzkv(['del', '-d', s, 'k0']);
    const stats = await tzkvJson<{ keys: number; location: string }>(['stats', '-d', s]);
    expect(stats.run.exitCode).toBe(0);
    expect(stats.json.keys).toBe(4);
    expect(stats.json.location).toBe(s);
    const verify = await tzkvJson<{ ok: boolean; problems: unknown[] }>(['verify', '-d', s]);
    expect([verify.run.exitCode, verify.json.ok, verify.json.problems]).toEqual([0, true, []]);
  });
});
