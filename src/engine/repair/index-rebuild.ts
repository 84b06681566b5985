// Repair's rebuild of the index from the data (docs/design.md "Repair"): one
// run of the newest entry of every key, tombstones dropped (no older run
// remains). The segments are read in log order; the newest entry of each key
// is kept in memory for at most `chunkKeys` keys, then written as a sorted
// run of its own (tombstones kept: they shadow older chunks), and the chunks
// are merged newest first, as compaction merges runs (run-merge.ts), at most
// FAN_IN at a time. Memory: one chunk, one block per run merged, and the
// final run writer's bloom filter and leaf index; expiry lists spill to
// `compact-PID-NNNNNNNN.ttl.tmp` as a compaction's do.
import { FILE_HEADER_BYTES, KIND_PUT, MAGIC_SEGMENT, TTL_SCRATCH_EXT } from '../../format/constants.js';
import { checkFileHeader, fileVersion } from '../../format/file-header.js';
import { V1_SEGMENT, segmentFormat } from '../log/segment-format.js';
import type { RunInfo, SegmentInfo } from '../../format/manifest.js';
import type { StoreCodec } from '../../format/store-codec.js';
import type { FileSystem } from '../../io/fs.js';
import { removeQuietly } from '../../io/fs.js';
import { TzkvError } from '../../errors.js';
import { compactFileName, runName, segmentName } from '../files/layout.js';
import { RecordScanner } from '../log/record-scan.js';
import type { ScanVisitor } from '../log/record-scan.js';
import { newestEntries } from '../runs/run-merge.js';
import { RunReader } from '../runs/run-reader.js';
import { RunWriter } from '../runs/run-writer.js';
import { censusLength, censusLengthOf } from '../../format/seal-share.js';

/** Keys held in memory before they go to a sorted run: each a string in a Map, and 25 bytes of columns. */
const REBUILD_CHUNK_KEYS = 1 << 17;
/** Runs merged at once: each takes a key comparison per entry merged. */
const FAN_IN = 8;

/**
 * The newest entry of each key of a chunk. Only the key is an object (a Map's
 * key, to its slot); the entry's fields are in columns reused from chunk to
 * chunk: an object per record would be garbage that V8 frees lazily, tens of
 * megabytes of it.
 */
class ChunkEntries {
  readonly slots = new Map<string, number>();
  private kind = new Uint8Array(0);
  private segment = new Uint32Array(0);
  private offset = new Float64Array(0);
  private length = new Uint32Array(0);
  private expiresAt = new Float64Array(0);
  /** The record's group in an encrypted segment (IndexEntry.group, groupLength); 0 in others. */
  private group = new Float64Array(0);
  private groupLength = new Uint32Array(0);

  get size(): number {
    return this.slots.size;
  }

  set(key: string, kind: number, segment: number, offset: number, length: number, expiresAt: number, group: number, groupLength: number): void {
    let i = this.slots.get(key);
    if (i === undefined) {
      i = this.slots.size;
      if (i === this.kind.length) this.grow(Math.max(1024, i * 2));
      this.slots.set(key, i);
    }
    this.kind[i] = kind;
    this.segment[i] = segment;
    this.offset[i] = offset;
    this.length[i] = length;
    this.expiresAt[i] = expiresAt;
    this.group[i] = group;
    this.groupLength[i] = groupLength;
  }

  /** Adds the entries to `w` in key order, tombstones too unless `putsOnly`; returns the PUTs' keys and bytes. */
  write(w: RunWriter, putsOnly: boolean): { keys: number; bytes: number } {
    let keys = 0;
    let bytes = 0;
    for (const k of [...this.slots.keys()].sort()) {
      const i = this.slots.get(k)!;
      if (this.kind[i] === KIND_PUT) {
        keys++;
        bytes += censusLength(this.offset[i], this.length[i], this.group[i], this.groupLength[i]);
      } else if (putsOnly) continue;
      w.add(k, this.kind[i], this.segment[i], this.offset[i], this.length[i], this.expiresAt[i], this.group[i], this.groupLength[i]);
    }
    return { keys, bytes };
  }

  clear(): void {
    this.slots.clear();
  }

  private grow(capacity: number): void {
    const n = this.slots.size;
    const kind = new Uint8Array(capacity);
    const segment = new Uint32Array(capacity);
    const offset = new Float64Array(capacity);
    const length = new Uint32Array(capacity);
    const expiresAt = new Float64Array(capacity);
    const group = new Float64Array(capacity);
    const groupLength = new Uint32Array(capacity);
    kind.set(this.kind.subarray(0, n));
    segment.set(this.segment.subarray(0, n));
    offset.set(this.offset.subarray(0, n));
    length.set(this.length.subarray(0, n));
    expiresAt.set(this.expiresAt.subarray(0, n));
    group.set(this.group.subarray(0, n));
    groupLength.set(this.groupLength.subarray(0, n));
    Object.assign(this, { kind, segment, offset, length, expiresAt, group, groupLength });
  }
}

