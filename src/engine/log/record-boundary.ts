// Where the next record provably starts after damaged bytes (docs/format.md
// "Reading past damage"): the first later offset where a whole record starts
// whose framing and CRC check. The scanner's torn-or-damaged decision and the
// resynchronisation past damage (resync.ts) both ask this one function.
import { crc32 } from '../../format/bytes.js';
import { KIND_COMMIT, KIND_PUT, RECORD_HEADER_BYTES } from '../../format/constants.js';
import { RECORD_OK, RECORD_SHORT, RecordInfo, decodeRecord } from '../../format/record.js';

/**
 * Up to `length` bytes of the segment from absolute offset `at` (fewer only
 * where the data ends). The buffer is valid until the next call.
 */
export type SegmentBytes = (at: number, length: number) => Buffer;

/** Bytes examined per read while searching for the next boundary. */
const SEARCH_WINDOW = 1024 * 1024;

/** True when the CRC stored at `at` matches the record's bytes [at + 4, at + length), read in windows. */
function crcHolds(read: SegmentBytes, at: number, length: number, stored: number): boolean {
  let crc = 0;
  for (let p = at + 4; p < at + length; ) {
    const b = read(p, Math.min(SEARCH_WINDOW, at + length - p));
    if (b.length === 0) return false;
    crc = crc32(b, 0, b.length, crc);
    p += b.length;
  }
  return crc === stored;
}

/**
 * The first offset in (from, end) where a whole record starts whose framing
 * and CRC check, or -1. A record longer than the search window is checked by
 * reading it in windows, so memory stays one window whatever its length.
 */
export function nextRecordBoundary(read: SegmentBytes, from: number, end: number): number {
  const info = new RecordInfo();
  for (let base = from + 1; base + RECORD_HEADER_BYTES <= end; ) {
    let win = read(base, Math.min(SEARCH_WINDOW, end - base));
    const n = win.length;
    if (n < RECORD_HEADER_BYTES) return -1;
    for (let q = 0; q + RECORD_HEADER_BYTES <= n; q++) {
      const kind = win[q + 4];
      if (kind < KIND_PUT || kind > KIND_COMMIT) continue;
      const status = decodeRecord(win, q, n, info, true);
      if (status === RECORD_OK) return base + q;
      if (status === RECORD_SHORT && info.length > 0 && base + q + info.length <= end) {
        if (crcHolds(read, base + q, info.length, win.readUInt32LE(q))) return base + q;
        win = read(base, n); // the check read through the same buffer
      }
    }
    if (base + n >= end) return -1;
    base += n - RECORD_HEADER_BYTES + 1;
  }
  return -1;
}

/** The bytes of buf[0, length) as SegmentBytes at absolute offsets from 0. */
export function bytesOf(buf: Buffer, length = buf.length): SegmentBytes {
  return (at, n) => buf.subarray(at, Math.min(at + n, length));
}
