// Data records (docs/format.md "Data segment"). Pure: Buffers in, Buffers out.
import { ViewOf, crc32, readU64, setU64 } from './bytes.js';
import {
  COMMIT_VALUE_BYTES,
  FLAG_BATCH,
  FLAG_COMPRESSION_MASK,
  KIND_COMMIT,
  KIND_DEL,
  KIND_PUT,
  KIND_SEAL,
  MAX_KEY_BYTES,
  MAX_VALUE_BYTES,
  RECORD_HEADER_BYTES,
  SEAL_VALUE_BYTES,
} from './constants.js';

function recordLength(keyLength: number, valueLength: number): number {
  return RECORD_HEADER_BYTES + keyLength + valueLength;
}

/**
 * Encodes one record into `buf` at `pos` and returns the position after it.
 * A string key is the latin1 form (one char per byte): the bulk path avoids a
 * Buffer per key. REQUIRES: buf has recordLength(key.length, value.length)
 * bytes free at pos; key and value already checked against the limits.
 *
 * The record is laid out in place and checksummed in one pass over its own
 * bytes (sealRecord): no scratch copy, no view.
 */
export function writeRecord(
  buf: Buffer,
  pos: number,
  kind: number,
  flags: number,
  key: Uint8Array | string,
  value: Uint8Array | null,
  expiresAt: number,
): number {
  const keyLength = key.length;
  const valueLength = value === null ? 0 : value.length;
  writeRecordHeader(buf, pos, kind, flags, keyLength, valueLength, expiresAt);
  const keyStart = pos + RECORD_HEADER_BYTES;
  if (typeof key === 'string') {
    for (let i = 0; i < keyLength; i++) buf[keyStart + i] = key.charCodeAt(i);
  } else {
    for (let i = 0; i < keyLength; i++) buf[keyStart + i] = key[i];
  }
  const valueStart = keyStart + keyLength;
  if (valueLength > 0) {
    // Buffer#copy is cheaper than TypedArray#set for small values.
    if (Buffer.isBuffer(value)) value.copy(buf, valueStart);
    else buf.set(value!, valueStart);
  }
  const end = valueStart + valueLength;
  sealRecord(buf, pos, end);
  return end;
}

/**
 * Writes a record's header after its CRC field (bytes 4–19 at `pos`): kind,
 * flags, lengths and expiry. The key and value go after it, then sealRecord.
 */
export function writeRecordHeader(buf: Buffer, pos: number, kind: number, flags: number, keyLength: number, valueLength: number, expiresAt: number): void {
  const view = headerViews.of(buf);
  buf[pos + 4] = kind;
  buf[pos + 5] = flags;
  view.setUint16(pos + 6, keyLength, true);
  view.setUint32(pos + 8, valueLength, true);
  setU64(view, pos + 12, expiresAt);
}

/** writeRecordHeader's view of the buffer it last wrote to (a batch's chunk). */
const headerViews = new ViewOf();

/** Fills in the CRC of the record laid out at buf[pos, end) (header, key and value written). */
function sealRecord(buf: Buffer, pos: number, end: number): void {
  const crc = crc32(buf, pos + 4, end);
  buf[pos] = crc & 0xff;
  buf[pos + 1] = (crc >>> 8) & 0xff;
  buf[pos + 2] = (crc >>> 16) & 0xff;
  buf[pos + 3] = crc >>> 24;
}

export function encodeRecord(kind: number, flags: number, key: Uint8Array, value: Uint8Array | null, expiresAt: number): Buffer {
  const buf = Buffer.allocUnsafe(recordLength(key.length, value === null ? 0 : value.length));
  writeRecord(buf, 0, kind, flags, key, value, expiresAt);
  return buf;
}

export function encodeCommit(count: number): Buffer {
  const value = Buffer.alloc(COMMIT_VALUE_BYTES);
  value.writeUInt32LE(count, 0);
  return encodeRecord(KIND_COMMIT, 0, Buffer.alloc(0), value, 0);
}

export const RECORD_OK = 0;
/** The record runs past the end of the bytes available (a torn or still-growing tail). */
export const RECORD_SHORT = 1;
/** The record fails a check: bad CRC or an impossible header. */
export const RECORD_BAD = 2;
export type RecordStatus = typeof RECORD_OK | typeof RECORD_SHORT | typeof RECORD_BAD;

