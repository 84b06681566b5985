// Compaction and expiry times (docs/design.md "Compaction", "Census"): a key
// that expires while a compaction runs (after its snapshot, before its
// switch), and a compaction whose new run lists more expiries than its TTL
// list holds in memory, so the list spills to its scratch file and is read
// back merged.
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { Store, StoreStats } from '../../src/api.js';
import type { CompactPhase } from '../../src/engine/compact/compact.js';
import { open } from '../../src/local/local-store.js';
import { verifyStore } from '../../src/engine/verify/verify.js';
import { decodeManifest } from '../../src/format/manifest.js';
import type { Manifest } from '../../src/format/manifest.js';
import type { FileSystem } from '../../src/io/fs.js';
import { realFs } from '../../src/io/fs.js';
import { tempDir, tempStore } from '../helpers/temp-store.js';
import { PLAIN } from '../../src/format/store-codec.js';

const T0 = 1_800_000_000_000;
const SMALL = { segmentBytes: 4096, flushBytes: 512 };
const manifestOf = (dir: string): Manifest => decodeManifest(readFileSync(join(dir, 'MANIFEST')));
/** Temporary and scratch files a compaction (or anything else) left behind. */
const leftovers = (dir: string) => readdirSync(dir).filter((n) => n.startsWith('compact-') || n.endsWith('.tmp'));

async function listed(store: Store): Promise<Map<string, number | null>> {
  const out = new Map<string, number | null>();
  for await (const k of store.keys()) out.set(k.key.toString(), k.expiresAt);
  return out;
}

/** What a reader sees: every key's value and expiry, the listing, and the counts. */
async function answers(store: Store, keys: string[]) {
  const reads: Record<string, [string | undefined, number | null | undefined, boolean]> = {};
  for (const k of keys) reads[k] = [(await store.get(k))?.toString(), await store.expiry(k), await store.has(k)];
  const s = await store.stats();
  return { reads, listing: [...(await listed(store))], counts: counts(s) };
}

const counts = (s: StoreStats) => ({ counted: s.counted, keys: s.keys, expiredKeys: s.expiredKeys, liveBytes: s.liveBytes });

