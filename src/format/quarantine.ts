// The quarantine file `verify --repair` moves unreadable bytes into
// (docs/format.md "Quarantine"). Pure encode/decode.
import { crc32, readU64, writeU64 } from './bytes.js';

const MAGIC_QUARANTINE = 'TZQR';
export const QUARANTINE_HEADER_BYTES = 16;

/** One moved range: `bytes` were at `offset` of store file `file`. */
export interface QuarantinedRange {
  file: string;
  offset: number;
  bytes: Buffer;
}

export function encodeQuarantineHeader(count: number): Buffer {
  const h = Buffer.alloc(QUARANTINE_HEADER_BYTES);
  h.write(MAGIC_QUARANTINE, 0, 4, 'latin1');
  h.writeUInt16LE(1, 4);
  h.writeUInt16LE(0, 6);
  h.writeUInt32LE(count, 8);
  h.writeUInt32LE(crc32(h, 0, 12), 12);
  return h;
}

/** The bytes of one entry: u16 name length, name, u64 offset, u64 length, the bytes, CRC of all before it. */
export function encodeQuarantineEntry(r: QuarantinedRange): Buffer[] {
  const name = Buffer.from(r.file, 'latin1');
  const head = Buffer.alloc(2 + name.length + 16);
  head.writeUInt16LE(name.length, 0);
  name.copy(head, 2);
  writeU64(head, r.offset, 2 + name.length);
  writeU64(head, r.bytes.length, 10 + name.length);
  const crc = Buffer.alloc(4);
  crc.writeUInt32LE(crc32(r.bytes, 0, r.bytes.length, crc32(head)), 0);
  return [head, r.bytes, crc];
}

/** Decodes a whole quarantine file; throws an Error naming what is wrong. */
export function decodeQuarantine(buf: Buffer): QuarantinedRange[] {
  if (buf.length < QUARANTINE_HEADER_BYTES || buf.toString('latin1', 0, 4) !== MAGIC_QUARANTINE) throw new Error('not a quarantine file');
  if (crc32(buf, 0, 12) !== buf.readUInt32LE(12)) throw new Error('quarantine header CRC mismatch');
  const count = buf.readUInt32LE(8);
  const out: QuarantinedRange[] = [];
  let p = QUARANTINE_HEADER_BYTES;
  for (let i = 0; i < count; i++) {
    if (p + 2 > buf.length) throw new Error('quarantine entry truncated');
    const n = buf.readUInt16LE(p);
    if (p + 2 + n + 16 > buf.length) throw new Error('quarantine entry truncated');
    const offset = readU64(buf, p + 2 + n);
    const length = readU64(buf, p + 10 + n);
    const start = p + 18 + n;
    if (offset < 0 || length < 0 || start + length + 4 > buf.length) throw new Error('quarantine entry truncated');
    if (crc32(buf, p, start + length) !== buf.readUInt32LE(start + length)) throw new Error('quarantine entry CRC mismatch');
    out.push({ file: buf.toString('latin1', p + 2, p + 2 + n), offset, bytes: buf.subarray(start, start + length) });
    p = start + length + 4;
  }
  if (p !== buf.length) throw new Error('quarantine file has trailing bytes');
  return out;
}
