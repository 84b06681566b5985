// Store.transact (src/api.ts) on both backends, through the embedded API: a
// transaction reads its own writes, commits all of them or none, never loses
// an update to a concurrent one, and on etcd is refused past one etcd
// transaction's size (src/etcd/transaction.ts). `tzkv batch` is built on it
// (test/e2e/batch.test.ts).
import { afterAll, describe, expect, test } from 'vitest';
import { open, type Store, type Transaction } from '../../src/index.js';
import { bothBackends } from './fixtures/backends.js';
import { etcd, needsServer } from '../helpers/servers.js';

const backends = bothBackends('transact');
const [, [, etcdStore]] = backends;

const opened: Store[] = [];
async function openStore(location: string): Promise<Store> {
  const store = await open(location);
  opened.push(store);
  return store;
}
afterAll(async () => {
  for (const store of opened) await store.close();
});

const text = async (store: Store | Transaction, key: string) => (await store.getEntry(key))?.value.toString();

describe.each(backends)('transact on %s', (_name, newStore, server) => {
  if (server) needsServer(server);

  test('reads see the store and the transaction\'s own earlier writes; the writes land together; the result is passed back', async () => {
    const store = await openStore(await newStore());
    await store.put('kept', 'old');
    await store.put('gone', 'x');
    const seen = await store.transact(async (tx) => {
      const before = [await text(tx, 'kept'), await text(tx, 'gone'), await text(tx, 'new')];
      tx.put('new', '1').put('kept', 'changed', { ttlMs: 3_600_000 }).del('gone');
      const counter = Number(await text(tx, 'new')) + 1;
      tx.put('new', String(counter));
      return [...before, await text(tx, 'new'), await text(tx, 'kept'), await text(tx, 'gone')];
    });
    expect(seen).toEqual(['old', 'x', undefined, '2', 'changed', undefined]);
    expect(await text(store, 'new')).toBe('2');
    expect(await text(store, 'kept')).toBe('changed');
    expect(await store.expiry('kept')).toBeGreaterThan(Date.now());
    expect(await store.has('gone')).toBe(false);
  });

  test('a put whose expiry has already passed is taken, as a Batch takes it: the key is gone at once', async () => {
    const store = await openStore(await newStore());
    await store.put('k', 'live');
    const seen = await store.transact(async (tx) => {
      tx.put('k', 'late', { expiresAt: Date.now() - 1000 });
      return tx.getEntry('k');
    });
    expect(seen).toBeUndefined();
    expect(await store.has('k')).toBe(false);
  });

  test('a function that throws writes nothing, and its error comes back', async () => {
    const store = await openStore(await newStore());
    await store.put('a', 'before');
    const mind = new Error('changed my mind');
    const failed = store.transact(async (tx) => {
      tx.put('a', 'after').put('b', 'new').del('a');
      throw mind;
    });
    await expect(failed).rejects.toBe(mind);
    expect(await text(store, 'a')).toBe('before');
    expect(await store.has('b')).toBe(false);
  });

  test('a transaction used after its function returned is refused', async () => {
    const store = await openStore(await newStore());
    let kept: Transaction | undefined;
    await store.transact((tx) => {
      kept = tx;
    });
    expect(() => kept!.put('k', 'v')).toThrow(expect.objectContaining({ code: 'INVALID_ARGUMENT' }));
    await expect(kept!.getEntry('k')).rejects.toMatchObject({ code: 'INVALID_ARGUMENT' });
    expect(await store.has('k')).toBe(false);
  });

  test('bad arguments are refused as Store refuses them', async () => {
    const store = await openStore(await newStore());
    await expect(store.transact((tx) => tx.put('', 'v'))).rejects.toMatchObject({ code: 'INVALID_ARGUMENT' });
    await expect(store.transact((tx) => tx.put('k', 'v', { ttlMs: -5 }))).rejects.toMatchObject({ code: 'INVALID_ARGUMENT' });
    await expect(store.transact('not a function' as never)).rejects.toMatchObject({ code: 'INVALID_ARGUMENT' });
    expect(await store.has('k')).toBe(false);
  });

  test('concurrent read-modify-write transactions from two handles lose no update', async () => {
    const location = await newStore();
    const [one, two] = [await openStore(location), await openStore(location)];
    const bump = (store: Store) =>
      store.transact(async (tx) => {
        const a = Number((await text(tx, 'a')) ?? 0);
        const b = Number((await text(tx, 'b')) ?? 0);
        tx.put('a', String(a + 1)).put('b', String(b + 1));
      });
    await Promise.all(Array.from({ length: 20 }, (_, i) => bump(i % 2 ? one : two)));
    expect([await text(one, 'a'), await text(one, 'b')]).toEqual(['20', '20']);
  });
});

describe('transact on etcd, past one etcd transaction', () => {
  needsServer(etcd);

  test('a transaction that only reads reads every key at one revision, and sends no transaction: no limit on its reads', async () => {
    const store = await openStore(await etcdStore());
    await store.transact((tx) => Array.from({ length: 100 }, (_, i) => tx.put(`k${i}`, `v${i}`)));
    await store.transact((tx) => Array.from({ length: 100 }, (_, i) => tx.put(`j${i}`, `w${i}`)));
    const values = await store.transact(async (tx) => {
      const out: Array<string | undefined> = [];
      for (let i = 0; i < 100; i++) out.push(await text(tx, `k${i}`), await text(tx, `j${i}`));
      return out;
    });
    expect(values).toHaveLength(200);
    expect(values.slice(0, 4)).toEqual(['v0', 'w0', 'v1', 'w1']);
  });

  test('a revision compacted away while the transaction reads at it: the transaction runs again on what is there now', async () => {
    const location = await etcdStore();
    const [store, other] = [await openStore(location), await openStore(location)];
    await store.put('a', 'first');
    await store.put('b', 'second');
    let runs = 0;
    const seen = await store.transact(async (tx) => {
      runs++;
      const a = await text(tx, 'a');
      if (runs === 1) {
        await other.put('a', 'changed');
        await other.compact();
      }
      return [a, await text(tx, 'b')];
    });
    expect(runs).toBe(2);
    expect(seen).toEqual(['changed', 'second']);
  });

  test('129 keys written, or 129 read, is refused with INVALID_ARGUMENT and nothing written; 128 of each is one transaction', async () => {
    const store = await openStore(await etcdStore());
    const keys = (n: number) => Array.from({ length: n }, (_, i) => `k${String(i).padStart(3, '0')}`);
    await expect(store.transact((tx) => keys(129).forEach((k) => tx.put(k, 'v')))).rejects.toMatchObject({
      code: 'INVALID_ARGUMENT',
      message: expect.stringMatching(/at most 128 .*writes 129.*nothing was written/),
    });
    expect(await store.has('k000')).toBe(false);
    const reads = store.transact(async (tx) => {
      for (const k of keys(129)) await tx.getEntry(k);
      tx.put('marker', 'v');
    });
    await expect(reads).rejects.toMatchObject({ code: 'INVALID_ARGUMENT', message: expect.stringMatching(/reads 129/) });
    expect(await store.has('marker')).toBe(false);
    await store.transact(async (tx) => {
      for (const k of keys(128)) await tx.getEntry(k);
      keys(128).forEach((k) => tx.put(k, 'v'));
    });
    expect(await store.has('k127')).toBe(true);
  });
});
