// verify's checks of the parts of an index run around its leaves: the branch
// blocks (CRC, and that every child is a block of the run) and the TTL
// section (CRCs, order, and that its adds are exactly the run's PUT entries
// with an expiry).
import { BLOCK_BRANCH, TTL_ENTRY_BYTES, TTL_HEADER_BYTES } from '../../format/constants.js';
import { decodeBlock, openedBlock, parseBranchEntries } from '../../format/index-block.js';
import type { BlockView } from '../../format/index-block.js';
import { openBlock } from '../../format/seal.js';
import { decodeTtlEntry, decodeTtlHeader, ttlCrc, ttlSectionBytes } from '../../format/ttl-section.js';
import type { FileSystem } from '../../io/fs.js';
import { AUTHENTICATION_FAILED, MAX_BLOCK_BYTES } from './run-cursor.js';
import type { VerifyLog } from './verify-log.js';
import type { OpenRun } from './open-run.js';

/** The branch block `buf` at file offset `at`: framing and CRC checked, and an encrypted run's opened when verify holds its key; a string says what is wrong. */
function branchBlock(buf: Buffer, at: number, r: OpenRun): BlockView | string {
  const block = decodeBlock(buf, BLOCK_BRANCH);
  if (typeof block === 'string' || r.key === undefined) return block;
  const entries = openBlock(buf, at, r.key);
  return entries === null ? `branch block ${AUTHENTICATION_FAILED}` : openedBlock(buf, entries);
}

/** Checks that the run holds as many entries as its header and the manifest say; false when it does not. */
export function checkEntryCount(r: OpenRun, log: VerifyLog): boolean {
  if (r.entries === r.header.entries && r.entries === r.manifestEntries) return true;
  log.problem(r.name, 0, 'index-count', `holds ${r.entries} readable entries, its header says ${r.header.entries}, the manifest ${r.manifestEntries}`);
  return false;
}

/**
 * Checks the run's branch blocks; their children only when the walk read the
 * entries (an encrypted run's are sealed without the key: framing and CRC only).
 * REQUIRES: the walk read every leaf block of `r` (r.cursor.leaves is complete).
 */
export function checkBranches(fs: FileSystem, r: OpenRun, log: VerifyLog): void {
  const h = r.header;
  const from = h.leavesEnd;
  const to = h.bloomOffset;
  const region = Buffer.allocUnsafe(to - from);
  const n = fs.read(r.fd, region, 0, to - from, from);
  log.progress(n);
  const branches = new Map<number, number>();
  const isBlock = (offset: number, length: number) => r.cursor.leaves.has(offset, length) || branches.get(offset) === length;
  /**
   * Branch entries whose child may not be a block, in order, as (block
   * offset, child offset, child length): a child before its block is checked
   * at once (every leaf, and every branch block before this one, is known),
   * one after it (never written so) once every block is known.
   */
  const suspects: number[] = [];
  let p = 0;
  while (p < n) {
    const at = from + p;
    const length = p + 8 <= n ? region.readUInt32LE(p + 4) : 0;
    if (length < 12 || length > MAX_BLOCK_BYTES || p + length > n) {
      log.problem(r.name, at, 'corrupt-index', `branch block length ${length} impossible`);
      return;
    }
    const block = branchBlock(region.subarray(p, p + length), at, r);
    const entries = typeof block === 'string' ? block : r.entriesRead ? parseBranchEntries(block) : [];
    if (typeof entries === 'string') log.problem(r.name, at, 'corrupt-index', entries);
    else for (const e of entries) if (e.offset >= at || !isBlock(e.offset, e.length)) suspects.push(at, e.offset, e.length);
    branches.set(at, length);
    p += length;
  }
  if (h.height > 0 && !r.cursor.damaged && !isBlock(h.rootOffset, h.rootLength)) {
    log.problem(r.name, 0, 'corrupt-index', `the root (offset ${h.rootOffset}, ${h.rootLength} bytes) is not a block of the run`);
  }
  if (r.cursor.damaged) return; // leaves that could not be read are reported already
  for (let i = 0; i < suspects.length; i += 3) {
    if (!isBlock(suspects[i + 1], suspects[i + 2])) log.problem(r.name, suspects[i], 'corrupt-index', `a branch entry points at offset ${suspects[i + 1]}, which is not a block of the run`);
  }
}

