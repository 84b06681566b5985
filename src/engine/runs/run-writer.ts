// Writes one index run file (docs/format.md "Index run") from entries given in
// strictly ascending key order. The file is written under a .tmp name and
// renamed into place by finish(), after an fsync. A store with a codec writes
// version 2: an encrypted store's run (its header names the current data key)
// has leaf entries with the group, sealed blocks and bloom pages, and a sealed
// key range in its manifest entry (docs/format.md "Index runs, version 2").
import type { KeyObject } from 'node:crypto';
import { TzkvError, ioError } from '../../errors.js';
import { BloomBuilder, bloomPageCount, encodeBloomPages } from '../../format/bloom.js';
import {
  BLOCK_BRANCH,
  BLOCK_HEADER_BYTES,
  BLOCK_LEAF,
  BLOCK_TARGET_BYTES,
  BLOCK_TRAILER_BYTES,
  LEAF_ENTRY_FIXED_BYTES,
  MAX_KEY_BYTES,
  RUN_EXT,
  KIND_PUT,
  RUN_HEADER_BYTES,
  TTL_ENTRY_BYTES,
} from '../../format/constants.js';
import { ViewOf, compareViews, copyBytes, fileName } from '../../format/bytes.js';
import { type RunLayout, encodeRunHeader, runLayout, sealBlock, writeBlockHeader, writeBranchEntry, writeLeafFields, writeLeafGroup, writeLeafKey } from '../../format/index-block.js';
import { type FileVersion, fileVersionFor } from '../../format/file-header.js';
import { SEAL_OVERHEAD, sealBlock as sealBlockEntries } from '../../format/seal.js';
import type { RunInfo } from '../../format/manifest.js';
import { encodeTtlEntries, encodeTtlHeader, ttlCrc } from '../../format/ttl-section.js';
import type { StoreCodec } from '../../format/store-codec.js';
import type { FileSystem } from '../../io/fs.js';
import { removeQuietly, closeQuietly } from '../../io/fs.js';
import { dataKey } from '../data-key.js';
import { storedRange } from './run-range.js';
import { TtlList } from './ttl-list.js';
import { SpillingTtlList } from './ttl-spill.js';

const OUT_BYTES = 1 << 20;
/** Written bytes of a run after which the disk is asked to start on them (FileSystem.syncAhead). */
const SYNC_AHEAD_BYTES = 16 * 1024 * 1024;
/** Largest leaf entry: 27 + 1024-byte key, and an encrypted run's 12 bytes of group. */
const MAX_ENTRY = LEAF_ENTRY_FIXED_BYTES + 12 + MAX_KEY_BYTES;
/** Room a block may need in the output buffer: it is built in place and cannot be drained half way (a sealed one: its nonce and tag too). */
const MAX_BLOCK = BLOCK_TARGET_BYTES + MAX_ENTRY + BLOCK_HEADER_BYTES + BLOCK_TRAILER_BYTES + SEAL_OVERHEAD;

interface ChildRef {
  firstKey: string;
  offset: number;
  length: number;
}

export class RunWriter {
  private readonly fd: number;
  /** Where the run is written; finish() renames it to its number's name unless told to keep it. */
  readonly tmpPath: string;
  private out = Buffer.allocUnsafe(OUT_BYTES);
  private readonly outView = new DataView(this.out.buffer, this.out.byteOffset, OUT_BYTES);
  private readonly sourceView = new ViewOf();
  private outStart = RUN_HEADER_BYTES; // file offset of out[0]
  private outLen = 0;
  /** Bytes written since the last syncAhead. */
  private unsynced = 0;
  private blockStart = -1; // offset in `out` of the open leaf block
  private blockCount = 0;
  private blockFirstKey = '';
  private leaves: ChildRef[] = [];
  private entries = 0;
  /** Where the last key added is: `out` (in the open block, or just drained) or, once `out` is written over, lastKeyCopy. */
  private last: Buffer = Buffer.alloc(0);
  private lastStart = 0;
  private lastEnd = 0;
  private readonly lastKeyCopy = Buffer.allocUnsafe(MAX_KEY_BYTES);
  private readonly lastKeyCopyView = new DataView(this.lastKeyCopy.buffer, this.lastKeyCopy.byteOffset, MAX_KEY_BYTES);
  private minKey = Buffer.alloc(0);
  private maxKey = Buffer.alloc(0);
  private readonly bloomPages: number;
  private readonly bloom: BloomBuilder;
  private readonly scratch = Buffer.allocUnsafe(1024);
  private done = false;
  /** The census's expiry times: of this run's PUTs, and of older PUTs its entries shadow (docs/design.md "Census"). */
  readonly ttlAdds: TtlList | SpillingTtlList;
  readonly ttlRemoves = new TtlList();
  /** What the header says: version, data key id. */
  private readonly version: FileVersion;
  private readonly layout: RunLayout;
  /** An encrypted run's data key (the store's current one). */
  private readonly key: KeyObject | undefined;

