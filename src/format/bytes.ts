// Small pure helpers over Buffers shared by the codecs.
import CRC32 from 'crc-32';

/** CRC-32 (IEEE) of buf[start, end) as an unsigned number (docs/format.md "Conventions"). */
export function crc32(buf: Uint8Array, start = 0, end = buf.length): number {
  // A plain Uint8Array view is much cheaper to make than a Buffer subarray.
  const view = start === 0 && end === buf.length ? buf : new Uint8Array(buf.buffer, buf.byteOffset + start, end - start);
  return CRC32.buf(view) >>> 0;
}

const TWO_32 = 0x100000000;
/** Largest high word of a u64 whose value stays below 2^53. */
const MAX_SAFE_HIGH = 0x1fffff;

/** Writes a safe integer as u64 LE. REQUIRES: 0 <= value < 2^53. */
export function writeU64(buf: Buffer, value: number, offset: number): void {
  if (value < TWO_32) {
    buf.writeUInt32LE(value, offset);
    buf[offset + 4] = 0;
    buf[offset + 5] = 0;
    buf[offset + 6] = 0;
    buf[offset + 7] = 0;
    return;
  }
  buf.writeUInt32LE(value % TWO_32, offset);
  buf.writeUInt32LE(Math.floor(value / TWO_32), offset + 4);
}

/** Reads a u64 LE; returns -1 when it is not below 2^53 (a corrupt value). */
export function readU64(buf: Buffer, offset: number): number {
  const hi = buf.readUInt32LE(offset + 4);
  if (hi > MAX_SAFE_HIGH) return -1;
  return hi * TWO_32 + buf.readUInt32LE(offset);
}

export function fileName(num: number, ext: string): string {
  return String(num).padStart(8, '0') + ext;
}

/** Parses "00000012.tzds" → 12 when the name has that extension, else -1. */
export function parseFileName(name: string, ext: string): number {
  if (!name.endsWith(ext)) return -1;
  const digits = name.slice(0, -ext.length);
  if (!/^[0-9]{8,10}$/.test(digits)) return -1;
  const n = Number(digits);
  return n >= 1 && n <= 0xffffffff ? n : -1;
}

/** Unsigned byte-order comparison (memcmp, shorter prefix first). */
export function compareKeys(a: Uint8Array, b: Uint8Array): number {
  return Buffer.compare(a, b);
}
