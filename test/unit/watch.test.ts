// Store.watch() on a store directory and the engine's log follower
// (docs/design.md "Watch"): every committed change once, in log order,
// through rolls, batches committed as segments, compactions and repairs;
// no compaction's copy taken for a write; a follower that fell behind says
// so; expiries from the clock; the timer as a backstop for notifications.
import { readFileSync, readdirSync, readlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { Store, WatchEvent, WatchOptions } from '../../src/api.js';
import { ExpirySchedule } from '../../src/engine/follow/expiry-schedule.js';
import { type FollowedRecord, LogFollower } from '../../src/engine/follow/log-follower.js';
import { View } from '../../src/engine/read/view.js';
import { decodeManifest } from '../../src/format/manifest.js';
import { realFs } from '../../src/io/fs.js';
import { type EngineOptions, open } from '../../src/local/local-store.js';
import { skipVerify, tempDir, tempStore } from '../helpers/temp-store.js';
import { PLAIN } from '../../src/format/store-codec.js';

const SMALL = { segmentBytes: 4096, flushBytes: 512 };
const manifestOf = (dir: string) => decodeManifest(readFileSync(join(dir, 'MANIFEST')));
const line = (e: WatchEvent) => `${e.type} ${e.key.toString()}${e.value === null ? '' : ` ${e.value.toString()}`}`;
const recordLine = (r: FollowedRecord) => `${r.kind === 1 ? 'put' : 'del'} ${r.key.toString()}${r.kind === 1 ? ` ${r.value.toString()}` : ''}`;

/** A watch running in the background, its events as lines. */
function watching(store: Store, options: WatchOptions) {
  const stop = new AbortController();
  const lines: string[] = [];
  const events: WatchEvent[] = [];
  const done = (async () => {
    for await (const e of store.watch({ ...options, signal: stop.signal })) {
      events.push(e);
      lines.push(line(e));
    }
  })();
  return {
    lines,
    events,
    done,
    async until(n: number, ms = 10_000): Promise<void> {
      const deadline = Date.now() + ms;
      while (lines.length < n) {
        if (Date.now() > deadline) throw new Error(`${lines.length} of ${n} events: ${lines.slice(-3).join(' | ')}`);
        await new Promise((r) => setTimeout(r, 10));
      }
    },
    async stop(): Promise<void> {
      stop.abort();
      await done;
    },
  };
}

/** A store to write to and a read-only one on the same directory to watch. */
async function pair(options: EngineOptions = SMALL) {
  const dir = tempDir();
  const writer = await tempStore(options, dir);
  const reader = await open(dir, { readOnly: true, ...(options.watchDirectory ? { watchDirectory: options.watchDirectory } : {}) });
  return { dir, writer, reader };
}

const value = (i: number) => `v${i}-${'x'.repeat(i % 97)}`;

describe('Store.watch on a store directory', () => {
  it('reports every change once, in order, through segment rolls, a batch committed as its own segment and compactions', async () => {
    let during: Store | undefined;
    const { dir, writer, reader } = await pair({
      ...SMALL,
      spillBytes: 2048,
      // Writes between a compaction's snapshot and its switch land in the segment the snapshot started.
      onCompactPhase: async (phase) => {
        if (phase === 'snapshot') for (let i = 0; i < 3; i++) await during!.put(`k:during${i}`, `d${i}`);
      },
    });
    during = await open(dir, SMALL);
    const w = watching(reader, { prefix: 'k:' });
    await new Promise((r) => setTimeout(r, 50));
    const expected: string[] = [];
    for (let i = 0; i < 300; i++) {
      const key = `k:${i % 13}`;
      if (i % 7 === 3) {
        if ((await writer.del(key)) === 1) expected.push(`del ${key}`);
      } else {
        await writer.put(key, value(i));
        expected.push(`put ${key} ${value(i)}`);
      }
      await writer.put(`other:${i}`, 'not watched');
      if (i === 100 || i === 200) {
        await w.until(expected.length); // a compaction must not remove a segment the watch has not seen yet
        await writer.compact();
        expected.push('put k:during0 d0', 'put k:during1 d1', 'put k:during2 d2');
      }
    }
    const batch = writer.batch();
    for (let i = 0; i < 60; i++) batch.put(`k:batch${i}`, 'b'.repeat(50));
    await batch.write();
    for (let i = 0; i < 60; i++) expected.push(`put k:batch${i} ${'b'.repeat(50)}`);
    await w.until(expected.length);
    await new Promise((r) => setTimeout(r, 300));
    await w.stop();
    expect(w.lines).toEqual(expected);
    const m = manifestOf(dir);
    expect(m.segments.length).toBeGreaterThan(3);
    expect(m.segments.some((s) => s.copied !== undefined)).toBe(true);
    await during.close();
    await reader.close();
  }, 60_000);

  it('is told of changes without notifications, by its timer', async () => {
    const { writer, reader } = await pair({ ...SMALL, watchDirectory: () => () => undefined });
    const w = watching(reader, { key: 'k' });
    await new Promise((r) => setTimeout(r, 50));
    await writer.put('k', 'one');
    await writer.put('k2', 'not this key');
    await writer.del('k');
    await w.until(2);
    await w.stop();
    expect(w.lines).toEqual(['put k one', 'del k']);
    await reader.close();
  });

  it('existing: the keys there when it starts, then the changes; expiries reported from the clock', async () => {
    const { writer, reader } = await pair();
    await writer.put('t:a', 'old');
    // Long enough that a loaded machine starts the watch before they expire.
    await writer.put('t:gone', 'x', { ttlMs: 1500 });
    await writer.put('t:longer', 'x', { ttlMs: 1500 });
    await writer.put('u:a', 'other');
    const w = watching(reader, { prefix: 't:', existing: true });
    await w.until(3);
    expect(w.lines).toEqual(['put t:a old', 'put t:gone x', 'put t:longer x']);
    await writer.put('t:longer', 'y', { ttlMs: 3000 }); // a write before the expiry: only the new one counts
    await writer.put('t:kept', 'z', { ttlMs: 1500 });
    await writer.del('t:kept');
    await w.until(8, 10_000);
    await new Promise((r) => setTimeout(r, 200));
    await w.stop();
    expect(w.lines.slice(3)).toEqual(['put t:longer y', 'put t:kept z', 'del t:kept', 'expire t:gone', 'expire t:longer']);
    const expired = w.events.filter((e) => e.type === 'expire');
    expect(expired[1].expiresAt! - expired[0].expiresAt!).toBeGreaterThan(1000);
    expect(expired[1].expiresAt).toBeLessThanOrEqual(Date.now());
    await reader.close();
  });

  it('ends quietly when its signal aborts or its loop stops, and lets go of the segments it held', async () => {
    const { dir, writer, reader } = await pair();
    await writer.put('k', 'v');
    const held = () => readdirSync('/proc/self/fd').filter((fd) => {
      try {
        return readlinkSync(`/proc/self/fd/${fd}`).startsWith(dir);
      } catch {
        return false;
      }
    }).length;
    const before = held();
    const w = watching(reader, { prefix: '' });
    await writer.put('k', 'w');
    await w.until(1);
    expect(held()).toBeGreaterThan(before);
    await w.stop();
    for await (const e of reader.watch({ prefix: '', existing: true })) {
      expect(line(e)).toBe('put k w');
      break;
    }
    expect(held()).toBe(before);
    await reader.close();
  });

  it('refuses options it cannot follow at its first next(), as a listing does', async () => {
    const { reader } = await pair();
    for (const options of [{}, { key: 'a', prefix: 'b' }, { key: '' }, { prefix: 'p', signal: 'soon' }] as WatchOptions[]) {
      await expect(reader.watch(options).next()).rejects.toMatchObject({ code: 'INVALID_ARGUMENT' });
    }
    await reader.close();
  });
});

describe('the log follower', () => {
  /** A follower at the end of the store in `dir` now, reporting every key. */
  function followerOf(dir: string): LogFollower {
    const view = View.load(realFs, dir, PLAIN);
    try {
      return LogFollower.at(realFs, dir, view, () => true);
    } finally {
      view.close();
    }
  }

  it('behind a compaction whose last segment became the active one: reads what it had not, and none of the copies', async () => {
    const dir = tempDir();
    const store = await tempStore(SMALL, dir);
    for (let i = 0; i < 20; i++) await store.put(`a${i}`, value(i));
    const follower = followerOf(dir);
    await store.put('b1', 'before the compaction'); // in the segment the follower holds, sealed by the snapshot
    await store.compact(); // nothing written meanwhile: its output's last segment is the active one again
    const active = manifestOf(dir).segments.at(-1)!;
    expect(active.copied).toBeGreaterThan(16);
    await store.put('b2', 'after it');
    await store.put('a3', 'over a copied key');
    expect([...follower.changes()].map(recordLine)).toEqual(['put b1 before the compaction', 'put b2 after it', 'put a3 over a copied key']);
    expect([...follower.changes()]).toEqual([]);
    follower.close();
  });

  it('across a repair that rewrote every segment, the one it held included: what it had not read, then only writes made after it', async () => {
    const dir = tempDir();
    const store = await tempStore(SMALL, dir);
    for (let i = 0; i < 200; i++) await store.put(`a${i}`, value(i));
    const follower = followerOf(dir);
    await store.put('b1', 'before the repair');
    const manifestBefore = manifestOf(dir);
    expect(manifestBefore.segments.length).toBeGreaterThan(2);
    const first = readdirSync(dir).filter((n) => n.endsWith('.tzds')).sort()[0];
    const bytes = readFileSync(join(dir, first));
    bytes[40] ^= 0xff; // a record of a sealed segment the follower had read already
    writeFileSync(join(dir, first), bytes);
    skipVerify(dir);
    const repaired = await store.admin()!.repair();
    expect(repaired.repair.rewritten.map((r) => r.from)).toEqual(manifestBefore.segments.map((s) => `${String(s.file).padStart(8, '0')}.tzds`));
    await store.put('b2', 'after it');
    const damage: string[] = [];
    expect([...follower.changes((d) => damage.push(d.message))].map(recordLine)).toEqual(['put b1 before the repair', 'put b2 after it']);
    expect(damage).toEqual([]);
    follower.close();
  });

  it('fell behind: segments written and compacted away before it read them are reported, after what it could read', async () => {
    const dir = tempDir();
    const store = await tempStore(SMALL, dir);
    await store.put('a', '1');
    const follower = followerOf(dir);
    for (let i = 0; i < 200; i++) await store.put(`b${i % 10}`, value(i)); // rolls many segments
    await store.compact();
    const seen: string[] = [];
    expect(() => {
      for (const r of follower.changes()) seen.push(recordLine(r));
    }).toThrow(/fell behind: a compaction or repair removed \d+\.tzds, written after 00000001\.tzds/);
    expect(seen.length).toBeGreaterThan(0);
    expect(seen[0]).toBe(`put b0 ${value(0)}`);
    follower.close();
  });
});

describe('ExpirySchedule', () => {
  it('gives back the keys whose time came, earliest first; a later write replaces or ends an expiry', () => {
    const s = new ExpirySchedule();
    s.set('a', 300);
    s.set('b', 100);
    s.set('c', 200);
    s.set('b', 400); // rewritten with a later expiry
    s.set('c', 0); // rewritten without one (or deleted)
    expect(s.next()).toBe(300);
    expect([...s.expired(299)]).toEqual([]);
    expect([...s.expired(400)]).toEqual([
      ['a', 300],
      ['b', 400],
    ]);
    expect(s.next()).toBeUndefined();
  });
});