describe('a key that expires between the snapshot and the switch', () => {
  for (const writesBetween of [false, true]) {
    it(`is kept by the rewrite, then reads as absent and counts as expired (${writesBetween ? 'writes indexed between the phases' : 'nothing written between the phases'})`, async () => {
      let now = T0;
      const phases: CompactPhase[] = [];
      let store!: Store;
      const dir = tempDir();
      store = await tempStore(
        {
          ...SMALL,
          now: () => now,
          onCompactPhase: async (phase) => {
            phases.push(phase);
            if (phase !== 'snapshot') return;
            // The compaction's clock says T0 + 100; the store's moves past "late"'s expiry.
            now = T0 + 2_000;
            if (!writesBetween) return;
            await store.put('late-over', 'written again after its expiry');
            await store.put('gone-back', 'written again after the compaction dropped it');
            // Enough writes that runs are indexed between the snapshot and the switch.
            for (let i = 0; i < 20; i++) await store.put(`during${String(i).padStart(2, '0')}`, `during value ${i} `.repeat(3));
          },
        },
        dir,
      );
      for (let i = 0; i < 40; i++) await store.put(`k${String(i).padStart(4, '0')}`, `value ${i} `.repeat(4));
      await store.put('late', 'expires while the compaction runs', { expiresAt: T0 + 1_000 });
      await store.put('late-over', 'expires while the compaction runs too', { expiresAt: T0 + 1_000 });
      await store.put('long', 'expires long after', { expiresAt: T0 + 1_000_000 });
      await store.put('gone', 'expired before the compaction', { expiresAt: T0 + 10 });
      await store.put('gone-back', 'expired before the compaction', { expiresAt: T0 + 10 });
      now = T0 + 100;

      const report = await store.compact();
      expect(phases).toEqual(['snapshot', 'rewritten']);
      // At the compaction's clock "late" and "late-over" were live: copied; "gone" and "gone-back" were not.
      expect(report).toMatchObject({ compacted: true, recordsKept: 43, recordsDropped: 2, expiredDropped: 2 });
      const m = manifestOf(dir);
      expect(m.compaction).toBeNull();
      if (writesBetween) expect(m.runs.length, 'runs written between the phases').toBeGreaterThan(1);
      expect(leftovers(dir)).toEqual([]);

      expect(await store.get('late')).toBeUndefined();
      expect(await store.has('late')).toBe(false);
      expect(await store.expiry('late')).toBeUndefined();
      expect(await store.get('gone')).toBeUndefined();
      expect(await store.expiry('long')).toBe(T0 + 1_000_000);
      const keys = await listed(store);
      expect(keys.has('late')).toBe(false);
      expect(keys.get('long')).toBe(T0 + 1_000_000);
      if (writesBetween) {
        expect((await store.get('late-over'))?.toString()).toBe('written again after its expiry');
        expect(await store.expiry('late-over')).toBeNull();
        expect((await store.get('gone-back'))?.toString()).toBe('written again after the compaction dropped it');
        expect((await store.get('during19'))?.toString()).toBe('during value 19 '.repeat(3));
      } else {
        expect(await store.get('late-over')).toBeUndefined();
        expect(await store.get('gone-back')).toBeUndefined();
      }
      // 40 k* + long (+ late-over, gone-back and 20 during*); late (and, untouched, late-over) expired but still stored.
      const live = writesBetween ? 63 : 41;
      const expired = writesBetween ? 1 : 2;
      expect(keys.size).toBe(live);
      const s = await store.stats();
      expect([s.counted, s.keys, s.expiredKeys, s.compacting]).toEqual(['census', live, expired, null]);
      expect(s.deadBytes).toBe(s.totalBytes - s.liveBytes - 16 * s.segments); // a segment's header is never dead
      expect(verifyStore(realFs, dir, PLAIN).problems).toEqual([]);

      // Another handle on the store gives the same answers.
      const probe = ['late', 'late-over', 'long', 'gone', 'gone-back', 'k0000', 'k0039', 'during00'];
      const before = await answers(store, probe);
      const again = await open(dir, { ...SMALL, now: () => now });
      expect(await answers(again, probe)).toEqual(before);

      // The next compaction drops what has expired since; the live keys and their bytes are unchanged.
      const second = await again.compact();
      expect(second).toMatchObject({ recordsKept: live, expiredDropped: expired });
      await again.close();
      const after = await answers(store, probe);
      expect(after).toEqual({ ...before, counts: { ...before.counts, keys: live, expiredKeys: 0 } });
      const s2 = await store.stats();
      // Nothing is dead now: every byte but the segments' 16-byte headers is a live record.
      expect(s2.liveBytes).toBe(s2.totalBytes - 16 * s2.segments);
      expect(s2.liveBytes).toBe(s.liveBytes);
      expect(verifyStore(realFs, dir, PLAIN).problems).toEqual([]);
    });
  }
});

