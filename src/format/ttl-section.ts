// The TTL section at the end of an index run (docs/format.md "TTL section"):
// the expiry times the run adds to and removes from the store's census.
// Pure encode/decode.
import { crc32, readU64, writeU64 } from './bytes.js';
import { MAGIC_TTL, TTL_ENTRY_BYTES, TTL_HEADER_BYTES } from './constants.js';

export interface TtlHeader {
  adds: number;
  removes: number;
}

export function encodeTtlHeader(h: TtlHeader): Buffer {
  const buf = Buffer.alloc(TTL_HEADER_BYTES);
  buf.write(MAGIC_TTL, 0, 4, 'latin1');
  buf.writeUInt32LE(h.adds, 4);
  buf.writeUInt32LE(h.removes, 8);
  buf.writeUInt32LE(crc32(buf, 0, 12), 12);
  return buf;
}

/** The header, or what is wrong with it. */
export function decodeTtlHeader(buf: Buffer): TtlHeader | string {
  if (buf.length < TTL_HEADER_BYTES) return 'TTL section header truncated';
  if (buf.toString('latin1', 0, 4) !== MAGIC_TTL) return 'TTL section has the wrong magic';
  if (crc32(buf, 0, 12) !== buf.readUInt32LE(12)) return 'TTL section header CRC mismatch';
  return { adds: buf.readUInt32LE(4), removes: buf.readUInt32LE(8) };
}

/** Bytes of a whole section: header, entries, trailing CRC. */
export function ttlSectionBytes(h: TtlHeader): number {
  return TTL_HEADER_BYTES + (h.adds + h.removes) * TTL_ENTRY_BYTES + 4;
}

/**
 * Encodes entries [from, to) of a sorted list into out at pos; `cumulative` is
 * the total length of the list's entries before `from`. Returns the new total.
 */
export function encodeTtlEntries(
  exp: Float64Array,
  len: Uint32Array,
  from: number,
  to: number,
  cumulative: number,
  out: Buffer,
  pos: number,
): number {
  for (let i = from; i < to; i++, pos += TTL_ENTRY_BYTES) {
    cumulative += len[i];
    writeU64(out, exp[i], pos);
    writeU64(out, cumulative, pos + 8);
  }
  return cumulative;
}

/** One entry: its expiry and the cumulative length through it; -1s when unreadable. */
export function decodeTtlEntry(buf: Buffer, pos: number): { expiresAt: number; cumulative: number } {
  return { expiresAt: readU64(buf, pos), cumulative: readU64(buf, pos + 8) };
}

/** CRC of entry bytes continued from `previous` (0 to start). */
export function ttlCrc(buf: Uint8Array, start: number, end: number, previous: number): number {
  return crc32(buf, start, end, previous);
}
