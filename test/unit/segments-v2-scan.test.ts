// Reading data segments of version 2 (docs/format.md "Records, version 2"):
// the scanner, the resync past damage and the torn-tail rule on encrypted
// segments, with and without the data key. Segments are laid out here with
// the real sealing primitive (src/format/seal.ts sealGroup).
import { createSecretKey, randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { scanLog } from '../../src/engine/log/log-scan.js';
import { RecordScanner, type RecordGroup, committedOnly } from '../../src/engine/log/record-scan.js';
import { scanSegment } from '../../src/engine/log/resync.js';
import type { SkippedDamage } from '../../src/engine/log/resync.js';
import type { SegmentFormat } from '../../src/engine/log/segment-format.js';
import { crc32 } from '../../src/format/bytes.js';
import { FLAG_BATCH, KIND_DEL, KIND_PUT, RECORD_HEADER_BYTES } from '../../src/format/constants.js';
import { encodeCommit, encodeRecord } from '../../src/format/record.js';
import { SEAL_RECORD_BYTES, sealGroup } from '../../src/format/seal.js';
import { PLAIN } from '../../src/format/store-codec.js';

const key = createSecretKey(randomBytes(32));
const withKey: SegmentFormat = { version2: true, encrypted: true, key };
const keyless: SegmentFormat = { version2: true, encrypted: true, key: undefined };
/** Verify's worker: every tag checked, no plaintext read. */
const tagsOnly: SegmentFormat = { ...withKey, tagsOnly: true };
const BASE = 16; // records start after the file header

const put = (k: string, v: string, flags = 0) => encodeRecord(KIND_PUT, flags, Buffer.from(k), Buffer.from(v), 0);
const del = (k: string) => encodeRecord(KIND_DEL, 0, Buffer.from(k), null, 0);

/** A segment's records from BASE: each inner array a sealed group, a bare Buffer a record outside any group. */
function segment(parts: Array<Buffer[] | Buffer>): { bytes: Buffer; seals: number[] } {
  const out: Buffer[] = [];
  const seals: number[] = [];
  let at = BASE;
  for (const p of parts) {
    if (Buffer.isBuffer(p)) {
      out.push(p);
      at += p.length;
      continue;
    }
    const g = Buffer.concat([Buffer.alloc(SEAL_RECORD_BYTES), ...p]);
    sealGroup(g, 0, g.length, at, key);
    seals.push(at);
    out.push(g);
    at += g.length;
  }
  return { bytes: Buffer.concat(out), seals };
}

function scan(bytes: Buffer, format: SegmentFormat, chunkBytes = bytes.length) {
  const entries: Array<{ key: string; at: number; group: number; groupLength: number; sealed: boolean }> = [];
  const damage: SkippedDamage[] = [];
  const result = scanSegment((at, n) => bytes.subarray(at - BASE, Math.min(at - BASE + n, bytes.length)), BASE, BASE + bytes.length, {
    visitor: committedOnly(
      (buf, pos, at, info, group: RecordGroup) => ({ key: buf.toString('latin1', pos + RECORD_HEADER_BYTES, pos + RECORD_HEADER_BYTES + info.keyLength), at, group: group.offset, groupLength: group.length, sealed: group.sealed }),
      (e) => entries.push(e),
    ),
    codec: PLAIN,
    format,
    sealed: false,
    chunkBytes: Math.max(1, chunkBytes),
    onDamage: (d) => damage.push(d),
  });
  return { ...result, entries, damage };
}

/** Changes byte `at` of a record at `recordAt` and sets its CRC again, so only the tag can tell. */
function tamperBody(bytes: Buffer, recordAt: number, at: number, length: number): void {
  bytes[at] ^= 0x01;
  bytes.writeUInt32LE(crc32(bytes, recordAt + 4, recordAt + length), recordAt);
}

const groups = () =>
  segment([
    [put('alpha', 'one'), put('beta', 'two')],
    [put('b1', 'x', FLAG_BATCH), put('b2', 'y', FLAG_BATCH)],
    [put('b3', 'z', FLAG_BATCH)],
    encodeCommit(3),
    [del('alpha')],
    [put('gamma', 'three')],
  ]);

describe('segments v2: scanning encrypted segments', () => {
  it('reports every committed record plain with its group, whole or fed in small chunks; a batch spans groups', () => {
    const { bytes, seals } = groups();
    const whole = scan(bytes, withKey);
    expect(whole.end.kind).toBe('clean');
    expect(whole.damage).toEqual([]);
    expect(whole.validEnd).toBe(BASE + bytes.length);
    expect(whole.entries.map((e) => e.key)).toEqual(['alpha', 'beta', 'b1', 'b2', 'b3', 'alpha', 'gamma']);
    expect(whole.entries.map((e) => e.group)).toEqual([seals[0], seals[0], seals[1], seals[1], seals[2], seals[3], seals[4]]);
    expect(whole.entries[0].at).toBe(seals[0] + SEAL_RECORD_BYTES);
    expect(whole.entries[0].groupLength).toBe(SEAL_RECORD_BYTES + put('alpha', 'one').length + put('beta', 'two').length);
    expect(whole.entries.every((e) => !e.sealed)).toBe(true);
    for (const chunk of [1, 7, 20, 53, 100]) {
      const fed = scan(bytes, withKey, chunk);
      expect(fed.entries, `chunks of ${chunk}`).toEqual(whole.entries);
      expect(fed.end).toEqual(whole.end);
      expect(fed.records).toBe(whole.records);
    }
    // scanLog (the view's tail scan) finds the same, keys plain.
    const log = scanLog(bytes, BASE, PLAIN, bytes.length, withKey);
    expect(log.entries.map((e) => [e.key, e.group, e.groupLength])).toEqual(whole.entries.map((e) => [e.key, e.group, e.groupLength]));
  });

  it('a group of more records than any writer puts in one reports each header as stored, with and without the key', () => {
    // 700 records of 22-23 bytes: past the scanner's first 256 held headers (record-group.ts GroupHeaders).
    const records: Buffer[] = [];
    const want: Array<[string, number, number, number, number]> = [];
    for (let i = 0; i < 700; i++) {
      const k = `k${i}`;
      const r = i % 3 === 0 ? del(k) : encodeRecord(KIND_PUT, i % 3 === 1 ? FLAG_BATCH : 0, Buffer.from(k), Buffer.from('v'), i % 5 === 0 ? 1_700_000_000_000 + i : 0);
      records.push(r);
      if (i % 3 === 1) records.push(encodeCommit(1));
      want.push([k, r[4], r[5], r.length, r.readUInt32LE(12) + r.readUInt32LE(16) * 2 ** 32]);
    }
    const { bytes, seals } = segment([records]);
    const headers = (format: SegmentFormat) => {
      const seen: Array<[string, number, number, number, number]> = [];
      const scanner = new RecordScanner(BASE, PLAIN, { record: (buf, pos, _at, info) => seen.push([buf.toString('latin1', pos + RECORD_HEADER_BYTES, pos + RECORD_HEADER_BYTES + info.keyLength), info.kind, info.flags, info.length, info.expiresAt]) }, Infinity, true, format);
      scanner.push(bytes);
      expect(scanner.finish()).toEqual({ kind: 'clean' });
      expect(scanner.records).toBe(records.length);
      return seen;
    };
    expect(headers(withKey)).toEqual(want);
    const sealed = headers(keyless);
    expect(sealed.map(([, ...h]) => h)).toEqual(want.map(([, ...h]) => h));
    expect(headers(tagsOnly).map(([, ...h]) => h)).toEqual(want.map(([, ...h]) => h));
    expect(seals).toEqual([BASE]);
  });

  it('without the key checks framing, CRCs and tiling, and reports the same records, sealed', () => {
    const { bytes } = groups();
    const open = scan(bytes, withKey);
    const sealed = scan(bytes, keyless);
    expect(sealed.end.kind).toBe('clean');
    expect(sealed.records).toBe(open.records);
    expect(sealed.entries.map((e) => [e.at, e.group, e.groupLength])).toEqual(open.entries.map((e) => [e.at, e.group, e.groupLength]));
    expect(sealed.entries.every((e) => e.sealed)).toBe(true);
    expect(sealed.entries.map((e) => e.key)).not.toEqual(open.entries.map((e) => e.key)); // ciphertext, not keys
    // A CRC that fails is seen without the key.
    const damaged = Buffer.from(bytes);
    damaged[open.entries[1].at - BASE + RECORD_HEADER_BYTES] ^= 0x01;
    expect(scan(damaged, keyless).damage.map((d) => d.message)).toEqual([expect.stringContaining('CRC mismatch')]);
  });

  it('a changed body whose CRC was fixed up fails the tag: damage at its SEAL, reading resumes at the next group', () => {
    const { bytes, seals } = groups();
    const damaged = Buffer.from(bytes);
    const beta = seals[0] + SEAL_RECORD_BYTES + put('alpha', 'one').length;
    tamperBody(damaged, beta - BASE, beta - BASE + RECORD_HEADER_BYTES + 1, put('beta', 'two').length);
    const r = scan(damaged, withKey);
    expect(r.damage).toHaveLength(1);
    expect(r.damage[0]).toMatchObject({ offset: seals[0], from: seals[0], to: seals[1] });
    expect(r.damage[0].message).toContain('authentication failed');
    expect(r.entries.map((e) => e.key)).toEqual(['b1', 'b2', 'b3', 'alpha', 'gamma']);
    // Without the key the CRCs hold: nothing to see.
    expect(scan(damaged, keyless).damage).toEqual([]);
  });

  it('checking tags only (verify\'s worker) reports the records sealed, as stored, and a tag that fails as with the key', () => {
    const { bytes, seals } = groups();
    const open = scan(bytes, withKey);
    const tags = scan(bytes, tagsOnly);
    expect(tags.end.kind).toBe('clean');
    expect(tags.entries).toEqual(scan(bytes, keyless).entries);
    expect(tags.entries.every((e) => e.sealed)).toBe(true);
    expect(tags.entries.map((e) => [e.at, e.group, e.groupLength])).toEqual(open.entries.map((e) => [e.at, e.group, e.groupLength]));
    // A flipped ciphertext byte with its CRC fixed up: only the tag shows it, and the tags-only check sees it.
    const damaged = Buffer.from(bytes);
    const beta = seals[0] + SEAL_RECORD_BYTES + put('alpha', 'one').length;
    tamperBody(damaged, beta - BASE, beta - BASE + RECORD_HEADER_BYTES + 5, put('beta', 'two').length);
    expect(scan(damaged, keyless).damage).toEqual([]);
    const r = scan(damaged, tagsOnly);
    expect(r.damage).toEqual(scan(damaged, withKey).damage);
    expect(r.damage).toEqual([expect.objectContaining({ offset: seals[0], message: expect.stringContaining('authentication failed') })]);
  });

  it('damage in a SEAL record: the group is stepped over', () => {
    const { bytes, seals } = groups();
    const damaged = Buffer.from(bytes);
    damaged[seals[3] - BASE + RECORD_HEADER_BYTES + 6] ^= 0x40; // a nonce byte: the SEAL's CRC fails
    for (const format of [withKey, keyless]) {
      const r = scan(damaged, format);
      expect(r.damage.map((d) => [d.offset, d.to])).toEqual([[seals[3], seals[4]]]);
      expect(r.entries.map((e) => e.key)).toEqual(format.key ? ['alpha', 'beta', 'b1', 'b2', 'b3', 'gamma'] : expect.any(Array));
      expect(r.entries).toHaveLength(6);
    }
  });

  it('damage in the middle of a group: reading resumes at the next good SEAL, never at a record inside the group', () => {
    const records = [put('m1', 'a'), put('m2', 'b'), put('m3', 'c'), put('m4', 'd')];
    const { bytes, seals } = segment([records, [put('after', 'e')]]);
    const damaged = Buffer.from(bytes);
    const m2 = seals[0] + SEAL_RECORD_BYTES + records[0].length;
    damaged[m2 - BASE + RECORD_HEADER_BYTES] ^= 0x01; // m2's CRC fails; m3 and m4 after it are whole, CRC-valid records
    for (const format of [withKey, keyless]) {
      const r = scan(damaged, format);
      expect(r.damage).toHaveLength(1);
      expect(r.damage[0]).toMatchObject({ offset: seals[0], from: seals[0], to: seals[1] });
      expect(r.damage[0].message).toContain(`at offset ${m2} inside the group`);
      expect(r.entries.map((e) => e.group)).toEqual([seals[1]]);
    }
  });

  it('a torn group at the end (cut anywhere in it) is a torn tail: the data ends before its SEAL', () => {
    const { bytes, seals } = segment([[put('kept', '1')], [put('torn1', '2'), put('torn2', '3')]]);
    for (let cut = seals[1] - BASE + 1; cut < bytes.length; cut++) {
      const r = scan(bytes.subarray(0, cut), withKey);
      expect(r.end, `cut at ${cut}`).toMatchObject({ kind: 'torn', offset: seals[1] });
      expect(r.validEnd).toBe(seals[1]);
      expect(r.damage).toEqual([]);
      expect(r.entries.map((e) => e.key)).toEqual(['kept']);
    }
    // Zeros where the group's bytes never reached the disk: torn too.
    const zeroed = Buffer.concat([bytes.subarray(0, seals[1] - BASE + SEAL_RECORD_BYTES), Buffer.alloc(bytes.length - (seals[1] - BASE + SEAL_RECORD_BYTES))]);
    expect(scan(zeroed, withKey).end).toMatchObject({ kind: 'torn', offset: seals[1] });
  });

  it('a record outside a group, a SEAL inside a group and a group that does not end on a record boundary are damage', () => {
    const outside = segment([[put('a', '1')], put('loose', '2'), [put('b', '3')]]);
    const r = scan(outside.bytes, withKey);
    expect(r.damage.map((d) => d.message)).toEqual([expect.stringContaining('a record outside a group')]);
    expect(r.entries.map((e) => e.key)).toEqual(['a', 'b']);

    // A SEAL whose G covers another SEAL and its group (CRCs valid: only the framing can tell).
    const inner = segment([[put('x', '1')]]).bytes;
    const outer = Buffer.from(inner.subarray(0, SEAL_RECORD_BYTES));
    outer.writeUInt32LE(inner.length, RECORD_HEADER_BYTES);
    outer.writeUInt32LE(crc32(outer, 4, SEAL_RECORD_BYTES), 0);
    const sealInside = scan(Buffer.concat([outer, inner]), keyless);
    expect(sealInside.damage.map((d) => [d.offset, d.to])).toEqual([[BASE, BASE + SEAL_RECORD_BYTES]]); // resumes at the inner SEAL, a whole group
    expect(sealInside.damage[0].message).toContain('a seal record at offset');

    const ragged = segment([[put('y', '1'), put('z', '2')]]).bytes;
    ragged.writeUInt32LE(ragged.readUInt32LE(RECORD_HEADER_BYTES) - 3, RECORD_HEADER_BYTES);
    ragged.writeUInt32LE(crc32(ragged, 4, SEAL_RECORD_BYTES), 0);
    expect(scan(ragged, keyless).end).toMatchObject({ kind: 'corrupt', reason: expect.stringContaining('does not end on a record boundary') });
  });

  it('a SEAL whose group length was damaged to run past the end, with a whole group after it, is damage, not a torn tail (with the key too)', () => {
    const { bytes, seals } = segment([[put('a', '1')], [put('b', '2')], [put('c', '3')]]);
    const damaged = Buffer.from(bytes);
    const seal = seals[1] - BASE;
    damaged.writeUInt32LE(bytes.length, seal + RECORD_HEADER_BYTES);
    damaged.writeUInt32LE(crc32(damaged, seal + 4, seal + SEAL_RECORD_BYTES), seal);
    for (const format of [withKey, keyless]) {
      // The scanner alone (as repair and replicate use it): its end must not be cut as torn.
      const scanner = new RecordScanner(BASE, PLAIN, {}, BASE + damaged.length, true, format);
      scanner.push(damaged);
      expect(scanner.finish(), format.key ? 'with the key' : 'without').toMatchObject({ kind: 'corrupt', offset: seals[1] });
    }
  });
});