/**
 * Returns false when the section could not be checked whole. Its adds are
 * checked against the run's expiring PUT entries only when the walk read them
 * (r.entriesRead); its CRC and order always.
 */
export function checkTtlSection(fs: FileSystem, r: OpenRun, log: VerifyLog): boolean {
  const base = r.header.bloomOffset + r.header.bloomPages * r.layout.pageStride;
  if (r.size <= base) return true; // a run from before TTL sections: valid, the census is not used
  const head = Buffer.allocUnsafe(TTL_HEADER_BYTES);
  const h = decodeTtlHeader(head.subarray(0, fs.read(r.fd, head, 0, TTL_HEADER_BYTES, base)));
  if (typeof h === 'string') {
    log.problem(r.name, base, 'corrupt-index', h);
    return false;
  }
  if (base + ttlSectionBytes(h) !== r.size) {
    log.problem(r.name, base, 'corrupt-index', `TTL section of ${h.adds}+${h.removes} entries does not end the file`);
    return false;
  }
  // The run's expiring PUTs in (expiresAt, length) order, one batch at a time (spilled ones merged back).
  const adds = r.ttlAdds.sortedBatches(65536);
  let batch: { exp: Float64Array; len: Uint32Array; n: number } = { exp: new Float64Array(0), len: new Uint32Array(0), n: 0 };
  let b = 0;
  const nextAdd = () => {
    while (b >= batch.n) {
      const next = adds.next();
      if (next.done) throw new Error('fewer TTL adds than counted');
      batch = next.value;
      b = 0;
    }
    return b++;
  };
  const start = base + TTL_HEADER_BYTES;
  const total = h.adds + h.removes;
  const chunkEntries = 65536;
  const buf = Buffer.allocUnsafe(Math.min(total, chunkEntries) * TTL_ENTRY_BYTES + 4);
  let crc = 0;
  let ok = true;
  let cumulative = 0;
  let previous = 0;
  let previousExp = 0;
  const wrong = (at: number, message: string) => {
    if (ok) log.problem(r.name, at, 'corrupt-index', message);
    ok = false;
  };
  const against = r.entriesRead;
  if (against && h.adds !== r.ttlAdds.length) wrong(base, `TTL section lists ${h.adds} expiring PUTs, the run holds ${r.ttlAdds.length}`);
  for (let first = 0; first < total; first += chunkEntries) {
    const n = Math.min(chunkEntries, total - first);
    const at = start + first * TTL_ENTRY_BYTES;
    fs.read(r.fd, buf, 0, n * TTL_ENTRY_BYTES, at);
    log.progress(n * TTL_ENTRY_BYTES);
    crc = ttlCrc(buf, 0, n * TTL_ENTRY_BYTES, crc);
    for (let i = 0; i < n; i++) {
      const index = first + i;
      const e = decodeTtlEntry(buf, i * TTL_ENTRY_BYTES);
      if (index === h.adds) previous = previousExp = 0;
      if (against && index < h.adds && index < r.ttlAdds.length && ok) {
        const k = nextAdd();
        cumulative += batch.len[k];
        if (e.expiresAt !== batch.exp[k] || e.cumulative !== cumulative) wrong(at + i * TTL_ENTRY_BYTES, 'TTL section adds differ from the run\'s expiring PUT entries');
      }
      if (e.expiresAt <= 0 || e.expiresAt < previousExp || e.cumulative <= previous) wrong(at + i * TTL_ENTRY_BYTES, 'TTL entry out of order');
      previous = e.cumulative;
      previousExp = e.expiresAt;
    }
  }
  const trailer = Buffer.allocUnsafe(4);
  if (fs.read(r.fd, trailer, 0, 4, start + total * TTL_ENTRY_BYTES) !== 4 || trailer.readUInt32LE(0) !== crc) {
    log.problem(r.name, start, 'corrupt-index', 'TTL section CRC mismatch');
    return false;
  }
  return ok;
}
