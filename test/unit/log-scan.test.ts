import { describe, expect, it } from 'vitest';
import { scanLog } from '../../src/engine/log/log-scan.js';
import { RecordScanner, committedOnly } from '../../src/engine/log/record-scan.js';
import { scanSegment } from '../../src/engine/log/resync.js';
import { FLAG_BATCH, KIND_DEL, KIND_PUT } from '../../src/format/constants.js';
import { encodeCommit, encodeRecord } from '../../src/format/record.js';
import { PLAIN } from '../../src/format/store-codec.js';

const put = (k: string, v: string, flags = 0) => encodeRecord(KIND_PUT, flags, Buffer.from(k), Buffer.from(v), 0);
const del = (k: string, flags = 0) => encodeRecord(KIND_DEL, flags, Buffer.from(k), null, 0);

describe('scanLog', () => {
  it('returns committed records and a clean end', () => {
    const buf = Buffer.concat([put('a', '1'), del('a'), put('b', '2', FLAG_BATCH), put('c', '3', FLAG_BATCH), encodeCommit(2)]);
    const r = scanLog(buf, 100, PLAIN);
    expect(r.end.kind).toBe('clean');
    expect(r.validEnd).toBe(100 + buf.length);
    expect(r.entries.map((e) => [e.key, e.kind, e.offset])).toEqual([
      ['a', KIND_PUT, 100],
      ['a', KIND_DEL, 100 + put('a', '1').length],
      ['b', KIND_PUT, 100 + put('a', '1').length + del('a').length],
      ['c', KIND_PUT, 100 + put('a', '1').length + del('a').length + put('b', '2').length],
    ]);
  });

  it('cuts a torn tail at any length without serving it', () => {
    const whole = Buffer.concat([put('a', '1'), put('b', 'two')]);
    const firstEnd = put('a', '1').length;
    for (let cut = firstEnd; cut < whole.length; cut++) {
      const r = scanLog(whole.subarray(0, cut), 0, PLAIN);
      expect(r.end.kind, `cut at ${cut}`).toBe(cut === firstEnd ? 'clean' : 'torn');
      expect(r.entries.map((e) => e.key)).toEqual(['a']);
      expect(r.validEnd).toBe(firstEnd);
    }
  });

  it('treats a record followed only by zeros as torn, and steps over damage followed by data', () => {
    const a = put('a', '1');
    const b = put('b', 'two');
    const damaged = Buffer.from(b);
    damaged[damaged.length - 1] ^= 1;
    const torn = scanLog(Buffer.concat([a, damaged, Buffer.alloc(50)]), 0, PLAIN);
    expect(torn.end.kind).toBe('torn');
    expect(torn.damage).toEqual([]);
    const corrupt = scanLog(Buffer.concat([a, damaged, put('c', '3')]), 0, PLAIN);
    expect(corrupt.damage).toEqual([
      { offset: a.length, from: a.length, to: a.length + b.length, message: `CRC mismatch (${b.length} bytes unreadable up to the next valid record)` },
    ]);
    expect(corrupt.end.kind).toBe('clean');
    expect(corrupt.entries.map((e) => e.key)).toEqual(['a', 'c']);
  });

  it('never shows an interrupted batch', () => {
    const a = put('a', '1');
    const r = scanLog(Buffer.concat([a, put('b', '2', FLAG_BATCH), put('c', '3', FLAG_BATCH)]), 0, PLAIN);
    expect(r.end).toMatchObject({ kind: 'uncommitted', offset: a.length, records: 2 });
    expect(r.validEnd).toBe(a.length);
    expect(r.entries.map((e) => e.key)).toEqual(['a']);
  });

  it('flags a commit with the wrong count and a record after an unclosed batch', () => {
    const wrong = scanLog(Buffer.concat([put('b', '2', FLAG_BATCH), encodeCommit(2)]), 0, PLAIN);
    expect(wrong.end.kind).toBe('corrupt');
    expect(wrong.entries).toEqual([]);
    const orphan = scanLog(Buffer.concat([put('b', '2', FLAG_BATCH), put('c', '3')]), 0, PLAIN);
    expect(orphan.end.kind).toBe('corrupt');
    expect(orphan.entries).toEqual([]);
  });
});

