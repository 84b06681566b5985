// An index run as verify's walk reads it: its header checked against the
// file, its bloom filter pages' CRCs checked, a cursor on its leaves, and
// where its keys' bloom probes and expiring PUTs are recorded.
import { BLOOM_PAGE_STRIDE, LEAF_ENTRY_FIXED_BYTES, RUN_HEADER_BYTES } from '../../format/constants.js';
import { crc32 } from '../../format/bytes.js';
import type { KeyObject } from 'node:crypto';
import { isTzkvError } from '../../errors.js';
import { decodeRunHeader, runLayout } from '../../format/index-block.js';
import type { RunLayout } from '../../format/index-block.js';
import { openBlock, openPage } from '../../format/seal.js';
import { dataKey } from '../data-key.js';
import type { RunHeader } from '../../format/index-block.js';
import type { FileSystem } from '../../io/fs.js';
import type { StoreCodec } from '../../format/store-codec.js';
import { runName } from '../files/layout.js';
import { SpillingTtlList } from '../runs/ttl-spill.js';
import { BloomCheck, BloomProbe, filePages, openedPages } from './bloom-check.js';
import type { BloomScratch, KeyProbe } from './bloom-check.js';
import { AUTHENTICATION_FAILED, LeafCursor } from './run-cursor.js';
import type { LeafBlockSink } from './run-cursor.js';
import type { Scratch, VerifyLimits } from './scratch.js';
import type { VerifyLog } from './verify-log.js';
import type { VerifyWorker } from './verify-worker.js';

export interface OpenRun {
  name: string;
  fd: number;
  size: number;
  header: RunHeader;
  /** The store's: an encrypted run's blocks and bloom pages are opened with it. */
  codec: StoreCodec;
  manifestEntries: number;
  /** How it lays out its bytes, from its header's data key id. */
  layout: RunLayout;
  /** An encrypted run's data key, when verify holds it: its blocks and pages are opened, their tags checked. */
  key: KeyObject | undefined;
  /**
   * Whether the walk reads its entries. False in an encrypted store verified
   * without its key: its blocks are checked by framing and CRC and their
   * entries counted, never read, so nothing is checked against them.
   */
  entriesRead: boolean;
  cursor: LeafCursor;
  /** The keys' bloom probes, checked after the walk (an encrypted run's sent to the worker); null without a filter, or when the worker reads them itself. */
  bloom: KeyProbe | null;
  entries: number;
  /** The expiry times of its PUT entries, spilled past `limits.ttlEntries`. */
  readonly ttlAdds: SpillingTtlList;
}

/** What the walk needs besides the store: where to spill, and when. */
export interface Spill {
  scratch: Scratch;
  limits: VerifyLimits;
}

/**
 * `bloomScratch`: the walk's window on bloom filters; `worker`: the worker
 * thread that checks the keys against the filter (none: here). `keyless`: the
 * store is encrypted and verified without its key; the run's entries are then
 * not read (OpenRun.entriesRead) and its bloom pages' CRCs checked, not their bits.
 */
