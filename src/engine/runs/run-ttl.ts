// Reading an index run's TTL section (docs/format.md "TTL section"): counts
// by binary search for stats, whole lists for merges.
import { TTL_ENTRY_BYTES, TTL_HEADER_BYTES } from '../../format/constants.js';
import { decodeTtlEntry, decodeTtlHeader, ttlCrc, ttlSectionBytes } from '../../format/ttl-section.js';
import type { RunReader } from './run-reader.js';
import { TtlList } from './ttl-list.js';

export interface TtlSection {
  /** File offset of the section header. */
  base: number;
  adds: number;
  removes: number;
}

/** The run's TTL section, or null when the run predates it (it ends at its bloom filter). Throws CORRUPT. */
export function ttlSection(run: RunReader): TtlSection | null {
  const base = run.ttlOffset;
  const size = run.fileSize;
  if (size <= base) return null;
  const buf = Buffer.allocUnsafe(TTL_HEADER_BYTES);
  const h = decodeTtlHeader(buf.subarray(0, run.readAt(buf, TTL_HEADER_BYTES, base)));
  if (typeof h === 'string') throw run.corrupt(base, h);
  if (base + ttlSectionBytes(h) !== size) throw run.corrupt(base, `TTL section of ${h.adds}+${h.removes} entries does not end the file`);
  return { base, ...h };
}

/** Entries of list 0 (adds) or 1 (removes) with expiresAt ≤ now, and their total record length. */
export function ttlUpTo(run: RunReader, s: TtlSection, list: 0 | 1, now: number): { count: number; bytes: number } {
  const first = s.base + TTL_HEADER_BYTES + (list === 0 ? 0 : s.adds * TTL_ENTRY_BYTES);
  const n = list === 0 ? s.adds : s.removes;
  const buf = Buffer.allocUnsafe(TTL_ENTRY_BYTES);
  const entry = (i: number) => {
    const at = first + i * TTL_ENTRY_BYTES;
    if (run.readAt(buf, TTL_ENTRY_BYTES, at) !== TTL_ENTRY_BYTES) throw run.corrupt(at, 'TTL entry truncated');
    const e = decodeTtlEntry(buf, 0);
    if (e.expiresAt < 0 || e.cumulative < 0) throw run.corrupt(at, 'TTL entry out of range');
    return e;
  };
  // The number of entries with expiresAt ≤ now: the first index whose expiry is later.
  let lo = 0;
  let hi = n;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (entry(mid).expiresAt <= now) lo = mid + 1;
    else hi = mid;
  }
  return { count: lo, bytes: lo === 0 ? 0 : entry(lo - 1).cumulative };
}

const CHUNK_ENTRIES = 65536;

/**
 * The removes list, read in chunks and checked against the section's CRC
 * (which covers both lists) and order. Throws CORRUPT.
 */
export function readTtlRemoves(run: RunReader, s: TtlSection): TtlList {
  const removes = new TtlList(Math.max(1, s.removes));
  const total = s.adds + s.removes;
  const start = s.base + TTL_HEADER_BYTES;
  const buf = Buffer.allocUnsafe(CHUNK_ENTRIES * TTL_ENTRY_BYTES);
  let crc = 0;
  let previous = 0;
  let previousExp = 0;
  for (let first = 0; first < total; first += CHUNK_ENTRIES) {
    const n = Math.min(CHUNK_ENTRIES, total - first);
    const at = start + first * TTL_ENTRY_BYTES;
    if (run.readAt(buf, n * TTL_ENTRY_BYTES, at) !== n * TTL_ENTRY_BYTES) throw run.corrupt(at, 'TTL section truncated');
    crc = ttlCrc(buf, 0, n * TTL_ENTRY_BYTES, crc);
    for (let i = Math.max(0, s.adds - first); i < n; i++) {
      const e = decodeTtlEntry(buf, i * TTL_ENTRY_BYTES);
      const length = e.cumulative - previous;
      if (e.expiresAt <= 0 || e.expiresAt < previousExp || length <= 0 || length > 0xffffffff) {
        throw run.corrupt(at + i * TTL_ENTRY_BYTES, 'TTL entry out of order');
      }
      removes.push(e.expiresAt, length);
      previous = e.cumulative;
      previousExp = e.expiresAt;
    }
  }
  const end = start + total * TTL_ENTRY_BYTES;
  const trailer = Buffer.allocUnsafe(4);
  if (run.readAt(trailer, 4, end) !== 4 || trailer.readUInt32LE(0) !== crc) throw run.corrupt(start, 'TTL section CRC mismatch');
  return removes;
}