  constructor(
    private readonly fs: FileSystem,
    private readonly dir: string,
    readonly fileNumber: number,
    expectedEntries: number,
    /** The store's: what an encrypted run's blocks, bloom pages and manifest min/max keys are sealed with. */
    readonly codec: StoreCodec,
    tmpName = `${fileName(fileNumber, RUN_EXT)}.tmp`,
    /** A scratch file for the TTL adds, for a run of millions of keys (a compaction's): memory then holds one chunk of them. */
    ttlSpillName?: string,
    /** Tests: expiries held in memory before a spill (default SORT_CHUNK). */
    ttlSpillChunk?: number,
  ) {
    this.tmpPath = `${dir}/${tmpName}`;
    // Before the file exists: without the secret (KEY_REQUIRED) nothing is half-written.
    this.version = fileVersionFor(codec);
    const { keyId } = this.version;
    this.layout = runLayout(keyId);
    this.key = keyId === 0 ? undefined : dataKey(codec, keyId, this.tmpPath);
    this.ttlAdds = ttlSpillName ? new SpillingTtlList(fs, `${dir}/${ttlSpillName}`, ttlSpillChunk) : new TtlList();
    this.bloomPages = bloomPageCount(expectedEntries);
    this.bloom = new BloomBuilder(this.bloomPages);
    try {
      this.fd = fs.createTruncate(this.tmpPath);
    } catch (err) {
      throw ioError(err, 'cannot create index run', this.tmpPath);
    }
  }

  get count(): number {
    return this.entries;
  }

  /**
   * Adds an entry. REQUIRES: key (latin1 form) greater than every key added
   * before. `group`, `groupLength`: the record's group (IndexEntry), kept by an
   * encrypted run, where every record lies in one (REQUIRES: groupLength > 0;
   * INTERNAL otherwise); a run that is not encrypted has no room for them.
   */
  add(key: string, kind: number, segment: number, offset: number, length: number, expiresAt: number, group = 0, groupLength = 0): void {
    const keyStart = this.beginEntry(key.length);
    this.finishEntry(keyStart, writeLeafKey(this.out, keyStart - 2, key), kind, segment, offset, length, expiresAt, group, groupLength);
  }

  /** add of the key bytes buf[start, end). */
  addBytes(
    buf: Buffer,
    start: number,
    end: number,
    kind: number,
    segment: number,
    offset: number,
    length: number,
    expiresAt: number,
    group = 0,
    groupLength = 0,
  ): void {
    const keyLength = end - start;
    const keyStart = this.beginEntry(keyLength);
    const out = this.out;
    out[keyStart - 2] = keyLength & 0xff;
    out[keyStart - 1] = keyLength >>> 8;
    copyBytes(this.sourceView.of(buf), start, end, this.outView, keyStart);
    this.finishEntry(keyStart, keyStart + keyLength, kind, segment, offset, length, expiresAt, group, groupLength);
  }

  /** Makes room for the entry of a key of `keyLength` bytes in the open leaf block (a new one when it is full); returns where its key goes. */
  private beginEntry(keyLength: number): number {
    const entryBytes = 2 + this.layout.leafFields + keyLength;
    if (this.blockStart >= 0 && this.outLen + entryBytes + this.layout.blockTrailer - this.blockStart > BLOCK_TARGET_BYTES) {
      this.closeLeaf();
    }
    if (this.blockStart < 0) {
      if (this.outLen + MAX_BLOCK > OUT_BYTES) this.drain();
      this.blockStart = this.outLen;
      this.outLen += this.layout.entriesStart;
      this.blockCount = 0;
    }
    return this.outLen + 2;
  }

