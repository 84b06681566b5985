// A PUT value's compression (docs/format.md "Records, version 2"): which
// values are compressed, how, and how a stored value is read back. Pure:
// Buffers in, Buffers out; each value is compressed alone, in one
// synchronous call, so any record can be read without its neighbours.
//
// Why brotli at quality 5 and deflate at level 6 (and not zstd or lz4), and
// the default threshold (store-codec.ts DEFAULT_COMPRESSION*):
// docs/benchmarks.md "Compression: choosing the algorithm".
import { brotliCompressSync, brotliDecompressSync, constants, deflateRawSync, inflateRawSync } from 'node:zlib';
import { COMPRESSED_LENGTH_BYTES, COMPRESSION_MASK, COMPRESSION_SHIFT, FLAG_BROTLI, FLAG_DEFLATE, MAX_VALUE_BYTES } from './constants.js';
import type { CompressionAlgorithm, CompressionSetting } from './store-codec.js';

/** The encoder settings; a reader needs neither (both formats are self-describing). */
const BROTLI_QUALITY = 5;
const DEFLATE_LEVEL = 6;

const FLAGS: Record<CompressionAlgorithm, number> = { deflate: FLAG_DEFLATE, brotli: FLAG_BROTLI };

function compressBytes(value: Uint8Array, algorithm: CompressionAlgorithm): Buffer {
  if (algorithm === 'deflate') return deflateRawSync(value, { level: DEFLATE_LEVEL });
  return brotliCompressSync(value, {
    params: {
      [constants.BROTLI_PARAM_QUALITY]: BROTLI_QUALITY,
      [constants.BROTLI_PARAM_SIZE_HINT]: value.length,
      [constants.BROTLI_PARAM_MODE]: constants.BROTLI_MODE_TEXT,
    },
  });
}

/**
 * The value as a compressed store writes it: the record's compression flag
 * bits and the stored bytes (u32 uncompressed length ‖ compressed bytes), or
 * undefined when it is stored as it is: shorter than `setting.minBytes`, or
 * compressing it would not save at least 1/8 of its length (length prefix
 * included). REQUIRES: value.length ≤ MAX_VALUE_BYTES (checked by the caller).
 * The caller ORs `flags` into the record's flags.
 */
export function compressValue(value: Uint8Array, setting: CompressionSetting): { flags: number; stored: Buffer } | undefined {
  if (value.length < setting.minBytes) return undefined;
  const compressed = compressBytes(value, setting.algorithm);
  const storedLength = COMPRESSED_LENGTH_BYTES + compressed.length;
  if (storedLength * 8 > value.length * 7) return undefined;
  const stored = Buffer.allocUnsafe(storedLength);
  stored.writeUInt32LE(value.length, 0);
  compressed.copy(stored, COMPRESSED_LENGTH_BYTES);
  return { flags: FLAGS[setting.algorithm], stored };
}

/**
 * A stored value that does not decompress as its record says: the engine
 * makes it a CORRUPT TzkvError naming the record (format/ imports nothing of
 * ours). `reason` says what is wrong without `where`.
 */
export class DamagedValueError extends Error {
  constructor(
    /** The record it is about, as the caller named it. */
    readonly where: string,
    readonly reason: string,
    options?: { cause: unknown },
  ) {
    super(`${where}: compressed value ${reason}`, options);
  }
}

/** The record flags' compression code (0 none, 1 deflate, 2 brotli, 3 reserved). */
export function compressionCode(flags: number): number {
  return (flags & COMPRESSION_MASK) >> COMPRESSION_SHIFT;
}

/**
 * The value a record holds, given its stored value bytes and its flags: the
 * bytes themselves (the same Buffer) when the flags say uncompressed,
 * otherwise the decompressed value. Never produces more than the declared
 * length (at most 256 MiB), so a damaged or hostile record cannot make a
 * read allocate more than it says. Throws DamagedValueError naming `where`
 * (the record's file and offset, or key) when the code is the reserved 3, the
 * stored bytes are shorter than the length prefix, the declared length is
 * over 256 MiB, decompression fails, leaves bytes unread, or yields another
 * length than declared.
 */
export function decompressValue(stored: Buffer, flags: number, where: string): Buffer {
  const code = compressionCode(flags);
  if (code === 0) return stored;
  const corrupt = (why: string, cause?: unknown) => new DamagedValueError(where, why, cause === undefined ? undefined : { cause });
  if (code !== 1 && code !== 2) throw corrupt(`has the reserved compression code ${code}`);
  if (stored.length < COMPRESSED_LENGTH_BYTES) throw corrupt(`is ${stored.length} bytes, shorter than its ${COMPRESSED_LENGTH_BYTES}-byte length`);
  const declared = stored.readUInt32LE(0);
  if (declared > MAX_VALUE_BYTES) throw corrupt(`declares ${declared} bytes, over the ${MAX_VALUE_BYTES}-byte limit`);
  const input = stored.subarray(COMPRESSED_LENGTH_BYTES);
  // maxOutputLength stops decompression once it passes the declared length; it must be ≥ 1.
  const options = { maxOutputLength: Math.max(1, declared), info: true as const };
  let result: { buffer: Buffer; engine: { bytesWritten: number } };
  try {
    result = (code === 1 ? inflateRawSync(input, options) : brotliDecompressSync(input, options)) as unknown as typeof result;
  } catch (error) {
    const reason = (error as NodeJS.ErrnoException).code === 'ERR_BUFFER_TOO_LARGE' ? `decompresses to more than its declared ${declared} bytes` : `does not decompress (${(error as Error).message})`;
    throw corrupt(reason, error);
  }
  if (result.engine.bytesWritten !== input.length) throw corrupt(`has ${input.length - result.engine.bytesWritten} bytes after its end`);
  if (result.buffer.length !== declared) throw corrupt(`decompresses to ${result.buffer.length} bytes, not its declared ${declared}`);
  return result.buffer;
}
