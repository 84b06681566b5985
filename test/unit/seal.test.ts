// Sealing (docs/format.md "Format version 2"): groups of records, index blocks,
// bloom pages and small strings round-trip, and any change to what a tag covers
// is refused rather than decrypted.
import { createSecretKey, randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { crc32 } from '../../src/format/bytes.js';
import { FLAG_BATCH, KIND_COMMIT, KIND_DEL, KIND_PUT, KIND_SEAL, RECORD_HEADER_BYTES } from '../../src/format/constants.js';
import { RECORD_BAD, RECORD_OK, RecordInfo, decodeRecord, encodeCommit, encodeRecord } from '../../src/format/record.js';
import {
  SEALED_PAGE_STRIDE,
  SEAL_RECORD_BYTES,
  groupLength,
  groupTagHolds,
  openBlock,
  openBytes,
  openGroup,
  openPage,
  sealBlock,
  sealBytes,
  sealGroup,
  sealPage,
} from '../../src/format/seal.js';

const key = createSecretKey(randomBytes(32));
const otherKey = createSecretKey(randomBytes(32));

/** A group laid out as a writer does: room for the SEAL, then plain records. */
function layGroup(): { buf: Buffer; plain: Buffer } {
  const records = [
    encodeRecord(KIND_PUT, FLAG_BATCH, Buffer.from('canary-key'), Buffer.from('canary-value'), 0),
    encodeRecord(KIND_DEL, FLAG_BATCH, Buffer.from('gone'), null, 0),
    encodeCommit(2),
    encodeRecord(KIND_PUT, 0, Buffer.from('k2'), Buffer.alloc(300, 0x61), 4070908800000),
  ];
  const plain = Buffer.concat(records);
  return { buf: Buffer.concat([Buffer.alloc(SEAL_RECORD_BYTES), plain]), plain };
}

/** A copy of the records in b with their CRC fields zeroed. */
function withoutCrcs(b: Buffer): Buffer {
  const c = Buffer.from(b);
  for (let p = 0; p < c.length; ) {
    const info = new RecordInfo();
    decodeRecord(c, p, c.length, info, false);
    c.fill(0, p, p + 4);
    p += info.length;
  }
  return c;
}

function decodeAll(buf: Buffer, from: number, version2: boolean): number[] {
  const info = new RecordInfo();
  const kinds: number[] = [];
  for (let pos = from; pos < buf.length; pos += info.length) {
    expect(decodeRecord(buf, pos, buf.length, info, true, version2)).toBe(RECORD_OK);
    kinds.push(info.kind);
  }
  return kinds;
}

function recrc(buf: Buffer, pos: number, end: number): void {
  buf.writeUInt32LE(crc32(buf, pos + 4, end), pos);
}

describe('sealed groups', () => {
  it('encrypts the bodies in place, keeps headers and lengths, and every stored record passes its CRC', () => {
    const { buf, plain } = layGroup();
    sealGroup(buf, 0, buf.length, 16, key);
    expect(buf.includes('canary')).toBe(false);
    expect(buf.includes(Buffer.alloc(300, 0x61).subarray(0, 16))).toBe(false);
    expect(decodeAll(buf, 0, true)).toEqual([KIND_SEAL, KIND_PUT, KIND_DEL, KIND_COMMIT, KIND_PUT]);
    expect(groupLength(buf, 0)).toBe(plain.length);
    // Headers (bytes 4–19) and the COMMIT's count stay as written.
    for (let p = 0; p < plain.length; ) {
      const info = new RecordInfo();
      decodeRecord(plain, p, plain.length, info, false);
      expect(buf.subarray(SEAL_RECORD_BYTES + p + 4, SEAL_RECORD_BYTES + p + RECORD_HEADER_BYTES)).toEqual(plain.subarray(p + 4, p + RECORD_HEADER_BYTES));
      p += info.length;
    }
  });

  it('opens to the plain records, and a version 1 reader refuses the SEAL record', () => {
    const { buf, plain } = layGroup();
    sealGroup(buf, 0, buf.length, 16, key);
    const opened = openGroup(buf, 0, 16, key);
    expect(opened).not.toBeNull();
    // Bodies are back; CRC fields are those of the stored bytes.
    expect(withoutCrcs(opened!)).toEqual(withoutCrcs(plain));
    const info = new RecordInfo();
    expect(decodeRecord(buf, 0, buf.length, info, true, false)).toBe(RECORD_BAD);
  });

  it('refuses a changed body, a changed header (CRC fixed up), another offset, another key, a truncated group', () => {
    const { buf } = layGroup();
    sealGroup(buf, 0, buf.length, 16, key);
    const first = SEAL_RECORD_BYTES;
    const firstEnd = first + RECORD_HEADER_BYTES + 'canary-key'.length + 'canary-value'.length;

    const body = Buffer.from(buf);
    body[first + RECORD_HEADER_BYTES + 2] ^= 1;
    recrc(body, first, firstEnd);
    expect(openGroup(body, 0, 16, key)).toBeNull();

    const header = Buffer.from(buf);
    header[first + 12] ^= 1; // expiresAt
    recrc(header, first, firstEnd);
    expect(openGroup(header, 0, 16, key)).toBeNull();

    const commit = Buffer.from(buf);
    const commitPos = firstEnd + RECORD_HEADER_BYTES + 4;
    commit[commitPos + RECORD_HEADER_BYTES] = 3; // the count 2 -> 3
    expect(openGroup(commit, 0, 16, key)).toBeNull();

    expect(openGroup(buf, 0, 17, key)).toBeNull();
    expect(openGroup(buf, 0, 16, otherKey)).toBeNull();
    expect(openGroup(buf.subarray(0, buf.length - 1), 0, 16, key)).toBeNull();
  });

  it('checks a tag without opening: groupTagHolds says what openGroup would, and changes no byte', () => {
    const { buf } = layGroup();
    sealGroup(buf, 0, buf.length, 16, key);
    const stored = Buffer.from(buf);
    expect(groupTagHolds(buf, 0, 16, key)).toBe(true);
    expect(buf.equals(stored)).toBe(true);
    const first = SEAL_RECORD_BYTES;
    const firstEnd = first + RECORD_HEADER_BYTES + 'canary-key'.length + 'canary-value'.length;
    // A flipped ciphertext byte, its CRC fixed up.
    const body = Buffer.from(buf);
    body[firstEnd - 1] ^= 0x40;
    recrc(body, first, firstEnd);
    expect(openGroup(body, 0, 16, key)).toBeNull();
    expect(groupTagHolds(body, 0, 16, key)).toBe(false);
    const header = Buffer.from(buf);
    header[first + 12] ^= 1;
    recrc(header, first, firstEnd);
    expect(groupTagHolds(header, 0, 16, key)).toBe(false);
    expect(groupTagHolds(buf, 0, 17, key)).toBe(false);
    expect(groupTagHolds(buf, 0, 16, otherKey)).toBe(false);
    expect(groupTagHolds(buf.subarray(0, buf.length - 1), 0, 16, key)).toBe(false);
  });

  it('seals from bodies laid out apart (as a batch lays them out): the bodies in the group need not be written, and it opens to the plain records', () => {
    const { buf, plain } = layGroup();
    // The PUT and DEL bodies, back to back, as batch.ts lays them out; then the group's bodies scrambled: they are never read.
    const bodies: Buffer[] = [];
    for (let p = 0; p < plain.length; ) {
      const info = new RecordInfo();
      decodeRecord(plain, p, plain.length, info, false);
      const kind = plain[p + 4];
      if (kind === KIND_PUT || kind === KIND_DEL) {
        bodies.push(plain.subarray(p + RECORD_HEADER_BYTES, p + info.length));
        buf.fill(0xee, SEAL_RECORD_BYTES + p + RECORD_HEADER_BYTES, SEAL_RECORD_BYTES + p + info.length);
      }
      p += info.length;
    }
    sealGroup(buf, 0, buf.length, 16, key, Buffer.concat(bodies));
    expect(decodeAll(buf, 0, true)).toEqual([KIND_SEAL, KIND_PUT, KIND_DEL, KIND_COMMIT, KIND_PUT]);
    expect(withoutCrcs(openGroup(buf, 0, 16, key)!)).toEqual(withoutCrcs(plain));
    // Bodies that are not the group's, byte for byte in length, are refused before anything is written.
    const again = layGroup().buf;
    const before = Buffer.from(again);
    expect(() => sealGroup(again, 0, again.length, 16, key, Buffer.concat(bodies).subarray(1))).toThrow(/not whole records/);
    expect(again).toEqual(before);
  });

  it('uses a fresh nonce for every seal: the same records seal to different bytes', () => {
    const a = layGroup().buf;
    const b = layGroup().buf;
    sealGroup(a, 0, a.length, 16, key);
    sealGroup(b, 0, b.length, 16, key);
    expect(a.equals(b)).toBe(false);
  });
});

describe('sealed blocks, pages and bytes', () => {
  it('round-trips an index block and refuses it moved or changed', () => {
    const entries = Buffer.from('sorted entries with key:secret');
    const L = 8 + 12 + entries.length + 16 + 4;
    const block = Buffer.alloc(L);
    block[0] = 1;
    block.writeUInt16LE(1, 2);
    block.writeUInt32LE(L, 4);
    entries.copy(block, 20);
    sealBlock(block, 4096, key);
    expect(block.includes('secret')).toBe(false);
    expect(crc32(block, 0, L - 4)).toBe(block.readUInt32LE(L - 4));
    expect(openBlock(block, 4096, key)).toEqual(entries);
    expect(openBlock(block, 8192, key)).toBeNull();
    const changed = Buffer.from(block);
    changed[2] ^= 1; // the entry count
    expect(openBlock(changed, 4096, key)).toBeNull();
  });

  it('round-trips a bloom page by its index', () => {
    const page = randomBytes(4096);
    const out = Buffer.alloc(SEALED_PAGE_STRIDE * 2);
    sealPage(page, 1, key, out, SEALED_PAGE_STRIDE);
    const stored = out.subarray(SEALED_PAGE_STRIDE);
    expect(crc32(stored, 0, SEALED_PAGE_STRIDE - 4)).toBe(stored.readUInt32LE(SEALED_PAGE_STRIDE - 4));
    expect(openPage(stored, 1, key)).toEqual(page);
    expect(openPage(stored, 0, key)).toBeNull();
  });

  it('seals small strings with their additional data', () => {
    const sealed = sealBytes(Buffer.from('user:0001'), Buffer.from('min'), key);
    expect(sealed.includes('user')).toBe(false);
    expect(openBytes(sealed, Buffer.from('min'), key)?.toString()).toBe('user:0001');
    expect(openBytes(sealed, Buffer.from('max'), key)).toBeNull();
    expect(openBytes(sealed.subarray(0, 10), Buffer.from('min'), key)).toBeNull();
  });
});

describe('record flags, version 2', () => {
  it('accepts compression codes 1 and 2 on a PUT in a version 2 segment only', () => {
    const info = new RecordInfo();
    for (const [flags, kind, v2, ok] of [
      [0x02, KIND_PUT, true, true],
      [0x04 | FLAG_BATCH, KIND_PUT, true, true],
      [0x06, KIND_PUT, true, false],
      [0x02, KIND_PUT, false, false],
      [0x02, KIND_DEL, true, false],
      [0x08, KIND_PUT, true, false],
    ] as const) {
      const rec = encodeRecord(kind, flags, Buffer.from('k'), kind === KIND_PUT ? Buffer.from('vvvvv') : null, 0);
      expect(decodeRecord(rec, 0, rec.length, info, true, v2), `flags ${flags} kind ${kind} v2 ${v2}`).toBe(ok ? RECORD_OK : RECORD_BAD);
    }
  });
});