  /** The entry's key length and key are at out[keyStart − 2, keyEnd): checks its order, hashes it, writes the fields after it. */
  private finishEntry(
    keyStart: number,
    keyEnd: number,
    kind: number,
    segment: number,
    offset: number,
    length: number,
    expiresAt: number,
    group: number,
    groupLength: number,
  ): void {
    const out = this.out;
    const lastView = this.last === out ? this.outView : this.lastKeyCopyView;
    if (this.entries > 0 && compareViews(this.outView, keyStart, keyEnd, lastView, this.lastStart, this.lastEnd) <= 0) {
      throw new TzkvError('INTERNAL', `index run ${this.fileNumber}: keys out of order`);
    }
    if (this.layout.sealed && groupLength === 0) throw new TzkvError('INTERNAL', `index run ${this.fileNumber}: an entry of an encrypted run without its record's group`);
    this.last = out;
    this.lastStart = keyStart;
    this.lastEnd = keyEnd;
    if (this.blockCount === 0) this.blockFirstKey = out.toString('latin1', keyStart, keyEnd);
    // The bloom hashes the key bytes just written: no second copy of the key.
    this.bloom.add(out, keyStart, keyEnd);
    this.outLen = writeLeafFields(out, keyEnd, kind, segment, offset, length, expiresAt);
    if (this.layout.sealed) this.outLen = writeLeafGroup(out, this.outLen, group, groupLength);
    this.blockCount++;
    if (this.entries === 0) this.minKey = Buffer.from(out.subarray(keyStart, keyEnd));
    if (kind === KIND_PUT && expiresAt > 0) this.ttlAdds.push(expiresAt, length);
    this.entries++;
  }

  private closeLeaf(): void {
    const end = this.outLen + this.layout.blockTrailer;
    const length = this.closeBlock(this.blockStart, end, BLOCK_LEAF, this.blockCount);
    this.leaves.push({ firstKey: this.blockFirstKey, offset: this.outStart + this.blockStart, length });
    this.outLen = end;
    this.blockStart = -1;
  }

  /**
   * Completes the block at out[start, end) whose entries are written: its
   * header and CRC, and, in an encrypted run, its seal (which encrypts the
   * entries in place: the last key added is kept aside first). Returns its length.
   */
  private closeBlock(start: number, end: number, type: number, count: number): number {
    if (this.key === undefined) return sealBlock(this.out, start, end, type, count);
    this.keepLastKeyAside();
    const length = writeBlockHeader(this.out, start, end, type, count);
    sealBlockEntries(this.out.subarray(start, end), this.outStart + start, this.key);
    return length;
  }

  /** Copies the last key added out of `out` (to be written over, or sealed) into lastKeyCopy. */
  private keepLastKeyAside(): void {
    if (this.last !== this.out) return;
    this.out.copy(this.lastKeyCopy, 0, this.lastStart, this.lastEnd);
    this.last = this.lastKeyCopy;
    this.lastEnd -= this.lastStart;
    this.lastStart = 0;
  }

  /** Writes `out` to the file, to be filled again: the last key added, if in it, is kept aside first. */
  private drain(): void {
    if (this.outLen === 0) return;
    this.keepLastKeyAside();
    this.fs.write(this.fd, this.out, 0, this.outLen, this.outStart);
    this.outStart += this.outLen;
    this.unsynced += this.outLen;
    this.outLen = 0;
    if (this.unsynced >= SYNC_AHEAD_BYTES) {
      this.fs.syncAhead?.(this.fd); // the disk takes the run while the rest is built: finish's fsync waits for less
      this.unsynced = 0;
    }
  }

