// verify's sequential reader of an index run's leaf blocks: big reads, every
// block's CRC checked, entries parsed in place (no object per entry). A
// damaged block is reported and skipped by its length when that is sane.
import { compareBytes, crc32 } from '../../format/bytes.js';
import { BLOCK_HEADER_BYTES, BLOCK_LEAF, BLOCK_TARGET_BYTES, BLOCK_TRAILER_BYTES, LEAF_ENTRY_FIXED_BYTES, MAX_KEY_BYTES } from '../../format/constants.js';
import { readLeafEntry } from '../../format/index-block.js';
import type { LeafFields } from '../../format/index-block.js';
import type { FileSystem } from '../../io/fs.js';
import type { VerifyLog } from './verify-log.js';

const CHUNK = 1024 * 1024;
/** The longest block a writer makes: a full block plus one largest entry. */
export const MAX_BLOCK_BYTES = BLOCK_TARGET_BYTES + LEAF_ENTRY_FIXED_BYTES + MAX_KEY_BYTES + BLOCK_HEADER_BYTES + BLOCK_TRAILER_BYTES;

/** Blocks by start and length, added in ascending order of start: 12 bytes a block, looked up by binary search. */
class BlockList {
  private starts = new Float64Array(256);
  private lengths = new Uint32Array(256);
  private count = 0;

  add(start: number, length: number): void {
    if (this.count === this.starts.length) {
      const starts = new Float64Array(this.count * 2);
      starts.set(this.starts);
      this.starts = starts;
      const lengths = new Uint32Array(this.count * 2);
      lengths.set(this.lengths);
      this.lengths = lengths;
    }
    this.starts[this.count] = start;
    this.lengths[this.count++] = length;
  }

  /** Whether a block of `length` bytes starting at `start` was added. */
  has(start: number, length: number): boolean {
    let lo = 0;
    let hi = this.count - 1;
    while (lo <= hi) {
      const mid = (lo + hi) >>> 1;
      const s = this.starts[mid];
      if (s === start) return this.lengths[mid] === length;
      if (s < start) lo = mid + 1;
      else hi = mid - 1;
    }
    return false;
  }
}

/** What a sealed block or page whose tag fails is reported as (docs/format.md: a tag that fails is damage). */
export const AUTHENTICATION_FAILED = 'authentication failed';

/** Where a cursor hands each leaf block it reads whole (whose CRC held, when it checks them), buf[start, start + length), valid only during the call. */
export type LeafBlockSink = (buf: Buffer, start: number, length: number) => void;

export interface LeafCursorOptions {
  onBlock?: LeafBlockSink;
  /** False: block framing only, for verify's worker thread (the main thread's cursor checks the CRCs and reports). Default true. */
  checkCrc?: boolean;
  /** The run's RunLayout.leafFields (default version 1's). */
  leafFields?: number;
  /**
   * An encrypted run's: opens the sealed block buf (its CRC checked) read at
   * file offset `at`, returning its entries plain, or null when its tag fails.
   */
  open?: (block: Buffer, at: number) => Buffer | null;
}

export class LeafCursor implements LeafFields {
  // The current entry (valid after next() returned true, until the next call).
  buf: Buffer = Buffer.alloc(0);
  keyStart = 0;
  keyLength = 0;
  kind = 0;
  segment = 0;
  offset = 0;
  length = 0;
  expiresAt = 0;
  group = 0;
  groupLength = 0;
  /** File offset of the block holding the current entry. */
  blockAt = 0;
  done = false;
  /** Set when entries could not be read (a damaged block): the run's checks are incomplete. */
  damaged = false;
  /** Start and length of every leaf block read, for the branch check. */
  readonly leaves = new BlockList();
  private chunk: Buffer = Buffer.allocUnsafe(CHUNK);
  private chunkAt = 0;
  private chunkLength = 0;
  private pos: number;
  private p = 0;
  private left = 0;
  private entriesEnd = 0;
  /** The previous entry's key, for the order check: in the chunk, or copied aside before the chunk is refilled. */
  private prevBuf: Buffer | null = null;
  private prevStart = 0;
  private prevLength = 0;
  private readonly prevCopy = Buffer.allocUnsafe(MAX_KEY_BYTES);

  constructor(
    private readonly fs: FileSystem,
    private readonly fd: number,
    readonly name: string,
    first: number,
    private readonly leavesEnd: number,
    private readonly log: VerifyLog,
    private readonly options: LeafCursorOptions = {},
  ) {
    this.pos = first;
  }

