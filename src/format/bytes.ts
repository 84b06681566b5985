// Small pure helpers over Buffers shared by the codecs.
import CRC32 from 'crc-32';
import zlib from 'node:zlib';

/**
 * CRC-32 lookup tables for slicing by 16 (the crc-32 package's algorithm),
 * derived from the package's own byte table: T[0] is that table.
 */
const CRC_TABLES: Int32Array[] = (() => {
  const t0 = Int32Array.from((CRC32 as unknown as { table: ArrayLike<number> }).table); // exported, though its types leave it out
  const tables = [t0];
  for (let j = 1; j < 16; j++) {
    const prev = tables[j - 1];
    const t = new Int32Array(256);
    for (let n = 0; n < 256; n++) t[n] = (prev[n] >>> 8) ^ t0[prev[n] & 0xff];
    tables.push(t);
  }
  return tables;
})();
/**
 * zlib's CRC-32 (Node ≥ 20.15): the same function, several times faster on
 * long spans (index blocks, bloom pages) but a native call's overhead makes
 * it slower than the loop below on short records. Loading zlib costs a
 * one-shot command about a millisecond, so it is taken only once a process
 * has checksummed NATIVE_AFTER_BYTES of long spans (verify, compaction): a
 * `get` reading a few index blocks never loads it (the CLI bundle requires
 * node:zlib lazily, scripts/bundle-plugins.mjs).
 */
const NATIVE_CRC_MIN = 1024;
const NATIVE_AFTER_BYTES = 1 << 20;
type NativeCrc32 = (data: Uint8Array, value?: number) => number;
let longSpanBytes = 0;
let nativeCrc32: NativeCrc32 | null | undefined;

function nativeFor(span: number): NativeCrc32 | null {
  if (span < NATIVE_CRC_MIN) return null;
  if (nativeCrc32 !== undefined) return nativeCrc32;
  longSpanBytes += span;
  if (longSpanBytes < NATIVE_AFTER_BYTES) return null;
  nativeCrc32 = (zlib as { crc32?: NativeCrc32 }).crc32 ?? null;
  return nativeCrc32;
}

const [T0, T1, T2, T3, T4, T5, T6, T7, T8, T9, Ta, Tb, Tc, Td, Te, Tf] = CRC_TABLES;

/**
 * CRC-32 (IEEE) of buf[start, end) as an unsigned number (docs/format.md
 * "Conventions"), continued from `previous` (the CRC of the bytes before, 0
 * to start): the same values as the crc-32 package's `buf(data, previous)`,
 * computed in place, four bytes a load through the DataView it keeps of the
 * buffer it last checksummed — a view per call, which the package needs,
 * costs more than the CRC of a short record.
 */
export function crc32(buf: Uint8Array, start = 0, end = buf.length, previous = 0): number {
  const native = nativeFor(end - start);
  if (native) return native(start === 0 && end === buf.length ? buf : new Uint8Array(buf.buffer, buf.byteOffset + start, end - start), previous >>> 0);
  return ~crcRun(buf, start, end, (previous | 0) ^ -1) >>> 0;
}

/**
 * The running CRC state `c` (not yet inverted) continued over buf[start,
 * end). An int32, as every CRC value passed between these functions is: an
 * unsigned CRC past 2^31 (half of them) would be a heap number each time it
 * leaves a function, an allocation a record.
 */
function crcRun(buf: Uint8Array, start: number, end: number, c: number): number {
  const view = crcViews.of(buf);
  let i = start;
  const blocks = end - 15;
  while (i < blocks) {
    c = crcBlock(c, view.getInt32(i, true), view.getInt32(i + 4, true), view.getInt32(i + 8, true), view.getInt32(i + 12, true));
    i += 16;
  }
  while (i < end) c = (c >>> 8) ^ T0[(c ^ buf[i++]) & 0xff];
  return c | 0;
}

/**
 * The CRC-32 of a record laid out in pieces (a header written in place, then
 * a key and a value copied in): crcBegin, crcCopy each piece, crcEnd. Its
 * running state lives here, an int32 (see crcRun).
 */
