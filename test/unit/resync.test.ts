// Reading a segment past damage (src/engine/log/resync.ts, docs/format.md "Reading
// past damage"): after a record fails, reading resumes at the next offset where
// a whole record with a valid CRC starts; a batch is visible only when all of
// it and its COMMIT were read. The fuzz at the end flips random bytes of random
// logs: every record whose bytes are intact and whose batch is whole is still
// returned, nothing else is, and verify reports the same damaged offsets.
import { describe, expect, it } from 'vitest';
import { scanLog } from '../../src/engine/log/log-scan.js';
import { bytesOf, nextRecordBoundary } from '../../src/engine/log/record-boundary.js';
import { FLAG_BATCH, KIND_DEL, KIND_PUT } from '../../src/format/constants.js';
import { encodeCommit, encodeRecord } from '../../src/format/record.js';
import { seededRandom } from '../helpers/fault-fs.js';
import { PLAIN } from '../../src/format/store-codec.js';

const put = (k: string, v: string | Buffer, flags = 0) => encodeRecord(KIND_PUT, flags, Buffer.from(k), Buffer.from(v), 0);
const del = (k: string, flags = 0) => encodeRecord(KIND_DEL, flags, Buffer.from(k), null, 0);
const keysOf = (buf: Buffer, base = 0) => scanLog(buf, base, PLAIN).entries.map((e) => e.key);

/** `records` concatenated, with one byte of record `i` (at `at` bytes into it) flipped. */
function flipped(records: Buffer[], i: number, at: number): { bytes: Buffer; offset: number } {
  const bytes = Buffer.concat(records);
  const offset = records.slice(0, i).reduce((n, r) => n + r.length, 0);
  bytes[offset + at] ^= 0x01;
  return { bytes, offset };
}

describe('nextRecordBoundary', () => {
  it('finds the next whole record whose CRC checks, and -1 when none follows', () => {
    const records = [put('a', 'x'.repeat(30)), put('b', 'y'), put('c', 'z')];
    const { bytes, offset } = flipped(records, 0, 25);
    expect(nextRecordBoundary(bytesOf(bytes), offset, bytes.length)).toBe(records[0].length);
    const last = records[0].length + records[1].length;
    expect(nextRecordBoundary(bytesOf(bytes), last, bytes.length)).toBe(-1);
  });

  it('checks a record longer than its search window by reading it in windows', () => {
    const big = put('big', Buffer.alloc(3 * 1024 * 1024, 7));
    const { bytes } = flipped([put('a', 'damaged'), big], 0, 22);
    expect(nextRecordBoundary(bytesOf(bytes), 0, bytes.length)).toBe(put('a', 'damaged').length);
    bytes[bytes.length - 1] ^= 1; // the big record damaged too: nothing to resume at
    expect(nextRecordBoundary(bytesOf(bytes), 0, bytes.length)).toBe(-1);
  });
});

