// Where the next record provably starts after damaged bytes (docs/format.md
// "Reading past damage"): the first later offset where a whole record starts
// whose framing and CRC check. The scanner's torn-or-damaged decision and the
// resynchronisation past damage (resync.ts) both ask this one function.
// In an encrypted segment a boundary is only a SEAL record whose whole group
// passes (record-group.ts): a record inside a group has an encrypted body,
// and a valid-looking record there is never trusted.
import { crc32 } from '../../format/bytes.js';
import { KIND_COMMIT, KIND_PUT, KIND_SEAL, RECORD_HEADER_BYTES } from '../../format/constants.js';
import { RECORD_OK, RECORD_SHORT, RecordInfo, decodeRecord } from '../../format/record.js';
import { SEAL_RECORD_BYTES } from '../../format/seal.js';
import { checkGroup, isGroupFailure, sealedGroupLength } from './record-group.js';
import { type SegmentFormat, V1_SEGMENT } from './segment-format.js';

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

/** True when the SEAL record at absolute `at` (decoded in win[q]) has a group that lies whole before `end` and passes every check. */
function groupHolds(read: SegmentBytes, win: Buffer, q: number, at: number, end: number, format: SegmentFormat, info: RecordInfo): boolean {
  if (q + SEAL_RECORD_BYTES > win.length) {
    // The SEAL record runs past the window: read it alone, and check it there.
    win = read(at, SEAL_RECORD_BYTES);
    q = 0;
    if (decodeRecord(win, 0, win.length, info, true, true) !== RECORD_OK || info.kind !== KIND_SEAL) return false;
  }
  const g = sealedGroupLength(win, q);
  if (isGroupFailure(g) || at + SEAL_RECORD_BYTES + g > end) return false;
  const total = SEAL_RECORD_BYTES + g;
  const whole = q + total <= win.length ? win.subarray(q, q + total) : read(at, total);
  return whole.length === total && !isGroupFailure(checkGroup(whole, 0, at, format, true, info));
}

/**
 * The first offset in (from, end) where a whole record starts whose framing
 * and CRC check, or -1; in an encrypted segment, where a SEAL record starts
 * whose whole group checks (with its tag when `format` has the key). A record
 * longer than the search window is checked by reading it in windows, so
 * memory stays one window whatever its length (a group: one group).
 */
export function nextRecordBoundary(read: SegmentBytes, from: number, end: number, format: SegmentFormat = V1_SEGMENT): number {
  const info = new RecordInfo();
  const lowest = format.encrypted ? KIND_SEAL : KIND_PUT;
  const highest = format.encrypted ? KIND_SEAL : KIND_COMMIT;
  for (let base = from + 1; base + RECORD_HEADER_BYTES <= end; ) {
    let win = read(base, Math.min(SEARCH_WINDOW, end - base));
    const n = win.length;
    if (n < RECORD_HEADER_BYTES) return -1;
    for (let q = 0; q + RECORD_HEADER_BYTES <= n; q++) {
      const kind = win[q + 4];
      if (kind < lowest || kind > highest) continue;
      const status = decodeRecord(win, q, n, info, true, format.version2);
      if (format.encrypted) {
        if (status !== RECORD_OK && !(status === RECORD_SHORT && info.length > 0 && base + q + info.length <= end)) continue;
        if (groupHolds(read, win, q, base + q, end, format, info)) return base + q;
        win = read(base, n); // the check may have read through the same buffer
        continue;
      }
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

/** The bytes of buf[0, length) as SegmentBytes, buf[0] at absolute offset `base` (a group's tag covers its SEAL's absolute offset). */
export function bytesOf(buf: Buffer, length = buf.length, base = 0): SegmentBytes {
  return (at, n) => buf.subarray(at - base, Math.min(at - base + n, length));
}
