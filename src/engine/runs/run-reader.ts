// Reads an index run: point lookups by descending the block tree, and ordered
// cursors from a start key for listing and merging (docs/format.md "Index run").
// Damage is passed by where the run can still answer: a damaged bloom page
// rules nothing out, a damaged branch block is replaced by walking the leaves,
// and a cursor steps over a damaged leaf to the next one whose CRC checks
// (docs/design.md "Reading past damage").
//
// An encrypted run (its header names a data key) has sealed blocks and bloom
// pages (docs/format.md "Index runs, version 2"): each is opened with the key
// once per read, and a tag that fails is damage like a CRC that fails. The key
// is asked for at the first block or page read, never at open: code without
// the secret may still open the run and read its header and TTL section.
import type { KeyObject } from 'node:crypto';
import type { VerifyProblem } from '../../api.js';
import { REPAIR_HINT, TzkvError, isTzkvError } from '../../errors.js';
import { bloomBucket, bloomMayContain, bloomPageIndex, bloomPageValid, bucketInPage } from '../../format/bloom.js';
import { fileName } from '../../format/bytes.js';
import { BLOCK_BRANCH, BLOCK_LEAF, BLOOM_PAGE_BYTES, RUN_EXT, RUN_HEADER_BYTES } from '../../format/constants.js';
import { decodeBlock, decodeRunHeader, openedBlock, parseBranchEntries, parseLeafEntries, runLayout } from '../../format/index-block.js';
import type { BlockView, BranchEntry, IndexEntry, RunHeader, RunLayout } from '../../format/index-block.js';
import { openBlock, openPage } from '../../format/seal.js';
import type { StoreCodec } from '../../format/store-codec.js';
import type { FileSystem } from '../../io/fs.js';
import { type OnDamage, stepOver } from '../damage.js';
import { dataKey } from '../data-key.js';
import { leafBlocks } from './run-leaves.js';

/** What a sealed block or page whose tag fails is reported as (the reason a caller may test for). */
const AUTH_FAILED = 'authentication failed (changed bytes, or not this run\'s)';

export class RunReader {
  /** How this run lays out its bytes, from its header's data key id. */
  readonly layout: RunLayout;
  private dataKey: KeyObject | undefined;

  private constructor(
    private readonly fs: FileSystem,
    /** The store's directory. */
    readonly dir: string,
    readonly name: string,
    private readonly path: string,
    private readonly fd: number,
    readonly header: RunHeader,
    /** The store's: an encrypted run's blocks and bloom pages are opened with its keys. */
    readonly codec: StoreCodec,
  ) {
    this.layout = runLayout(header.version.keyId);
  }

  /** An encrypted run's data key: KEY_REQUIRED without the secret, CORRUPT when KEYRING lacks it. */
  private get key(): KeyObject {
    return (this.dataKey ??= dataKey(this.codec, this.header.version.keyId, this.path));
  }

  /** Where the TTL section starts: right after the bloom filter (docs/format.md "TTL section"). */
  get ttlOffset(): number {
    return this.header.bloomOffset + this.header.bloomPages * this.layout.pageStride;
  }