/** Where a rebuild writes: numbered files it takes from the repair's manifest. */
interface Target {
  fs: FileSystem;
  dir: string;
  /** The store's: the segments are read and the runs written with it. */
  codec: StoreCodec;
  take: () => number;
}

function writerFor(t: Target, file: number, expected: number): RunWriter {
  return new RunWriter(t.fs, t.dir, file, expected, t.codec, undefined, compactFileName(process.pid, file, TTL_SCRATCH_EXT));
}

/** Writes a chunk's entries, tombstones too, as a run; returns its number. */
function writeChunk(t: Target, latest: ChunkEntries): number {
  const file = t.take();
  const w = writerFor(t, file, latest.size);
  latest.write(w, false);
  w.finish();
  return file;
}

/** Merges runs (newest first) into one; `bottom`: tombstones dropped, the keys and bytes of the PUTs counted. */
function mergeRuns(t: Target, files: number[], into: number, bottom: boolean): { run: RunInfo; keys: number; bytes: number } {
  const readers: RunReader[] = [];
  let keys = 0;
  let bytes = 0;
  try {
    for (const f of files) readers.push(RunReader.open(t.fs, t.dir, f, t.codec));
    const w = writerFor(t, into, readers.reduce((n, r) => n + r.header.entries, 0));
    for (const e of newestEntries(readers, () => {})) {
      if (bottom && e.kind !== KIND_PUT) continue;
      w.add(e.key.toString('latin1'), e.kind, e.segment, e.offset, e.length, e.expiresAt, e.group, e.groupLength);
      if (e.kind === KIND_PUT) {
        keys++;
        bytes += censusLengthOf(e);
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
function indexSegment(t: Target, segment: number, end: number, latest: ChunkEntries, counts: RecordCounts, full: () => void, buf: Buffer): void {
  // A batch's records count as committed at once: after repair every batch is (an uncommitted one would fail finish() below).
  // Not the scanner's committedOnly mode: it holds a batch's records until their COMMIT, and an import is one
  // batch (1M keys in one batch: repair's peak RSS 160 MB this way, 300 MB through committedOnly).
  const visitor: ScanVisitor = {
    record(buf, pos, offset, info, group) {
      const key = buf.toString('latin1', pos + 20, pos + 20 + info.keyLength);
      latest.set(key, info.kind, segment, offset, info.length, info.expiresAt, group.offset, group.length);
      if (info.kind === KIND_PUT) counts.puts++;
      else counts.deletes++;
      full();
    },
  };
  const path = `${t.dir}/${segmentName(segment)}`;
  const fd = t.fs.openRead(path);
  try {
    // Its records as its header frames them: an encrypted segment's opened with its key (a repair holds it), their groups indexed.
    const head = Buffer.alloc(FILE_HEADER_BYTES);
    t.fs.read(fd, head, 0, FILE_HEADER_BYTES, 0);
    const format = checkFileHeader(head, MAGIC_SEGMENT, segment) === undefined ? segmentFormat(fileVersion(head), t.codec, path, true) : V1_SEGMENT;
    const scanner = new RecordScanner(FILE_HEADER_BYTES, t.codec, visitor, end, true, format);
    for (let at = FILE_HEADER_BYTES; at < end; ) {
      const n = t.fs.read(fd, buf, 0, Math.min(buf.length, end - at), at);
      if (n === 0) break;
      scanner.push(buf, 0, n);
      at += n;
    }
    const result = scanner.finish();
    if (result.kind !== 'clean') throw new TzkvError('INTERNAL', `${segmentName(segment)}: still damaged after repair (${result.kind})`);
  } finally {
    t.fs.close(fd);
  }
}

/** Writes one run, numbered `t.take()`, of the newest entry of every key in the segments; returns it with the census and the records counted. */
export function rebuildIndex(t: Target, segments: SegmentInfo[], activeEnd: number, chunkKeys = REBUILD_CHUNK_KEYS): { run: RunInfo; keys: number; bytes: number; counts: RecordCounts } {
  const file = t.take();
  const counts: RecordCounts = { puts: 0, deletes: 0 };
  const latest = new ChunkEntries();
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
      const { keys, bytes } = latest.write(w, true);
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