const running = new Int32Array(1);

/** Starts a CRC over buf[start, end), bytes already in place. */
export function crcBegin(buf: Uint8Array, start: number, end: number): void {
  running[0] = crcRun(buf, start, end, -1);
}

/**
 * Copies src[start, end) to dst at `at` and continues the CRC over those
 * bytes: copyBytes and crc32 in one pass (the words the CRC loads are the
 * words stored). REQUIRES: crcBegin; the room; src and dst not overlapping.
 */
export function crcCopy(src: DataView, start: number, end: number, dst: DataView, at: number): void {
  let c = running[0];
  let i = start;
  const to = at - start;
  const blocks = end - 15;
  while (i < blocks) {
    const a = src.getInt32(i, true);
    const b = src.getInt32(i + 4, true);
    const d = src.getInt32(i + 8, true);
    const e = src.getInt32(i + 12, true);
    dst.setInt32(i + to, a, true);
    dst.setInt32(i + to + 4, b, true);
    dst.setInt32(i + to + 8, d, true);
    dst.setInt32(i + to + 12, e, true);
    c = crcBlock(c, a, b, d, e);
    i += 16;
  }
  while (i < end) {
    const x = src.getUint8(i);
    dst.setUint8(i + to, x);
    c = (c >>> 8) ^ T0[(c ^ x) & 0xff];
    i++;
  }
  running[0] = c | 0;
}

/** Ends the CRC: writes it, u32 LE, at view[at]. */
export function crcEnd(view: DataView, at: number): void {
  view.setInt32(at, ~running[0], true);
}

/** One step of slicing by 16: the running CRC `c` (not yet inverted) over 16 bytes, read as four little-endian words. */
function crcBlock(c: number, a: number, b: number, d: number, e: number): number {
  c ^= a;
  return (
    Tf[c & 0xff] ^ Te[(c >> 8) & 0xff] ^ Td[(c >> 16) & 0xff] ^ Tc[c >>> 24] ^
    Tb[b & 0xff] ^ Ta[(b >> 8) & 0xff] ^ T9[(b >> 16) & 0xff] ^ T8[b >>> 24] ^
    T7[d & 0xff] ^ T6[(d >> 8) & 0xff] ^ T5[(d >> 16) & 0xff] ^ T4[d >>> 24] ^
    T3[e & 0xff] ^ T2[(e >> 8) & 0xff] ^ T1[(e >> 16) & 0xff] ^ T0[e >>> 24]
  );
}

/**
 * A DataView of the last buffer asked for, made anew only when the buffer
 * changes: word loads and stores through it are cheaper than byte by byte
 * (and than Buffer#copy's call for a record's value).
 */
export class ViewOf {
  private buf: Uint8Array | undefined;
  private view: DataView = new DataView(new ArrayBuffer(0));

  of(buf: Uint8Array): DataView {
    if (buf !== this.buf) {
      this.buf = buf;
      this.view = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
    }
    return this.view;
  }
}

/** crc32's view of the buffer it last checksummed: a segment or a chunk of records, checksummed a record at a time. */
const crcViews = new ViewOf();

/** Copies src[start, end) to dst at `at`, four bytes a step. REQUIRES: the room; src and dst not overlapping. */
export function copyBytes(src: DataView, start: number, end: number, dst: DataView, at: number): void {
  const n = end - start;
  let i = 0;
  for (; i + 4 <= n; i += 4) dst.setInt32(at + i, src.getInt32(start + i, true), true);
  for (; i < n; i++) dst.setUint8(at + i, src.getUint8(start + i));
}

/**
 * Compares a[aStart, aEnd) with b[bStart, bEnd) in unsigned byte order
 * (memcmp; a prefix sorts first): negative, 0 or positive. Byte by byte: its
 * callers (verify's merge of runs, above all) take turns between buffers,
 * and a DataView made for each turn costs more than the bytes.
 */
