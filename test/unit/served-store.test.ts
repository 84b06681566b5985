// The ServedStore (src/serve/core) on a store directory: what only a
// directory has. Its read cache, kept fresh by Store.changes(): a compaction
// by another process, a bound in bytes, expiries judged at read, reads of
// several keys as one cut. Its commits: the writer lock not held between
// them (a CLI writer keeps working), a full disk rejecting every unit of a
// commit with nothing stored, and the sync modes, counted through FaultFs.
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, test, vi } from 'vitest';
import type { Entry, Store } from '../../src/api.js';
import { isTzkvError } from '../../src/errors.js';
import { type EngineOptions, open } from '../../src/local/local-store.js';
import { type ServedStore, type ServedStoreCounters, type ServedStoreOptions, type SyncMode, openServedStore } from '../../src/serve/core/served-store.js';
import { tzkv } from '../e2e/helpers.js';
import { FaultFs } from '../helpers/fault-fs.js';
import { tempDir, tempStore } from '../helpers/temp-store.js';

const served: ServedStore[] = [];

afterEach(async () => {
  vi.useRealTimers();
  for (const s of served.splice(0)) await s.close().catch(() => undefined);
});

function serve(store: Store, options: Partial<ServedStoreOptions> = {}): ServedStore {
  const s = openServedStore(store, { sync: { kind: 'always' }, cacheBytes: 1 << 20, ...options });
  served.push(s);
  return s;
}

async function servedDir(engine: EngineOptions = {}, options: Partial<ServedStoreOptions> = {}) {
  const dir = tempDir();
  const store = await tempStore({ command: 'served store test', ...engine }, dir);
  return { dir, store, served: serve(store, options) };
}

const b = (s: string) => Buffer.from(s);
const text = (e: Entry | undefined) => e?.value.toString();

describe('the read cache', () => {
  test('a second get is a hit; a write through the served store is seen by the next get', async () => {
    const { served } = await servedDir();
    await served.write((tx) => tx.put('k', 'v1'));
    expect(text(await served.get(b('k')))).toBe('v1');
    expect(text(await served.get(b('k')))).toBe('v1');
    const counters: Partial<ServedStoreCounters> = { cacheHits: 1, cacheMisses: 1, cacheEntries: 1 };
    expect(served.counters).toMatchObject(counters);
    await served.write((tx) => tx.put('k', 'v2'));
    expect(text(await served.get(b('k')))).toBe('v2');
  });

  test('a compaction by another process (tzkv compact): every get still right, and changes after it seen', async () => {
    const { dir, served } = await servedDir();
    const model = new Map<string, string>();
    for (let round = 0; round < 4; round++) {
      await Promise.all(
        Array.from({ length: 100 }, (_, i) =>
          served.write((tx) => {
            const key = `k${i}`;
            if (round === 3 && i % 4 === 0) {
              tx.del(key);
              model.delete(key);
            } else {
              tx.put(key, `${key}@${round}`);
              model.set(key, `${key}@${round}`);
            }
          }),
        ),
      );
    }
    const keys = Array.from({ length: 100 }, (_, i) => `k${i}`);
    const expected = keys.map((k) => model.get(k));
    expect((await Promise.all(keys.map((k) => served.get(b(k))))).map(text)).toEqual(expected);
    const compact = await tzkv(['compact', '-d', dir]);
    expect(compact.exitCode, compact.stderr).toBe(0);
    expect((await Promise.all(keys.map((k) => served.get(b(k))))).map(text)).toEqual(expected);
    expect((await tzkv(['put', '-d', dir, 'k1', 'after the compaction'])).exitCode).toBe(0);
    expect((await tzkv(['del', '-d', dir, 'k2'])).exitCode).toBe(0);
    expect(text(await served.get(b('k1')))).toBe('after the compaction');
    expect(await served.get(b('k2'))).toBeUndefined();
    await served.write((tx) => tx.put('k3', 'served after it'));
    expect((await tzkv(['get', '-d', dir, 'k3'])).stdout).toBe('served after it');
  });

  test('bounded in bytes: what it holds never exceeds the bound, and what it serves is right', async () => {
    const bound = 16 * 1024;
    const { served } = await servedDir({}, { cacheBytes: bound });
    const valueOf = (i: number) => `${i}:`.padEnd((i * 37) % 1500, 'x');
    for (let i = 0; i < 300; i += 50) await Promise.all(Array.from({ length: 50 }, (_, j) => served.write((tx) => tx.put(`key${i + j}`, valueOf(i + j)))));
    let most = 0;
    for (let i = 0; i < 600; i++) {
      const k = (i * 7) % 300;
      for (let again = 0; again < 2; again++) {
        expect(text(await served.get(b(`key${k}`)))).toBe(valueOf(k));
        most = Math.max(most, served.counters.cacheBytes);
      }
    }
    expect(most).toBeGreaterThan(bound / 2);
    expect(most).toBeLessThanOrEqual(bound);
    expect(served.counters.cacheEntries).toBeLessThan(300);
    expect(served.counters.cacheHits).toBe(600);
  });

  test('an expiry is judged when read: the cached entry answers none once its time has come, without asking the store', async () => {
    const clock = { t: 1_800_000_000_000 };
    const now = () => clock.t;
    const { served } = await servedDir({ now }, { now });
    await served.write((tx) => tx.put('short', 'v', { ttlMs: 1000 }));
    expect(text(await served.get(b('short')))).toBe('v');
    expect((await served.get(b('short')))?.expiresAt).toBe(clock.t + 1000);
    const { cacheMisses } = served.counters;
    clock.t += 999;
    expect(text(await served.get(b('short')))).toBe('v');
    clock.t += 1;
    expect(await served.get(b('short'))).toBeUndefined();
    expect(served.counters.cacheMisses).toBe(cacheMisses);
  });

  test('getMany is one cut: a key that changed while the others were read is read again', async () => {
    const dir = tempDir();
    const store = await tempStore({}, dir);
    const other = await open(dir);
    await store.transact((tx) => tx.put('a', 'A1').put('b', 'B1'));
    let changed: Promise<void> | undefined;
    // Reading `a` lets another handle change a and b together; `b` is read only after that.
    const slow: Store = Object.assign(Object.create(store) as Store, {
      getEntry: async (key: Buffer) => {
        if (key.toString() === 'a') {
          const e = await store.getEntry(key);
          changed ??= other.transact((tx) => tx.put('a', 'A2').put('b', 'B2'));
          return e;
        }
        await changed;
        return store.getEntry(key);
      },
    });
    const s = serve(slow);
    expect((await s.getMany([b('a'), b('b'), b('a')])).map(text)).toEqual(['A2', 'B2', 'A2']);
    await other.close();
  });
});

