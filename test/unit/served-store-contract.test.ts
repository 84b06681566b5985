// The ServedStore contract (src/serve/core/served-store.ts) on both backends,
// a store directory and a real etcd server: group commit (many writes share
// few commits), each unit on its own overlay of the commit (its reads see the
// units before it, its writes join only if it returns), a CLI process's write
// seen by the next get, reads of several keys, close() draining the queue.
import { afterEach, describe, expect, test } from 'vitest';
import type { Store } from '../../src/api.js';
import { isTzkvError } from '../../src/errors.js';
import { open } from '../../src/open.js';
import { MAX_COMMIT_BYTES } from '../../src/serve/core/group-commit.js';
import { type ServedStore, openServedStore } from '../../src/serve/core/served-store.js';
import { etcdForFile } from '../e2e/fixtures/etcd.js';
import { storeDir, tzkv } from '../e2e/helpers.js';
import { type ServerNeed, etcd, needsServer } from '../helpers/servers.js';

const etcdStore = etcdForFile('served');

const backends: Array<[string, () => Promise<string>, ServerNeed | undefined]> = [
  ['a store directory', () => storeDir(), undefined],
  ['an etcd server', async () => etcdStore(), etcd],
];

const opened: Array<{ store: Store; served: ServedStore }> = [];

afterEach(async () => {
  for (const { store, served } of opened.splice(0)) {
    await served.close();
    await store.close();
  }
});

async function serve(location: string): Promise<ServedStore> {
  const store = await open(location);
  const served = openServedStore(store, { sync: { kind: 'always' }, cacheBytes: 1 << 20 });
  opened.push({ store, served });
  return served;
}

const text = async (p: Promise<{ value: Buffer } | undefined>) => (await p)?.value.toString();

