// What a compressed store's compaction does to a value it copies
// (engine/compact/compact-values.ts): it compresses an uncompressed value only
// when the value's segment is one an import deferred compression in (MANIFEST
// `pending`); one stored uncompressed elsewhere was tried at its put and is
// copied as it is, so a store of incompressible values pays no compression
// call per value at every compaction.
import { describe, expect, it } from 'vitest';
import { FLAG_COMPRESSION_MASK, KIND_PUT } from '../../src/format/constants.js';
import { RECORD_OK, RecordInfo, decodeRecord, encodeRecord } from '../../src/format/record.js';
import { KeptValues } from '../../src/engine/compact/compact-values.js';

const SETTING = { algorithm: 'brotli', minBytes: 128 } as const;
const compressible = Buffer.from(JSON.stringify(Array.from({ length: 100 }, (_, i) => ({ id: i, name: 'item', tags: ['a', 'b'] }))));

function decoded(record: Buffer): RecordInfo {
  const info = new RecordInfo();
  expect(decodeRecord(record, 0, record.length, info, true, true)).toBe(RECORD_OK);
  return info;
}

describe('KeptValues.compact', () => {
  it("compresses an uncompressed value of a deferred (pending) segment, and counts it", () => {
    const record = encodeRecord(KIND_PUT, 0, Buffer.from('k'), compressible, 0);
    const kept = new KeptValues(SETTING);
    const out = kept.compact(record, decoded(record), true);
    expect(out.length).toBeLessThan(record.length / 2);
    expect(decoded(out).flags & FLAG_COMPRESSION_MASK).not.toBe(0);
    expect(kept.raw).toBe(compressible.length);
    expect(kept.stored).toBeLessThan(compressible.length / 2);
    expect(kept.savedBytes).toBe(record.length - out.length);
  });

  it('copies an uncompressed value of any other segment as it is, and counts it', () => {
    const record = encodeRecord(KIND_PUT, 0, Buffer.from('k'), compressible, 0);
    const kept = new KeptValues(SETTING);
    expect(kept.compact(record, decoded(record), false)).toBe(record);
    expect({ raw: kept.raw, stored: kept.stored, savedBytes: kept.savedBytes }).toEqual({ raw: compressible.length, stored: compressible.length, savedBytes: 0 });
  });
});
