// A write that keeps a key's expiry keeps its lease on etcd (docs/etcd.md
// "Leases"): an expiry is a lease of whole seconds, and writing a key again
// with the expiry it was read with (INCR, APPEND, SET KEEPTTL, RENAME, tzkv
// incr, Store.update) used to grant a new lease, rounded up, so the expiry
// moved later by up to a second at every such write and a key written more
// often than once a second never expired. Here a key with a 3 s expiry is
// incremented every 400 ms, through the API, the CLI and `tzkv serve`'s Redis
// INCR: it must be gone after about 3 s, as on a directory store (and Redis).
import { setTimeout as sleep } from 'node:timers/promises';
import { describe, expect, test } from 'vitest';
import { open, type Store } from '../../src/index.js';
import { RawConnection, readReply } from '../helpers/raw-resp.js';
import { startTzkvServe } from '../helpers/redis-servers.js';
import { etcd, needsServer } from '../helpers/servers.js';
import { etcdForFile } from './fixtures/etcd.js';
import { tzkv } from './helpers.js';

const address = etcdForFile('leases');

/** POSTs to the etcd member behind `url` (an etcd:// address). */
async function etcdCall<T>(url: string, path: string, body: object): Promise<T> {
  const res = await fetch(`http://${new URL(url.replace(/^etcd:/, 'http:')).host}/v3/${path}`, { method: 'POST', body: JSON.stringify(body) });
  expect(res.status, path).toBe(200);
  return (await res.json()) as T;
}

/** The lease id of tzkv key `key` under the address `url` (undefined: none, or no such key). */
/** The key's lease id; undefined when it has none, or is gone. */
async function leaseOf(url: string, key: string): Promise<string | undefined> {
  const prefix = decodeURIComponent(new URL(url.replace(/^etcd:/, 'http:')).pathname.slice(1));
  const reply = await etcdCall<{ kvs?: Array<{ lease?: string }> }>(url, 'kv/range', { key: Buffer.from(`${prefix}/${key}`).toString('base64') });
  return reply.kvs?.[0]?.lease;
}

/**
 * Adds the key's lease to `leases`, unless the key is gone: its lease may run
 * out between a write that found it and this look (at the 3 s edge), which
 * says nothing about which lease the write put it on.
 */
async function noteLease(url: string, key: string, leases: Set<string | undefined>): Promise<void> {
  const prefix = decodeURIComponent(new URL(url.replace(/^etcd:/, 'http:')).pathname.slice(1));
  const reply = await etcdCall<{ kvs?: Array<{ lease?: string }> }>(url, 'kv/range', { key: Buffer.from(`${prefix}/${key}`).toString('base64') });
  if (reply.kvs?.length) leases.add(reply.kvs[0]!.lease);
}

/** How many leases the cluster holds. */
async function leaseCount(url: string): Promise<number> {
  return ((await etcdCall<{ leases?: unknown[] }>(url, 'lease/leases', {})).leases ?? []).length;
}

/**
 * Runs `write` every 400 ms (it answers the counter it left) until the
 * counter starts again at 1 (the key expired), for at most 6 s from `since`:
 * when that happened (ms after `since`), or undefined if it never did.
 * `check` runs after every write that found the key.
 */
async function incrementUntilExpired(since: number, write: () => Promise<number>, check: () => Promise<void>): Promise<number | undefined> {
  let next = since;
  while (next - since < 8000) {
    next += 400;
    await sleep(Math.max(0, next - Date.now()));
    if ((await write()) === 1) return Date.now() - since;
    await check();
  }
  return undefined;
}

/** The 3 s expiry is a lease of 3 s, granted after `since`: the key goes after 3 s, within etcd's lease check (0.5 s), one write's 400 ms and a loaded machine's delay. */
function expectExpiredOnTime(after: number | undefined, grantedWithin = 0): void {
  expect(after, 'the key never expired').toBeDefined();
  expect(after).toBeGreaterThanOrEqual(3000);
  // `grantedWithin`: how long after `since` the write granting the lease ended (a process's start-up on a loaded machine).
  expect(after).toBeLessThan(5000 + grantedWithin);
}