describe.each(backends)('served from %s', (_name, newLocation, server) => {
  if (server) needsServer(server);

  test('50 writers doing 20 writes each share few commits, and every write is there', async () => {
    const served = await serve(await newLocation());
    const writer = async (w: number) => {
      for (let i = 0; i < 20; i++) await served.write((tx) => tx.put(`w${w}:${i}`, `${w}.${i}`));
    };
    await Promise.all(Array.from({ length: 50 }, (_, w) => writer(w)));
    const { commits, writes } = served.counters;
    expect(writes).toBe(1000);
    expect(commits).toBeLessThanOrEqual(100); // 20 rounds of 50, give or take
    const all = await served.getMany(Array.from({ length: 1000 }, (_, i) => Buffer.from(`w${i % 50}:${Math.floor(i / 50)}`)));
    expect(all.map((e) => e?.value.toString())).toEqual(Array.from({ length: 1000 }, (_, i) => `${i % 50}.${Math.floor(i / 50)}`));
  });

  test('a unit that throws: its writes are dropped, its promise alone rejects; the units around it commit with it', async () => {
    const served = await serve(await newLocation());
    const boom = new Error('boom');
    const a = served.write((tx) => {
      tx.put('a', '1');
      return 'a done';
    });
    const b = served.write((tx) => {
      tx.put('b', '2');
      tx.put('a', 'overwritten by b');
      throw boom;
    });
    const c = served.write(async (tx) => {
      tx.put('c', '3');
      return (await tx.getEntry('a'))?.value.toString();
    });
    await expect(a).resolves.toBe('a done');
    await expect(b).rejects.toBe(boom);
    await expect(c).resolves.toBe('1'); // c read a as a wrote it: b's write never joined
    expect(served.counters.commits).toBe(1);
    expect(await text(served.get(Buffer.from('a')))).toBe('1');
    expect(await served.get(Buffer.from('b'))).toBeUndefined();
    expect(await text(served.get(Buffer.from('c')))).toBe('3');
  });

  test("a unit reads the store with the writes of the units queued before it, and not those after", async () => {
    const served = await serve(await newLocation());
    await served.write((tx) => tx.put('n', '1').put('gone', 'x'));
    const incr = () =>
      served.write(async (tx) => {
        const n = Number((await tx.getEntry('n'))?.value.toString() ?? '0') + 1;
        tx.put('n', String(n));
        return n;
      });
    const del = served.write((tx) => tx.del('gone'));
    const results = await Promise.all([incr(), incr(), served.write(async (tx) => (await tx.getEntry('gone')) === undefined), incr()]);
    await del;
    expect(results).toEqual([2, 3, true, 4]);
    expect(await text(served.get(Buffer.from('n')))).toBe('4');
  });

  test("a CLI process's put and del are seen by the next get, cached or not", async () => {
    const location = await newLocation();
    const served = await serve(location);
    await served.write((tx) => tx.put('k', 'old'));
    expect(await text(served.get(Buffer.from('k')))).toBe('old');
    expect(await text(served.get(Buffer.from('k')))).toBe('old');
    expect(await served.get(Buffer.from('absent'))).toBeUndefined();
    expect((await tzkv(['put', '-d', location, 'k', 'new'])).exitCode).toBe(0);
    expect((await tzkv(['put', '-d', location, 'absent', 'here now'])).exitCode).toBe(0);
    expect(await text(served.get(Buffer.from('k')))).toBe('new');
    expect(await text(served.get(Buffer.from('absent')))).toBe('here now');
    expect((await tzkv(['del', '-d', location, 'k'])).exitCode).toBe(0);
    expect(await served.get(Buffer.from('k'))).toBeUndefined();
    expect((await served.getMany([Buffer.from('absent'), Buffer.from('k')])).map((e) => e?.value.toString())).toEqual(['here now', undefined]);
  });

  test('a commit holds at most MAX_COMMIT_BYTES of keys and values: larger groups take more commits, a unit larger alone commits alone', async () => {
    const served = await serve(await newLocation());
    const big = Buffer.alloc(Math.floor(MAX_COMMIT_BYTES * 0.3), 'v');
    const units = Array.from({ length: 4 }, (_, i) => served.write((tx) => tx.put(`big${i}`, big)));
    await Promise.all(units);
    expect(served.counters).toMatchObject({ commits: 2, writes: 4 });
    expect((await served.get(Buffer.from('big3')))?.value.equals(big)).toBe(true);
  });

  test('close() commits every queued write, then refuses calls (CLOSED); the writes are in the store', async () => {
    const location = await newLocation();
    const served = await serve(location);
    const queued = Array.from({ length: 10 }, (_, i) => served.write((tx) => tx.put(`q${i}`, String(i))));
    await served.close();
    await Promise.all(queued);
    for (const call of [() => served.get(Buffer.from('q1')), () => served.write((tx) => tx.put('late', 'x')), () => served.stats()]) {
      const err = await call().catch((e: unknown) => e);
      expect(isTzkvError(err, 'CLOSED'), String(err)).toBe(true);
    }
    expect((await tzkv(['get', '-d', location, 'q9'])).stdout).toBe('9');
  });
});

describe('served from an etcd server: its limit of 128 keys a transaction', () => {
  needsServer(etcd);

  test('units that together write more keys than etcd takes at once are committed in smaller groups; a unit past it alone is refused alone', async () => {
    const served = await serve(etcdStore());
    const unit = (name: string, keys: number) => served.write((tx) => {
      for (let i = 0; i < keys; i++) tx.put(`${name}:${i}`, 'x');
      return name;
    });
    const results = await Promise.allSettled([unit('a', 100), unit('b', 100), unit('huge', 200), unit('c', 100)]);
    expect(results.map((r) => (r.status === 'fulfilled' ? r.value : isTzkvError(r.reason, 'INVALID_ARGUMENT') ? 'refused' : String(r.reason)))).toEqual(['a', 'b', 'refused', 'c']);
    expect(served.counters.writes).toBe(3);
    const sample = await served.getMany(['a:99', 'b:0', 'c:50', 'huge:0'].map((k) => Buffer.from(k)));
    expect(sample.map((e) => e?.value.toString())).toEqual(['x', 'x', 'x', undefined]);
  });
});
