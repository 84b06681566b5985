import { randomBytes } from 'node:crypto';
import { brotliCompressSync, constants, deflateRawSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { DamagedValueError, compressValue, compressionCode, decompressValue } from '../../src/format/compression.js';
import { COMPRESSION_MASK, FLAG_BATCH, FLAG_BROTLI, FLAG_DEFLATE, MAX_VALUE_BYTES } from '../../src/format/constants.js';
import { DEFAULT_COMPRESSION_MIN_BYTES } from '../../src/format/store-codec.js';
import type { CompressionAlgorithm, CompressionSetting } from '../../src/format/store-codec.js';

const ALGORITHMS: CompressionAlgorithm[] = ['deflate', 'brotli'];
const FLAG: Record<CompressionAlgorithm, number> = { deflate: FLAG_DEFLATE, brotli: FLAG_BROTLI };

/** JSON-like text of about n bytes: compresses well, but not to nothing. */
function jsonOf(n: number): Buffer {
  const parts: string[] = [];
  let length = 0;
  for (let i = 0; length < n; i++) {
    const part = JSON.stringify({ id: i * 7919, name: `user-${(i * 104729) % 9973}`, active: i % 3 === 0, at: new Date(1_767_225_600_000 + i * 61_000).toISOString() });
    parts.push(part);
    length += part.length + 1;
  }
  return Buffer.from(parts.join(',')).subarray(0, n);
}

function withLength(length: number, compressed: Buffer): Buffer {
  const stored = Buffer.alloc(4 + compressed.length);
  stored.writeUInt32LE(length, 0);
  compressed.copy(stored, 4);
  return stored;
}

const WHERE = 'seg-000007.tzds offset 4096';

function corruptMessage(fn: () => unknown): string {
  try {
    fn();
  } catch (error) {
    expect(error).toBeInstanceOf(DamagedValueError);
    const damaged = error as DamagedValueError;
    expect(damaged.where).toBe(WHERE);
    expect(damaged.message).toBe(`${WHERE}: compressed value ${damaged.reason}`);
    return damaged.reason;
  }
  throw new Error('expected CORRUPT');
}

describe('value compression', () => {
  it.each(ALGORITHMS)('round-trips %s values of every size, setting only its own flag bits', (algorithm) => {
    const setting: CompressionSetting = { algorithm, minBytes: 0 };
    for (const n of [0, 1, 7, 64, 200, 1000, 4096, 65_537, 1_000_000]) {
      const value = jsonOf(n);
      const result = compressValue(value, setting);
      if (result === undefined) {
        expect(n).toBeLessThan(200); // too short to save 1/8
        continue;
      }
      expect(result.flags).toBe(FLAG[algorithm]);
      expect(result.flags & ~COMPRESSION_MASK).toBe(0);
      expect(result.stored.readUInt32LE(0)).toBe(n);
      expect(result.stored.length).toBeLessThan(n);
      expect(decompressValue(result.stored, result.flags, WHERE).equals(value)).toBe(true);
      // Other flag bits (a batch's) do not change how the value reads.
      expect(decompressValue(result.stored, result.flags | FLAG_BATCH, WHERE).equals(value)).toBe(true);
    }
  });

  it('round-trips binary values that compress (runs of bytes between random ones)', () => {
    const value = Buffer.concat(Array.from({ length: 64 }, (_, i) => Buffer.concat([randomBytes(16), Buffer.alloc(48, i)])));
    for (const algorithm of ALGORITHMS) {
      const result = compressValue(value, { algorithm, minBytes: 0 })!;
      expect(decompressValue(result.stored, result.flags, WHERE).equals(value)).toBe(true);
    }
  });

  it('stores a value as it is unless compressing saves at least 1/8 of its length, length prefix included', () => {
    for (const algorithm of ALGORITHMS) {
      expect(compressValue(randomBytes(4096), { algorithm, minBytes: 0 })).toBeUndefined();
      // Random bytes with a compressible tail of growing length: the saving crosses 1/8.
      const base = randomBytes(3000);
      const outcomes = new Set<boolean>();
      for (let tail = 0; tail <= 1200; tail += 8) {
        const value = Buffer.concat([base, Buffer.alloc(tail, 0x62)]);
        const result = compressValue(value, { algorithm, minBytes: 0 });
        outcomes.add(result !== undefined);
        if (result !== undefined) expect(result.stored.length * 8).toBeLessThanOrEqual(value.length * 7);
        if (algorithm === 'deflate') {
          // The rule exactly, against deflate at the level the store writes with.
          const stored = 4 + deflateRawSync(value, { level: 6 }).length;
          expect(result !== undefined).toBe(stored * 8 <= value.length * 7);
        }
      }
      expect([...outcomes].sort()).toEqual([false, true]);
    }
  });

  it('leaves values shorter than minBytes alone, and compresses from minBytes on', () => {
    const value = jsonOf(1000);
    for (const algorithm of ALGORITHMS) {
      expect(compressValue(value, { algorithm, minBytes: 1001 })).toBeUndefined();
      expect(compressValue(value, { algorithm, minBytes: 1000 })).toBeDefined();
      const setting = { algorithm, minBytes: DEFAULT_COMPRESSION_MIN_BYTES };
      expect(compressValue(value.subarray(0, setting.minBytes - 1), setting)).toBeUndefined();
      expect(compressValue(value.subarray(0, setting.minBytes), setting)).toBeDefined();
    }
  });

  it('returns an uncompressed value as the same bytes', () => {
    const stored = Buffer.from('plain');
    expect(decompressValue(stored, 0, WHERE)).toBe(stored);
    expect(decompressValue(stored, FLAG_BATCH, WHERE)).toBe(stored);
    expect(compressionCode(FLAG_BATCH)).toBe(0);
    expect([compressionCode(FLAG_DEFLATE), compressionCode(FLAG_BROTLI), compressionCode(COMPRESSION_MASK)]).toEqual([1, 2, 3]);
  });
});

describe('reading damaged compressed values (DamagedValueError, which the engine makes CORRUPT)', () => {
  const value = jsonOf(5000);

  it.each(ALGORITHMS)('rejects truncated and flipped %s bytes, naming where', (algorithm) => {
    const { stored, flags } = compressValue(value, { algorithm, minBytes: 0 })!;
    expect(corruptMessage(() => decompressValue(stored.subarray(0, 3), flags, WHERE))).toMatch(/shorter than its 4-byte length/);
    expect(corruptMessage(() => decompressValue(stored.subarray(0, 4), flags, WHERE))).toMatch(/does not decompress/);
    expect(corruptMessage(() => decompressValue(stored.subarray(0, stored.length - 5), flags, WHERE))).toMatch(/does not decompress|decompresses to/);
    // Garbage where the compressed bytes should be.
    const garbage = withLength(value.length, Buffer.alloc(200, 0xff));
    expect(corruptMessage(() => decompressValue(garbage, flags, WHERE))).toMatch(/does not decompress/);
    // Bytes after the end of the compressed stream.
    const trailing = Buffer.concat([stored, Buffer.from('tail')]);
    expect(corruptMessage(() => decompressValue(trailing, flags, WHERE))).toMatch(/4 bytes after its end/);
  });

  it.each(ALGORITHMS)('rejects a %s value whose declared length lies, either way', (algorithm) => {
    const { stored, flags } = compressValue(value, { algorithm, minBytes: 0 })!;
    const lying = (length: number) => {
      const copy = Buffer.from(stored);
      copy.writeUInt32LE(length, 0);
      return copy;
    };
    expect(corruptMessage(() => decompressValue(lying(value.length - 1), flags, WHERE))).toMatch(/more than its declared 4999 bytes/);
    expect(corruptMessage(() => decompressValue(lying(value.length + 1), flags, WHERE))).toMatch(/decompresses to 5000 bytes, not its declared 5001/);
    expect(corruptMessage(() => decompressValue(lying(0), flags, WHERE))).toMatch(/more than its declared 0 bytes/);
    expect(corruptMessage(() => decompressValue(lying(MAX_VALUE_BYTES + 1), flags, WHERE))).toMatch(/over the 268435456-byte limit/);
    expect(corruptMessage(() => decompressValue(lying(0xffffffff), flags, WHERE))).toMatch(/over the 268435456-byte limit/);
  });

  it.each(ALGORITHMS)('stops a %s decompression bomb at the declared length', (algorithm) => {
    // 64 MiB of zeros compress to a few KiB; declared as 1000 bytes it must fail without producing them.
    const zeros = Buffer.alloc(64 * 1024 * 1024);
    const bomb = withLength(1000, algorithm === 'deflate' ? deflateRawSync(zeros, { level: 1 }) : brotliCompressSync(zeros, { params: { [constants.BROTLI_PARAM_QUALITY]: 1 } }));
    const before = process.memoryUsage().arrayBuffers;
    expect(corruptMessage(() => decompressValue(bomb, FLAG[algorithm], WHERE))).toMatch(/more than its declared 1000 bytes/);
    expect(process.memoryUsage().arrayBuffers - before).toBeLessThan(8 * 1024 * 1024);
  });

  it('rejects the reserved compression code 3', () => {
    const { stored } = compressValue(value, { algorithm: 'deflate', minBytes: 0 })!;
    expect(corruptMessage(() => decompressValue(stored, COMPRESSION_MASK, WHERE))).toMatch(/reserved compression code 3/);
  });
});
