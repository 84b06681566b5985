// Reads an index run: point lookups by descending the block tree, and ordered
// cursors from a start key for listing and merging (docs/format.md "Index run").
import { TzkvError } from '../errors.js';
import { bloomBucket, bloomMayContain, bloomPageOffset, bloomPageValid, bucketInPage } from '../format/bloom.js';
import { fileName } from '../format/bytes.js';
import { BLOCK_BRANCH, BLOCK_LEAF, BLOOM_PAGE_STRIDE, RUN_EXT, RUN_HEADER_BYTES } from '../format/constants.js';
import { decodeBlock, decodeRunHeader, parseBranchEntries, parseLeafEntries } from '../format/index-block.js';
import type { BranchEntry, IndexEntry, RunHeader } from '../format/index-block.js';
import type { FileSystem } from '../io/fs.js';

const READAHEAD = 64 * 1024;

export class RunReader {
  private constructor(
    private readonly fs: FileSystem,
    readonly name: string,
    private readonly path: string,
    private readonly fd: number,
    readonly header: RunHeader,
  ) {}

  /** Opens a run. Throws fs errors (ENOENT: retry with a fresh manifest) or CORRUPT/VERSION. */
  static open(fs: FileSystem, dir: string, fileNumber: number): RunReader {
    const name = fileName(fileNumber, RUN_EXT);
    const path = `${dir}/${name}`;
    const fd = fs.openRead(path);
    try {
      const buf = Buffer.allocUnsafe(RUN_HEADER_BYTES);
      const n = fs.read(fd, buf, 0, RUN_HEADER_BYTES, 0);
      const header = decodeRunHeader(buf.subarray(0, n), fileNumber);
      if (typeof header === 'string') {
        if (header.startsWith('version:')) throw new TzkvError('VERSION', `${path}: ${header.slice(8)}`, { path });
        throw new TzkvError('CORRUPT', `${name} offset 0: ${header}`, { path, offset: 0 });
      }
      return new RunReader(fs, name, path, fd, header);
    } catch (err) {
      fs.close(fd);
      throw err;
    }
  }

  close(): void {
    this.fs.close(this.fd);
  }

  /** Reads `length` bytes at `offset` of the run file; fewer at its end. */
  readAt(buf: Buffer, length: number, offset: number): number {
    return this.fs.read(this.fd, buf, 0, length, offset);
  }

  get fileSize(): number {
    return this.fs.size(this.fd);
  }

  corrupt(offset: number, what: string): TzkvError {
    return new TzkvError('CORRUPT', `${this.name} offset ${offset}: ${what}`, { path: this.path, offset });
  }

  private readBlock(offset: number, length: number, type?: number) {
    const buf = Buffer.allocUnsafe(length);
    const n = this.fs.read(this.fd, buf, 0, length, offset);
    if (n !== length) throw this.corrupt(offset, 'block runs past end of file');
    const block = decodeBlock(buf, type);
    if (typeof block === 'string') throw this.corrupt(offset, block);
    return block;
  }

  /** False when the bloom filter rules the key out. */
  mayContain(key: Buffer): boolean {
    const bucket = bloomBucket(key, this.header.bloomPages);
    return bloomMayContain(this.bloomPage(bloomPageOffset(bucket)), bucketInPage(bucket), key);
  }

  /** The checked bloom page at `relative` bytes into the filter. */
  bloomPage(relative: number): Buffer {
    const at = this.header.bloomOffset + relative;
    const page = Buffer.allocUnsafe(BLOOM_PAGE_STRIDE);
    const n = this.fs.read(this.fd, page, 0, BLOOM_PAGE_STRIDE, at);
    if (n !== BLOOM_PAGE_STRIDE || !bloomPageValid(page)) throw this.corrupt(at, 'bloom filter page damaged');
    return page;
  }

  /** A branch block's children. */
  branchAt(offset: number, length: number): BranchEntry[] {
    const children = parseBranchEntries(this.readBlock(offset, length, BLOCK_BRANCH));
    if (typeof children === 'string') throw this.corrupt(offset, children);
    return children;
  }