describe('the scanner in committed-only mode', () => {
  const keyOf = (b: Buffer, pos: number, _at: number, info: { keyLength: number }) => b.toString('latin1', pos + 20, pos + 20 + info.keyLength);

  it("passes on a record outside a batch at once, a batch's records at their COMMIT, in log order, and never an unclosed batch", () => {
    const taken: string[] = [];
    const scanner = new RecordScanner(0, PLAIN, committedOnly(keyOf, (k) => taken.push(k)));
    scanner.push(Buffer.concat([put('a', '1'), put('b', '2', FLAG_BATCH)]));
    expect(taken).toEqual(['a']);
    scanner.push(Buffer.concat([del('c', FLAG_BATCH), encodeCommit(2), put('d', '4'), put('e', '5', FLAG_BATCH)]));
    expect(taken).toEqual(['a', 'b', 'c', 'd']);
    expect(scanner.finish()).toMatchObject({ kind: 'uncommitted', records: 1 });
    expect(taken).toEqual(['a', 'b', 'c', 'd']);
  });

  it('drops the open batch when damage cuts it, and takes the batches after the damage', () => {
    const broken = put('x2', '2', FLAG_BATCH);
    broken[broken.length - 1] ^= 1;
    const log = Buffer.concat([put('a', '1'), put('x1', '1', FLAG_BATCH), broken, encodeCommit(2), put('y1', '1', FLAG_BATCH), encodeCommit(1), put('z', '1')]);
    const taken: string[] = [];
    const scan = scanSegment((at, n) => log.subarray(at, at + n), 0, log.length, {
      visitor: committedOnly(keyOf, (k) => taken.push(k)),
      codec: PLAIN,
      sealed: true,
      chunkBytes: 7,
      onDamage: () => {},
    });
    expect(scan.end.kind).toBe('clean');
    expect(taken).toEqual(['a', 'y1', 'z']);
  });
});

describe('RecordScanner fed in chunks', () => {
  const cases: Array<[string, Buffer]> = (() => {
    const a = put('a', '1');
    const b = put('bb', 'two'.repeat(20));
    const damaged = Buffer.from(b);
    damaged[damaged.length - 1] ^= 1;
    const huge = Buffer.from(a);
    huge.writeUInt32LE(1 << 20, 8); // a value length that runs past the end
    return [
      ['clean with a batch', Buffer.concat([a, del('a'), put('b', '2', FLAG_BATCH), put('c', '3', FLAG_BATCH), encodeCommit(2), b])],
      ['torn', Buffer.concat([a, b]).subarray(0, a.length + 30)],
      ['torn header', Buffer.concat([a, b]).subarray(0, a.length + 7)],
      ['bad then zeros', Buffer.concat([a, damaged, Buffer.alloc(50)])],
      ['bad then data', Buffer.concat([a, damaged, put('c', '3')])],
      ['length past the end then data', Buffer.concat([a, huge, b])],
      ['uncommitted', Buffer.concat([a, put('b', '2', FLAG_BATCH), put('c', '3', FLAG_BATCH)])],
      ['wrong count', Buffer.concat([a, put('b', '2', FLAG_BATCH), encodeCommit(2), b])],
      ['orphan batch', Buffer.concat([put('b', '2', FLAG_BATCH), put('c', '3'), b])],
    ];
  })();
  for (const [name, bytes] of cases) {
    it(`${name}: every split gives what one buffer gives`, () => {
      const offsets: number[] = [];
      const one = new RecordScanner(16, PLAIN, { record: (_b, _p, at) => offsets.push(at) }, 16 + bytes.length);
      one.push(bytes);
      const whole = { end: one.finish(), validEnd: one.validEnd, records: one.records };
      for (let size = 1; size <= bytes.length; size += size < 8 ? 1 : 7) {
        const seen: number[] = [];
        const s = new RecordScanner(16, PLAIN, { record: (_b, _p, at) => seen.push(at) }, 16 + bytes.length);
        for (let at = 0; at < bytes.length; at += size) s.push(Buffer.from(bytes.subarray(at, Math.min(bytes.length, at + size))));
        const end = s.finish();
        expect(end, `chunks of ${size}`).toEqual(whole.end);
        expect(s.validEnd).toBe(whole.validEnd);
        expect(s.records).toBe(whole.records);
        expect(seen).toEqual(offsets);
      }
    });
  }
});
