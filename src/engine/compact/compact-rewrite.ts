// Compaction's rewrite phase (docs/design.md "Compaction"), run without the
// lock: a streaming k-way merge of the snapshot's runs; each key's newest
// record, when it is a PUT not expired at the compaction's `now`, is copied
// from the snapshot's segments into new segments (in a compressed store, its
// uncompressed values compressed on the way: compact-values.ts) and indexed by one new run,
// all under temporary names (`compact-PID-NNNNNNNN.tzds.tmp`), each fsynced.
// Memory: one cursor block per run, up to 16 read-ahead windows of 512 KiB
// (one per segment being read), a 1 MiB output buffer, and the run writer's
// bloom filter (~1.2 bytes a key) and leaf index (~1 KiB per 100 keys); the
// TTL list keeps one chunk of 1M expiries in memory and spills the rest to
// `compact-PID-NNNNNNNN.ttl.tmp`.
import { REPAIR_HINT, TzkvError, ioError } from '../../errors.js';
import { FILE_HEADER_BYTES, FLAG_BATCH, KIND_PUT, MAGIC_SEGMENT, RUN_EXT, SEGMENT_EXT, TTL_SCRATCH_EXT } from '../../format/constants.js';
import { crc32 } from '../../format/bytes.js';
import { encodeFileHeader, fileVersionFor } from '../../format/file-header.js';
import type { IndexEntry } from '../../format/index-block.js';
import type { CompactionMarker, RunInfo } from '../../format/manifest.js';
import { RECORD_OK, RecordInfo, decodeRecord } from '../../format/record.js';
import type { FileSystem } from '../../io/fs.js';
import type { StoreCodec } from '../../format/store-codec.js';
import { writtenVersion } from '../../format/store-codec.js';
import { dataKey } from '../data-key.js';
import { GroupBuilder, SourceGroups } from './sealed-records.js';
import { KeptValues } from './compact-values.js';
import { removeQuietly, closeQuietly } from '../../io/fs.js';
import { isExpired } from '../../keys.js';
import { compactFileName, segmentName } from '../files/layout.js';
import { ReadWindow } from '../log/read-window.js';
import { newestEntries } from '../runs/run-merge.js';
import { RunReader } from '../runs/run-reader.js';
import { RunWriter } from '../runs/run-writer.js';
import { censusLength, censusLengthOf } from '../../format/seal-share.js';

const OUT_BYTES = 1 << 20;
const WINDOW_BYTES = 512 * 1024;
/** Read-ahead windows kept at once, one per segment: key order visits several segments in turn. */
const WINDOWS = 16;

/** What the rewrite left under temporary names, for the switch to rename in (or the caller to delete). */
export interface RewriteOutput {
  /** Sealed output segments, ascending, with their temporary paths and the data key id their headers name (0: none). */
  segments: Array<{ file: number; size: number; tmp: string; key: number }>;
  /** The one new run, or null when nothing was kept. */
  run: { info: RunInfo; tmp: string } | null;
  /** Keys kept, and the total censusLength of their records where they were written (the new census). */
  kept: number;
  keptBytes: number;
  /** keptBytes less the kept records' censusLength where they were read (an encrypted store's records change groups, and with them their share of a SEAL record). */
  keptShift: number;
  /** Keys not carried over: their newest version was a tombstone or an expired PUT. */
  dropped: number;
  /** Newest versions that were PUTs expired at `now`, and their total censusLength. */
  expiredDropped: number;
  expiredDroppedBytes: number;
  /** Size of the output segments, headers included. */
  bytesAfter: number;
  /** A compressed store's: the kept PUT values' bytes as stored and uncompressed; null in others. */
  values: { stored: number; raw: number } | null;
  /** Record bytes this rewrite saved by compressing values (compact-values.ts): kept records are that much shorter than in the snapshot. */
  compressedSaved: number;
}

/** Removes whatever a rewrite left under temporary names (quietly: a failure leaves leftovers the next writer removes). */
export function removeOutput(fs: FileSystem, out: RewriteOutput): void {
  for (const s of out.segments) removeQuietly(fs, s.tmp);
  if (out.run) removeQuietly(fs, out.run.tmp);
}

/** Output segments written one after another, each rolled before a record would take it past `segmentBytes`. */
class SegmentOutput {
  readonly done: RewriteOutput['segments'] = [];
  private fd = -1;
  private file = 0;
  private tmp = '';
  private pos = 0;
  private readonly out = Buffer.allocUnsafe(OUT_BYTES);
  private outLen = 0;

  constructor(
    private readonly fs: FileSystem,
    private readonly dir: string,
    /** The store's: what the output segments' groups are sealed with. */
    readonly codec: StoreCodec,
    private readonly pid: number,
    private readonly segmentBytes: number,
    private readonly nextFile: () => number,
  ) {}

  /** Where the next record of `length` bytes goes: [segment, offset]. Opens or rolls the segment as needed. */
  place(length: number): [number, number] {
    if (this.fd >= 0 && rollsOver(this.pos, length, this.segmentBytes)) this.seal();
    if (this.fd < 0) this.open();
    return [this.file, this.pos];
  }

