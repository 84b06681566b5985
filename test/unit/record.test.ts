import { describe, expect, it } from 'vitest';
import { ViewOf, compareBytes, compareViews, copyBytes, crc32, crcBegin, crcCopy, crcEnd, readU64, writeU64 } from '../../src/format/bytes.js';
import { FLAG_BATCH, KIND_COMMIT, KIND_DEL, KIND_PUT, RECORD_HEADER_BYTES } from '../../src/format/constants.js';
import { checkFileHeader, encodeFileHeader, fileVersion } from '../../src/format/file-header.js';
import {
  RECORD_BAD,
  RECORD_OK,
  RECORD_SHORT,
  RecordInfo,
  decodeRecord,
  encodeCommit,
  encodeRecord,
} from '../../src/format/record.js';

describe('record codec', () => {
  it('round-trips put, tombstone and commit records', () => {
    const cases: Array<[number, number, Buffer, Buffer | null, number]> = [
      [KIND_PUT, 0, Buffer.from('k'), Buffer.from('v'), 0],
      [KIND_PUT, FLAG_BATCH, Buffer.from('key:ü'), Buffer.from([0, 255, 10]), 4070908800000],
      [KIND_PUT, 0, Buffer.alloc(1024, 7), Buffer.alloc(0), 2 ** 52],
      [KIND_DEL, 0, Buffer.from('gone'), null, 0],
    ];
    for (const [kind, flags, key, value, exp] of cases) {
      const buf = encodeRecord(kind, flags, key, value, exp);
      expect(buf.length).toBe(RECORD_HEADER_BYTES + key.length + (value?.length ?? 0));
      const info = new RecordInfo();
      expect(decodeRecord(buf, 0, buf.length, info)).toBe(RECORD_OK);
      expect([info.kind, info.flags, info.keyLength, info.valueLength, info.expiresAt]).toEqual([
        kind,
        flags,
        key.length,
        value?.length ?? 0,
        exp,
      ]);
      expect(buf.subarray(20, 20 + key.length)).toEqual(key);
    }
    const commit = encodeCommit(3);
    const info = new RecordInfo();
    expect(decodeRecord(commit, 0, commit.length, info)).toBe(RECORD_OK);
    expect(info.kind).toBe(KIND_COMMIT);
  });

  it('covers the whole header, key and value with the CRC (never the value alone)', () => {
    const buf = encodeRecord(KIND_PUT, 0, Buffer.from('key'), Buffer.from('value'), 0);
    expect(buf.readUInt32LE(0)).toBe(crc32(buf, 4, buf.length));
    // Flipping any single byte after the CRC field is detected.
    for (let i = 4; i < buf.length; i++) {
      const bad = Buffer.from(buf);
      bad[i] ^= 0x01;
      const status = decodeRecord(bad, 0, bad.length, new RecordInfo());
      expect(status, `flip at byte ${i}`).not.toBe(RECORD_OK);
    }
  });

  describe('corruption table', () => {
    const good = encodeRecord(KIND_PUT, 0, Buffer.from('key'), Buffer.from('value'), 0);
    const mutate = (f: (b: Buffer) => void) => {
      const b = Buffer.from(good);
      f(b);
      return b;
    };
    const table: Array<[string, Buffer, number, number, string]> = [
      ['bad CRC', mutate((b) => (b[0] ^= 0xff)), good.length, RECORD_BAD, 'CRC mismatch'],
      ['value byte flipped', mutate((b) => (b[b.length - 1] ^= 0x10)), good.length, RECORD_BAD, 'CRC mismatch'],
      ['truncated header', good, 11, RECORD_SHORT, ''],
      ['truncated body', good, good.length - 2, RECORD_SHORT, ''],
      ['unknown kind', mutate((b) => (b[4] = 9)), good.length, RECORD_BAD, 'unknown record kind 9'],
      ['unknown flags', mutate((b) => (b[5] = 0x80)), good.length, RECORD_BAD, 'unknown record flags'],
      ['empty key', mutate((b) => b.writeUInt16LE(0, 6)), good.length, RECORD_BAD, 'key length 0'],
      ['key too long', mutate((b) => b.writeUInt16LE(5000, 6)), good.length, RECORD_BAD, 'key length 5000'],
      ['value length past end of file', mutate((b) => b.writeUInt32LE(100000, 8)), good.length, RECORD_SHORT, ''],
      ['value length over the limit', mutate((b) => b.writeUInt32LE(0xffffffff, 8)), good.length, RECORD_BAD, 'value length'],
      ['expiry not a safe integer', mutate((b) => b.writeUInt32LE(0xffffffff, 16)), good.length, RECORD_BAD, 'expiry'],
    ];
    for (const [name, buf, end, status, reason] of table) {
      it(name, () => {
        const info = new RecordInfo();
        expect(decodeRecord(buf, 0, end, info)).toBe(status);
        if (reason) expect(info.reason).toContain(reason);
      });
    }

    it('a tombstone carrying a value, and a malformed commit marker', () => {
      const info = new RecordInfo();
      const tomb = encodeRecord(KIND_DEL, 0, Buffer.from('k'), Buffer.from('x'), 0);
      expect(decodeRecord(tomb, 0, tomb.length, info)).toBe(RECORD_BAD);
      const commit = encodeRecord(KIND_COMMIT, 0, Buffer.from('k'), Buffer.alloc(4), 0);
      expect(decodeRecord(commit, 0, commit.length, info)).toBe(RECORD_BAD);
      expect(info.reason).toContain('commit');
    });
  });
});

