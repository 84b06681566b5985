// An atomic batch being assembled: records are encoded (BATCH-flagged) as they
// arrive, so committing needs no more encoding. A small batch stays in memory
// and is appended to the active segment with a COMMIT marker. A large one
// spills to a staging file in the store directory that, at commit, gets its
// segment header and COMMIT and is renamed into place as a segment of its own
// (docs/design.md "Atomic batches"): its bytes are written once, and memory
// holds only the index entries. In an encrypted store the records are laid
// out in groups as they arrive (record-groups.ts), their headers in the chunk
// and their plain bodies in the chunk's bodies buffer: a spilled batch's groups
// are sealed as they are written (their offsets are the segment's already),
// an in-memory batch's when it is appended (appendBatch, write-session.ts).
// In a compressed store, packed puts (a bulk import) past their first
// INLINE_COMPRESSION_BYTES of values are stored uncompressed, the batch spills
// at once, and its `pending` bytes go to its segment's manifest entry for the
// next compaction to compress (put-value.ts).
import { FLAG_BATCH, KIND_PUT, MAGIC_SEGMENT, RECORD_HEADER_BYTES } from '../../format/constants.js';
import { type FileVersion, encodeFileHeader, fileVersionFor } from '../../format/file-header.js';
import { encodeCommit, writeRecord, writeRecordHeader } from '../../format/record.js';
import type { StoreCodec } from '../../format/store-codec.js';
import { ViewOf, copyBytes, crcBegin, crcCopy, crcEnd } from '../../format/bytes.js';
import type { PackedPuts } from '../../checked-batch.js';
import { BatchEntries } from './batch-entries.js';
import { ioError } from '../../errors.js';
import { FILE_HEADER_BYTES } from '../../format/constants.js';
import type { FileSystem } from '../../io/fs.js';
import { removeQuietly, closeQuietly } from '../../io/fs.js';
import { segmentName, stageFileName } from '../files/layout.js';
import { randomHex } from '../../io/random.js';
import { SEAL_RECORD_BYTES } from '../../format/seal.js';
import { GroupLayout } from './record-groups.js';
import { dataKey } from '../data-key.js';
import { INLINE_COMPRESSION_BYTES, putValue } from './put-value.js';

const CHUNK_BYTES = 4 * 1024 * 1024;
/** Written bytes of a staging file after which the disk is asked to start on them (FileSystem.syncAhead). */
const SYNC_AHEAD_BYTES = 32 * 1024 * 1024;
/** Past this many staged bytes a batch spills to a staging file. */
export const SPILL_BYTES = 16 * 1024 * 1024;

/** Where a batch may spill: the store's directory and file system. */
export interface SpillTo {
  fs: FileSystem;
  dir: string;
  /** Staged bytes past which the batch spills. */
  bytes: number;
}

/** A spilled batch, ready to become a segment: records at [16, 16 + bytes). */
export interface StageFile {
  path: string;
  fd: number;
  bytes: number;
  /** What its header says (and, encrypted, the data key its groups are sealed with), fixed when it is created. */
  as: FileVersion;
}

/** A batch whose records are all encoded, ready to commit. */
export interface FinishedBatch {
  entries: BatchEntries;
  count: number;
  puts: number;
  deletes: number;
  /** Bytes of its records. */
  bytes: number;
  /** A compressed store's: bytes of values of minBytes or more it stored uncompressed for compaction (always spilled; 0: none). */
  pending: number;
  /** The records: in memory, or (spilled) in the staging file. */
  records: { chunks: Buffer[] } | { stage: StageFile };
  /**
   * An encrypted store's batch in memory: its groups, to seal once the batch's
   * place in its segment is known (sealAll with that offset). Undefined when
   * nothing is left to seal.
   */
  groups?: GroupLayout;
}

/**
 * Gives a spilled batch's staging file what makes it segment `file`: its
 * segment header (the version and data key id it was staged with: the key
 * its groups are sealed with) and a COMMIT, and has the disk start on them
 * (syncAhead) while the caller goes on (it indexes the batch). Returns the
 * segment's size. `_codec`: the store's.
 */
export function sealStage(fs: FileSystem, dir: string, stage: StageFile, file: number, count: number, _codec: StoreCodec): number {
  const commit = encodeCommit(count);
  try {
    const header = encodeFileHeader(MAGIC_SEGMENT, file, undefined, stage.as);
    fs.write(stage.fd, header, 0, header.length, 0);
    fs.write(stage.fd, commit, 0, commit.length, FILE_HEADER_BYTES + stage.bytes);
    fs.syncAhead?.(stage.fd);
  } catch (err) {
    throw ioError(err, 'cannot commit batch as', `${dir}/${segmentName(file)}`);
  }
  return FILE_HEADER_BYTES + stage.bytes + commit.length;
}