describe('a compaction whose TTL list spills to its scratch file', () => {
  const N = 3000;
  const keyOf = (i: number) => `key:${String(i).padStart(5, '0')}`;
  const valueOf = (i: number, v: number) => `v${v}:${i}:`.padEnd(8 + ((i * 37) % 61), 'x');

  /** Writes the same history into `dir` (N keys, most with TTLs, some overwritten, deleted or expired); returns the expected expiries at T0 + 100. */
  async function populate(dir: string, options: { fs?: FileSystem; compactTtlSpillChunk?: number }, clock: { now: number }) {
    const store = await open(dir, { ...options, segmentBytes: 64 * 1024, now: () => clock.now });
    const want = new Map<string, { value: string; expiresAt: number | null }>();
    const expiryOf = (i: number, v: number): number | null => {
      if (i % 11 === 0) return null;
      if (i % 4 === 1) return T0 + 50; // expired by the compaction
      // Many keys share an expiry: equal expiries are ordered by record length.
      return T0 + 1_000 * (1 + ((i * 7919 + v * 13) % 97));
    };
    for (let v = 0; v < 2; v++) {
      let b = store.batch();
      for (let i = v; i < N; i += 1 + v) {
        const expiresAt = expiryOf(i, v);
        b.put(keyOf(i), valueOf(i, v), { expiresAt });
        want.set(keyOf(i), { value: valueOf(i, v), expiresAt });
        if (b.length === 500) {
          await b.write();
          b = store.batch();
        }
      }
      await b.write();
    }
    for (let i = 3; i < N; i += 29) {
      await store.del(keyOf(i));
      want.delete(keyOf(i));
    }
    clock.now = T0 + 100;
    for (const [k, e] of want) if (e.expiresAt !== null && e.expiresAt <= clock.now) want.delete(k);
    return { store, want };
  }

  it('keeps every surviving key with its exact expiry, drops the expired, writes the same run as in memory, and leaves no scratch file', async () => {
    // A file system that notes the TTL scratch file and the chunks written to it.
    const scratch = { created: [] as string[], fd: -1, writes: 0 };
    const spying: FileSystem = {
      ...realFs,
      createTruncate(path) {
        const fd = realFs.createTruncate(path);
        if (path.endsWith('.ttl.tmp')) {
          scratch.created.push(path);
          scratch.fd = fd;
        }
        return fd;
      },
      write(fd, buf, offset, length, position) {
        if (fd === scratch.fd) scratch.writes++;
        realFs.write(fd, buf, offset, length, position);
      },
      close(fd) {
        if (fd === scratch.fd) scratch.fd = -1;
        realFs.close(fd);
      },
    };
    const spillDir = tempDir();
    const plainDir = tempDir();
    const clockA = { now: T0 };
    const clockB = { now: T0 };
    const { store, want } = await populate(spillDir, { fs: spying, compactTtlSpillChunk: 64 }, clockA);
    const { store: plain } = await populate(plainDir, {}, clockB);
    const withTtl = [...want.values()].filter((e) => e.expiresAt !== null).length;
    expect(withTtl, 'expiries the new run lists').toBeGreaterThan(20 * 64);

    const report = await store.compact();
    const plainReport = await plain.compact();
    expect(scratch.created).toEqual([expect.stringMatching(new RegExp(`/compact-${process.pid}-\\d{8}\\.ttl\\.tmp$`))]);
    // One write per sorted chunk of 64 (each chunk is written in one go): every full chunk spilled.
    expect(scratch.writes).toBe(Math.ceil(withTtl / 64));
    expect(leftovers(spillDir)).toEqual([]);
    expect(report.recordsKept).toBe(want.size);
    expect(report.expiredDropped).toBeGreaterThan(500);
    const { durationMs: _a, lockHeldMs: _b, ...same } = report;
    const { durationMs: _c, lockHeldMs: _d, ...plainSame } = plainReport;
    expect(same).toEqual(plainSame);

    // The run's TTL section, written from the spilled chunks merged, is byte for byte the in-memory one.
    const runs = manifestOf(spillDir).runs;
    expect(runs.length).toBe(1);
    const run = `${String(runs[0].file).padStart(8, '0')}.tzix`;
    expect(readFileSync(join(spillDir, run)).equals(readFileSync(join(plainDir, run))), run).toBe(true);

    // Every surviving key keeps its value and exact expiry; nothing else is listed.
    const got = new Map<string, number | null>();
    for await (const e of store.entries()) {
      got.set(e.key.toString(), e.expiresAt);
      expect(e.value.toString(), e.key.toString()).toBe(want.get(e.key.toString())?.value);
    }
    expect(got).toEqual(new Map([...want].map(([k, e]) => [k, e.expiresAt])));
    expect(await store.get(keyOf(1))).toBeUndefined(); // expired at T0 + 50
    expect(await store.expiry(keyOf(2))).toBe(want.get(keyOf(2))!.expiresAt);

    // The census's expiry counts come from that TTL section: right at every step of the clock.
    for (const t of [T0 + 100, T0 + 1_000, T0 + 1_500, T0 + 10_000, T0 + 48_000, T0 + 97_000, T0 + 98_000]) {
      clockA.now = t;
      clockB.now = t;
      const alive = [...want.values()].filter((e) => e.expiresAt === null || e.expiresAt > t).length;
      const s = await store.stats();
      expect([s.counted, s.keys, s.expiredKeys], `at T0 + ${t - T0}`).toEqual(['census', alive, want.size - alive]);
      expect(s.liveBytes, `at T0 + ${t - T0}`).toBe((await plain.stats()).liveBytes);
    }
    expect(verifyStore(realFs, spillDir, PLAIN).problems).toEqual([]);
    await store.close();
    await plain.close();

    // Reopened with the real file system: the same keys and expiries.
    clockA.now = T0 + 100;
    const again = await open(spillDir, { readOnly: true, now: () => clockA.now });
    expect(await listed(again)).toEqual(got);
    expect((await again.verify()).problems).toEqual([]);
    await again.close();
  });
});