describe('scanLog past damage', () => {
  it('one flipped byte in the first of three records costs that record only', () => {
    const records = [put('a', 'value a'), put('b', 'value b'), put('c', 'value c')];
    const { bytes } = flipped(records, 0, 24);
    const scan = scanLog(bytes, 16, PLAIN);
    expect(scan.entries.map((e) => e.key)).toEqual(['b', 'c']);
    expect(scan.damage).toEqual([
      { offset: 16, from: 16, to: 16 + records[0].length, message: `CRC mismatch (${records[0].length} bytes unreadable up to the next valid record)` },
    ]);
    expect(scan.end.kind).toBe('clean');
    expect(scan.validEnd).toBe(16 + bytes.length);
  });

  it('a flip in the middle of many, in any byte of the record, hides nothing else', () => {
    const records = Array.from({ length: 40 }, (_, i) => put(`k${i}`, `value ${i}`.repeat(i % 5)));
    for (let at = 0; at < records[20].length; at++) {
      const { bytes, offset } = flipped(records, 20, at);
      const scan = scanLog(bytes, 0, PLAIN);
      expect(scan.entries.map((e) => e.key), `byte ${at}`).toEqual(records.map((_, i) => `k${i}`).filter((k) => k !== 'k20'));
      expect(scan.damage.map((d) => [d.offset, d.to]), `byte ${at}`).toEqual([[offset, offset + records[20].length]]);
    }
  });

  it('a batch with damage inside is invisible as a whole; batches around it are not', () => {
    const before = [put('b1', '1', FLAG_BATCH), put('b2', '2', FLAG_BATCH), encodeCommit(2)];
    const broken = [put('x1', '1', FLAG_BATCH), put('x2', '2', FLAG_BATCH), put('x3', '3', FLAG_BATCH), encodeCommit(3)];
    const after = [put('a1', '1', FLAG_BATCH), del('b1', FLAG_BATCH), encodeCommit(2), put('z', 'last')];
    for (let i = 0; i < broken.length; i++) {
      const records = [...before, ...broken, ...after];
      const { bytes } = flipped(records, before.length + i, 21);
      const scan = scanLog(bytes, 0, PLAIN);
      expect(keysOf(bytes), `damage in record ${i} of the batch`).toEqual(['b1', 'b2', 'a1', 'b1', 'z']);
      // Unreadable: from where the broken batch starts, whichever of its records failed.
      const start = Buffer.concat(before).length;
      expect(scan.damage[0].from, `damage in record ${i}`).toBe(start);
      expect(scan.damage[scan.damage.length - 1].to).toBe(start + Buffer.concat(broken).length);
    }
  });

  it('a batch whose every record follows the damage, with a matching COMMIT, is proven whole', () => {
    const records = [put('d', 'damaged'), put('b1', '1', FLAG_BATCH), put('b2', '2', FLAG_BATCH), encodeCommit(2)];
    const { bytes } = flipped(records, 0, 22);
    expect(keysOf(bytes)).toEqual(['b1', 'b2']);
  });

  it('damage at the very end is a torn tail when only zeros follow, damage when anything else does', () => {
    const records = [put('a', 'value a'), put('b', 'value b')];
    const torn = scanLog(flipped(records, 1, 22).bytes, 0, PLAIN);
    expect(torn.end.kind).toBe('torn');
    expect(torn.damage).toEqual([]);
    const garbage = scanLog(Buffer.concat([flipped(records, 1, 22).bytes, Buffer.from('not a record')]), 0, PLAIN);
    expect(garbage.end.kind).toBe('corrupt');
    expect(garbage.entries.map((e) => e.key)).toEqual(['a']);
  });
});

/** A random log: single records and batches (each a unit that is visible whole or not at all). */
function randomLog(random: () => number): Array<{ records: Buffer[]; keys: string[] }> {
  const units: Array<{ records: Buffer[]; keys: string[] }> = [];
  const value = () => Buffer.from(Array.from({ length: Math.floor(random() * 60) }, () => Math.floor(random() * 256)));
  for (let u = 0, n = 5 + Math.floor(random() * 30); u < n; u++) {
    const key = () => `key${Math.floor(random() * 20)}`;
    if (random() < 0.25) {
      const keys = Array.from({ length: 1 + Math.floor(random() * 4) }, key);
      const records = keys.map((k) => (random() < 0.2 ? del(k, FLAG_BATCH) : put(k, value(), FLAG_BATCH)));
      units.push({ records: [...records, encodeCommit(records.length)], keys });
    } else {
      const k = key();
      units.push({ records: [random() < 0.2 ? del(k) : put(k, value())], keys: [k] });
    }
  }
  return units;
}

describe('fuzz: random flips in random logs', () => {
  it('every record whose bytes are intact and whose batch is whole is returned, in order, and nothing else', () => {
    const random = seededRandom(13);
    for (let round = 0; round < 600; round++) {
      const units = randomLog(random);
      const bytes = Buffer.concat(units.flatMap((u) => u.records));
      const hit = new Set<number>();
      for (let f = 1 + Math.floor(random() * 3); f > 0; f--) {
        const at = Math.floor(random() * bytes.length);
        bytes[at] ^= 1 + Math.floor(random() * 255);
        hit.add(at);
      }
      const expected: string[] = [];
      let pos = 0;
      for (const u of units) {
        const length = u.records.reduce((n, r) => n + r.length, 0);
        if (![...hit].some((at) => at >= pos && at < pos + length)) expected.push(...u.keys);
        pos += length;
      }
      const scan = scanLog(bytes, 0, PLAIN);
      expect(scan.entries.map((e) => e.key), `round ${round}`).toEqual(expected);
      // Damage is reported unless the only damage is the last unit (a torn tail).
      const lastStart = bytes.length - units[units.length - 1].records.reduce((n, r) => n + r.length, 0);
      if ([...hit].some((at) => at < lastStart)) expect(scan.damage.length + (scan.end.kind === 'corrupt' ? 1 : 0), `round ${round}`).toBeGreaterThan(0);
    }
  });
});
