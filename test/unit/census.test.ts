// The census in the cases the model test reaches only by luck: overwritten
// TTL keys whose runs merge, spilled batches, a census left stale by a writer
// that does not keep it, and the cost of stats not growing with the store.
import { describe, expect, it } from 'vitest';
import { open } from '../../src/local/local-store.js';
import { tempDir } from '../helpers/temp-store.js';

describe('census', () => {
  it('an overwritten TTL key stops counting once its runs merge and its old expiry passes', async () => {
    const dir = tempDir();
    let now = 1_700_000_000_000;
    const store = await open(dir, { now: () => now, flushBytes: 1 });
    await store.put('k', 'old', { ttlMs: 1000 });
    await store.put('k', 'new');
    // Enough flushes that the two runs holding 'k' are merged together.
    for (let i = 0; i < 8; i++) await store.put(`other:${i}`, 'x');
    const before = await store.stats();
    expect(before.details.runs).toBeLessThan(9);
    now += 5000;
    const s = await store.stats();
    expect([s.counted, s.keys, s.expiredKeys]).toEqual(['census', 9, 0]);
    await store.close();
  });
});

describe('census, more', () => {
  it('counts a spilled batch that overwrites and deletes indexed keys', async () => {
    const dir = tempDir();
    let now = 1_700_000_000_000;
    const store = await open(dir, { now: () => now, spillBytes: 4096 });
    const first = store.batch();
    for (let i = 0; i < 500; i++) first.put(`k:${i}`, 'a'.repeat(10), { ttlMs: i % 2 === 0 ? 1000 : undefined });
    await first.write();
    const second = store.batch();
    for (let i = 0; i < 250; i++) second.put(`k:${i}`, 'b'.repeat(30));
    for (let i = 250; i < 300; i++) second.del(`k:${i}`);
    await second.write();
    now += 2000;
    // Left: 0..249 (30-byte values, no TTL), 300..499 (10 bytes; the even ones expired).
    const s = await store.stats();
    const width = (i: number) => 20 + `k:${i}`.length;
    let bytes = 0;
    for (let i = 0; i < 250; i++) bytes += width(i) + 30;
    for (let i = 301; i < 500; i += 2) bytes += width(i) + 10;
    expect([s.counted, s.keys, s.expiredKeys, s.liveBytes]).toEqual(['census', 350, 100, bytes]);
    await store.compact();
    const after = await store.stats();
    expect([after.counted, after.keys, after.expiredKeys, after.liveBytes]).toEqual(['census', 350, 0, bytes]);
    await store.close();
  });

  it.each([
    ['sorted keys', (keys: string[]) => keys],
    ['unsorted keys, one twice', (keys: string[]) => [...keys.reverse(), keys[3]]],
  ])('a batch of %s indexed from memory with an unindexed tail, over older runs or none: the census a compaction recounts', async (_, order) => {
    for (const olderRuns of [true, false]) {
      const dir = tempDir();
      let now = 1_700_000_000_000;
      const store = await open(dir, { now: () => now, flushBytes: 64 * 1024 });
      /** What the store must hold: key → [record length, expiry]. */
      const model = new Map<string, [number, number]>();
      const put = (b: { put: (k: string, v: string, o?: { ttlMs?: number }) => unknown }, k: string, v: string, ttl: boolean) => {
        b.put(k, v, ttl ? { ttlMs: 1000 } : undefined);
        model.set(k, [20 + k.length + v.length, ttl ? now + 1000 : 0]);
      };
      if (olderRuns) {
        const first = store.batch();
        for (let i = 0; i < 200; i++) put(first, `a:${String(i).padStart(3, '0')}`, 'x'.repeat(400), i % 3 === 0);
        await first.write();
      }
      for (let i = 1; i < 20; i += 2) {
        await store.put(`t:${String(i).padStart(2, '0')}`, 'tail');
        model.set(`t:${String(i).padStart(2, '0')}`, [20 + 4 + 4, 0]);
      }
      await store.put('a:005', 'tail');
      model.set('a:005', [20 + 5 + 4, 0]);
      expect((await store.stats()).details.tailBytes).toBeGreaterThan(0);
      const keys = [...Array.from({ length: 200 }, (_, i) => `a:${String(100 + i).padStart(3, '0')}`), ...Array.from({ length: 20 }, (_, i) => `t:${String(i).padStart(2, '0')}`)];
      const batch = store.batch();
      for (const k of order(keys)) put(batch, k, 'y'.repeat(400), k.endsWith('7'));
      await batch.write();
      expect((await store.stats()).details.tailBytes).toBe(0);
      expect((await store.get('t:01'))?.toString()).toBe('y'.repeat(400));
      expect((await store.get('a:005'))?.toString()).toBe('tail');
      now += 2000;
      const live = [...model.values()].filter(([, exp]) => exp === 0 || exp > now);
      const want = ['census', live.length, model.size - live.length, live.reduce((n, [len]) => n + len, 0)];
      const s = await store.stats();
      expect([s.counted, s.keys, s.expiredKeys, s.liveBytes], `older runs: ${olderRuns}`).toEqual(want);
      await store.compact();
      const after = await store.stats();
      expect([after.counted, after.keys, after.expiredKeys, after.liveBytes]).toEqual(['census', want[1], 0, want[3]]);
      await store.close();
    }
  });

  it('falls back to a scan when a writer that does not keep the census has written, until a compaction', async () => {
    const { readFileSync } = await import('node:fs');
    const { decodeManifest, encodeManifest } = await import('../../src/format/manifest.js');
    const { replaceFile, realFs } = await import('../../src/io/fs.js');
    const dir = tempDir();
    const store = await open(dir, { flushBytes: 1 });
    for (let i = 0; i < 20; i++) await store.put(`k:${i}`, 'v');
    await store.close();
    // What an older tzkv does: rewrite the manifest (a new generation) carrying the census untouched.
    const m = decodeManifest(readFileSync(`${dir}/MANIFEST`));
    m.generation++;
    replaceFile(realFs, dir, 'MANIFEST', encodeManifest(m));
    const again = await open(dir, { flushBytes: 1 });
    await again.del('k:0');
    const s = await again.stats();
    expect([s.counted, s.keys]).toEqual(['scan', 19]);
    await again.compact();
    const t = await again.stats();
    expect([t.counted, t.keys]).toEqual(['census', 19]);
    await again.close();
  });

  it('stats reads about as much of a store of 200,000 keys as of one of 2,000', async () => {
    const { realFs } = await import('../../src/io/fs.js');
    const reads = async (n: number) => {
      const dir = tempDir();
      const store = await open(dir);
      for (let from = 0; from < n; from += 10_000) {
        const b = store.batch();
        for (let i = from; i < Math.min(n, from + 10_000); i++) b.put(`key:${i}`, 'value', { ttlMs: i % 3 === 0 ? 60_000 : undefined });
        await b.write();
      }
      // The same unindexed tail in both stores, over one run and then a few newer ones.
      await store.compact();
      for (let i = 0; i < 50; i++) await store.put(`key:${i * 7}`, 'newer', { ttlMs: 1000 });
      await store.close();
      let bytes = 0;
      const counting = { ...realFs, read: (fd: number, buf: Buffer, off: number, len: number, pos: number) => {
        const got = realFs.read(fd, buf, off, len, pos);
        bytes += got;
        return got;
      } };
      const reader = await open(dir, { fs: counting, readOnly: true });
      bytes = 0;
      const s = await reader.stats();
      await reader.close();
      expect([s.counted, s.keys]).toEqual(['census', n]);
      return { bytes, storeBytes: s.totalBytes };
    };
    const small = await reads(2_000);
    const large = await reads(200_000);
    // A scan reads every run and more: here the census reads a few blocks per
    // run and per tail key (50 of them, in different leaves of the large run).
    expect(large.bytes).toBeLessThan(small.bytes * 10);
    expect(large.bytes).toBeLessThan(large.storeBytes / 10);
  }, 60_000);
});

describe('census on a follower', () => {
  it('a follower and a promoted follower count from the census, the same as the leader', async () => {
    const leaderDir = tempDir();
    const followerDir = tempDir();
    let now = 1_700_000_000_000;
    const leader = await open(leaderDir, { now: () => now, flushBytes: 256 });
    for (let i = 0; i < 40; i++) await leader.put(`k:${i}`, `v${i}`, { ttlMs: i < 10 ? 500 : undefined });
    await leader.del('k:39');
    await leader.admin()!.replicate(followerDir);
    now += 1000;
    const want = await leader.stats();
    await leader.close();
    const follower = await open(followerDir, { now: () => now });
    const got = await follower.stats();
    expect([got.counted, got.keys, got.expiredKeys, got.liveBytes]).toEqual(['census', want.keys, want.expiredKeys, want.liveBytes]);
    expect([got.keys, got.expiredKeys]).toEqual([29, 10]);
    await follower.admin()!.promote();
    await follower.put('new', 'key');
    const promoted = await follower.stats();
    expect([promoted.counted, promoted.keys]).toEqual(['census', 30]);
    await follower.close();
  });
});
