// Compaction in phases (docs/design.md "Compaction"): what each phase leaves
// on disk, writes landing between the snapshot and the switch, one compaction
// at a time, stale markers and their files, the report and stats.
import { readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { Store } from '../../src/api.js';
import type { CompactPhase } from '../../src/engine/compact/compact.js';
import { open } from '../../src/local/local-store.js';
import { decodeManifest, encodeManifest } from '../../src/format/manifest.js';
import type { Manifest } from '../../src/format/manifest.js';
import { realFs, replaceFile } from '../../src/io/fs.js';
import { tempDir, tempStore } from '../helpers/temp-store.js';

const SMALL = { segmentBytes: 4096, flushBytes: 512 };
const manifestOf = (dir: string): Manifest => decodeManifest(readFileSync(join(dir, 'MANIFEST')));
const compactFiles = (dir: string) => readdirSync(dir).filter((n) => n.startsWith('compact-'));
const rejection = (p: Promise<unknown>) => p.then(() => undefined, (e: unknown) => e as { code?: string; message: string });

/** A store whose compactions call `hook` between phases, and its directory. */
async function storeWithHook(hook: (phase: CompactPhase) => unknown, now: () => number = Date.now) {
  const dir = tempDir();
  const store = await tempStore({ ...SMALL, now, onCompactPhase: hook }, dir);
  return { dir, store };
}

async function fill(store: Store, n: number, prefix = 'k') {
  for (let i = 0; i < n; i++) await store.put(`${prefix}${String(i).padStart(4, '0')}`, `value ${i} `.repeat(3));
}

describe('compaction phases', () => {
  it('holds the lock only for the snapshot and the switch; the marker and temporary files exist in between', async () => {
    const seen: Record<string, unknown> = {};
    let dir = '';
    let other: Store | undefined;
    const { dir: d, store } = await storeWithHook(async (phase) => {
      const m = manifestOf(dir);
      const stats = await other!.stats();
      seen[phase] = {
        marker: m.compaction !== null,
        lockHolder: stats.lockHolder,
        compacting: stats.compacting?.pid,
        temps: compactFiles(dir).map((n) => n.replace(/\d{8}/, 'N')).sort(),
        snapshotRunsLast: m.compaction ? m.runs.slice(-m.compaction.runs.length).map((r) => r.file) : [],
        markerRuns: m.compaction?.runs,
      };
    });
    dir = d;
    other = await open(dir, SMALL);
    await fill(store, 200);
    for (let i = 0; i < 100; i++) await store.del(`k${String(i).padStart(4, '0')}`);
    const report = await store.compact();
    const snap = seen.snapshot as Record<string, unknown>;
    const rewritten = seen.rewritten as Record<string, unknown>;
    expect(snap).toMatchObject({ marker: true, lockHolder: null, compacting: process.pid, temps: [] });
    expect(snap.snapshotRunsLast).toEqual(snap.markerRuns);
    expect(rewritten).toMatchObject({ marker: true, lockHolder: null, compacting: process.pid });
    expect(rewritten.temps).toEqual(expect.arrayContaining([`compact-${process.pid}-N.tzds.tmp`, `compact-${process.pid}-N.tzix.tmp`]));
    expect(compactFiles(dir)).toEqual([]);
    const m = manifestOf(dir);
    expect(m.compaction).toBeNull();
    expect(report).toMatchObject({ compacted: true, recordsKept: 100 });
    // Tombstones that index merges already dropped at the bottom of the index are not counted again.
    expect(report.recordsDropped).toBeGreaterThan(0);
    expect(report.lockHeldMs).toBeGreaterThan(0);
    expect(report.lockHeldMs).toBeLessThanOrEqual(report.durationMs + 1);
    expect(m.lastCompactionReport).toMatchObject({ result: 'ok', recordsKept: 100, bytesAfter: report.bytesAfter });
    // stats shows the API's CompactionSummary: these fields, in this order (stats --json prints them so).
    const shown = (await other.stats()).lastCompactionReport!;
    expect(Object.keys(shown)).toEqual(['at', 'result', 'durationMs', 'lockHeldMs', 'bytesBefore', 'bytesAfter', 'recordsKept', 'recordsDropped', 'expiredDropped']);
    expect(shown).toEqual({ ...m.lastCompactionReport });
    await other.close();
  });

  it('writes between the snapshot and the switch survive with their exact values, expiries and deletes', async () => {
    let now = 1_800_000_000_000;
    let store!: Store;
    const hook = async (phase: CompactPhase) => {
      if (phase === 'snapshot') {
        await store.put('k0001', 'overwritten after the snapshot');
        await store.del('k0002');
        await store.setExpiry('k0003', now + 60_000);
        await store.put('new-ttl', 'fresh', { ttlMs: 5_000 });
      } else {
        const b = store.batch();
        for (let i = 0; i < 50; i++) b.put(`late${i}`, `late value ${i}`);
        b.del('k0004');
        await b.write();
        await store.put('expired-then-back', 'again');
        // Enough flushes that runs written since the snapshot are merged among themselves.
        await fill(store, 60, 'during');
      }
    };
    const made = await storeWithHook(hook, () => now);
    store = made.store;
    await fill(store, 80);
    await store.put('expired-then-back', 'old', { ttlMs: 10 });
    await store.put('gone-by-ttl', 'old', { ttlMs: 10 });
    now += 100;
    const report = await store.compact();
    expect(report.expiredDropped).toBe(2);
    expect((await store.get('k0001'))?.toString()).toBe('overwritten after the snapshot');
    expect(await store.get('k0002')).toBeUndefined();
    expect(await store.expiry('k0003')).toBe(now + 60_000);
    expect(await store.get('k0004')).toBeUndefined();
    expect(await store.expiry('new-ttl')).toBe(now + 5_000);
    expect((await store.get('expired-then-back'))?.toString()).toBe('again');
    expect(await store.get('gone-by-ttl')).toBeUndefined();
    expect((await store.get('late49'))?.toString()).toBe('late value 49');
    expect((await store.get('during0059'))?.toString()).toBe('value 59 '.repeat(3));
    expect((await store.get('k0079'))?.toString()).toBe('value 79 '.repeat(3));
    const s = await store.stats();
    // 80 - 2 deleted + new-ttl + expired-then-back + 50 late + 60 during
    expect([s.counted, s.keys, s.expiredKeys]).toEqual(['census', 190, 0]);
    now += 10_000;
    expect((await store.stats()).keys).toBe(189);
    const listed: string[] = [];
    for await (const e of store.keys()) listed.push(e.key.toString());
    expect(listed.length).toBe(189);
  });

  it('a second compaction while one runs fails with LOCKED and changes nothing', async () => {
    let other!: Store;
    let second: unknown;
    const { dir, store } = await storeWithHook(async (phase) => {
      if (phase === 'snapshot') second = await rejection(other.compact());
    });
    other = await open(dir, SMALL);
    await fill(store, 50);
    await store.compact();
    expect(second).toMatchObject({ code: 'LOCKED', info: { compacting: true } }); // what compact --if-needed turns into a skip
    expect((second as Error).message).toMatch(new RegExp(`being compacted by pid ${process.pid}`));
    expect((await other.stats()).keys).toBe(50);
    await other.close();
  });

  it('a switch whose snapshot was replaced meanwhile fails with PRECONDITION, removes its files and loses nothing', async () => {
    let dir = '';
    let tampered = false;
    const { dir: d, store } = await storeWithHook((phase) => {
      if (phase !== 'rewritten' || tampered) return;
      tampered = true;
      // What a compaction that judged ours stale would have done first: its own marker.
      const m = manifestOf(dir);
      m.compaction = { ...m.compaction!, token: 'another compaction' };
      m.generation++;
      if (m.census) m.census.generation = m.generation;
      replaceFile(realFs, dir, 'MANIFEST', encodeManifest(m));
    });
    dir = d;
    await fill(store, 60);
    const err = await rejection(store.compact());
    expect(err).toMatchObject({ code: 'PRECONDITION' });
    expect(compactFiles(dir)).toEqual([]);
    expect((await store.get('k0059'))?.toString()).toBe('value 59 '.repeat(3));
    // The other "compaction" never finishes: its marker names this process, not running, so it is stale.
    await store.put('after', 'x');
    expect(manifestOf(dir).compaction).toBeNull();
    expect((await store.compact()).compacted).toBe(true);
    expect((await store.stats()).keys).toBe(61);
  });
});

describe('compaction leftovers', () => {
  it('the next writer clears a dead compaction\'s marker and removes its files, but leaves a live one\'s alone', async () => {
    const dir = tempDir();
    const store = await tempStore(SMALL, dir);
    await fill(store, 30);
    // A compaction by a process that is gone: its marker and a file it was writing.
    const m = manifestOf(dir);
    const dead = 999_999_999;
    m.compaction = { pid: dead, host: (await import('node:os')).hostname(), startTime: '1', token: 'dead', started: new Date().toISOString(), generation: m.generation, segments: [], runs: m.runs.map((r) => r.file), files: { first: m.nextFile, count: 4 } };
    m.nextFile += 4;
    m.generation++;
    if (m.census) m.census.generation = m.generation;
    replaceFile(realFs, dir, 'MANIFEST', encodeManifest(m));
    writeFileSync(join(dir, `compact-${dead}-${String(m.nextFile - 3).padStart(8, '0')}.tzds.tmp`), 'half written');
    // Merges would leave its runs alone while its marker counted as live.
    expect((await store.stats()).compacting).toBeNull();
    await store.put('next', 'write');
    expect(compactFiles(dir)).toEqual([]);
    const after = manifestOf(dir);
    expect(after.compaction).toBeNull();
    expect(after.lastCompactionReport?.result).toMatch(/failed: the compacting process \(pid 999999999\) ended/);
    expect((await store.stats()).lastCompactionReport?.result).toMatch(/^failed/);

    // A live compaction's files stay while other writers write.
    let during: string[] = [];
    const other = await open(dir, { ...SMALL, onCompactPhase: async (phase) => {
      if (phase !== 'rewritten') return;
      await store.put('meanwhile', 'x');
      during = compactFiles(dir);
    } });
    await other.compact();
    expect(during.length).toBeGreaterThan(0);
    expect((await store.get('meanwhile'))?.toString()).toBe('x');
    await other.close();
  });
});

describe('compaction report and stats', () => {
  it('reports kept, dropped and expired records and the lock time; stats shows the last report and the counters', async () => {
    let now = 1_800_000_000_000;
    const s = await tempStore({ now: () => now });
    for (let i = 0; i < 40; i++) await s.put(`k${i}`, 'x'.repeat(50), { ttlMs: i < 10 ? 100 : undefined });
    for (let i = 10; i < 20; i++) await s.del(`k${i}`);
    for (let i = 20; i < 25; i++) await s.put(`k${i}`, 'y'.repeat(50));
    now += 1000;
    const dry = await s.compact({ dryRun: true });
    const before = await s.stats();
    expect([before.keys, before.expiredKeys, before.compactedRecords]).toEqual([20, 10, 0]);
    const r = await s.compact();
    expect(r).toMatchObject({ compacted: true, dryRun: false, recordsKept: 20, recordsDropped: 20, expiredDropped: 10 });
    expect(dry).toMatchObject({ recordsKept: 20, recordsDropped: 20, expiredDropped: 10, bytesAfter: r.bytesAfter, lockHeldMs: 0 });
    const after = await s.stats();
    expect([after.keys, after.expiredKeys, after.compactedRecords, after.compacting]).toEqual([20, 0, 20, null]);
    expect(after.totalBytes).toBe(r.bytesAfter);
    expect(after.deadBytes).toBe(after.totalBytes - after.liveBytes - 16 * after.segments); // a segment's header is never dead
    expect(after.lastCompactionReport).toMatchObject({
      at: new Date(now).toISOString(),
      result: 'ok',
      bytesBefore: r.bytesBefore,
      bytesAfter: r.bytesAfter,
      recordsKept: 20,
      recordsDropped: 20,
      expiredDropped: 10,
    });
    expect(after.lastCompactionReport!.lockHeldMs).toBeLessThanOrEqual(r.lockHeldMs);
  });
});

describe("the compaction's output in the manifest", () => {
  it('marks each output segment as copies of the snapshot (what a watch must not report again), and the mark outlives later edits', async () => {
    const { dir, store } = await storeWithHook(() => undefined);
    await fill(store, 100);
    const snapshotEnd = manifestOf(dir).segments.at(-1)!.file;
    await store.compact();
    const after = manifestOf(dir);
    // Nothing was written meanwhile: the last output segment is the active one, copies up to its size.
    for (const s of after.segments) expect(s).toEqual({ file: s.file, size: s.size, copied: s.size ?? expect.any(Number), copiedFrom: snapshotEnd });
    await fill(store, 100, 'c'); // appends after the copies, rolls, flushes, merges
    const later = manifestOf(dir);
    const kept = later.segments.find((s) => s.file === after.segments.at(-1)!.file)!;
    expect(kept).toMatchObject({ copied: after.segments.at(-1)!.copied, copiedFrom: snapshotEnd });
    expect(kept.size).toBeGreaterThan(kept.copied!);
    expect(later.segments.filter((s) => s.copied === undefined).length).toBeGreaterThan(0);
    expect(decodeManifest(encodeManifest(later)).segments).toEqual(later.segments);
  });
});

describe('the rewrite and the process it runs in', () => {
  it('lets an embedding program read and write while it runs, and keeps what was written', async () => {
    let rewriting = false;
    const dir = tempDir();
    const store = await tempStore(
      {
        onCompactPhase: (phase: CompactPhase) => {
          rewriting = phase === 'snapshot';
        },
      },
      dir,
    );
    const N = 50_000;
    const batch = store.batch();
    for (let i = 0; i < N; i++) batch.put(`k${i}`, `old ${i}`);
    await batch.write();
    const again = store.batch();
    for (let i = 0; i < N; i += 2) again.put(`k${i}`, `new ${i}`);
    await again.write();
    let done = false;
    const compaction = store.compact().finally(() => (done = true));
    let readsDuring = 0;
    let writesDuring = 0;
    for (let i = 0; !done; i++) {
      // A program with work of its own (a server answering requests): each turn of its loop is a macrotask.
      await new Promise((resolve) => setImmediate(resolve));
      const key = `k${(i * 7919) % N}`;
      const wanted = ((i * 7919) % N) % 2 === 0 ? `new ${(i * 7919) % N}` : `old ${(i * 7919) % N}`;
      expect((await store.get(key))?.toString()).toBe(wanted);
      if (rewriting) readsDuring++;
      if (rewriting && writesDuring < 5) {
        await store.put(`during${writesDuring}`, 'x');
        writesDuring++;
      }
    }
    const report = await compaction;
    expect(report.compacted).toBe(true);
    // The event loop turned during the rewrite: the reads and writes above ran in it.
    expect(readsDuring).toBeGreaterThan(0);
    expect(writesDuring).toBeGreaterThan(0);
    for (let i = 0; i < writesDuring; i++) expect((await store.get(`during${i}`))?.toString()).toBe('x');
    expect((await store.get('k1'))?.toString()).toBe('old 1');
    expect((await store.get('k2'))?.toString()).toBe('new 2');
    expect((await store.verify()).problems).toEqual([]);
    await store.close();
  });
});

describe('forceEndCompaction', () => {
  it('leaves a compaction running on this host alone: it ends only one from another host', async () => {
    let resume!: () => void;
    const stalled = new Promise<void>((r) => (resume = r));
    let reached!: () => void;
    const atSnapshot = new Promise<void>((r) => (reached = r));
    const { dir, store } = await storeWithHook((phase) => {
      if (phase !== 'snapshot') return undefined;
      reached();
      return stalled;
    });
    await fill(store, 40);
    const compaction = store.compact();
    await atSnapshot;
    expect(manifestOf(dir).compaction?.pid).toBe(process.pid);
    expect(await store.admin()!.forceEndCompaction()).toBeNull();
    expect(manifestOf(dir).compaction?.pid).toBe(process.pid);
    resume();
    expect(await compaction).toMatchObject({ compacted: true, recordsKept: 40 });
    expect(manifestOf(dir).compaction).toBeNull();
    await store.close();
  });
});