export function compareBytes(a: Uint8Array, aStart: number, aEnd: number, b: Uint8Array, bStart: number, bEnd: number): number {
  const n = Math.min(aEnd - aStart, bEnd - bStart);
  for (let i = 0; i < n; i++) {
    const d = a[aStart + i] - b[bStart + i];
    if (d !== 0) return d;
  }
  return aEnd - aStart - (bEnd - bStart);
}

/**
 * compareBytes of ranges read through DataViews the caller keeps (it compares
 * keys of the same buffers again and again: a batch's keys, a run writer's
 * output), four bytes a step: a big-endian word orders as its bytes do.
 */
export function compareViews(a: DataView, aStart: number, aEnd: number, b: DataView, bStart: number, bEnd: number): number {
  const n = Math.min(aEnd - aStart, bEnd - bStart);
  let i = 0;
  for (; i + 4 <= n; i += 4) {
    const x = a.getUint32(aStart + i);
    const y = b.getUint32(bStart + i);
    if (x !== y) return x < y ? -1 : 1;
  }
  for (; i < n; i++) {
    const d = a.getUint8(aStart + i) - b.getUint8(bStart + i);
    if (d !== 0) return d;
  }
  return aEnd - aStart - (bEnd - bStart);
}

/**
 * A copy of typed array `a` with room for n elements; those past a's are
 * not zeroed (the caller fills them before reading them). A Buffer's own
 * constructor would be the deprecated Buffer(n).
 */
export function grown<T extends Uint8Array | Uint32Array | Float64Array>(a: T, n: number): T {
  const Type = a.constructor as { new (buffer: ArrayBufferLike, offset: number, length: number): T; BYTES_PER_ELEMENT: number };
  const b = new Type(Buffer.allocUnsafeSlow(n * Type.BYTES_PER_ELEMENT).buffer, 0, n);
  b.set(a);
  return b;
}

const TWO_32 = 0x100000000;
/** Largest high word of a u64 whose value stays below 2^53. */
const MAX_SAFE_HIGH = 0x1fffff;

/** Writes a u32 LE by bytes: no bounds check or call (Buffer#writeUInt32LE has both), for codecs that write millions. REQUIRES: 0 <= value < 2^32, the room. */
function writeU32(buf: Uint8Array, value: number, offset: number): void {
  buf[offset] = value & 0xff;
  buf[offset + 1] = (value >>> 8) & 0xff;
  buf[offset + 2] = (value >>> 16) & 0xff;
  buf[offset + 3] = value >>> 24;
}

/** Writes a safe integer as u64 LE. REQUIRES: 0 <= value < 2^53, the room. */
export function writeU64(buf: Uint8Array, value: number, offset: number): void {
  if (value < TWO_32) {
    writeU32(buf, value, offset);
    buf[offset + 4] = 0;
    buf[offset + 5] = 0;
    buf[offset + 6] = 0;
    buf[offset + 7] = 0;
    return;
  }
  writeU32(buf, value % TWO_32, offset);
  writeU32(buf, Math.floor(value / TWO_32), offset + 4);
}

/** writeU64 through a view. REQUIRES: 0 <= value < 2^53, the room. */
export function setU64(view: DataView, offset: number, value: number): void {
  if (value < TWO_32) {
    view.setUint32(offset, value, true);
    view.setUint32(offset + 4, 0, true);
  } else {
    view.setUint32(offset, value % TWO_32, true);
    view.setUint32(offset + 4, Math.floor(value / TWO_32), true);
  }
}

/** Reads a u64 LE; returns -1 when it is not below 2^53 (a corrupt value). */
export function readU64(buf: Buffer, offset: number): number {
  const hi = (buf[offset + 4] | (buf[offset + 5] << 8) | (buf[offset + 6] << 16) | (buf[offset + 7] << 24)) >>> 0;
  if (hi > MAX_SAFE_HIGH) return -1;
  return hi * TWO_32 + ((buf[offset] | (buf[offset + 1] << 8) | (buf[offset + 2] << 16) | (buf[offset + 3] << 24)) >>> 0);
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