/**
 * Makes a sealed staging file (sealStage) segment `file`: fsynced and renamed
 * to the segment's name (the directory is not fsynced). A crash before a
 * manifest lists it leaves an unlisted segment the next writer removes.
 */
export function stageToSegment(fs: FileSystem, dir: string, stage: StageFile, file: number): void {
  const path = `${dir}/${segmentName(file)}`;
  try {
    fs.fsync(stage.fd);
    fs.rename(stage.path, path);
  } catch (err) {
    throw ioError(err, 'cannot commit batch as', path);
  }
}

export class StagedBatch {
  readonly chunks: Buffer[] = [];
  private current: Buffer = Buffer.allocUnsafe(0);
  private used = 0;
  /** Bytes staged so far (offset of the next record relative to the batch start). */
  bytes = 0;
  readonly entries = new BatchEntries();
  private readonly views = { source: new ViewOf(), prefix: new ViewOf(), chunk: new ViewOf(), bodies: new ViewOf() };
  /** An encrypted store's: the plain bodies of the records in `current`, back to back (GroupLayout), and how many bytes of it are used. */
  private bodies: Buffer = Buffer.allocUnsafe(0);
  private bodiesUsed = 0;
  puts = 0;
  deletes = 0;
  private stage: StageFile | undefined;
  /** Bytes written to the staging file since the last syncAhead. */
  private unsynced = 0;
  /** An encrypted store's: the groups being laid out. */
  private readonly groups: GroupLayout | undefined;
  /** The first entry of the open group, and where its SEAL record starts (relative to the batch's first byte). */
  private groupFirst = 0;
  private groupOffset = 0;
  /** Packed values compressed inline so far; past INLINE_COMPRESSION_BYTES (and spillable) the batch defers the rest. */
  private inlineBytes = 0;
  /** Deferring: values are stored as they are, the batch spills, and `pending` counts them. */
  private deferring = false;
  private pending = 0;

  constructor(
    /** The store's: what an encrypted store's records are sealed and a compressed store's values compressed with. */
    readonly codec: StoreCodec,
    private readonly spill?: SpillTo,
  ) {
    this.groups = codec.encryption ? new GroupLayout() : undefined;
  }

  get count(): number {
    return this.entries.count;
  }

  /** REQUIRES: key checked; a string key is the latin1 form (one char per byte). */
  add(kind: number, key: Buffer | string, value: Buffer | null, expiresAt: number): void {
    const { flags, stored } = value === null ? { flags: 0, stored: null } : putValue(this.codec, value);
    const length = RECORD_HEADER_BYTES + key.length + (stored === null ? 0 : stored.length);
    const pos = this.room(length);
    writeRecord(this.current, pos, kind, FLAG_BATCH | flags, key, stored, expiresAt);
    const keyAt = pos + RECORD_HEADER_BYTES;
    if (this.groups !== undefined) {
      // Its body goes where its group's bodies are sealed from (the CRC writeRecord set is replaced when it is sealed).
      copyBytes(this.views.chunk.of(this.current), keyAt, pos + length, this.views.bodies.of(this.bodies), this.bodiesUsed);
      this.bodiesUsed += length - RECORD_HEADER_BYTES;
    }
    this.record(this.current, keyAt, keyAt + key.length, kind, length, expiresAt);
  }

  /**
   * Adds every put of `puts`, encoded straight from its bytes into the
   * staged records (docs/format.md "Data segment"). REQUIRES: checked (CheckedBatch.putPacked).
   */
  addPacked(puts: PackedPuts): void {
    const { bytes, count, prefix, keyStart, keyEnd, valueStart, valueEnd, expiresAt } = puts;
    const compression = this.codec.compression;
    let from = 0;
    if (compression !== undefined) {
      // Each value is compressed on its own (putValue): no straight copy from the packed bytes.
      for (; from < count && !this.deferring; from++) {
        const key = Buffer.concat([prefix, bytes.subarray(keyStart[from], keyEnd[from])]);
        this.add(KIND_PUT, key, bytes.subarray(valueStart[from], valueEnd[from]), expiresAt[from]);
        this.inlineBytes += valueEnd[from] - valueStart[from];
        this.deferring = this.spill !== undefined && this.inlineBytes > INLINE_COMPRESSION_BYTES;
      }
      for (let i = from; i < count; i++) {
        const valueLength = valueEnd[i] - valueStart[i];
        if (valueLength >= compression.minBytes) this.pending += valueLength;
      }
    }
    this.copyPacked(puts, from);
  }

