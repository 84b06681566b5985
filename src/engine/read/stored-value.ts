// A PUT's value as stored, made the value a reader gets (docs/format.md
// "Records, version 2": flags bits 1–2 say how it is compressed). The one
// place readers of values turn stored bytes into values.
import { FLAG_COMPRESSION_MASK } from '../../format/constants.js';
import type { TzkvError } from '../../errors.js';

/**
 * The value of a PUT whose flags are `flags` and stored value `stored`.
 * `damaged` makes the CORRUPT error naming the record.
 * Compression (src/format/compression.ts decompressValue) is built on branch
 * compress: until it lands, a compressed value is refused here, the one call site.
 */
export function storedValue(flags: number, stored: Buffer, damaged: (reason: string) => TzkvError): Buffer {
  if ((flags & FLAG_COMPRESSION_MASK) === 0) return stored;
  throw damaged(`the value is compressed (flags 0x${flags.toString(16)}), which this build does not read yet`);
}