describe('a write that keeps the expiry keeps the lease', () => {
  needsServer(etcd);

  test('Store.update every 400 ms: the key stays on its lease, its expiry does not move, and it is gone after 3 s', () =>
    onStore(async (store, url) => {
      const since = Date.now();
      await store.put('n', '10', { ttlMs: 3000 });
      const lease = await leaseOf(url, 'n');
      expect(lease).toBeDefined();
      const expiries: Array<number | null> = [];
      const leases = new Set<string | undefined>();
      const after = await incrementUntilExpired(
        since,
        async () => Number((await increment(store, 'n')).value),
        async () => {
          await noteLease(url, 'n', leases);
          const expiry = await store.expiry('n');
          if (expiry !== undefined) expiries.push(expiry); // undefined: gone since the write (see noteLease); null would fail below
        },
      );
      expectExpiredOnTime(after);
      expect([...leases]).toEqual([lease]);
      // Where the put set it: etcd reports the middle of the lease's current second, within half a second of its end (3 s after the grant).
      for (const e of expiries) expect(e).toBeLessThanOrEqual(since + 3000 + 1000 + 500); // null (the expiry lost) fails here
      expect(await store.expiry('n')).toBeNull(); // INCR on a gone key starts a key without an expiry, as in Redis
    }));

  test('a transaction that writes a key, or another key, with an expiry it read puts it on that lease (INCR, RENAME)', () =>
    onStore(async (store, url) => {
      await store.put('a', '1', { ttlMs: 60_000 });
      const lease = await leaseOf(url, 'a');
      await store.transact(async (tx) => {
        const a = (await tx.getEntry('a'))!;
        tx.put('a', String(Number(a.value) + 1), { expiresAt: a.expiresAt });
      });
      expect(await leaseOf(url, 'a')).toBe(lease);
      await store.transact(async (tx) => {
        const a = (await tx.getEntry('a'))!;
        tx.del('a');
        tx.put('b', a.value, { expiresAt: a.expiresAt });
      });
      expect(await leaseOf(url, 'b')).toBe(lease);
      expect(await store.get('b')).toEqual(Buffer.from('2'));
    }));

  test('a write with a different expiry gets a lease of its own, ending when asked', () =>
    onStore(async (store, url) => {
      await store.put('k', 'v', { ttlMs: 60_000 });
      const first = await leaseOf(url, 'k');
      const later = await store.update('k', (current) => ({ value: 'w', expiresAt: current!.expiresAt! + 5000 }));
      const second = await leaseOf(url, 'k');
      expect(second).not.toBe(first);
      expect(Math.abs((await store.expiry('k'))! - later!.expiresAt!)).toBeLessThanOrEqual(1000);
      await store.transact(async (tx) => {
        const k = (await tx.getEntry('k'))!;
        tx.put('k', k.value, { ttlMs: 10_000 });
      });
      expect(await leaseOf(url, 'k')).not.toBe(second);
      expect(Math.abs((await store.expiry('k'))! - (Date.now() + 10_000))).toBeLessThanOrEqual(1000);
      // And a write that drops the expiry drops the lease.
      await store.update('k', () => ({ value: 'x', expiresAt: null }));
      expect(await leaseOf(url, 'k')).toBeUndefined();
    }));

  test('100 updates and 100 transactions keeping an expiry grant no lease', () =>
    onStore(async (store, url) => {
      await store.put('counter', '0', { ttlMs: 3_600_000 });
      const before = await leaseCount(url);
      for (let i = 0; i < 100; i++) await increment(store, 'counter');
      for (let i = 0; i < 100; i++) {
        await store.transact(async (tx) => {
          const c = (await tx.getEntry('counter'))!;
          tx.put('counter', String(Number(c.value) + 1), { expiresAt: c.expiresAt });
        });
      }
      expect(await store.get('counter')).toEqual(Buffer.from('200'));
      expect(await leaseCount(url)).toBeLessThanOrEqual(before);
    }));

  test('a lease revoked between the read and the write: the transaction runs again and finds the key gone', () =>
    onStore(async (store, url) => {
      await store.put('k', '5', { ttlMs: 60_000 });
      const lease = await leaseOf(url, 'k');
      let runs = 0;
      const result = await store.transact(async (tx) => {
        runs++;
        const k = await tx.getEntry('k');
        if (runs === 1) await etcdCall(url, 'lease/revoke', { ID: lease }); // as when it runs out: etcd deletes its keys
        const next = Number(k?.value ?? 0) + 1;
        tx.put('k', String(next), { expiresAt: k?.expiresAt ?? null });
        return next;
      });
      expect(runs).toBe(2);
      expect(result).toBe(1);
      expect(await store.getEntry('k')).toMatchObject({ value: Buffer.from('1'), expiresAt: null });
    }));
});