  /** Adds puts [from, count) of `puts` as they are, copied straight from the packed bytes. */
  private copyPacked(puts: PackedPuts, from: number): void {
    const { bytes, count, prefix, keyStart, keyEnd, valueStart, valueEnd, expiresAt } = puts;
    const src = this.views.source.of(bytes);
    const pre = this.views.prefix.of(prefix);
    const sealed = this.groups !== undefined;
    for (let i = from; i < count; i++) {
      const keyLength = prefix.length + keyEnd[i] - keyStart[i];
      const valueLength = valueEnd[i] - valueStart[i];
      const length = RECORD_HEADER_BYTES + keyLength + valueLength;
      const pos = this.room(length);
      const buf = this.current;
      const dst = this.views.chunk.of(buf);
      writeRecordHeader(buf, pos, KIND_PUT, FLAG_BATCH, keyLength, valueLength, expiresAt[i]);
      const keyAt = pos + RECORD_HEADER_BYTES;
      if (sealed) {
        // The header in the chunk, the key and value in the bodies buffer; sealing encrypts them into the chunk and sets the CRC over the stored bytes.
        const at = this.bodiesUsed;
        const bodies = this.views.bodies.of(this.bodies);
        copyBytes(pre, 0, prefix.length, bodies, at);
        copyBytes(src, keyStart[i], keyEnd[i], bodies, at + prefix.length);
        copyBytes(src, valueStart[i], valueEnd[i], bodies, at + keyLength);
        this.bodiesUsed = at + keyLength + valueLength;
        this.record(this.bodies, at, at + keyLength, KIND_PUT, length, expiresAt[i]);
        continue;
      }
      // The CRC of the header, then of the key and value as they are copied in (docs/format.md "Data segment").
      crcBegin(buf, pos + 4, keyAt);
      crcCopy(pre, 0, prefix.length, dst, keyAt);
      crcCopy(src, keyStart[i], keyEnd[i], dst, keyAt + prefix.length);
      crcCopy(src, valueStart[i], valueEnd[i], dst, keyAt + keyLength);
      crcEnd(dst, pos);
      this.record(buf, keyAt, keyAt + keyLength, KIND_PUT, length, expiresAt[i]);
    }
  }

  /**
   * Where the next record of `length` bytes goes in `current` (a new chunk, or
   * the staging file, made room for it); in an encrypted store, after room
   * for a SEAL record when it starts a group.
   */
  private room(length: number): number {
    const groups = this.groups;
    if (groups === undefined || !groups.startsGroup(length, this.full(length))) {
      if (this.full(length)) this.newChunk(length);
      groups?.grow(length);
      return this.take(length);
    }
    this.closeGroup();
    const total = SEAL_RECORD_BYTES + length;
    if (this.full(total)) this.newChunk(total);
    groups.begin(this.current, this.used, this.bytes, this.bodies, this.bodiesUsed);
    this.groupFirst = this.entries.count;
    this.groupOffset = this.bytes;
    this.take(SEAL_RECORD_BYTES);
    this.bytes += SEAL_RECORD_BYTES;
    groups.grow(length);
    return this.take(length);
  }

  /** Whether `length` more bytes need a new chunk (or the spill to begin). */
  private full(length: number): boolean {
    // A deferring batch spills at once: its segment's manifest entry is where its pending bytes are counted.
    const spillNow = this.spill !== undefined && this.stage === undefined && (this.deferring || this.bytes + length > this.spill.bytes);
    return spillNow || this.used + length > this.current.length;
  }

  private take(length: number): number {
    const pos = this.used;
    this.used += length;
    return pos;
  }

  /** Closes the open group (if any): its records' entries learn its length. */
  private closeGroup(): void {
    const length = this.groups?.close() ?? 0;
    if (length > 0) this.entries.setGroupLength(this.groupFirst, length);
  }

  /** Files the entry of the record just written, whose key is src[keyStart, keyEnd) (its chunk, or its bodies buffer). */
  private record(src: Buffer, keyStart: number, keyEnd: number, kind: number, length: number, expiresAt: number): void {
    this.entries.add(src, keyStart, keyEnd, kind, this.bytes, length, expiresAt, this.groupOffset);
    this.bytes += length;
    if (kind === KIND_PUT) this.puts++;
    else this.deletes++;
  }

