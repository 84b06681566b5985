// A PUT's value as a store writes it (docs/format.md "Records, version 2"):
// in a compressed store, compressed when that pays (flags bits 1–2 say how),
// else as it is. The one place the writer decides it; src/engine/read/
// stored-value.ts is the one place readers undo it. Compress, then encrypt:
// the group is sealed over the stored (compressed) bytes.
//
// A bulk import defers it (docs/design.md "Compression"): past
// INLINE_COMPRESSION_BYTES of values, a batch of packed puts stores the rest
// as they are, in a segment of its own whose manifest entry counts them as
// `pending`, and the next compaction compresses them (compact-values.ts).
import { compressValue } from '../../format/compression.js';
import type { StoreCodec } from '../../format/store-codec.js';

/**
 * Bytes of values a bulk import (packed puts) compresses inline before it
 * defers the rest to compaction: ~30 ms of brotli 5 on JSON, about what
 * starting the process costs, so an import of up to 1 MiB (a CI fixture of a
 * few hundred documents) ends up compressed without a compaction
 * (docs/benchmarks.md "Compressed import: compression deferred to compaction").
 */
export const INLINE_COMPRESSION_BYTES = 1 << 20;

/** The record flags (to OR into the record's) and stored bytes of `value` in a store with `codec`. REQUIRES: value within MAX_VALUE_BYTES. */
export function putValue(codec: StoreCodec, value: Buffer): { flags: number; stored: Buffer } {
  const compressed = codec.compression === undefined ? undefined : compressValue(value, codec.compression);
  return compressed ?? { flags: 0, stored: value };
}