  /** Makes chunk hold file bytes [at, at + n); false when the file ends first. */
  private ensure(at: number, n: number): boolean {
    if (at >= this.chunkAt && at + n <= this.chunkAt + this.chunkLength) return true;
    if (this.prevBuf === this.chunk) {
      this.chunk.copy(this.prevCopy, 0, this.prevStart, this.prevStart + this.prevLength);
      this.prevBuf = this.prevCopy;
      this.prevStart = 0;
    }
    const want = Math.min(this.chunk.length, this.leavesEnd - at);
    this.chunkLength = this.fs.read(this.fd, this.chunk, 0, want, at);
    this.chunkAt = at;
    this.log.progress(this.chunkLength);
    return this.chunkLength >= n;
  }

  private broken(at: number, message: string, skipTo: number): void {
    this.log.problem(this.name, at, 'corrupt-index', message);
    this.damaged = true;
    this.left = 0;
    if (skipTo < 0) this.done = true;
    else this.pos = skipTo;
  }

  /** The entries the block nextBlock() last stood on holds, by its plain header: an encrypted run's are counted so without the key. */
  get blockEntries(): number {
    return this.left;
  }

  /** Advances to the next entry; false at the end. */
  next(): boolean {
    if (this.keyLength > 0) {
      this.prevBuf = this.buf;
      this.prevStart = this.keyStart;
      this.prevLength = this.keyLength;
    }
    for (;;) {
      if (this.left > 0) {
        if (this.readEntry()) return true;
      } else if (!this.nextBlock()) {
        return false;
      }
    }
  }

  /**
   * Advances to the next leaf block that reads whole and holds entries,
   * reporting each one that does not and stepping over it where its length
   * allows; false at the end. Entries of the block before that next() did not
   * reach are not read.
   */
  nextBlock(): boolean {
    for (;;) {
      if (this.done) return false;
      const at = this.pos;
      if (at >= this.leavesEnd) {
        this.done = true;
        return false;
      }
      if (!this.ensure(at, BLOCK_HEADER_BYTES)) {
        this.broken(at, 'leaf blocks run past the end of the file', -1);
        continue;
      }
      const rel = at - this.chunkAt;
      const c = this.chunk;
      const length = c.readUInt32LE(rel + 4);
      if (length < BLOCK_HEADER_BYTES + BLOCK_TRAILER_BYTES || length > MAX_BLOCK_BYTES || at + length > this.leavesEnd) {
        this.broken(at, `leaf block length ${length} impossible`, -1);
        continue;
      }
      if (!this.ensure(at, length)) {
        this.broken(at, 'leaf block runs past the end of the file', -1);
        continue;
      }
      const r = at - this.chunkAt;
      this.pos = at + length;
      if (c[r] !== BLOCK_LEAF) {
        this.broken(at, `expected a leaf block, found type ${c[r]}`, at + length);
        continue;
      }
      if (this.options.checkCrc !== false && crc32(c, r, r + length - BLOCK_TRAILER_BYTES) !== c.readUInt32LE(r + length - BLOCK_TRAILER_BYTES)) {
        this.broken(at, 'leaf block CRC mismatch', at + length);
        continue;
      }
      this.leaves.add(at, length);
      this.options.onBlock?.(c, r, length);
      this.blockAt = at;
      this.left = c.readUInt16LE(r + 2);
      if (this.options.open) {
        const entries = this.options.open(c.subarray(r, r + length), at);
        if (entries === null) {
          this.broken(at, `leaf block ${AUTHENTICATION_FAILED}`, at + length);
          continue;
        }
        this.buf = entries;
        this.p = 0;
        this.entriesEnd = entries.length;
      } else {
        this.buf = c;
        this.p = r + BLOCK_HEADER_BYTES;
        this.entriesEnd = r + length - BLOCK_TRAILER_BYTES;
      }
      if (this.left > 0) return true;
      this.broken(at, 'empty leaf block', at + length);
    }
  }

  private readEntry(): boolean {
    const c = this.buf;
    const p = this.p;
    const end = this.entriesEnd;
    const next = readLeafEntry(c, p, end, this, this.options.leafFields);
    if (next < 0) {
      this.broken(this.blockAt, 'malformed leaf entry', this.pos);
      return false;
    }
    this.p = next;
    if (--this.left === 0 && this.p !== end) this.broken(this.blockAt, 'leaf block has trailing bytes', this.pos);
    if (this.prevBuf !== null && compareBytes(this.prevBuf, this.prevStart, this.prevStart + this.prevLength, c, this.keyStart, this.keyStart + this.keyLength) >= 0) {
      this.log.problem(this.name, this.blockAt, 'index-order', 'keys out of order');
      this.damaged = true;
    }
    return true;
  }
}
