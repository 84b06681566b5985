// An index run as verify's walk reads it: its header checked against the
// file, its bloom filter pages' CRCs checked, a cursor on its leaves, and
// where its keys' bloom probes and expiring PUTs are recorded.
import { BLOOM_PAGE_BYTES, BLOOM_PAGE_STRIDE, RUN_HEADER_BYTES } from '../../format/constants.js';
import { crc32 } from '../../format/bytes.js';
import { decodeRunHeader } from '../../format/index-block.js';
import type { RunHeader } from '../../format/index-block.js';
import type { FileSystem } from '../../io/fs.js';
import { runName } from '../files/layout.js';
import { SpillingTtlList } from '../runs/ttl-spill.js';
import { BloomCheck, BloomProbe, filePages } from './bloom-check.js';
import type { BloomScratch } from './bloom-check.js';
import { LeafCursor } from './run-cursor.js';
import type { Scratch, VerifyLimits } from './scratch.js';
import type { VerifyLog } from './verify-log.js';

export interface OpenRun {
  name: string;
  fd: number;
  size: number;
  header: RunHeader;
  manifestEntries: number;
  cursor: LeafCursor;
  /** The keys' bloom probes, checked after the walk; null without a filter. */
  bloom: BloomCheck | null;
  entries: number;
  /** The expiry times of its PUT entries, spilled past `limits.ttlEntries`. */
  readonly ttlAdds: SpillingTtlList;
}

/** What the walk needs besides the store: where to spill, and when. */
export interface Spill {
  scratch: Scratch;
  limits: VerifyLimits;
}

/** `bloomScratch`: the walk's window on bloom filters; `bloomElsewhere`: the worker checks the keys against the filter. */
export function openRun(fs: FileSystem, dir: string, file: number, manifestEntries: number, log: VerifyLog, bloomScratch: BloomScratch, bloomElsewhere: boolean, spill: Spill): OpenRun | null {
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
  const bloomBytes = header.bloomPages * BLOOM_PAGE_STRIDE;
  if (header.leavesEnd < RUN_HEADER_BYTES || header.leavesEnd > header.bloomOffset || header.bloomOffset + bloomBytes > size) {
    return fail(`run header places leaves, branches and bloom filter outside the file (${size} bytes)`);
  }
  if (header.height === 0 ? header.entries !== 0 || header.leavesEnd !== RUN_HEADER_BYTES : header.entries === 0) {
    return fail(`run header says ${header.entries} entries in a tree of height ${header.height}`);
  }
  let bloom: BloomCheck | null = null;
  const pageOk = new Uint8Array(header.bloomPages);
  if (header.bloomPages > 0) {
    // The pages' CRCs, a window at a time; the keys are checked against the filter after the walk, or by the worker.
    const filter = bloomScratch.window;
    for (let first = 0; first < header.bloomPages; first += bloomScratch.windowPages) {
      const pages = Math.min(bloomScratch.windowPages, header.bloomPages - first);
      fs.read(fd, filter, 0, pages * BLOOM_PAGE_STRIDE, header.bloomOffset + first * BLOOM_PAGE_STRIDE);
      for (let i = 0; i < pages; i++) {
        const at = i * BLOOM_PAGE_STRIDE;
        if (crc32(filter, at, at + BLOOM_PAGE_BYTES) === filter.readUInt32LE(at + BLOOM_PAGE_BYTES)) pageOk[first + i] = 1;
        else log.problem(name, header.bloomOffset + (first + i) * BLOOM_PAGE_STRIDE, 'corrupt-index', 'bloom filter page CRC mismatch');
      }
    }
    // Entries are at least 28 bytes each: the expected count is capped by the file's size.
    if (!bloomElsewhere) {
      const probe = new BloomProbe(filePages(fs, fd, header.bloomOffset, header.bloomPages, bloomScratch), pageOk, bloomScratch);
      bloom = new BloomCheck(probe, header.bloomPages, Math.min(header.entries, Math.floor(size / 28)));
    }
    log.progress(bloomBytes);
  } else if (header.entries > 0) {
    log.problem(name, 0, 'bad-header', 'run has entries but no bloom filter');
  }
  const cursor = new LeafCursor(fs, fd, name, RUN_HEADER_BYTES, header.leavesEnd, log);
  const ttlAdds = new SpillingTtlList(fs, () => spill.scratch.claim('ttl'), spill.limits.ttlEntries);
  return { name, fd, size, header, manifestEntries, cursor, bloom, entries: 0, ttlAdds };
}
