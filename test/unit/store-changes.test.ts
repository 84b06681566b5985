// Store.changes() and Store.sync() (src/api.ts), the two additions a served
// store needs: on a directory, a feed of the keys any process wrote since the
// last poll (the log followed as Store.watch() follows it), 'unknown' when a
// compaction rewrote the files or a write was undone in place; sync()
// fsyncing what a sync-off store appended. On etcd: no feed, nothing to sync.
import { afterEach, describe, expect, test } from 'vitest';
import type { ChangeFeed } from '../../src/api.js';
import { isTzkvError } from '../../src/errors.js';
import { open } from '../../src/local/local-store.js';
import { open as openAny } from '../../src/open.js';
import { etcdForFile } from '../e2e/fixtures/etcd.js';
import { tzkv } from '../e2e/helpers.js';
import { FaultFs } from '../helpers/fault-fs.js';
import { etcd, needsServer } from '../helpers/servers.js';
import { tempDir, tempStore } from '../helpers/temp-store.js';

const feeds: ChangeFeed[] = [];
afterEach(() => {
  for (const f of feeds.splice(0)) f.close();
});

function feedOf(store: { changes(): ChangeFeed | undefined }): ChangeFeed {
  const feed = store.changes();
  if (!feed) throw new Error('no change feed');
  feeds.push(feed);
  return feed;
}

const keysOf = (answer: readonly Buffer[] | 'unknown') => (answer === 'unknown' ? answer : [...new Set(answer.map((k) => k.toString()))].sort());

describe('Store.changes() on a store directory', () => {
  test('nothing changed: an empty answer; then every key another handle or process wrote, once polled', async () => {
    const dir = tempDir();
    const reader = await tempStore({}, dir);
    const feed = feedOf(reader);
    expect(feed.poll()).toEqual([]);
    expect(feed.poll()).toEqual([]);
    const writer = await open(dir, { segmentBytes: 4096, flushBytes: 512 });
    await writer.put('a', '1');
    await writer.transact((tx) => tx.put('b', '2').put('c', '3'));
    expect(keysOf(feed.poll())).toEqual(['a', 'b', 'c']);
    expect(feed.poll()).toEqual([]);
    // Rolls and index flushes on the way: every key still told.
    for (let i = 0; i < 60; i++) await writer.put(`roll${i}`, 'x'.repeat(100));
    await writer.del('a');
    expect(keysOf(feed.poll())).toEqual(['a', ...Array.from({ length: 60 }, (_, i) => `roll${i}`).sort()]);
    expect((await tzkv(['put', '-d', dir, 'from-cli', 'v'])).exitCode).toBe(0);
    expect(keysOf(feed.poll())).toEqual(['from-cli']);
    await writer.close();
  });

  test("a compaction: 'unknown' once, then the keys written after it", async () => {
    const dir = tempDir();
    const store = await tempStore({}, dir);
    for (let i = 0; i < 20; i++) await store.put(`k${i % 5}`, String(i));
    const feed = feedOf(store);
    expect((await tzkv(['compact', '-d', dir])).exitCode).toBe(0);
    expect(feed.poll()).toBe('unknown');
    expect(feed.poll()).toEqual([]);
    await store.put('k1', 'after');
    expect(keysOf(feed.poll())).toEqual(['k1']);
  });

  test("a write undone in place (its fsync failed after the bytes were seen): 'unknown'", async () => {
    const dir = tempDir();
    const fs = new FaultFs(dir);
    const store = await tempStore({ fs }, dir);
    await store.put('k', 'kept');
    const feed = feedOf(await open(dir, { readOnly: true }));
    fs.failAt('fsync', 1, { code: 'EIO', match: /\.tzds$/ });
    // A reader looks while the failed write's record is on disk, before the writer cuts it off.
    const seen: Array<readonly Buffer[] | 'unknown'> = [];
    fs.beforeMutation = (op) => {
      if (op === 'truncate') seen.push(feed.poll());
    };
    await expect(store.put('k', 'undone')).rejects.toThrow(/EIO/);
    fs.beforeMutation = undefined;
    expect(seen.map(keysOf)).toEqual([['k']]);
    await store.put('k', 'redone'); // a record as long, where the undone one was
    expect(feed.poll()).toBe('unknown');
    expect(feed.poll()).toEqual([]);
  });

  test('poll() after close() is refused (CLOSED)', async () => {
    const feed = feedOf(await tempStore());
    feed.close();
    let err: unknown;
    try {
      feed.poll();
    } catch (e) {
      err = e;
    }
    expect(isTzkvError(err, 'CLOSED')).toBe(true);
  });
});

describe('Store.sync()', () => {
  test('a store opened with sync off: writes are acknowledged unsynced, and sync() fsyncs them', async () => {
    const dir = tempDir();
    const fs = new FaultFs(dir);
    const store = await tempStore({ fs, sync: false }, dir);
    await store.put('a', '1');
    await store.transact((tx) => tx.put('b', '2'));
    expect(fs.unsynced().filter((n) => n.endsWith('.tzds'))).toEqual(['00000001.tzds']);
    await store.sync();
    expect(fs.unsynced().filter((n) => n.endsWith('.tzds'))).toEqual([]);
    const fsyncs = fs.calls.fsync;
    await store.sync();
    expect(fs.calls.fsync).toBe(fsyncs);
  });

  test('with sync on every write was fsynced already: sync() does nothing', async () => {
    const dir = tempDir();
    const fs = new FaultFs(dir);
    const store = await tempStore({ fs }, dir);
    await store.put('a', '1');
    const fsyncs = fs.calls.fsync;
    await store.sync();
    expect(fs.calls.fsync).toBe(fsyncs);
  });
});

describe('on etcd', () => {
  needsServer(etcd);
  const etcdStore = etcdForFile('changes');

  test('no change feed (a check costs a round trip, as a read does); sync() has nothing to do', async () => {
    const store = await openAny(etcdStore());
    try {
      expect(store.changes()).toBeUndefined();
      await store.put('k', 'v');
      await expect(store.sync()).resolves.toBeUndefined();
    } finally {
      await store.close();
    }
  });
});