describe('file header', () => {
  it('round-trips and rejects wrong magic, newer version, wrong number and damage', () => {
    const h = encodeFileHeader('TZDS', 7);
    expect(checkFileHeader(h, 'TZDS', 7)).toBeUndefined();
    expect(checkFileHeader(h, 'TZIX', 7)?.kind).toBe('bad-magic');
    expect(checkFileHeader(h, 'TZDS', 8)?.kind).toBe('bad-header');
    expect(checkFileHeader(h.subarray(0, 10), 'TZDS', 7)?.kind).toBe('short');
    const newer = Buffer.from(h);
    newer.writeUInt16LE(3, 4);
    newer.writeUInt32LE(crc32(newer, 0, 12), 12);
    expect(checkFileHeader(newer, 'TZDS', 7)?.kind).toBe('newer-version');
    // Version 1 keeps bytes 6–7 as flags that must be 0; version 2 holds the data key id there.
    const v1Flags = Buffer.from(h);
    v1Flags.writeUInt16LE(5, 6);
    v1Flags.writeUInt32LE(crc32(v1Flags, 0, 12), 12);
    expect(checkFileHeader(v1Flags, 'TZDS', 7)?.kind).toBe('bad-header');
    expect(fileVersion(h)).toEqual({ version: 1, keyId: 0 });
    const v2 = encodeFileHeader('TZIX', 7, undefined, { version: 2, keyId: 5 });
    expect(checkFileHeader(v2, 'TZIX', 7)).toBeUndefined();
    expect(fileVersion(v2)).toEqual({ version: 2, keyId: 5 });
    const flipped = Buffer.from(h);
    flipped[9] ^= 1;
    expect(checkFileHeader(flipped, 'TZDS', 7)?.kind).toBe('bad-header');
  });

  it('u64 fields hold safe integers and reject larger values', () => {
    const b = Buffer.alloc(8);
    for (const v of [0, 1, 2 ** 32 - 1, 2 ** 32, 2 ** 53 - 1]) {
      writeU64(b, v, 0);
      expect(readU64(b, 0)).toBe(v);
    }
    b.writeUInt32LE(0x00200000, 4);
    expect(readU64(b, 0)).toBe(-1);
  });
});

describe('crc32 over a range', () => {
  it('equals the crc-32 package on every length and alignment (short spans in JS, long ones by zlib)', async () => {
    const { default: CRC32 } = await import('crc-32');
    const buf = Buffer.alloc(5000);
    for (let i = 0; i < buf.length; i++) buf[i] = (i * 131 + 7) & 0xff;
    for (let start = 0; start < 20; start++) {
      for (let end = start; end <= buf.length; end += 1 + (end % 7) + (end > 300 ? 97 : 0)) {
        expect(crc32(buf, start, end), `[${start}, ${end})`).toBe(CRC32.buf(buf.subarray(start, end)) >>> 0);
      }
    }
  });
});