  /** A leaf block's entries. */
  leafAt(offset: number, length: number): IndexEntry[] {
    const entries = parseLeafEntries(this.readBlock(offset, length, BLOCK_LEAF));
    if (typeof entries === 'string') throw this.corrupt(offset, entries);
    return entries;
  }

  /**
   * Descends to the leaf that would hold `key`: its entries and file offset.
   * `branchAt` may be a caching stand-in for this.branchAt.
   */
  leafFor(
    key: Buffer,
    branchAt: (offset: number, length: number) => BranchEntry[] = (o, l) => this.branchAt(o, l),
  ): { entries: IndexEntry[]; offset: number; length: number } | undefined {
    const h = this.header;
    if (h.height === 0) return undefined;
    let offset = h.rootOffset;
    let length = h.rootLength;
    for (let depth = h.height; depth > 1; depth--) {
      const children = branchAt(offset, length);
      let lo = 0;
      let hi = children.length - 1;
      let pick = 0; // keys before the first child's first key: the first child (for cursors)
      while (lo <= hi) {
        const mid = (lo + hi) >>> 1;
        if (Buffer.compare(children[mid].firstKey, key) <= 0) {
          pick = mid;
          lo = mid + 1;
        } else hi = mid - 1;
      }
      offset = children[pick].offset;
      length = children[pick].length;
    }
    return { entries: this.leafAt(offset, length), offset, length };
  }

  /** The run's entry for key, if any (PUT or DEL, expired or not). */
  find(key: Buffer): IndexEntry | undefined {
    if (this.header.height === 0) return undefined;
    if (!this.mayContain(key)) return undefined;
    const leaf = this.leafFor(key);
    if (!leaf) return undefined;
    const { entries } = leaf;
    let lo = 0;
    let hi = entries.length - 1;
    while (lo <= hi) {
      const mid = (lo + hi) >>> 1;
      const c = Buffer.compare(entries[mid].key, key);
      if (c === 0) return entries[mid];
      if (c < 0) lo = mid + 1;
      else hi = mid - 1;
    }
    return undefined;
  }

  /** Entries with key >= start (from the first key when start is empty), in order. */
  *cursor(start: Buffer): Generator<IndexEntry> {
    const h = this.header;
    if (h.height === 0) return;
    const first = this.leafFor(start);
    if (!first) return;
    for (const e of first.entries) if (Buffer.compare(e.key, start) >= 0) yield e;
    let pos = first.offset + first.length;
    let chunk = Buffer.alloc(0);
    let chunkAt = pos;
    while (pos < h.leavesEnd) {
      // Leaves lie back to back: read ahead and cut blocks out of the chunk.
      if (pos + 8 > chunkAt + chunk.length) {
        chunk = Buffer.allocUnsafe(Math.min(READAHEAD, h.leavesEnd - pos));
        chunkAt = pos;
        const n = this.fs.read(this.fd, chunk, 0, chunk.length, pos);
        if (n < 8) throw this.corrupt(pos, 'leaf blocks run past end of file');
        chunk = chunk.subarray(0, n);
      }
      const rel = pos - chunkAt;
      const length = chunk.readUInt32LE(rel + 4);
      if (length < 12 || pos + length > h.leavesEnd) throw this.corrupt(pos, `leaf block length ${length} impossible`);
      let blockBuf: Buffer;
      if (rel + length <= chunk.length) {
        blockBuf = chunk.subarray(rel, rel + length);
      } else {
        blockBuf = Buffer.allocUnsafe(length);
        if (this.fs.read(this.fd, blockBuf, 0, length, pos) !== length) throw this.corrupt(pos, 'leaf block truncated');
        chunk = Buffer.alloc(0);
        chunkAt = pos + length;
      }
      const block = decodeBlock(blockBuf, BLOCK_LEAF);
      if (typeof block === 'string') throw this.corrupt(pos, block);
      const entries = parseLeafEntries(block);
      if (typeof entries === 'string') throw this.corrupt(pos, entries);
      for (const e of entries) yield e;
      pos += length;
    }
  }
}
