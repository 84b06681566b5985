// A PUT's value as a store writes it (docs/format.md "Records, version 2"):
// in a compressed store, compressed when that pays (flags bits 1–2 say how),
// else as it is. The one place the writer decides it; src/engine/read/
// stored-value.ts is the one place readers undo it.
import type { StoreCodec } from '../../format/store-codec.js';

/**
 * The record flags and stored bytes of `value` in a store with `codec`.
 * Compression itself (src/format/compression.ts compressValue) is built on
 * branch compress: until it lands, every value is stored as it is (flags 0),
 * which every reader of a compressed store accepts.
 */
export function putValue(_codec: StoreCodec, value: Buffer): { flags: number; stored: Buffer } {
  return { flags: 0, stored: value }; // with _codec.compression: compressValue's flags and bytes, when it gives any
}