describe('byte helpers that go four bytes a step', () => {
  it('crc32 of buffers taken in turn (its view follows the buffer)', async () => {
    const { default: CRC32 } = await import('crc-32');
    const bufs = [Buffer.from('a'.repeat(100)), Buffer.from('b'.repeat(100)), Buffer.alloc(100, 7).subarray(3)];
    for (let round = 0; round < 3; round++) for (const b of bufs) expect(crc32(b, 1, 90)).toBe(CRC32.buf(b.subarray(1, 90)) >>> 0);
  });

  it('copyBytes copies every length at every alignment, views of pooled Buffers too', () => {
    const src = Buffer.from(Array.from({ length: 64 }, (_, i) => (i * 37) & 0xff));
    const pooled = Buffer.from('x'.repeat(10)); // a view into Node's shared pool, at an offset
    const views = new ViewOf();
    for (let start = 0; start < 5; start++) {
      for (let n = 0; n <= 40; n++) {
        const dst = Buffer.alloc(60, 0xee);
        copyBytes(views.of(src), start, start + n, new ViewOf().of(dst), 3);
        expect(dst.subarray(3, 3 + n).equals(src.subarray(start, start + n))).toBe(true);
        expect(dst[2]).toBe(0xee);
        expect(dst[3 + n]).toBe(0xee);
      }
    }
    const into = Buffer.alloc(12, 0);
    copyBytes(new ViewOf().of(pooled), 2, 9, new ViewOf().of(into), 1);
    expect(into.toString('latin1', 1, 8)).toBe('xxxxxxx');
  });

  it('crcBegin, crcCopy and crcEnd: the pieces copied, and the CRC of all of them, as crc32 gives it', () => {
    const src = Buffer.from(Array.from({ length: 80 }, (_, i) => (i * 91 + 5) & 0xff));
    const header = Buffer.from('a header of 16 b');
    for (let start = 0; start < 6; start++) {
      for (let n = 0; n <= 70; n += 1 + (n % 5)) {
        const dst = Buffer.alloc(120, 0xee);
        header.copy(dst, 4);
        crcBegin(dst, 4, 20);
        crcCopy(new ViewOf().of(src), start, start + n, new ViewOf().of(dst), 20);
        crcCopy(new ViewOf().of(src), 0, 3, new ViewOf().of(dst), 20 + n);
        crcEnd(new ViewOf().of(dst), 0);
        expect(dst.subarray(20, 20 + n).equals(src.subarray(start, start + n))).toBe(true);
        expect(dst[23 + n]).toBe(0xee);
        expect(dst.readUInt32LE(0)).toBe(crc32(Buffer.concat([header, src.subarray(start, start + n), src.subarray(0, 3)])));
      }
    }
  });

  it('compareBytes and compareViews order as memcmp, a prefix first, at any offset and length', () => {
    const keys = ['', 'a', 'ab', 'abc', 'abcd', 'abcdefgh', 'abcdefgi', 'abcdefghijklmnop', 'abcdefghijklmnoq', 'abcdefghijklmnopq', '\xff\xff\xff\xff\x00', '\xff\xff\xff\xff', 'zz'];
    const sign = (n: number) => Math.sign(n);
    for (const x of keys) {
      for (const y of keys) {
        const a = Buffer.from(`...${x}`, 'latin1');
        const b = Buffer.from(`.${y}..`, 'latin1');
        const want = sign(Buffer.compare(Buffer.from(x, 'latin1'), Buffer.from(y, 'latin1')));
        expect(sign(compareBytes(a, 3, a.length, b, 1, b.length - 2)), `${x} vs ${y}`).toBe(want);
        expect(sign(compareViews(new ViewOf().of(a), 3, a.length, new ViewOf().of(b), 1, b.length - 2)), `${x} vs ${y}, through views`).toBe(want);
      }
    }
  });
});
