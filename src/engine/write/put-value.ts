// A PUT's value as a store writes it (docs/format.md "Records, version 2"):
// in a compressed store, compressed when that pays (flags bits 1–2 say how),
// else as it is. The one place the writer decides it; src/engine/read/
// stored-value.ts is the one place readers undo it. Compress, then encrypt:
// the group is sealed over the stored (compressed) bytes.
import { compressValue } from '../../format/compression.js';
import type { StoreCodec } from '../../format/store-codec.js';

/** The record flags (to OR into the record's) and stored bytes of `value` in a store with `codec`. REQUIRES: value within MAX_VALUE_BYTES. */
export function putValue(codec: StoreCodec, value: Buffer): { flags: number; stored: Buffer } {
  const compressed = codec.compression === undefined ? undefined : compressValue(value, codec.compression);
  return compressed ?? { flags: 0, stored: value };
}
