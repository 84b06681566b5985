// The one owner of manifest changes (src/engine/files/store-manifest.ts): an
// edit gives the next manifest, and installing it is atomic under faults.
import { mkdirSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { TzkvError } from '../../src/errors.js';
import { FILE_HEADER_BYTES } from '../../src/format/constants.js';
import type { CompactionSummary, Manifest, RunInfo } from '../../src/format/manifest.js';
import { realFs } from '../../src/io/fs.js';
import {
  FileNumbers,
  findManifest,
  followerManifest,
  installManifest,
  newManifest,
  nextManifest,
  readManifest,
} from '../../src/engine/files/store-manifest.js';
import { FaultFs, MUTATING_OPS } from '../helpers/fault-fs.js';
import type { FsOp } from '../helpers/fault-fs.js';
import { skipVerify, tempDir } from '../helpers/temp-store.js';

/** A temp directory for manifests alone: no store's files beside them to verify after the test. */
function manifestDir(): string {
  const dir = tempDir();
  skipVerify(dir);
  return dir;
}

const NOW = Date.UTC(2026, 10, 22, 3);
const run = (file: number, entries = 1): RunInfo => ({ file, entries, minKey: Buffer.from('a'), maxKey: Buffer.from('z') });

/** Generation 5: sealed segments 1 and 2, active 3 indexed to 500; runs 9, 8, 7 (newest first); a valid census. */
function sample(): Manifest {
  const m = newManifest({ segments: [{ file: 1, size: 1000 }, { file: 2, size: 2000 }, { file: 3, size: null }], nextFile: 10, now: NOW, census: { keys: 3, bytes: 30 }, former: { storeId: 'cafe', generation: 4 } });
  return { ...m, runs: [run(9), run(8), run(7)], active: { file: 3, indexedTo: 500 } };
}

function internalError(fn: () => unknown): TzkvError {
  let caught: unknown;
  try {
    fn();
  } catch (err) {
    caught = err;
  }
  expect(caught).toBeInstanceOf(TzkvError);
  expect((caught as TzkvError).code).toBe('INTERNAL');
  return caught as TzkvError;
}

describe('newManifest', () => {
  it('makes a new store: generation 1, its one segment active from its header, a new store id, an empty census', () => {
    const m = newManifest({ segments: [{ file: 1, size: null }], nextFile: 2, now: NOW, census: { keys: 0, bytes: 0 } });
    expect(m).toMatchObject({ generation: 1, nextFile: 2, active: { file: 1, indexedTo: FILE_HEADER_BYTES }, segments: [{ file: 1, size: null }], runs: [] });
    expect(m.census).toEqual({ generation: 1, keys: 0, bytes: 0 });
    expect(m.storeId).toMatch(/^[0-9a-f]{16}$/);
    expect(m.created).toBe(new Date(NOW).toISOString());
    expect(m.follower).toBeNull();
  });

  it('rebuilds one that keeps the identity its followers know: the next generation and the same store id', () => {
    const m = newManifest({ segments: [{ file: 4, size: 99 }, { file: 6, size: null }], nextFile: 8, now: NOW, census: null, former: { storeId: 'feed', generation: 41 } });
    expect(m.generation).toBe(42);
    expect(m.storeId).toBe('feed');
    expect(m.census).toBeNull();
    expect(m.segments).toEqual([{ file: 4, size: 99 }, { file: 6, size: null }]);
  });
});

describe('nextManifest', () => {
  it('is one generation on, and leaves the manifest it was given as it was', () => {
    const m = sample();
    const before = structuredClone({ ...m, runs: m.runs.map((r) => r.file) });
    const next = nextManifest(m, { runs: { add: [run(10)] }, nextFile: 11, counted: { puts: 2 } });
    expect(next.generation).toBe(6);
    expect({ ...m, runs: m.runs.map((r) => r.file) }).toEqual(before);
  });

  it('keeps a valid census, stamped with the new generation; drops a stale one; takes an edit\'s census, stamped', () => {
    const m = sample();
    expect(nextManifest(m, {}).census).toEqual({ generation: 6, keys: 3, bytes: 30 });
    const stale = { ...m, census: { generation: 2, keys: 3, bytes: 30 } };
    expect(nextManifest(stale, {}).census).toBeNull();
    expect(nextManifest(stale, { census: { keys: 7, bytes: 70, phantom: { keys: 1, bytes: 5 } } }).census).toEqual({ generation: 6, keys: 7, bytes: 70, phantom: { keys: 1, bytes: 5 } });
    expect(nextManifest(m, { census: null }).census).toBeNull();
  });

  it('adds a flushed run on top, and a merged run in the place of the runs it replaces', () => {
    const m = sample();
    expect(nextManifest(m, { runs: { add: [run(10)] }, nextFile: 11 }).runs.map((r) => r.file)).toEqual([10, 9, 8, 7]);
    expect(nextManifest(m, { runs: { remove: [8, 7], add: [run(10, 2)] }, nextFile: 11 }).runs.map((r) => r.file)).toEqual([9, 10]);
    expect(nextManifest(m, { runs: { remove: [9, 8, 7], add: [] } }).runs).toEqual([]);
  });

  it('refuses to remove runs the manifest does not list together, or to add a file not below nextFile', () => {
    const m = sample();
    expect(internalError(() => nextManifest(m, { runs: { remove: [9, 7], add: [] } })).message).toMatch(/runs 9, 7/);
    expect(internalError(() => nextManifest(m, { runs: { remove: [5], add: [] } })).message).toMatch(/runs 5/);
    expect(internalError(() => nextManifest(m, { runs: { add: [run(10)] } })).message).toMatch(/file 10, not below nextFile 10/);
  });

  it('rolls: seals the active segment at its end, the added one active from where the edit says', () => {
    const m = sample();
    const next = nextManifest(m, { segments: { add: [{ file: 10, size: null }] }, sealedAt: 2500, indexedTo: FILE_HEADER_BYTES, nextFile: 11 });
    expect(next.segments).toEqual([{ file: 1, size: 1000 }, { file: 2, size: 2000 }, { file: 3, size: 2500 }, { file: 10, size: null }]);
    expect(next.active).toEqual({ file: 10, indexedTo: FILE_HEADER_BYTES });
    expect(next.nextFile).toBe(11);
  });

  it('refuses a roll that says neither where the old segment ends nor how far the new one is indexed', () => {
    const m = sample();
    expect(internalError(() => nextManifest(m, { segments: { add: [{ file: 10, size: null }] }, indexedTo: 16, nextFile: 11 })).message).toMatch(/seals segment 3/);
    expect(internalError(() => nextManifest(m, { segments: { add: [{ file: 10, size: null }] }, sealedAt: 2500, nextFile: 11 })).message).toMatch(/without saying how far/);
  });

  it('takes a started segment back: the sealed one before it is active again', () => {
    const m = sample();
    const next = nextManifest(m, { segments: { remove: [3], add: [] }, indexedTo: 2000 });
    expect(next.segments).toEqual([{ file: 1, size: 1000 }, { file: 2, size: null }]);
    expect(next.active).toEqual({ file: 2, indexedTo: 2000 });
  });

  it('replaces the oldest segments by a compaction\'s output, the active one unchanged', () => {
    const m = sample();
    const next = nextManifest(m, { segments: { remove: [1, 2], add: [{ file: 4, size: 1500 }] }, runs: { remove: [8, 7], add: [run(5)] } });
    expect(next.segments).toEqual([{ file: 4, size: 1500 }, { file: 3, size: null }]);
    expect(next.active).toEqual({ file: 3, indexedTo: 500 });
    expect(next.runs.map((r) => r.file)).toEqual([9, 5]);
  });

  it('never lowers nextFile, adds to the counters', () => {
    const m = sample();
    const next = nextManifest(m, { nextFile: 3, counted: { puts: 4, deletes: 1, deadBytes: 10, compactedRecords: 2 } });
    expect(next.nextFile).toBe(10);
    expect(next.counters).toEqual({ puts: 4, deletes: 1, deadBytes: 10, expiredDropped: 0, compactedRecords: 2 });
  });

  it('stamps a compaction marker with its own generation (the snapshot), and ends it with a report', () => {
    const m = sample();
    const marker = { pid: 1, host: 'h', startTime: 's', token: 't', started: 'x', segments: [1, 2, 3], runs: [9, 8, 7], files: { first: 10, count: 4 } };
    const begun = nextManifest(m, { compaction: marker, nextFile: 14 });
    expect(begun.compaction).toEqual({ ...marker, generation: 6 });
    const report: CompactionSummary = { at: 'then', result: 'ok', durationMs: 1, lockHeldMs: 1, bytesBefore: 2, bytesAfter: 1, recordsKept: 1, recordsDropped: 1, expiredDropped: 0 };
    const ended = nextManifest(begun, { compaction: null, compactionReport: report, lastCompaction: 'then' });
    expect(ended.compaction).toBeNull();
    expect(ended.lastCompactionReport).toEqual(report);
    expect(ended.lastCompaction).toBe('then');
  });

  it('promotes a follower: the mark goes, a new store id comes', () => {
    const follower = followerManifest(sample(), { leader: '/l', leaderId: 'cafe', generation: 5, replicatedAt: 'x' });
    const promoted = nextManifest(follower, { follower: null, storeId: 'beef' });
    expect(promoted.follower).toBeNull();
    expect(promoted.storeId).toBe('beef');
  });
});

describe('followerManifest', () => {
  it('is the leader\'s cut at the leader\'s generation, marked, without the leader\'s running compaction', () => {
    const leader = nextManifest(sample(), { compaction: { pid: 1, host: 'h', startTime: 's', token: 't', started: 'x', segments: [1], runs: [7], files: { first: 10, count: 2 } }, nextFile: 12 });
    const mark = { leader: '/l', leaderId: 'cafe', generation: leader.generation, replicatedAt: 'x', activeEnd: 700, files: { '00000001.tzds': '1:2:3' } };
    const f = followerManifest(leader, mark);
    expect(f.generation).toBe(leader.generation);
    expect(f.compaction).toBeNull();
    expect(f.follower).toEqual(mark);
    expect(f.segments).toEqual(leader.segments);
    expect(leader.compaction).not.toBeNull();
    expect(leader.follower).toBeNull();
  });
});

describe('FileNumbers', () => {
  it('hands out numbers from nextFile on, and says the next one', () => {
    const numbers = new FileNumbers(10);
    expect([numbers.take(), numbers.take()]).toEqual([10, 11]);
    expect(numbers.next).toBe(12);
  });
});

describe('findManifest', () => {
  it('tells a manifest from no store, a lost one, a damaged one and an unfinished follower', () => {
    const dir = manifestDir();
    expect(findManifest(realFs, dir).kind).toBe('none');
    writeFileSync(join(dir, '00000002.tzds'), Buffer.alloc(100));
    expect(findManifest(realFs, dir).kind).toBe('missing');
    writeFileSync(join(dir, 'MANIFEST'), 'not a manifest');
    expect(findManifest(realFs, dir)).toMatchObject({ kind: 'damaged', bytes: 14 });
    installManifest(realFs, dir, sample());
    expect(findManifest(realFs, dir)).toMatchObject({ kind: 'manifest', manifest: { generation: 5 } });
    const follower = manifestDir();
    writeFileSync(join(follower, 'REPLICATING'), '[]\n');
    expect(findManifest(realFs, follower)).toMatchObject({ kind: 'unfinished', error: { code: 'NOT_A_STORE' } });
  });
});

describe('installManifest', () => {
  /** A store directory holding the sample manifest (generation 5), and the next one to install (generation 6). */
  function setUp(): { dir: string; old: Manifest; next: Manifest } {
    const dir = join(manifestDir(), 'store');
    mkdirSync(dir);
    const old = sample();
    installManifest(realFs, dir, old);
    return { dir, old, next: nextManifest(old, { runs: { add: [run(10)] }, nextFile: 11 }) };
  }

  it('leaves the old manifest or the new one, whole, when power fails at any point', () => {
    let points = 0;
    for (let n = 1; ; n++) {
      const { dir, next } = setUp();
      const fs = new FaultFs(dir).crashBefore(n);
      let installed = false;
      let finished = false;
      try {
        installManifest(fs, dir, next, () => (installed = true));
        finished = true;
      } catch {
        // the simulated process died
      }
      fs.crash();
      const after = readManifest(realFs, dir)!;
      expect([5, 6], `power lost before mutation ${n}`).toContain(after.generation);
      if (finished) {
        expect(after.generation, 'an install that returned is durable').toBe(6);
        expect(installed).toBe(true);
        break;
      }
      if (!installed) expect(after.generation, `power lost before mutation ${n}, before the rename`).toBe(5);
      points++;
    }
    expect(points).toBeGreaterThanOrEqual(4); // create, write, fsync, rename, directory fsync
  });

  for (const op of MUTATING_OPS.filter((o): o is FsOp => ['createTruncate', 'write', 'fsync', 'rename', 'fsyncDir'].includes(o))) {
    it(`fails with an IO error naming the MANIFEST when ${op} fails, the old one in place until the rename, no temp file left`, () => {
      const { dir, next } = setUp();
      const fs = new FaultFs(dir).failAt(op, 1);
      let installed = false;
      let caught: unknown;
      try {
        installManifest(fs, dir, next, () => (installed = true));
      } catch (err) {
        caught = err;
      }
      expect(caught).toBeInstanceOf(TzkvError);
      expect((caught as TzkvError).code).toBe('IO');
      expect((caught as TzkvError).path).toBe(`${dir}/MANIFEST`);
      expect(readManifest(realFs, dir)!.generation).toBe(installed ? 6 : 5);
      expect(installed).toBe(op === 'fsyncDir');
      expect(readdirSync(dir)).toEqual(['MANIFEST']);
    });
  }
});
