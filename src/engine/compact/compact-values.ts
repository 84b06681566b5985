// What a compressed store's compaction does to the values it copies
// (docs/design.md "Compression"): a value stored uncompressed (record flags
// bits 1–2 zero) is compressed with the store's setting, by the same rule a
// put follows (format/compression.ts: minBytes, saves at least 1/8). This is
// where a bulk import's deferred values (put-value.ts) get compressed: only
// those of segments the MANIFEST counts as `pending`. A value stored
// uncompressed anywhere else was tried at its put and did not pay; trying it
// again at every compaction would cost a store of incompressible values a
// compression call per value each time, for nothing.
import { FLAG_COMPRESSION_MASK, KIND_PUT, RECORD_HEADER_BYTES } from '../../format/constants.js';
import { compressValue } from '../../format/compression.js';
import { type RecordInfo, writeRecord } from '../../format/record.js';
import type { CompressionSetting } from '../../format/store-codec.js';

/** The values a compaction kept, as stored and uncompressed, and the record bytes it saved by compressing some itself. */
export class KeptValues {
  stored = 0;
  raw = 0;
  savedBytes = 0;

  constructor(private readonly setting: CompressionSetting) {}

  /**
   * The record to write for the kept PUT `record` (decoded into `info`, its
   * body plain): a new record with the value compressed, when it is stored
   * uncompressed in a segment whose values an import `deferred` and
   * compressing it pays; else `record` itself. A new record's CRC is of its
   * plain bytes (an encrypted store's group builder sets it anew). Counts the
   * value either way.
   */
  compact(record: Buffer, info: RecordInfo, deferred: boolean): Buffer {
    const valueAt = RECORD_HEADER_BYTES + info.keyLength;
    if ((info.flags & FLAG_COMPRESSION_MASK) !== 0) {
      // A compressed value starts with its uncompressed length (docs/format.md "Records, version 2").
      this.stored += info.valueLength;
      this.raw += record.readUInt32LE(valueAt);
      return record;
    }
    this.raw += info.valueLength;
    const c = deferred ? compressValue(record.subarray(valueAt, valueAt + info.valueLength), this.setting) : undefined;
    if (c === undefined) {
      this.stored += info.valueLength;
      return record;
    }
    this.stored += c.stored.length;
    const out = Buffer.allocUnsafe(valueAt + c.stored.length);
    writeRecord(out, 0, KIND_PUT, info.flags | c.flags, record.subarray(RECORD_HEADER_BYTES, valueAt), c.stored, info.expiresAt);
    this.savedBytes += record.length - out.length;
    return out;
  }
}