  private newChunk(atLeast: number): void {
    if (this.spill && (this.stage !== undefined || this.deferring || this.bytes + atLeast > this.spill.bytes)) {
      // Spilled and sealed (spillCurrent): the chunk and its bodies are free again.
      this.spillCurrent();
      if (this.current.length < atLeast) this.allocChunk(atLeast);
      this.used = 0;
      this.bodiesUsed = 0;
      return;
    }
    this.sealChunk();
    this.allocChunk(atLeast);
    this.used = 0;
    this.bodiesUsed = 0;
  }

  /** A new `current` of at least `atLeast` bytes (and, encrypted, bodies buffer: a chunk's bodies are never longer than it). */
  private allocChunk(atLeast: number): void {
    this.current = Buffer.allocUnsafe(Math.max(CHUNK_BYTES, atLeast));
    if (this.groups !== undefined) this.bodies = Buffer.allocUnsafe(this.current.length);
  }

  private sealChunk(): void {
    if (this.used > 0) this.chunks.push(this.current.subarray(0, this.used));
  }

  /** Writes what is staged in memory to the staging file (created on first use). */
  private spillCurrent(): void {
    const { fs, dir } = this.spill!;
    if (!this.stage) {
      const path = `${dir}/${stageFileName(process.pid, randomHex(6))}`;
      try {
        this.stage = { path, fd: fs.createExclusive(path), bytes: 0, as: fileVersionFor(this.codec) };
        // An encrypted stage says at once which data key it is sealed with: a compaction
        // rotating the key meanwhile keeps every key a stage file names (number 0 until sealStage).
        if (this.stage.as.keyId > 0) fs.write(this.stage.fd, encodeFileHeader(MAGIC_SEGMENT, 0, undefined, this.stage.as), 0, FILE_HEADER_BYTES, 0);
      } catch (err) {
        throw ioError(err, 'cannot create batch staging file', path);
      }
      const earlier = this.chunks.splice(0);
      this.sealStaged();
      for (const c of earlier) this.writeStage(c, c.length);
    }
    this.sealStaged();
    this.writeStage(this.current, this.used);
  }

  /** Seals the closed groups of what is about to be staged: their offsets are the segment's (records from FILE_HEADER_BYTES). */
  private sealStaged(): void {
    if (this.groups) this.groups.sealAll(FILE_HEADER_BYTES, dataKey(this.codec, this.stage!.as.keyId, this.stage!.path));
  }

  /** Appends records to the staging file; every SYNC_AHEAD_BYTES, has the disk start on them (the commit's fsync then waits for less). */
  private writeStage(buf: Buffer, length: number): void {
    const stage = this.stage!;
    const { fs } = this.spill!;
    try {
      fs.write(stage.fd, buf, 0, length, FILE_HEADER_BYTES + stage.bytes);
    } catch (err) {
      throw ioError(err, 'cannot write batch staging file', stage.path);
    }
    stage.bytes += length;
    this.unsynced += length;
    if (this.unsynced >= SYNC_AHEAD_BYTES) {
      fs.syncAhead?.(stage.fd);
      this.unsynced = 0;
    }
  }

  /** Ends the batch: the records, in order, in memory or (when spilled) all in the staging file. */
  finish(): FinishedBatch {
    this.closeGroup();
    if (this.stage) {
      this.sealStaged();
      if (this.used > 0) this.writeStage(this.current, this.used);
    } else {
      this.sealChunk();
    }
    this.current = Buffer.allocUnsafe(0);
    this.used = 0;
    this.bodies = Buffer.allocUnsafe(0);
    this.bodiesUsed = 0;
    const { entries, count, puts, deletes, bytes, pending } = this;
    if (this.stage) return { entries, count, puts, deletes, bytes, pending, records: { stage: this.stage } };
    return { entries, count, puts, deletes, bytes, pending, records: { chunks: this.chunks }, groups: this.groups };
  }

  /** Closes and removes the staging file, if any and if still there (a commit renames it away). */
  cleanup(): void {
    const stage = this.stage;
    if (!stage || !this.spill) return;
    this.stage = undefined;
    const { fs } = this.spill;
    closeQuietly(fs, stage.fd); // closed by the commit already
    removeQuietly(fs, stage.path); // renamed into place by a commit, or never there
  }
}
