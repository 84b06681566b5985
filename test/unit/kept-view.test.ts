// The view a store keeps between its calls (src/local/kept-view.ts,
// docs/design.md "The view a store keeps"): after its own commit, neither its
// next write session nor its next read rescans the active segment's unindexed
// tail; they read only the bytes appended since. Whatever else another
// process does between two commits of one store object (a write, a flush, a
// compaction, a repair, a `tzkv put`) it sees, exactly as a store opened
// afresh does.
import { existsSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { RUN_HEADER_BYTES } from '../../src/format/constants.js';
import { decodeManifest } from '../../src/format/manifest.js';
import type { Store } from '../../src/api.js';
import type { EngineOptions } from '../../src/local/local-store.js';
import type { FileSystem } from '../../src/io/fs.js';
import { realFs } from '../../src/io/fs.js';
import { tzkv } from '../e2e/helpers.js';
import { expectReadsAsFresh } from '../helpers/fresh-reads.js';
import { tempDir, tempStore } from '../helpers/temp-store.js';

/** realFs, counting the bytes read from segment files. */
class CountingFs {
  segmentBytesRead = 0;
  private readonly segments = new Set<number>();
  readonly fs: FileSystem = {
    ...realFs,
    openRead: (path) => this.opened(path, realFs.openRead(path)),
    openReadWrite: (path) => this.opened(path, realFs.openReadWrite(path)),
    read: (fd, buf, offset, length, position) => {
      const n = realFs.read(fd, buf, offset, length, position);
      if (this.segments.has(fd)) this.segmentBytesRead += n;
      return n;
    },
    close: (fd) => {
      this.segments.delete(fd);
      realFs.close(fd);
    },
  };

  private opened(path: string, fd: number): number {
    if (path.endsWith('.tzds')) this.segments.add(fd);
    return fd;
  }

  /** Segment bytes read by fn. */
  async during(fn: () => Promise<unknown>): Promise<number> {
    const before = this.segmentBytesRead;
    await fn();
    return this.segmentBytesRead - before;
  }
}

/** Large index flushes: every write stays in the unindexed tail. */
const TAIL: EngineOptions = { flushBytes: 64 << 20 };
const value = (i: number) => `value ${i} `.padEnd(200, '.');

/** Two store objects on one directory whose index flushes write runs; `n` keys written through the first. */
async function withRuns(n: number): Promise<{ dir: string; s: Store; other: Store; expected: Record<string, string> }> {
  const dir = tempDir();
  const small = { segmentBytes: 1 << 20, flushBytes: 1024 };
  const s = await tempStore(small, dir);
  const other = await tempStore(small, dir);
  const expected: Record<string, string> = {};
  for (let i = 0; i < n; i++) {
    await s.put(`k${i}`, value(i));
    expected[`k${i}`] = value(i);
  }
  return { dir, s, other, expected };
}

/** A write through the first store object, then every key read through it and afresh. */
async function writeThenRead({ dir, s, other, expected }: Awaited<ReturnType<typeof withRuns>>): Promise<void> {
  await s.put('k0', 'newest');
  await expectReadsAsFresh(s, dir, { ...expected, k0: 'newest' });
  await other.close();
  await s.close();
}

describe('the view a store keeps between its calls', () => {
  it('after its own commit, the next write and the next read read only the bytes appended since, not the tail', async () => {
    const counting = new CountingFs();
    const dir = tempDir();
    const s = await tempStore({ ...TAIL, fs: counting.fs }, dir);
    for (let i = 0; i < 300; i++) await s.put(`k${i}`, value(i)); // a tail of about 65 KB
    const record = 20 + 'k300'.length + value(300).length;
    // The put reads back the previous put's record (the view catches up), nothing of the tail before it.
    expect(await counting.during(() => s.put('k300', value(300)))).toBeLessThanOrEqual(record);
    // The get reads the put's record as it catches up, then the value it asks for.
    expect(await counting.during(() => s.get('k0'))).toBeLessThanOrEqual(record + 20 + 2 + value(0).length);
    expect(await counting.during(() => s.transact((tx) => tx.put('k1', 'one').put('k2', 'two')))).toBeLessThanOrEqual(2 * record);
    const expected: Record<string, string> = {};
    for (let i = 0; i <= 300; i++) expected[`k${i}`] = value(i);
    await expectReadsAsFresh(s, dir, { ...expected, k1: 'one', k2: 'two' });
    await s.close();
  });

  it('another store object writing between two commits: its writes are seen by the next read and the next write', async () => {
    const dir = tempDir();
    const s = await tempStore(TAIL, dir);
    const other = await tempStore(TAIL, dir);
    await s.put('a', '1');
    await other.put('b', '2');
    await other.del('a');
    // The next read: the segment grew past what s left.
    expect(await s.get('b').then(String)).toBe('2');
    expect(await s.get('a')).toBeUndefined();
    await s.put('c', '3');
    await other.put('d', '4');
    // The next write, under the lock, without a read before it: it sees b and d.
    expect(await s.put('d', 'not written', { ifAbsent: true })).toBe(false);
    expect(await s.swap('b', '2b', { ifValue: '2' })).toMatchObject({ written: true });
    await expectReadsAsFresh(s, dir, { a: undefined, b: '2b', c: '3', d: '4' });
    await other.close();
    await s.close();
  });

  it('a `tzkv put` and `tzkv del` (other processes) between two commits of one store object', async () => {
    const dir = tempDir();
    const s = await tempStore(TAIL, dir);
    await s.put('a', '1');
    await s.put('b', '2');
    expect((await tzkv(['put', '-d', dir, 'c', '3'])).exitCode).toBe(0);
    // A write first: its session catches up with the process's record under the lock.
    expect(await s.put('c', 'not written', { ifAbsent: true })).toBe(false);
    expect(await s.update('c', (e) => ({ value: `${e?.value.toString()}+` }))).toMatchObject({ value: Buffer.from('3+') });
    expect((await tzkv(['del', '-d', dir, 'a'])).exitCode).toBe(0);
    // A read first.
    expect(await s.get('a')).toBeUndefined();
    await s.put('d', '4');
    expect((await tzkv(['get', '-d', dir, 'd'])).stdout).toBe('4');
    await expectReadsAsFresh(s, dir, { a: undefined, b: '2', c: '3+', d: '4' });
    await s.close();
  });

  it('another store object flushing the tail into a run and rolling the segment between two commits', async () => {
    const dir = tempDir();
    const s = await tempStore({ segmentBytes: 8192, flushBytes: 1 << 20 }, dir);
    const other = await tempStore({ segmentBytes: 8192, flushBytes: 1024 }, dir);
    const expected: Record<string, string> = {};
    for (let i = 0; i < 5; i++) {
      await s.put(`s${i}`, value(i));
      expected[`s${i}`] = value(i);
    }
    for (let i = 0; i < 60; i++) {
      await other.put(`o${i}`, value(i));
      expected[`o${i}`] = value(i);
    }
    await s.put('s0', 'again');
    expected.s0 = 'again';
    await expectReadsAsFresh(s, dir, expected);
    await other.close();
    await s.close();
  });

  it('a compaction by another store object between two commits, with writes after its snapshot and without', async () => {
    for (const writesMeanwhile of [false, true]) {
      const dir = tempDir();
      const s = await tempStore(TAIL, dir);
      const other = await tempStore(TAIL, dir);
      for (let i = 0; i < 20; i++) await s.put(`k${i % 7}`, value(i));
      const expected: Record<string, string | undefined> = {};
      for (let i = 13; i < 20; i++) expected[`k${i % 7}`] = value(i);
      if (writesMeanwhile) {
        await other.put('x', 'after the compaction');
        expected.x = 'after the compaction';
      }
      // Without writes since its snapshot, the compaction makes its last output segment the active one again.
      expect((await other.compact()).compacted).toBe(true);
      await s.del('k0');
      expected.k0 = undefined;
      await s.put('k1', 'newest');
      expected.k1 = 'newest';
      await expectReadsAsFresh(s, dir, expected);
      await other.close();
      await s.close();
    }
  });

  it('its own compaction, then reads and writes', async () => {
    const dir = tempDir();
    const s = await tempStore(TAIL, dir);
    for (let i = 0; i < 20; i++) await s.put(`k${i % 5}`, value(i));
    expect((await s.compact()).compacted).toBe(true);
    expect(await s.get('k4').then(String)).toBe(value(19));
    await s.put('k0', 'newest');
    expect((await s.compact()).compacted).toBe(true);
    await s.put('k5', 'five');
    await expectReadsAsFresh(s, dir, { k0: 'newest', k1: value(16), k2: value(17), k3: value(18), k4: value(19), k5: 'five' });
    await s.close();
  });

  it('a repair by another store object between two commits (the index rebuilt under new numbers)', async () => {
    const stores = await withRuns(12);
    const { dir, other } = stores;
    const run = readdirSync(dir).find((n) => n.endsWith('.tzix'))!;
    const bytes = readFileSync(join(dir, run));
    bytes[RUN_HEADER_BYTES + 40] ^= 0x01; // in its first block
    writeFileSync(join(dir, run), bytes);
    const report = await other.admin()!.repair();
    expect(report.repair.rebuiltRun).not.toBeNull();
    expect(existsSync(join(dir, run))).toBe(false);
    // A write first: its session must take the repaired manifest, or it would remove the rebuilt run as a leftover.
    await writeThenRead(stores);
  });

  it('a repair that rebuilt a lost MANIFEST, numbering it as the lost one was, between two commits', async () => {
    const stores = await withRuns(6);
    const { dir, other } = stores;
    const lost = decodeManifest(readFileSync(join(dir, 'MANIFEST')));
    expect(lost.runs).toHaveLength(1);
    rmSync(join(dir, 'MANIFEST'));
    const report = await other.admin()!.repair();
    expect(report.repair.rebuiltManifest).not.toBeNull();
    const rebuilt = decodeManifest(readFileSync(join(dir, 'MANIFEST')));
    // The premise: the same generation and active segment, at the same size, over other files.
    expect(rebuilt.generation).toBe(lost.generation);
    expect(rebuilt.active.file).toBe(lost.active.file);
    expect(rebuilt.runs.map((r) => r.file)).not.toEqual(lost.runs.map((r) => r.file));
    await writeThenRead(stores);
  });
});