  /** Appends a record (or a sealed group) at the position place() returned; `clearFlags` clears its BATCH flag (the copy is committed by itself). */
  append(record: Buffer, clearFlags: boolean): void {
    const n = record.length;
    if (n > OUT_BYTES - this.outLen) this.drain();
    let at: Buffer;
    let start: number;
    if (n > OUT_BYTES) {
      at = Buffer.from(record);
      start = 0;
    } else {
      record.copy(this.out, this.outLen);
      at = this.out;
      start = this.outLen;
      this.outLen += n;
    }
    if (clearFlags) {
      at[start + 5] &= ~FLAG_BATCH; // a compressed value's bits stay
      at.writeUInt32LE(crc32(at, start + 4, start + n), start);
    }
    if (at !== this.out) this.write(at, 0, n, this.pos);
    this.pos += n;
  }

  private open(): void {
    this.file = this.nextFile();
    this.tmp = `${this.dir}/${compactFileName(this.pid, this.file, SEGMENT_EXT)}`;
    const version = fileVersionFor(this.codec);
    this.done.push({ file: this.file, size: 0, tmp: this.tmp, key: version.keyId }); // size set when sealed; listed before it exists, so a failure from here removes it
    this.fd = this.fs.createTruncate(this.tmp);
    const header = encodeFileHeader(MAGIC_SEGMENT, this.file, undefined, version);
    this.write(header, 0, header.length, 0);
    this.pos = FILE_HEADER_BYTES;
  }

  private write(buf: Buffer, offset: number, length: number, position: number): void {
    try {
      this.fs.write(this.fd, buf, offset, length, position);
    } catch (err) {
      throw ioError(err, 'cannot write', this.tmp);
    }
  }

  private drain(): void {
    if (this.outLen === 0) return;
    this.write(this.out, 0, this.outLen, this.pos - this.outLen);
    this.outLen = 0;
  }

  /** Drains, fsyncs and closes the open segment. */
  seal(): void {
    if (this.fd < 0) return;
    this.drain();
    try {
      this.fs.fsync(this.fd);
    } catch (err) {
      throw ioError(err, 'cannot fsync', this.tmp);
    }
    this.closeFd();
    this.done[this.done.length - 1].size = this.pos;
  }

  closeFd(): void {
    if (this.fd < 0) return;
    const fd = this.fd;
    this.fd = -1;
    closeQuietly(this.fs, fd); // a file being abandoned, or one fsynced already
  }
}

/** Whether compaction keeps an index entry: a PUT not expired at the compaction's clock. */
export function keptByCompaction(e: { kind: number; expiresAt: number }, now: number): boolean {
  return e.kind === KIND_PUT && !isExpired(e.expiresAt, now);
}

/** Whether a record of `length` bytes at `pos` goes to a new output segment (a record alone in one may exceed segmentBytes). */
export function rollsOver(pos: number, length: number, segmentBytes: number): boolean {
  return pos > FILE_HEADER_BYTES && pos + length > segmentBytes;
}

/** Records the rewrite handles between two turns of the event loop (~5-10 ms of work). */
const YIELD_EVERY = 10_000;

/**
 * Writes the live records of the snapshot `marker` names into new files under
 * temporary names (compressing the uncompressed values of the `deferred`
 * segments: the snapshot's segments counted `pending`), letting the event loop turn every YIELD_EVERY records.
 * Throws (after removing what it wrote) on any failure, CORRUPT when a
 * snapshot record does not match its index entry.
 */
