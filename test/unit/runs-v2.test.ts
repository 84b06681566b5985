// Index runs of version 2 (docs/format.md "Index runs, version 2"): an
// encrypted run's leaf entries carry the record's group, its blocks and bloom
// pages are sealed, its manifest key range is sealed; a compressed-only run is
// a version 1 run with a version 2 header. Tags catch what CRCs cannot.
import { readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { TzkvError, isTzkvError } from '../../src/errors.js';
import { keyRange, mayHold } from '../../src/engine/runs/run-range.js';
import { RunReader } from '../../src/engine/runs/run-reader.js';
import { RunWriter } from '../../src/engine/runs/run-writer.js';
import { mergeInto } from '../../src/engine/runs/run-merge.js';
import { sortedLookup } from '../../src/engine/runs/run-probe.js';
import { ttlSection } from '../../src/engine/runs/run-ttl.js';
import { TtlList } from '../../src/engine/runs/ttl-list.js';
import { crc32 } from '../../src/format/bytes.js';
import { BLOCK_TARGET_BYTES, KIND_DEL, KIND_PUT, RUN_HEADER_BYTES } from '../../src/format/constants.js';
import type { IndexEntry } from '../../src/format/index-block.js';
import type { RunInfo } from '../../src/format/manifest.js';
import { PLAIN, type StoreCodec } from '../../src/format/store-codec.js';
import { realFs } from '../../src/io/fs.js';
import { tempDir } from '../helpers/temp-store.js';
import { COMPRESSED, ENCRYPTED, KEYLESS, OTHER_KEY } from '../helpers/v2-codecs.js';

const pad = (i: number) => `key:${String(i).padStart(8, '0')}`;
/** The entry build() writes for key i: every field differs from its neighbours', the group included. */
const entryOf = (i: number, segment = 3) => ({
  kind: i % 7 === 0 ? KIND_DEL : KIND_PUT,
  segment,
  offset: 16 + i * 40 + 48,
  length: 40,
  expiresAt: i % 5 === 0 ? 1_900_000_000_000 + i : 0,
  group: 16 + Math.floor(i / 8) * 4096,
  groupLength: 4000 + (i % 50),
});

function build(dir: string, file: number, keys: string[], codec: StoreCodec, segment = 3): RunInfo {
  const w = new RunWriter(realFs, dir, file, keys.length, codec);
  keys.forEach((k, i) => {
    const e = entryOf(i, segment);
    w.add(k, e.kind, e.segment, e.offset, e.length, e.expiresAt, e.group, e.groupLength);
  });
  return w.finish();
}

const fieldsOf = (e: IndexEntry) => ({ kind: e.kind, segment: e.segment, offset: e.offset, length: e.length, expiresAt: e.expiresAt, group: e.group, groupLength: e.groupLength });
const runPath = (dir: string, file: number) => `${dir}/${String(file).padStart(8, '0')}.tzix`;

/** Every leaf block of a run file: [offset, length]. */
function leafBlocksOf(bytes: Buffer, leavesEnd: number): Array<[number, number]> {
  const out: Array<[number, number]> = [];
  for (let at = RUN_HEADER_BYTES; at < leavesEnd; at += bytes.readUInt32LE(at + 4)) out.push([at, bytes.readUInt32LE(at + 4)]);
  return out;
}

function caught(fn: () => unknown): unknown {
  try {
    fn();
  } catch (err) {
    return err;
  }
  throw new Error('expected a throw');
}

describe('index runs, version 2: encrypted', () => {
  it('a run of one entry round-trips, with its group, under a version 2 header naming the key', () => {
    const dir = tempDir();
    const info = build(dir, 5, ['only'], ENCRYPTED);
    expect(info.key).toBe(1);
    expect(info.entries).toBe(1);
    const r = RunReader.open(realFs, dir, 5, ENCRYPTED);
    expect(r.header.version).toEqual({ version: 2, keyId: 1 });
    expect(r.layout.sealed).toBe(true);
    expect(fieldsOf(r.find(Buffer.from('only'))!)).toEqual(entryOf(0));
    expect(r.find(Buffer.from('other'))).toBeUndefined();
    expect([...r.cursor(Buffer.alloc(0))].map((e) => e.key.toString())).toEqual(['only']);
    expect(ttlSection(r)).toEqual({ base: r.ttlOffset, adds: 0, removes: 0 }); // the TTL section follows sealed bloom pages and ends the file
    expect(keyRange(info, ENCRYPTED, dir)).toEqual({ min: Buffer.from('only'), max: Buffer.from('only') });
    r.close();
  });

  it('a run of many blocks and height ≥ 2 finds every key with its group, and lists in order from any start', () => {
    const dir = tempDir();
    const keys = Array.from({ length: 30000 }, (_, i) => pad(i * 2));
    const info = build(dir, 6, keys, ENCRYPTED);
    const r = RunReader.open(realFs, dir, 6, ENCRYPTED);
    expect(r.header.height).toBeGreaterThanOrEqual(2);
    for (let i = 0; i < keys.length; i += 97) {
      const e = r.find(Buffer.from(keys[i]))!;
      expect(e.key.toString()).toBe(keys[i]);
      expect(fieldsOf(e)).toEqual(entryOf(i));
      expect(r.find(Buffer.from(pad(i * 2 + 1)))).toBeUndefined();
    }
    const all = [...r.cursor(Buffer.alloc(0))];
    expect(all.map((e) => e.key.toString())).toEqual(keys);
    expect(all.every((e, i) => e.group === entryOf(i).group && e.groupLength === entryOf(i).groupLength)).toBe(true);
    expect([...r.cursor(Buffer.from(pad(20001)))].map((e) => e.key.toString())).toEqual(keys.filter((k) => k >= pad(20001)));
    // Blocks close at 4096 bytes, nonce, tag and CRC included, and are full but for less than one entry.
    const bytes = readFileSync(runPath(dir, 6));
    const leaves = leafBlocksOf(bytes, r.header.leavesEnd);
    expect(leaves.every(([, length]) => length <= BLOCK_TARGET_BYTES)).toBe(true);
    expect(leaves.slice(0, -1).every(([, length]) => length > BLOCK_TARGET_BYTES - (2 + 37 + 12))).toBe(true);
    // Sorted lookups (a flush's census, stats) open the sealed range and find the same entries.
    const lookup = sortedLookup([info], () => r);
    for (let i = 0; i < keys.length; i += 1013) expect(fieldsOf(lookup(keys[i])!)).toEqual(entryOf(i));
    expect(lookup('zzz')).toBeUndefined();
    r.close();
  });

  it("the bloom filter answers as a version 1 run's does for the same keys", () => {
    const dir = tempDir();
    const keys = Array.from({ length: 5000 }, (_, i) => pad(i * 3));
    build(dir, 1, keys, PLAIN);
    build(dir, 2, keys, ENCRYPTED);
    const plain = RunReader.open(realFs, dir, 1, PLAIN);
    const sealed = RunReader.open(realFs, dir, 2, ENCRYPTED);
    expect(sealed.header.bloomPages).toBe(plain.header.bloomPages);
    let ruledOut = 0;
    for (let i = 0; i < 15000; i++) {
      const k = Buffer.from(pad(i));
      expect(sealed.mayContain(k), pad(i)).toBe(plain.mayContain(k));
      if (!plain.mayContain(k)) ruledOut++;
    }
    expect(ruledOut).toBeGreaterThan(9000); // the filter does rule keys out: the comparison is not of two "maybe"s
    plain.close();
    sealed.close();
  });

  it('merging encrypted runs keeps the newest entry of each key with its group', () => {
    const dir = tempDir();
    const older = Array.from({ length: 3000 }, (_, i) => pad(i * 2));
    const newer = Array.from({ length: 3000 }, (_, i) => pad(i * 3));
    build(dir, 1, older, ENCRYPTED, 1);
    build(dir, 2, newer, ENCRYPTED, 2);
    const readers = [RunReader.open(realFs, dir, 2, ENCRYPTED), RunReader.open(realFs, dir, 1, ENCRYPTED)];
    const w = new RunWriter(realFs, dir, 3, 6000, ENCRYPTED);
    mergeInto(w, readers, false, new TtlList());
    const info = w.finish();
    for (const r of readers) r.close();
    const merged = RunReader.open(realFs, dir, 3, ENCRYPTED);
    const want = new Map<string, ReturnType<typeof entryOf>>();
    older.forEach((k, i) => want.set(k, entryOf(i, 1)));
    newer.forEach((k, i) => want.set(k, entryOf(i, 2)));
    const got = [...merged.cursor(Buffer.alloc(0))];
    expect(got.map((e) => e.key.toString())).toEqual([...want.keys()].sort());
    for (const e of got) expect(fieldsOf(e)).toEqual(want.get(e.key.toString()));
    expect(keyRange(info, ENCRYPTED, dir)).toEqual({ min: Buffer.from(pad(0)), max: Buffer.from(pad(2999 * 3)) });
    merged.close();
  });

  it('a flipped byte in a leaf entry (CRC fixed up) fails its tag: CORRUPT naming file and offset; listings step over the leaf', () => {
    const dir = tempDir();
    const keys = Array.from({ length: 2000 }, (_, i) => pad(i));
    build(dir, 4, keys, ENCRYPTED);
    const path = runPath(dir, 4);
    const bytes = readFileSync(path);
    const r0 = RunReader.open(realFs, dir, 4, ENCRYPTED);
    const [at, length] = leafBlocksOf(bytes, r0.header.leavesEnd)[1];
    r0.close();
    bytes[at + 8 + 12 + 30] ^= 0x01; // inside the second leaf's entries
    bytes.writeUInt32LE(crc32(bytes, at, at + length - 4), at + length - 4);
    writeFileSync(path, bytes);
    const r = RunReader.open(realFs, dir, 4, ENCRYPTED);
    const damage: Array<{ offset?: number; message: string }> = [];
    const listed = new Set([...r.cursor(Buffer.alloc(0), (d) => damage.push(d))].map((e) => e.key.toString()));
    const lost = keys.filter((k) => !listed.has(k));
    expect(lost.length).toBeGreaterThan(10); // the damaged leaf's keys, stepped over; every other key listed
    expect(keys.filter((k) => listed.has(k))).toEqual([...listed]);
    expect(damage).toHaveLength(1);
    expect(damage[0].offset).toBe(at);
    expect(damage[0].message).toContain('authentication failed');
    const err = caught(() => r.find(Buffer.from(lost[0])));
    expect(isTzkvError(err, 'CORRUPT')).toBe(true);
    expect((err as Error).message).toContain(`00000004.tzix offset ${at}: leaf block authentication failed`);
    expect((err as TzkvError).offset).toBe(at);
    expect(r.find(Buffer.from(keys[0]))!.key.toString()).toBe(keys[0]); // another leaf still answers
    expect(() => [...r.cursor(Buffer.alloc(0))]).toThrow(/authentication failed/);
    r.close();
  });

  it('a flipped byte in a bloom page (CRC fixed up) fails its tag; a lookup passes over the page', () => {
    const dir = tempDir();
    const keys = Array.from({ length: 100 }, (_, i) => pad(i));
    build(dir, 7, keys, ENCRYPTED);
    const path = runPath(dir, 7);
    const bytes = readFileSync(path);
    const r0 = RunReader.open(realFs, dir, 7, ENCRYPTED);
    const page = r0.header.bloomOffset;
    expect(r0.ttlOffset - page).toBe(4128 * r0.header.bloomPages);
    r0.close();
    bytes[page + 12 + 100] ^= 0x80;
    bytes.writeUInt32LE(crc32(bytes, page, page + 4124), page + 4124);
    writeFileSync(path, bytes);
    const r = RunReader.open(realFs, dir, 7, ENCRYPTED);
    const err = caught(() => r.mayContain(Buffer.from(keys[5])));
    expect(isTzkvError(err, 'CORRUPT')).toBe(true);
    expect((err as Error).message).toContain(`00000007.tzix offset ${page}: bloom filter page authentication failed`);
    expect(r.find(Buffer.from(keys[5]))!.key.toString()).toBe(keys[5]);
    r.close();
  });

  it('blocks opened with another data key fail their tags', () => {
    const dir = tempDir();
    build(dir, 8, [pad(1), pad(2)], ENCRYPTED);
    const r = RunReader.open(realFs, dir, 8, OTHER_KEY);
    expect(() => [...r.cursor(Buffer.alloc(0))]).toThrow(/leaf block authentication failed/);
    r.close();
  });

  it('without the key: a run opens and its TTL section reads, a lookup asks for the key, a writer refuses before creating a file', () => {
    const dir = tempDir();
    const w0 = new RunWriter(realFs, dir, 9, 1, ENCRYPTED);
    w0.add('k', KIND_PUT, 1, 16, 40, 1_900_000_000_000, 16, 60);
    const info = w0.finish();
    const r = RunReader.open(realFs, dir, 9, KEYLESS);
    expect(ttlSection(r)).toMatchObject({ adds: 1, removes: 0 });
    expect(isTzkvError(caught(() => r.find(Buffer.from('k'))), 'KEY_REQUIRED')).toBe(true);
    // Sorted lookups (stats weighs a tail with them) ask for the key at the first lookup, not before.
    const lookup = sortedLookup([info], () => r);
    expect(isTzkvError(caught(() => lookup('k')), 'KEY_REQUIRED')).toBe(true);
    r.close();
    const before = readdirSync(dir);
    expect(isTzkvError(caught(() => new RunWriter(realFs, dir, 10, 1, KEYLESS)), 'KEY_REQUIRED')).toBe(true);
    expect(readdirSync(dir)).toEqual(before);
  });

  it('an encrypted run refuses an entry without its group', () => {
    const w = new RunWriter(realFs, tempDir(), 13, 1, ENCRYPTED);
    expect(() => w.add('k', KIND_PUT, 1, 16, 40, 0)).toThrow(/without its record's group/);
    w.abort();
  });

  it('the key never appears in a run file, plain or base64', () => {
    const dir = tempDir();
    const canary = 'canary-7f3a9c-key';
    const keys = [...Array.from({ length: 3000 }, (_, i) => pad(i)), canary].sort();
    build(dir, 11, keys, ENCRYPTED);
    const bytes = readFileSync(runPath(dir, 11));
    expect(bytes.includes(Buffer.from(canary))).toBe(false);
    expect(bytes.includes(Buffer.from(Buffer.from(canary).toString('base64').slice(0, 16)))).toBe(false);
    expect(bytes.includes(Buffer.from(pad(1234)))).toBe(false);
    expect(RunReader.open(realFs, dir, 11, ENCRYPTED).find(Buffer.from(canary))).toBeDefined();
  });
});

describe('manifest key ranges, version 2', () => {
  it('are sealed per run and end: a flipped byte, another run’s range or min for max fails the tag', () => {
    const dir = tempDir();
    const a = build(dir, 1, [pad(10), pad(20)], ENCRYPTED);
    const b = build(dir, 2, [pad(30), pad(40)], ENCRYPTED);
    expect(a.minKey.includes(Buffer.from(pad(10)))).toBe(false);
    expect(a.minKey.length).toBe(pad(10).length + 28);
    // A fresh copy of the stored bytes, as a MANIFEST read gives them (nothing remembered from the writer).
    const stored = (info: RunInfo, change: (r: RunInfo) => void = () => undefined): RunInfo => {
      const r = { ...info, minKey: Buffer.from(info.minKey), maxKey: Buffer.from(info.maxKey) };
      change(r);
      return r;
    };
    expect(keyRange(stored(a), ENCRYPTED, dir)).toEqual({ min: Buffer.from(pad(10)), max: Buffer.from(pad(20)) });
    expect(mayHold(stored(a), ENCRYPTED, dir, Buffer.from(pad(15)))).toBe(true);
    expect(mayHold(stored(a), ENCRYPTED, dir, Buffer.from(pad(25)))).toBe(false);
    expect(mayHold(stored(a), ENCRYPTED, dir, Buffer.from(pad(5)))).toBe(false);
    const damaged: Array<[string, (r: RunInfo) => void]> = [
      ['a flipped byte', (r) => (r.minKey[15] ^= 1)],
      ['min for max', (r) => ([r.minKey, r.maxKey] = [r.maxKey, r.minKey])],
      ["another run's range", (r) => ((r.minKey = Buffer.from(b.minKey)), (r.maxKey = Buffer.from(b.maxKey)))],
      ['another key', () => undefined],
    ];
    for (const [what, change] of damaged) {
      const codec = what === 'another key' ? OTHER_KEY : ENCRYPTED;
      const err = caught(() => keyRange(stored(a, change), codec, dir));
      expect(isTzkvError(err, 'CORRUPT'), what).toBe(true);
      expect((err as Error).message, what).toMatch(/^MANIFEST: run 1's (min|max)Key: authentication failed/);
    }
    // Without the key the stored bytes are all there is: KEY_REQUIRED, never a guess.
    expect(isTzkvError(caught(() => keyRange(stored(a), KEYLESS, dir)), 'KEY_REQUIRED')).toBe(true);
  });

  it('a run that is not encrypted keeps its keys as its range, and no key id', () => {
    const dir = tempDir();
    for (const codec of [PLAIN, COMPRESSED]) {
      const info = build(dir, codec === PLAIN ? 1 : 2, [pad(1), pad(2)], codec);
      expect(info.key).toBeUndefined();
      expect(info.minKey).toEqual(Buffer.from(pad(1)));
      expect(info.maxKey).toEqual(Buffer.from(pad(2)));
    }
  });
});

describe('index runs, version 2: compressed only', () => {
  it('is a version 1 run but for its header: version 2, key id 0', () => {
    const dir = tempDir();
    const keys = Array.from({ length: 20000 }, (_, i) => pad(i));
    build(dir, 1, keys, PLAIN);
    build(dir, 1 + 1, keys, COMPRESSED);
    const v1 = readFileSync(runPath(dir, 1));
    const v2 = readFileSync(runPath(dir, 2));
    expect(v2.readUInt16LE(4)).toBe(2);
    expect(v2.readUInt16LE(6)).toBe(0);
    expect(v2.subarray(16).equals(v1.subarray(16))).toBe(true);
    const r = RunReader.open(realFs, dir, 2, COMPRESSED);
    expect(r.header.version).toEqual({ version: 2, keyId: 0 });
    expect(r.layout.sealed).toBe(false);
    const e = r.find(Buffer.from(pad(777)))!;
    expect(fieldsOf(e)).toEqual({ ...entryOf(777), group: 0, groupLength: 0 }); // no room for a group: none is kept
    r.close();
  });
});