  /** Opens a run (`name`: of a run not renamed into place yet). Throws fs errors (ENOENT: retry with a fresh manifest) or CORRUPT/VERSION. */
  static open(fs: FileSystem, dir: string, fileNumber: number, codec: StoreCodec, name = fileName(fileNumber, RUN_EXT)): RunReader {
    const path = `${dir}/${name}`;
    const fd = fs.openRead(path);
    try {
      const buf = Buffer.allocUnsafe(RUN_HEADER_BYTES);
      const n = fs.read(fd, buf, 0, RUN_HEADER_BYTES, 0);
      const header = decodeRunHeader(buf.subarray(0, n), fileNumber);
      if (typeof header === 'string') {
        if (header.startsWith('version:')) throw new TzkvError('VERSION', `${path}: ${header.slice(8)}`, { path });
        throw new TzkvError('CORRUPT', `${name} offset 0: ${header}; ${REPAIR_HINT}`, { path, offset: 0, info: { reason: header } });
      }
      return new RunReader(fs, dir, name, path, fd, header, codec);
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

  /** CORRUPT for damage at `offset`, saying what fixes it; info.reason is `what` alone. */
  corrupt(offset: number, what: string): TzkvError {
    return new TzkvError('CORRUPT', `${this.name} offset ${offset}: ${what}; ${REPAIR_HINT}`, { path: this.path, offset, info: { reason: what } });
  }

  private readBlock(offset: number, length: number, type: number): BlockView {
    const buf = Buffer.allocUnsafe(length);
    const n = this.fs.read(this.fd, buf, 0, length, offset);
    if (n !== length) throw this.corrupt(offset, 'block runs past end of file');
    const block = this.openBlock(buf, offset, type);
    if (typeof block === 'string') throw this.corrupt(offset, block);
    return block;
  }

  /**
   * The block `buf` read at file offset `offset`, checked (framing, CRC) and,
   * in an encrypted run, opened: one decryption. A string says what is wrong.
   */
  private openBlock(buf: Buffer, offset: number, type: number): BlockView | string {
    const block = decodeBlock(buf, type);
    if (typeof block === 'string' || !this.layout.sealed) return block;
    const entries = openBlock(buf, offset, this.key);
    return entries === null ? `${type === BLOCK_LEAF ? 'leaf' : 'branch'} block ${AUTH_FAILED}` : openedBlock(buf, entries);
  }

  /** The entries of leaf block `buf`, read at file offset `offset` (checked and opened), or what is wrong with it. */
  openLeaf(buf: Buffer, offset: number): IndexEntry[] | string {
    const block = this.openBlock(buf, offset, BLOCK_LEAF);
    return typeof block === 'string' ? block : parseLeafEntries(block, this.layout.leafFields);
  }

  /** False when the bloom filter rules the key out. */
  mayContain(key: Buffer): boolean {
    const bucket = bloomBucket(key, this.header.bloomPages);
    return bloomMayContain(this.bloomPage(bloomPageIndex(bucket)), bucketInPage(bucket), key);
  }

  /** Bloom page `index`: its 4096 bytes, checked (and in an encrypted run opened). */
  bloomPage(index: number): Buffer {
    const stride = this.layout.pageStride;
    const at = this.header.bloomOffset + index * stride;
    const page = Buffer.allocUnsafe(stride);
    const n = this.fs.read(this.fd, page, 0, stride, at);
    if (n !== stride || !bloomPageValid(page)) throw this.corrupt(at, 'bloom filter page damaged');
    if (!this.layout.sealed) return page.subarray(0, BLOOM_PAGE_BYTES);
    const plain = openPage(page, index, this.key);
    if (plain === null) throw this.corrupt(at, `bloom filter page ${AUTH_FAILED}`);
    return plain;
  }

  /** A branch block's children. */
  branchAt(offset: number, length: number): BranchEntry[] {
    const children = parseBranchEntries(this.readBlock(offset, length, BLOCK_BRANCH));
    if (typeof children === 'string') throw this.corrupt(offset, children);
    return children;
  }

  /** A leaf block's entries. */
  leafAt(offset: number, length: number): IndexEntry[] {
    const entries = parseLeafEntries(this.readBlock(offset, length, BLOCK_LEAF), this.layout.leafFields);
    if (typeof entries === 'string') throw this.corrupt(offset, entries);
    return entries;
  }

  /**
   * Descends the branch blocks to the leaf that would hold `key`: its file
   * offset and length. `branchAt` may be a caching stand-in for this.branchAt.
   */
  private leafAddress(key: Buffer, branchAt: (offset: number, length: number) => BranchEntry[]): { offset: number; length: number } {
    const h = this.header;
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
    return { offset, length };
  }

  /**
   * Descends to the leaf that would hold `key`: its entries and file offset.
   * `branchAt` may be a caching stand-in for this.branchAt.
   */
  leafFor(
    key: Buffer,
    branchAt: (offset: number, length: number) => BranchEntry[] = (o, l) => this.branchAt(o, l),
  ): { entries: IndexEntry[]; offset: number; length: number } | undefined {
    if (this.header.height === 0) return undefined;
    const { offset, length } = this.leafAddress(key, branchAt);
    return { entries: this.leafAt(offset, length), offset, length };
  }

  /**
   * The run's entry for key, if any (PUT or DEL, expired or not). A damaged
   * bloom page rules nothing out and a damaged branch block is replaced by a
   * walk of the leaves; CORRUPT only when the leaf that would hold the key is
   * damaged.
   */
  find(key: Buffer): IndexEntry | undefined {
    if (this.header.height === 0) return undefined;
    let maybe = true;
    try {
      maybe = this.mayContain(key);
    } catch (err) {
      if (!isTzkvError(err, 'CORRUPT')) throw err;
    }
    if (!maybe) return undefined;
    let entries: IndexEntry[];
    try {
      entries = this.leafFor(key)!.entries;
    } catch (err) {
      if (!isTzkvError(err, 'CORRUPT')) throw err;
      entries = this.leafByWalk(key);
    }
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

  /** The entries of the leaf that would hold `key`, found by reading the leaves in order; CORRUPT when damage may hold it. */
  private leafByWalk(key: Buffer): IndexEntry[] {
    let damage: VerifyProblem | undefined;
    for (const entries of leafBlocks(this, RUN_HEADER_BYTES, (d) => (damage = d))) {
      if (entries.length === 0) continue;
      if (Buffer.compare(entries[entries.length - 1].key, key) < 0) {
        damage = undefined; // everything before this leaf sorts before the key
        continue;
      }
      if (damage && Buffer.compare(key, entries[0].key) < 0) break; // the damaged stretch before this leaf may hold it
      return entries;
    }
    if (damage) throw this.corrupt(damage.offset!, damage.message);
    return [];
  }

  /**
   * Entries with key >= start (from the first key when start is empty), in
   * order. A damaged leaf whose keys may be >= start is reported to onDamage
   * and stepped over (without onDamage: CORRUPT); a damaged branch block is
   * replaced by reading the leaves from the first.
   */
  *cursor(start: Buffer, onDamage?: OnDamage): Generator<IndexEntry> {
    const h = this.header;
    if (h.height === 0) return;
    let first = RUN_HEADER_BYTES;
    try {
      first = this.leafAddress(start, (o, l) => this.branchAt(o, l)).offset;
    } catch (err) {
      if (!isTzkvError(err, 'CORRUPT')) throw err;
    }
    let pending: VerifyProblem | undefined; // a damaged stretch, until the next leaf says whether its keys may be >= start
    const settle = () => {
      const d = pending;
      pending = undefined;
      if (d) stepOver(onDamage, d, () => this.corrupt(d.offset!, d.message));
    };
    for (const entries of leafBlocks(this, first, (d) => {
      settle();
      pending = d;
    })) {
      if (entries.length === 0) continue;
      if (pending && Buffer.compare(entries[0].key, start) <= 0) pending = undefined; // its keys all sort before start
      settle();
      for (const e of entries) if (Buffer.compare(e.key, start) >= 0) yield e;
    }
    settle();
  }
}