export async function rewriteSnapshot(
  fs: FileSystem,
  dir: string,
  codec: StoreCodec,
  marker: CompactionMarker,
  now: number,
  segmentBytes: number,
  deferred: ReadonlySet<number>,
  ttlSpillChunk?: number,
): Promise<RewriteOutput> {
  const { first, count } = marker.files;
  let next = first + 1; // `first` is the run's number
  const take = () => {
    if (next >= first + count) throw new TzkvError('INTERNAL', `compaction of ${dir} needs more than the ${count} file numbers it reserved`);
    return next++;
  };
  const readers: RunReader[] = [];
  const segmentFds = new Map<number, number>();
  const segments = new SegmentOutput(fs, dir, codec, marker.pid, segmentBytes, take);
  // An encrypted store's records are opened from their groups and sealed again in new ones, with the current key.
  const groups = codec.encryption === undefined ? null : new GroupBuilder(dataKey(codec, codec.encryption.keys().current, dir));
  let w: RunWriter | undefined;
  const result: RewriteOutput = {
    segments: segments.done,
    run: null,
    kept: 0,
    keptBytes: 0,
    keptShift: 0,
    dropped: 0,
    expiredDropped: 0,
    expiredDroppedBytes: 0,
    bytesAfter: 0,
    values: null,
    compressedSaved: 0,
  };
  const values = codec.compression ? new KeptValues(codec.compression) : null;
  try {
    for (const file of marker.runs) readers.push(RunReader.open(fs, dir, file, codec));
    const expected = readers.reduce((n, r) => n + r.header.entries, 0);
    w = new RunWriter(fs, dir, first, expected, codec, compactFileName(marker.pid, first, RUN_EXT), compactFileName(marker.pid, first, TTL_SCRATCH_EXT), ttlSpillChunk);
    const windows = new Map<number, ReadWindow>();
    const windowOf = (segment: number) => {
      let win = windows.get(segment);
      if (win) windows.delete(segment);
      else {
        win = new ReadWindow(WINDOW_BYTES, true);
        if (windows.size >= WINDOWS) windows.delete(windows.keys().next().value!);
      }
      windows.set(segment, win); // most recently used last
      return win;
    };
    const info = new RecordInfo();
    const fdOf = (segment: number) => {
      let fd = segmentFds.get(segment);
      if (fd === undefined) {
        fd = fs.openRead(`${dir}/${segmentName(segment)}`);
        segmentFds.set(segment, fd);
      }
      return fd;
    };
    const read = (segment: number, offset: number, length: number) => windowOf(segment).read(fs, fdOf(segment), segment, offset, length);
    const sources = new SourceGroups(dir, codec, read);
    const version2 = writtenVersion(codec) === 2;
    const run = w;
    /** Seals the group being filled where it goes, and indexes its records. */
    const sealGroupOut = (g: GroupBuilder) => {
      if (g.empty) return;
      const [file, offset] = segments.place(g.length);
      const index = (key: string, at: number, length: number, expiresAt: number, group: number, groupLength: number) => {
        const kept = censusLength(at, length, group, groupLength);
        result.keptBytes += kept;
        result.keptShift += kept;
        run.add(key, KIND_PUT, file, at, length, expiresAt, group, groupLength);
      };
      segments.append(g.seal(offset, index), false);
    };
    let sinceYield = 0;
    for (const e of newestEntries(readers, () => {})) {
      // The rewrite holds no lock and may take minutes: a program embedding the
      // store goes on with its own work (reads, writes) in between.
      if (++sinceYield === YIELD_EVERY) {
        sinceYield = 0;
        await new Promise<void>((resolve) => setImmediate(resolve));
      }
      if (!keptByCompaction(e, now)) {
        result.dropped++;
        if (e.kind === KIND_PUT) {
          result.expiredDropped++;
          result.expiredDroppedBytes += censusLengthOf(e);
        }
        continue;
      }
      // A grouped record's CRC is of its stored bytes; its group's tag vouched for it.
      const grouped = e.groupLength > 0;
      const copied = grouped ? sources.record(e) : read(e.segment, e.offset, e.length);
      checkRecord(copied, e, info, !grouped, version2);
      const batch = (info.flags & FLAG_BATCH) !== 0;
      const record = values ? values.compact(copied, info, deferred.has(e.segment)) : copied;
      const length = record.length;
      if (groups) {
        if (groups.full(length)) sealGroupOut(groups);
        groups.add(record, e.key.toString('latin1'), e.expiresAt, batch);
        result.keptShift -= censusLengthOf(e); // its new censusLength is counted as its group is sealed
      } else {
        const [file, offset] = segments.place(length);
        segments.append(record, batch);
        w.add(e.key.toString('latin1'), KIND_PUT, file, offset, length, e.expiresAt);
        result.keptBytes += length;
        result.keptShift += length - e.length; // a record in no group counts its own length
      }
      result.kept++;
    }
    if (groups) sealGroupOut(groups);
    segments.seal();
    if (values) {
      result.values = { stored: values.stored, raw: values.raw };
      result.compressedSaved = values.savedBytes;
    }
    const finished = w.finish(false);
    result.run = finished.entries > 0 ? { info: finished, tmp: w.tmpPath } : null;
    if (!result.run) w.abort();
    for (const s of result.segments) result.bytesAfter += s.size;
    return result;
  } catch (err) {
    w?.abort();
    segments.closeFd();
    removeOutput(fs, result);
    throw ioError(err, 'cannot compact', dir);
  } finally {
    for (const r of readers) r.close();
    for (const fd of segmentFds.values()) fs.close(fd);
  }
}

/** Checks a snapshot record against its index entry (the copy must be exactly what was acknowledged); `crc`: check its CRC (not an opened record's). */
function checkRecord(record: Buffer, e: IndexEntry, info: RecordInfo, crc: boolean, version2: boolean): void {
  const status = record.length === e.length ? decodeRecord(record, 0, record.length, info, crc, version2) : -1;
  const ok =
    status === RECORD_OK &&
    info.length === e.length &&
    info.kind === KIND_PUT &&
    info.expiresAt === e.expiresAt &&
    record.subarray(20, 20 + info.keyLength).equals(e.key);
  if (!ok) {
    const name = segmentName(e.segment);
    const why = status === -1 ? 'record runs past end of file' : info.reason || 'record does not match its index entry';
    throw new TzkvError('CORRUPT', `${name} offset ${e.offset}: ${why}; compaction stopped, nothing changed; ${REPAIR_HINT}`, {
      offset: e.offset,
    });
  }
}
