// The model's oracle for byte damage, independent of the engine's readers:
// the records of a store's segments read as docs/format.md lays them out
// ("Data segment": little-endian, 20-byte header), and what a key reads as
// once some of them are gone. Log order is manifest order, then offset: a
// compaction's output and a repair's rewrite keep it (docs/design.md).
import { readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { brotliDecompressSync, inflateRawSync } from 'node:zlib';
import { decodeManifest } from '../../src/format/manifest.js';
import type { Manifest } from '../../src/format/manifest.js';

export interface LoggedRecord {
  file: string;
  offset: number;
  length: number;
  /** 1 PUT, 2 DEL, 3 COMMIT. */
  kind: number;
  batch: boolean;
  key: string;
  value: string;
  /** 0: never. */
  expiresAt: number;
}

const SEGMENT_HEADER = 16;

export function readStoreManifest(dir: string): Manifest {
  return decodeManifest(readFileSync(join(dir, 'MANIFEST')));
}

/** Every record of the segments `m` lists (a sealed one up to its recorded size), in log order. REQUIRES: no damage. */
export function readLog(dir: string, m = readStoreManifest(dir)): LoggedRecord[] {
  const log: LoggedRecord[] = [];
  for (const s of m.segments) {
    const file = `${String(s.file).padStart(8, '0')}.tzds`;
    const bytes = readFileSync(join(dir, file));
    const end = s.size ?? statSync(join(dir, file)).size;
    for (let at = SEGMENT_HEADER; at < end; ) {
      const keyLength = bytes.readUInt16LE(at + 6);
      const valueLength = bytes.readUInt32LE(at + 8);
      const key = bytes.toString('utf8', at + 20, at + 20 + keyLength);
      const value = storedValue(bytes.subarray(at + 20 + keyLength, at + 20 + keyLength + valueLength), bytes[at + 5]).toString('utf8');
      const length = 20 + keyLength + valueLength;
      log.push({ file, offset: at, length, kind: bytes[at + 4], batch: (bytes[at + 5] & 1) !== 0, key, value, expiresAt: Number(bytes.readBigUInt64LE(at + 12)) });
      at += length;
    }
  }
  return log;
}

/**
 * A PUT's value as stored (docs/format.md "Records, version 2"): flags bits
 * 1-2 say its compression, 1 deflate (raw) or 2 brotli, over `u32 raw length
 * ‖ compressed bytes`. Decoded here with node:zlib, not the engine's codec.
 */
function storedValue(stored: Buffer, flags: number): Buffer {
  const compression = (flags >> 1) & 3;
  if (compression === 0) return stored;
  const compressed = stored.subarray(4);
  return compression === 1 ? inflateRawSync(compressed) : brotliDecompressSync(compressed);
}

/**
 * What damage to log[i] costs (docs/format.md "Reading past damage", rules 2
 * and 3): that record alone, or, when it belongs to a batch (a BATCH record or
 * the COMMIT closing them), the whole batch.
 */
export function lostWith(log: LoggedRecord[], i: number): LoggedRecord[] {
  const r = log[i];
  if (!r.batch && r.kind !== 3) return [r];
  let last = i;
  while (log[last].kind !== 3) last++;
  let first = last;
  while (first > 0 && log[first - 1].batch && log[first - 1].file === r.file) first--;
  return log.slice(first, last + 1);
}

/** The newest record of `key` in the log without `lost`: what the key reads as (a DEL or nothing: absent). */
export function newestOf(log: LoggedRecord[], key: string, lost: ReadonlySet<LoggedRecord> = new Set()): LoggedRecord | undefined {
  for (let i = log.length - 1; i >= 0; i--) {
    const r = log[i];
    if (r.kind !== 3 && r.key === key && !lost.has(r)) return r;
  }
  return undefined;
}