test('options are checked: a sync mode, a batch delay and a cache size that make no sense are INVALID_ARGUMENT', async () => {
  const store = await tempStore();
  for (const bad of [{ sync: { kind: 'sometimes' } }, { sync: { kind: 'batch', ms: -1 } }, { sync: { kind: 'always' }, cacheBytes: 1.5 }]) {
    expect(() => openServedStore(store, { cacheBytes: 0, ...bad } as ServedStoreOptions)).toThrow(expect.objectContaining({ code: 'INVALID_ARGUMENT' }));
  }
});

describe('group commit on a directory', () => {
  test('the writer lock is not held between commits: a CLI put goes through while the served store takes writes', async () => {
    const { dir, served } = await servedDir();
    for (let i = 0; i < 5; i++) {
      await served.write((tx) => tx.put(`seq${i}`, 'x'));
      expect(existsSync(join(dir, 'LOCK'))).toBe(false);
    }
    let stop = false;
    let done = 0;
    const writer = async (w: number) => {
      for (let i = 0; !stop; i++) {
        await served.write((tx) => tx.put(`w${w}`, String(i)));
        done++;
      }
    };
    const writers = Array.from({ length: 20 }, (_, w) => writer(w));
    const cli = await tzkv(['put', '-d', dir, 'from-cli', 'yes', '--lock-timeout', '20s']);
    const during = done;
    stop = true;
    await Promise.all(writers);
    expect(cli.exitCode, cli.stderr).toBe(0);
    expect(during).toBeGreaterThan(0);
    expect(text(await served.get(b('from-cli')))).toBe('yes');
  });

  /** A served store over FaultFs holding kept=before, read once (so cached). */
  async function faulty() {
    const dir = tempDir();
    const fs = new FaultFs(dir);
    const s = serve(await tempStore({ fs }, dir));
    await s.write((tx) => tx.put('kept', 'before'));
    expect(text(await s.get(b('kept')))).toBe('before');
    return { dir, fs, s };
  }

  test('a full disk: the commit rejects every unit in it, nothing of it is stored, and the next commit works', async () => {
    const { dir, fs, s } = await faulty();
    fs.failAt('write', 1, { code: 'ENOSPC', partial: true, match: /\.tzds$/ });
    const units = Array.from({ length: 10 }, (_, i) => s.write((tx) => tx.put(`new${i}`, 'x').put('kept', `overwritten by ${i}`)));
    const results = await Promise.allSettled(units);
    for (const r of results) {
      expect(r.status).toBe('rejected');
      expect(isTzkvError((r as PromiseRejectedResult).reason, 'IO')).toBe(true);
    }
    expect(s.counters.commits).toBe(1);
    expect(text(await s.get(b('kept')))).toBe('before');
    expect(await s.get(b('new3'))).toBeUndefined();
    const fresh = await open(dir, { readOnly: true });
    const listed: string[] = [];
    for await (const e of fresh.entries()) listed.push(`${e.key}=${e.value}`);
    expect(listed).toEqual(['kept=before']);
    await fresh.close();
    await s.write((tx) => tx.put('kept', 'after'));
    expect(text(await s.get(b('kept')))).toBe('after');
  });

  test('an fsync that fails: every unit rejects, the store is as before', async () => {
    const { fs, s } = await faulty();
    fs.failAt('fsync', 1, { code: 'EIO', match: /\.tzds$/ });
    const results = await Promise.allSettled([s.write((tx) => tx.put('kept', 'lost')), s.write((tx) => tx.put('other', 'lost'))]);
    expect(results.map((r) => r.status)).toEqual(['rejected', 'rejected']);
    expect(text(await s.get(b('kept')))).toBe('before');
    expect(await s.get(b('other'))).toBeUndefined();
    expect(fs.unsynced().filter((n) => n.endsWith('.tzds'))).toEqual([]);
  });
});