export function openRun(fs: FileSystem, dir: string, codec: StoreCodec, file: number, manifestEntries: number, log: VerifyLog, bloomScratch: BloomScratch, worker: VerifyWorker | null, spill: Spill, keyless = false): OpenRun | null {
  const name = runName(file);
  const fd = log.openListed(fs, dir, name);
  if (fd === null) return null;
  const size = fs.size(fd);
  const head = Buffer.allocUnsafe(RUN_HEADER_BYTES);
  const header = decodeRunHeader(head.subarray(0, fs.read(fd, head, 0, RUN_HEADER_BYTES, 0)), file);
  log.progress(Math.min(size, RUN_HEADER_BYTES));
  const fail = (message: string) => {
    log.problem(name, 0, 'bad-header', message);
    fs.close(fd);
    return null;
  };
  if (typeof header === 'string') {
    if (header.startsWith('version:')) {
      log.newerVersion(name, header.slice(8));
      fs.close(fd);
      return null;
    }
    return fail(header);
  }
  const layout = runLayout(header.version.keyId);
  const pageStride = layout.pageStride;
  // An encrypted run's blocks and pages are opened with its data key; without the key (or when KEYRING lacks it: reported with the headers) only their CRCs are checked.
  const key = keyless || !layout.sealed ? undefined : dataKeyOrNull(codec, header.version.keyId, `${dir}/${name}`);
  const entriesRead = !keyless && (!layout.sealed || key !== undefined);
  const bloomBytes = header.bloomPages * pageStride;
  if (header.leavesEnd < RUN_HEADER_BYTES || header.leavesEnd > header.bloomOffset || header.bloomOffset + bloomBytes > size) {
    return fail(`run header places leaves, branches and bloom filter outside the file (${size} bytes)`);
  }
  if (header.height === 0 ? header.entries !== 0 || header.leavesEnd !== RUN_HEADER_BYTES : header.entries === 0) {
    return fail(`run header says ${header.entries} entries in a tree of height ${header.height}`);
  }
  let bloom: KeyProbe | null = null;
  let onLeafBlock: LeafBlockSink | null = null; // the worker's, when the walk sends it the leaf blocks
  const pageOk = new Uint8Array(header.bloomPages);
  if (header.bloomPages > 0) {
    // The pages' CRCs, a window at a time; the keys are checked against the filter after the walk, or by the worker.
    const filter = bloomScratch.window;
    // An encrypted run's pages go to the worker as they are opened here (their tags checked), when it checks the keys.
    const opened = worker && key && entriesRead ? bloomScratch.opened : null;
    for (let first = 0; first < header.bloomPages; first += bloomScratch.windowPages) {
      const pages = Math.min(bloomScratch.windowPages, header.bloomPages - first);
      fs.read(fd, filter, 0, pages * pageStride, header.bloomOffset + first * pageStride);
      // A page's CRC covers all of it before the CRC: in an encrypted run, nonce, sealed page and tag as stored.
      for (let i = 0; i < pages; i++) {
        const at = i * pageStride;
        const crcAt = at + pageStride - 4;
        const where = header.bloomOffset + (first + i) * pageStride;
        if (crc32(filter, at, crcAt) !== filter.readUInt32LE(crcAt)) {
          log.problem(name, where, 'corrupt-index', 'bloom filter page CRC mismatch');
          continue;
        }
        const page = key ? openPage(filter.subarray(at, at + pageStride), first + i, key) : undefined;
        if (page === null) {
          log.problem(name, where, 'corrupt-index', `bloom filter page ${AUTHENTICATION_FAILED}`);
          continue;
        }
        pageOk[first + i] = 1;
        if (page && opened) page.copy(opened, i * BLOOM_PAGE_STRIDE);
      }
      if (opened) worker!.sendFilter(file, header.bloomPages, first, opened.subarray(0, pages * BLOOM_PAGE_STRIDE), true);
      else if (entriesRead && !layout.sealed) worker?.sendFilter(file, header.bloomPages, first, filter.subarray(0, pages * pageStride));
    }
    // An entry is at least a one-byte key long: the expected count is capped by the file's size.
    const expected = Math.min(header.entries, Math.floor(size / (LEAF_ENTRY_FIXED_BYTES + 1)));
    if (!entriesRead) bloom = null; // the keys are sealed: only the pages' CRCs are checked
    else if (worker && !layout.sealed) onLeafBlock = worker.leafBlocks(file, pageOk, expected); // null: it reads the run itself
    else if (opened) bloom = worker!.keyHashes(file, pageOk, expected);
    else {
      const pages = key ? openedPages(fs, fd, header.bloomOffset, header.bloomPages, bloomScratch, key) : filePages(fs, fd, header.bloomOffset, header.bloomPages, bloomScratch);
      bloom = new BloomCheck(new BloomProbe(pages, pageOk, bloomScratch), header.bloomPages, expected);
    }
    log.progress(bloomBytes);
  } else if (header.entries > 0) {
    log.problem(name, 0, 'bad-header', 'run has entries but no bloom filter');
  }
  const cursor = new LeafCursor(fs, fd, name, RUN_HEADER_BYTES, header.leavesEnd, log, {
    ...(onLeafBlock ? { onBlock: onLeafBlock } : {}),
    leafFields: layout.leafFields,
    ...(key ? { open: (block: Buffer, at: number) => openBlock(block, at, key) } : {}),
  });
  const ttlAdds = new SpillingTtlList(fs, () => spill.scratch.claim('ttl'), spill.limits.ttlEntries);
  return { name, fd, size, header, codec, manifestEntries, layout, key, entriesRead, cursor, bloom, entries: 0, ttlAdds };
}

/** An encrypted run's data key; undefined when KEYRING lacks it (reported by the header check). */
function dataKeyOrNull(codec: StoreCodec, keyId: number, path: string): KeyObject | undefined {
  try {
    return dataKey(codec, keyId, path);
  } catch (err) {
    if (isTzkvError(err, 'CORRUPT')) return undefined;
    throw err;
  }
}
