// The MANIFEST codec (docs/format.md "MANIFEST"): the documented optional
// fields are typed, unknown fields survive a rewrite.
import { describe, expect, it } from 'vitest';
import { MANIFEST_HEADER_BYTES } from '../../src/format/constants.js';
import { crc32 } from '../../src/format/bytes.js';
import { cloneManifest, decodeManifest, encodeManifest } from '../../src/format/manifest.js';

/** A manifest file with this JSON body, framed as format.md says. */
function manifestFile(body: Record<string, unknown>, version = 1): Buffer {
  const json = Buffer.from(JSON.stringify(body), 'utf8');
  const header = Buffer.alloc(MANIFEST_HEADER_BYTES);
  header.write('TZMF', 0, 4, 'latin1');
  header.writeUInt16LE(version, 4);
  header.writeUInt32LE(json.length, 8);
  header.writeUInt32LE(crc32(json), 12);
  return Buffer.concat([header, json]);
}

const BODY = {
  generation: 7,
  nextFile: 12,
  active: { file: 11, indexedTo: 48213 },
  segments: [
    { file: 1, size: 67108901 },
    { file: 11, size: null },
  ],
  runs: [{ file: 10, entries: 8123, minKey: 'a2V5OjE=', maxKey: 'a2V5Ojk=' }],
  counters: { puts: 100, deletes: 3, deadBytes: 0, expiredDropped: 0 },
  created: '2026-11-22T03:00:00.000Z',
  lastCompaction: null,
};

const MARK = {
  leader: '/abs/leader',
  leaderId: '0123456789abcdef',
  generation: 7,
  replicatedAt: '2026-11-22T03:00:00.000Z',
  activeEnd: 48213,
  files: { '00000001.tzds': '67108901:42:1.5' },
};

describe('manifest codec', () => {
  it('reads storeId and follower as typed fields, and writes them back', () => {
    const m = decodeManifest(manifestFile({ ...BODY, storeId: 'feedface00112233', follower: MARK }));
    expect(m.storeId).toBe('feedface00112233');
    expect(m.follower).toEqual(MARK);
    expect(m.extra).toEqual({});
    const again = decodeManifest(encodeManifest(m));
    expect(again.storeId).toBe('feedface00112233');
    expect(again.follower).toEqual(MARK);
  });

  it('reads a store without them (older than store ids, not a follower) as null, and writes neither', () => {
    const m = decodeManifest(manifestFile(BODY));
    expect(m.storeId).toBeNull();
    expect(m.follower).toBeNull();
    const body = JSON.parse(encodeManifest(m).subarray(MANIFEST_HEADER_BYTES).toString('utf8'));
    expect(body).not.toHaveProperty('storeId');
    expect(body).not.toHaveProperty('follower');
  });

  it('keeps a follower whose mark is malformed a follower, with empty values', () => {
    const m = decodeManifest(manifestFile({ ...BODY, follower: { leader: 42, activeEnd: -1, files: { a: 1, b: 'x' } } }));
    expect(m.follower).toEqual({ leader: '', leaderId: '', generation: 0, replicatedAt: '', files: { b: 'x' } });
  });

  it('preserves unknown fields on rewrite', () => {
    const m = decodeManifest(manifestFile({ ...BODY, storeId: 'ab', futureField: { nested: [1, 2] } }));
    expect(m.extra).toEqual({ futureField: { nested: [1, 2] } });
    const body = JSON.parse(encodeManifest(m).subarray(MANIFEST_HEADER_BYTES).toString('utf8'));
    expect(body.futureField).toEqual({ nested: [1, 2] });
    expect(body.storeId).toBe('ab');
  });

  it('clones deeply: editing the copy leaves the follower mark of the original alone', () => {
    const m = decodeManifest(manifestFile({ ...BODY, follower: MARK }));
    const copy = cloneManifest(m);
    copy.follower!.files!['00000001.tzds'] = 'changed';
    copy.follower!.generation = 8;
    expect(m.follower).toEqual(MARK);
  });

  it('writes version 1 for a plain store and version 2 exactly when it is encrypted or compressed', () => {
    const plain = decodeManifest(manifestFile(BODY));
    expect({ encryption: plain.encryption, compression: plain.compression }).toEqual({ encryption: null, compression: null });
    expect(encodeManifest(plain).readUInt16LE(4)).toBe(1);
    expect(JSON.parse(encodeManifest(plain).subarray(MANIFEST_HEADER_BYTES).toString('utf8'))).not.toHaveProperty('encryption');
    const settings = [
      { encryption: { cipher: 'aes-256-gcm' as const }, compression: null },
      { encryption: null, compression: { algorithm: 'brotli' as const, minBytes: 256 } },
      { encryption: { cipher: 'aes-256-gcm' as const }, compression: { algorithm: 'deflate' as const, minBytes: 100 } },
    ];
    for (const v2 of settings) {
      const bytes = encodeManifest({ ...plain, ...v2, segments: plain.segments.map((s) => ({ ...s, key: 1 })), runs: plain.runs.map((r) => ({ ...r, key: 1 })) });
      expect(bytes.readUInt16LE(4)).toBe(2);
      const again = decodeManifest(bytes);
      expect({ encryption: again.encryption, compression: again.compression }).toEqual(v2);
      expect(again.segments.map((s) => s.key)).toEqual([1, 1]);
      expect(again.runs.map((r) => r.key)).toEqual([1]);
      expect(again.extra).toEqual({});
    }
  });

  it('refuses a version 2 manifest naming a cipher or compression it does not know as from a newer tzkv', () => {
    for (const field of [{ encryption: { cipher: 'chacha20-poly1305' } }, { compression: { algorithm: 'zstd', minBytes: 256 } }]) {
      expect(() => decodeManifest(manifestFile({ ...BODY, ...field }, 2))).toThrow(expect.objectContaining({ newerVersion: true, message: expect.stringMatching(/is not one this tzkv knows/) }));
    }
    expect(() => decodeManifest(manifestFile(BODY, 3))).toThrow(/format version 3 is newer than this tzkv understands \(2\)/);
  });

  it("keeps a segment's pending bytes (docs/format.md \"MANIFEST, version 2\") across a rewrite, and reads a malformed or zero count as none", () => {
    const compression = { algorithm: 'brotli', minBytes: 128 };
    const segments = [
      { file: 1, size: 67108901, pending: 5_000_000 },
      { file: 5, size: 1000, pending: -3 },
      { file: 7, size: 1000, pending: 0 },
      { file: 11, size: null, pending: 'lots' },
    ];
    const m = decodeManifest(manifestFile({ ...BODY, compression, segments }, 2));
    expect(m.segments).toEqual([{ file: 1, size: 67108901, pending: 5_000_000 }, { file: 5, size: 1000 }, { file: 7, size: 1000 }, { file: 11, size: null }]);
    expect(decodeManifest(encodeManifest(m)).segments).toEqual(m.segments);
    expect(cloneManifest(m).segments).toEqual(m.segments);
  });

  it('takes a header version that disagrees with the body for damage (the CRC covers only the body)', () => {
    const encrypted = { ...BODY, encryption: { cipher: 'aes-256-gcm' } };
    expect(() => decodeManifest(manifestFile(encrypted, 1))).toThrow(expect.objectContaining({ newerVersion: false, message: 'manifest header says version 1, its body is encrypted or compressed' }));
    expect(() => decodeManifest(manifestFile(BODY, 2))).toThrow('manifest header says version 2, its body is neither encrypted nor compressed');
  });
});