describe('sync modes, through the fsyncs FaultFs sees', () => {
  const segmentsUnsynced = (fs: FaultFs) => fs.unsynced().filter((n) => n.endsWith('.tzds'));

  async function inMode(sync: SyncMode, onError?: (err: Error) => void) {
    const dir = tempDir();
    const fs = new FaultFs(dir);
    const store = await tempStore({ fs, sync: sync.kind === 'always' }, dir);
    await store.put('first', 'x'); // the store exists before timers are faked
    await store.sync();
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout'] });
    return { fs, s: serve(store, { sync, onError }) };
  }

  test('always: each commit is fsynced before it is acknowledged', async () => {
    const { fs, s } = await inMode({ kind: 'always' });
    await s.write((tx) => tx.put('k', 'v'));
    expect(segmentsUnsynced(fs)).toEqual([]);
  });

  test('batch 50 ms: acknowledged once written to the OS, fsynced 50 ms later, once for every commit in between', async () => {
    const { fs, s } = await inMode({ kind: 'batch', ms: 50 });
    const fsyncs = () => fs.calls.fsync ?? 0;
    const before = fsyncs();
    await s.write((tx) => tx.put('k1', 'v'));
    expect(segmentsUnsynced(fs)).toEqual(['00000001.tzds']);
    await vi.advanceTimersByTimeAsync(20);
    await s.write((tx) => tx.put('k2', 'v'));
    expect(fsyncs()).toBe(before);
    await vi.advanceTimersByTimeAsync(29);
    expect(segmentsUnsynced(fs)).toEqual(['00000001.tzds']);
    await vi.advanceTimersByTimeAsync(1);
    expect(segmentsUnsynced(fs)).toEqual([]);
    expect(fsyncs()).toBe(before + 1);
  });

  test('never: no fsync however long it runs; close() makes the acknowledged writes durable', async () => {
    const { fs, s } = await inMode({ kind: 'never' });
    await s.write((tx) => tx.put('k', 'v'));
    await vi.advanceTimersByTimeAsync(60_000);
    expect(segmentsUnsynced(fs)).toEqual(['00000001.tzds']);
    await s.close();
    expect(segmentsUnsynced(fs)).toEqual([]);
  });

  test('batch: a background fsync that fails is told to onError, and later writes are refused', async () => {
    const told: Error[] = [];
    const { fs, s } = await inMode({ kind: 'batch', ms: 10 }, (err) => told.push(err));
    fs.failAt('fsync', 1, { code: 'EIO', match: /\.tzds$/ });
    await s.write((tx) => tx.put('k', 'v'));
    await vi.advanceTimersByTimeAsync(10);
    expect(told.map((e) => isTzkvError(e, 'IO'))).toEqual([true]);
    const refused = await s.write((tx) => tx.put('k2', 'v')).catch((e: unknown) => e);
    expect(isTzkvError(refused, 'IO')).toBe(true);
    expect(String(refused)).toMatch(/background fsync/);
  });
});
