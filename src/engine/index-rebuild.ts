// Repair's rebuild of the index from the data (docs/design.md "Repair"): one
// run of the newest entry of every key, tombstones dropped (no older run
// remains). The segments are read in log order; the newest entry of each key
// is kept in memory for at most `chunkKeys` keys, then written as a sorted
// run of its own (tombstones kept: they shadow older chunks), and the chunks
// are merged newest first, as compaction merges runs (run-merge.ts), at most
// FAN_IN at a time. Memory: one chunk, one block per run merged, and the
// final run writer's bloom filter and leaf index; expiry lists spill to
// `compact-PID-NNNNNNNN.ttl.tmp` as a compaction's do.
import { FILE_HEADER_BYTES, KIND_PUT } from '../format/constants.js';
import type { RunInfo, SegmentInfo } from '../format/manifest.js';
import type { FileSystem } from '../io/fs.js';
import { removeQuietly } from '../io/fs.js';
import { TzkvError } from '../errors.js';
import { TTL_SCRATCH_EXT, compactFileName, runName, segmentName } from './layout.js';
import type { LogEntry } from './log-scan.js';
import { RecordScanner } from './record-scan.js';
import type { ScanVisitor } from './record-scan.js';
import { newestEntries } from './run-merge.js';
import { RunReader } from './run-reader.js';
import { RunWriter } from './run-writer.js';

/** Keys held in memory before they go to a sorted run (about 170 bytes each). */
export const REBUILD_CHUNK_KEYS = 1 << 17;
/** Runs merged at once: each takes a key comparison per entry merged. */
const FAN_IN = 8;

interface Located extends LogEntry {
  segment: number;
}

/** Where a rebuild writes: numbered files it takes from the repair's manifest. */
interface Target {
  fs: FileSystem;
  dir: string;
  take: () => number;
}

function writerFor(t: Target, file: number, expected: number): RunWriter {
  return new RunWriter(t.fs, t.dir, file, expected, undefined, compactFileName(process.pid, file, TTL_SCRATCH_EXT));
}

/** Writes a chunk's entries, tombstones too, as a run; returns its number. */
function writeChunk(t: Target, latest: Map<string, Located>): number {
  const file = t.take();
  const w = writerFor(t, file, latest.size);
  for (const k of [...latest.keys()].sort()) {
    const e = latest.get(k)!;
    w.add(k, e.kind, e.segment, e.offset, e.length, e.expiresAt);
  }
  w.finish();
  return file;
}

/** Merges runs (newest first) into one; `bottom`: tombstones dropped, the keys and bytes of the PUTs counted. */
function mergeRuns(t: Target, files: number[], into: number, bottom: boolean): { run: RunInfo; keys: number; bytes: number } {
  const readers: RunReader[] = [];
  let keys = 0;
  let bytes = 0;
  try {
    for (const f of files) readers.push(RunReader.open(t.fs, t.dir, f));
    const w = writerFor(t, into, readers.reduce((n, r) => n + r.header.entries, 0));
    for (const e of newestEntries(readers, () => {})) {
      if (bottom && e.kind !== KIND_PUT) continue;
      w.add(e.key.toString('latin1'), e.kind, e.segment, e.offset, e.length, e.expiresAt);
      if (e.kind === KIND_PUT) {
        keys++;
        bytes += e.length;
      }
    }
    return { run: w.finish(), keys, bytes };
  } finally {
    for (const r of readers) r.close();
    for (const f of files) removeQuietly(t.fs, `${t.dir}/${runName(f)}`);
  }
}

/** Committed records counted by kind, as the manifest's counters count them. */
interface RecordCounts {
  puts: number;
  deletes: number;
}

/** The committed PUT and DEL records of a segment, newest per key into `latest`, counted into `counts`; `full()` after each. */
function indexSegment(t: Target, segment: number, end: number, latest: Map<string, Located>, counts: RecordCounts, full: () => void, buf: Buffer): void {
  // A batch's records count as committed at once: after repair every batch is (an uncommitted one would fail finish() below).
  const visitor: ScanVisitor = {
    record(buf, pos, offset, info) {
      const key = buf.toString('latin1', pos + 20, pos + 20 + info.keyLength);
      latest.set(key, { key, kind: info.kind, segment, offset, length: info.length, expiresAt: info.expiresAt });
      if (info.kind === KIND_PUT) counts.puts++;
      else counts.deletes++;
      full();
    },
  };
  const scanner = new RecordScanner(FILE_HEADER_BYTES, visitor, end);
  const fd = t.fs.openRead(`${t.dir}/${segmentName(segment)}`);
  try {
    for (let at = FILE_HEADER_BYTES; at < end; ) {
      const n = t.fs.read(fd, buf, 0, Math.min(buf.length, end - at), at);
      if (n === 0) break;
      scanner.push(buf, 0, n);
      at += n;
    }
  } finally {
    t.fs.close(fd);
  }
  const result = scanner.finish();
  if (result.kind !== 'clean') throw new TzkvError('INTERNAL', `${segmentName(segment)}: still damaged after repair (${result.kind})`);
}

/** Writes one run, numbered `t.take()`, of the newest entry of every key in the segments; returns it with the census and the records counted. */
export function rebuildIndex(t: Target, segments: SegmentInfo[], activeEnd: number, chunkKeys = REBUILD_CHUNK_KEYS): { run: RunInfo; keys: number; bytes: number; counts: RecordCounts } {
  const file = t.take();
  const counts: RecordCounts = { puts: 0, deletes: 0 };
  const latest = new Map<string, Located>();
  /** Chunk runs by merge level, oldest first in each. */
  const levels: number[][] = [];
  const spill = () => {
    if (latest.size < chunkKeys) return;
    let run = writeChunk(t, latest);
    latest.clear();
    for (let level = 0; ; level++) {
      levels[level] ??= [];
      levels[level].push(run);
      if (levels[level].length < FAN_IN) break;
      const into = t.take();
      mergeRuns(t, levels[level].reverse(), into, false);
      levels[level] = [];
      run = into;
    }
  };
  try {
    const buf = Buffer.allocUnsafe(4 * 1024 * 1024);
    for (const s of segments) indexSegment(t, s.file, s.size ?? activeEnd, latest, counts, spill, buf);
    if (levels.length === 0) {
      // One chunk: written directly.
      const w = writerFor(t, file, latest.size);
      let keys = 0;
      let bytes = 0;
      for (const k of [...latest.keys()].sort()) {
        const e = latest.get(k)!;
        if (e.kind !== KIND_PUT) continue;
        w.add(k, e.kind, e.segment, e.offset, e.length, e.expiresAt);
        keys++;
        bytes += e.length;
      }
      return { run: w.finish(), keys, bytes, counts };
    }
    if (latest.size > 0) levels[0].push(writeChunk(t, latest));
    latest.clear();
    // Newest first: the lowest level's last run is the newest; every run of a level is newer than the level above's.
    const runs = levels.flatMap((l) => [...l].reverse());
    levels.length = 0;
    return { ...mergeRuns(t, runs, file, true), counts };
  } finally {
    for (const run of levels.flat()) removeQuietly(t.fs, `${t.dir}/${runName(run)}`);
  }
}