  /** Writes one level of branch blocks over `children`; returns the refs of the new blocks. */
  private writeBranchLevel(children: ChildRef[]): ChildRef[] {
    const level: ChildRef[] = [];
    let start = -1;
    let count = 0;
    let first = '';
    for (const child of children) {
      const bytes = 14 + child.firstKey.length;
      if (start >= 0 && this.outLen + bytes + this.layout.blockTrailer - start > BLOCK_TARGET_BYTES) {
        const end = this.outLen + this.layout.blockTrailer;
        level.push({ firstKey: first, offset: this.outStart + start, length: this.closeBlock(start, end, BLOCK_BRANCH, count) });
        this.outLen = end;
        start = -1;
      }
      if (start < 0) {
        if (this.outLen + MAX_BLOCK > OUT_BYTES) this.drain();
        start = this.outLen;
        this.outLen += this.layout.entriesStart;
        count = 0;
        first = child.firstKey;
      }
      const n = this.scratch.write(child.firstKey, 0, 'latin1');
      this.outLen = writeBranchEntry(this.out, this.outLen, this.scratch.subarray(0, n), child.offset, child.length);
      count++;
    }
    const end = this.outLen + this.layout.blockTrailer;
    level.push({ firstKey: first, offset: this.outStart + start, length: this.closeBlock(start, end, BLOCK_BRANCH, count) });
    this.outLen = end;
    return level;
  }

  /**
   * Completes the file (fsynced, and renamed into place unless `rename` is
   * false: a compaction renames it at its switch) and returns its manifest entry.
   */
  finish(rename = true): RunInfo {
    try {
      this.maxKey = Buffer.from(this.last.subarray(this.lastStart, this.lastEnd));
      if (this.blockStart >= 0) this.closeLeaf();
      const leavesEnd = this.outStart + this.outLen;
      let level = this.leaves;
      let height = level.length > 0 ? 1 : 0;
      while (level.length > 1) {
        level = this.writeBranchLevel(level);
        height++;
      }
      this.drain();
      const bloomOffset = this.outStart;
      const bloom = encodeBloomPages(this.bloom.finish(), this.bloomPages, this.key);
      this.fs.write(this.fd, bloom, 0, bloom.length, bloomOffset);
      this.outStart = bloomOffset + bloom.length;
      this.writeTtlSection();
      const header = encodeRunHeader({
        fileNumber: this.fileNumber,
        entries: this.entries,
        rootOffset: height > 0 ? level[0].offset : 0,
        rootLength: height > 0 ? level[0].length : 0,
        height,
        leavesEnd,
        bloomOffset,
        bloomPages: this.bloomPages,
      }, this.version);
      this.fs.write(this.fd, header, 0, header.length, 0);
      this.fs.fsync(this.fd);
      this.fs.close(this.fd);
      this.done = true;
      if (this.ttlAdds instanceof SpillingTtlList) this.ttlAdds.dispose();
      if (rename) this.fs.rename(this.tmpPath, `${this.dir}/${fileName(this.fileNumber, RUN_EXT)}`);
    } catch (err) {
      this.abort();
      throw ioError(err, 'cannot write index run', this.tmpPath);
    }
    return {
      file: this.fileNumber,
      entries: this.entries,
      ...storedRange(this.fileNumber, this.minKey, this.maxKey, this.key && { key: this.key, id: this.version.keyId }),
    };
  }

  /** Appends the TTL section (docs/format.md "TTL section") at outStart. */
  private writeTtlSection(): void {
    const lists = [this.ttlAdds, this.ttlRemoves];
    const header = encodeTtlHeader({ adds: lists[0].length, removes: lists[1].length });
    header.copy(this.out, 0);
    this.outLen = header.length;
    let crc = 0;
    const perChunk = Math.floor(OUT_BYTES / TTL_ENTRY_BYTES) - 1;
    for (const list of lists) {
      let cumulative = 0;
      for (const b of list.sortedBatches(perChunk)) {
        if (this.outLen + b.n * TTL_ENTRY_BYTES > OUT_BYTES) this.drain();
        const start = this.outLen;
        cumulative = encodeTtlEntries(b.exp, b.len, 0, b.n, cumulative, this.out, start);
        this.outLen += b.n * TTL_ENTRY_BYTES;
        crc = ttlCrc(this.out, start, this.outLen, crc);
      }
    }
    if (this.outLen + 4 > OUT_BYTES) this.drain();
    this.out.writeUInt32LE(crc, this.outLen);
    this.outLen += 4;
    this.drain();
  }

  abort(): void {
    if (!this.done) {
      this.done = true;
      closeQuietly(this.fs, this.fd); // already closed
    }
    removeQuietly(this.fs, this.tmpPath); // never created, or already renamed
    if (this.ttlAdds instanceof SpillingTtlList) this.ttlAdds.dispose();
  }
}