/** Decoded header of a record; reused between calls to avoid garbage. */
export class RecordInfo {
  kind = 0;
  flags = 0;
  keyLength = 0;
  valueLength = 0;
  expiresAt = 0;
  /** Whole record length; when the header is unreadable, 0. */
  length = 0;
  /** Why the record is bad, when decodeRecord returned RECORD_BAD. */
  reason = '';

  get batch(): boolean {
    return (this.flags & FLAG_BATCH) !== 0;
  }
}

function bad(out: RecordInfo, reason: string): RecordStatus {
  out.reason = reason;
  return RECORD_BAD;
}

/**
 * Decodes the record at buf[pos, end) into `out`. Checks framing always and
 * the CRC when `checkCrc` is set. Does not copy the key or value: they are
 * buf[pos+20, pos+20+keyLength) and the bytes after. `version2`: the record
 * is in a version 2 segment, where SEAL records and compression bits exist
 * (docs/format.md "Records, version 2"); whether a SEAL may be here (an
 * encrypted segment) and whether a PUT lies in a group is the scan's to check.
 */
export function decodeRecord(buf: Buffer, pos: number, end: number, out: RecordInfo, checkCrc = true, version2 = false): RecordStatus {
  out.reason = '';
  out.length = 0;
  if (end - pos < RECORD_HEADER_BYTES) return RECORD_SHORT;
  // Byte reads: Buffer#readUInt32LE's bounds checks cost more than the decoding (verify decodes millions).
  const kind = buf[pos + 4];
  const flags = buf[pos + 5];
  const keyLength = buf[pos + 6] | (buf[pos + 7] << 8);
  const valueLength = (buf[pos + 8] | (buf[pos + 9] << 8) | (buf[pos + 10] << 16) | (buf[pos + 11] << 24)) >>> 0;
  const expiresAt = buf[pos + 16] === 0 && buf[pos + 17] === 0 && buf[pos + 18] === 0 && buf[pos + 19] === 0 && buf[pos + 12] === 0 && buf[pos + 13] === 0 && buf[pos + 14] === 0 && buf[pos + 15] === 0 ? 0 : readU64(buf, pos + 12);
  out.kind = kind;
  out.flags = flags;
  out.keyLength = keyLength;
  out.valueLength = valueLength;
  out.expiresAt = expiresAt;
  if (kind === KIND_PUT || kind === KIND_DEL) {
    if (keyLength < 1 || keyLength > MAX_KEY_BYTES) return bad(out, `key length ${keyLength} outside 1..${MAX_KEY_BYTES}`);
    const compression = flags & FLAG_COMPRESSION_MASK;
    if ((flags & ~(FLAG_BATCH | FLAG_COMPRESSION_MASK)) !== 0 || (compression !== 0 && (!version2 || kind !== KIND_PUT || compression === FLAG_COMPRESSION_MASK))) {
      return bad(out, `unknown record flags 0x${flags.toString(16)}`);
    }
    if (kind === KIND_PUT && valueLength > MAX_VALUE_BYTES) return bad(out, `value length ${valueLength} over the limit`);
    if (kind === KIND_DEL && (valueLength !== 0 || expiresAt !== 0)) return bad(out, 'tombstone with a value or expiry');
    if (expiresAt < 0) return bad(out, 'expiry out of range');
  } else if (kind === KIND_COMMIT) {
    if (keyLength !== 0 || valueLength !== COMMIT_VALUE_BYTES || flags !== 0 || expiresAt !== 0) {
      return bad(out, 'malformed commit marker');
    }
  } else if (kind === KIND_SEAL && version2) {
    if (keyLength !== 0 || valueLength !== SEAL_VALUE_BYTES || flags !== 0 || expiresAt !== 0) return bad(out, 'malformed seal record');
  } else {
    return bad(out, `unknown record kind ${kind}`);
  }
  const length = RECORD_HEADER_BYTES + keyLength + valueLength;
  out.length = length;
  if (end - pos < length) return RECORD_SHORT;
  if (checkCrc && crc32(buf, pos + 4, pos + length) !== (buf[pos] | (buf[pos + 1] << 8) | (buf[pos + 2] << 16) | (buf[pos + 3] << 24)) >>> 0) return bad(out, 'CRC mismatch');
  return RECORD_OK;
}

/** The count stored in a COMMIT record at pos. REQUIRES: decodeRecord returned OK with kind COMMIT. */
export function commitCount(buf: Buffer, pos: number): number {
  return buf.readUInt32LE(pos + RECORD_HEADER_BYTES);
}