describe('tzkv incr and tzkv serve on etcd', () => {
  needsServer(etcd);

  test('tzkv incr every 400 ms: the key stays on its lease and is gone after 3 s', async () => {
    const url = address();
    const since = Date.now();
    expect((await tzkv(['put', '-d', url, 'n', '10', '--ttl', '3s'])).exitCode).toBe(0);
    const granted = Date.now() - since;
    const lease = await leaseOf(url, 'n');
    const leases = new Set<string | undefined>();
    const after = await incrementUntilExpired(
      since,
      async () => {
        const run = await tzkv(['incr', '-d', url, 'n']);
        expect(run.exitCode, run.stderr).toBe(0);
        return Number(run.stdout);
      },
      () => noteLease(url, 'n', leases),
    );
    expectExpiredOnTime(after, granted);
    expect([...leases]).toEqual([lease]);
    expect((await tzkv(['ttl', '-d', url, 'n'])).stdout).toBe('-1\n');
  });

  test('Redis INCR and EXPIRE NX every 400 ms (a rate limiter): TTL counts down, and the window ends after 3 s', async () => {
    const url = address();
    const server = await startTzkvServe(url);
    const conn = await RawConnection.open(server.port);
    try {
      const integer = async (...words: string[]) => {
        const reply = readReply(await conn.send(words))!.reply;
        expect(reply.type, JSON.stringify(reply)).toBe(':');
        return Number((reply as { text: string }).text);
      };
      // A fixed-window rate limiter: INCR, then EXPIRE NX starts the window when the INCR made the key.
      const hit = async () => {
        const count = await integer('INCR', 'n');
        expect(await integer('EXPIRE', 'n', '3', 'NX')).toBe(count === 1 ? 1 : 0);
        return count;
      };
      const since = Date.now();
      expect(await hit()).toBe(1);
      const ttls: number[] = [];
      const after = await incrementUntilExpired(since, hit, async () => void ttls.push(await integer('TTL', 'n')));
      expectExpiredOnTime(after);
      expect(ttls.length).toBeGreaterThanOrEqual(5);
      for (let i = 1; i < ttls.length; i++) expect(ttls[i], ttls.join(' ')).toBeLessThanOrEqual(ttls[i - 1]);
      expect(ttls[ttls.length - 1]).toBeLessThanOrEqual(1);
      expect(await integer('TTL', 'n')).toBe(3); // the next window
    } finally {
      conn.close();
      expect((await server.stop()).exitCode).toBe(0);
    }
  });
});

/** Runs `test` on a store at a fresh address, and closes it. */
async function onStore(test: (store: Store, url: string) => Promise<void>): Promise<void> {
  const url = address();
  const store = await open(url);
  try {
    await test(store, url);
  } finally {
    await store.close();
  }
}

/** tzkv incr's update: the counter plus one, the expiry kept. */
function increment(store: Store, key: string) {
  return store.update(key, (current) => ({ value: String(Number(current?.value ?? 0) + 1) })).then((e) => e!);
}
