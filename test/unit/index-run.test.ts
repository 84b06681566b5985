import { readFileSync, writeFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { RunReader } from '../../src/engine/runs/run-reader.js';
import { RunWriter } from '../../src/engine/runs/run-writer.js';
import { BloomBuilder, bloomAdd, bloomBucket, bloomMayContain, bloomPageCount, murmur3 } from '../../src/format/bloom.js';
import { KIND_DEL, KIND_PUT } from '../../src/format/constants.js';
import { realFs } from '../../src/io/fs.js';
import { tempDir } from '../helpers/temp-store.js';
import { PLAIN } from '../../src/format/store-codec.js';

function build(dir: string, file: number, keys: string[]) {
  const w = new RunWriter(realFs, dir, file, keys.length, PLAIN);
  keys.forEach((k, i) => w.add(k, i % 7 === 0 ? KIND_DEL : KIND_PUT, 3, 16 + i * 40, 40, i % 5 === 0 ? 1_900_000_000_000 + i : 0));
  return w.finish();
}

const pad = (i: number) => `key:${String(i).padStart(8, '0')}`;

describe('index run', () => {
  it('murmur3 matches the reference vectors', () => {
    // MurmurHash3_x86_32 reference values.
    expect(murmur3(Buffer.from(''), 0, 0, 0)).toBe(0);
    expect(murmur3(Buffer.from(''), 0, 0, 1)).toBe(0x514e28b7);
    expect(murmur3(Buffer.from('Hello, world!'), 0, 13, 1234)).toBe(0xfaf6cdb3);
    expect(murmur3(Buffer.from('The quick brown fox jumps over the lazy dog'), 0, 43, 0x9747b28c)).toBe(0x2fa826cd);
  });

  it('has no false negatives and about 1% false positives', () => {
    const n = 20000;
    const pages = bloomPageCount(n);
    const filter = Buffer.alloc(pages * 4096);
    for (let i = 0; i < n; i++) bloomAdd(filter, pages, Buffer.from(pad(i)));
    const check = (k: Buffer) => bloomMayContain(filter, bloomBucket(k, pages) * 64, k);
    for (let i = 0; i < n; i++) expect(check(Buffer.from(pad(i)))).toBe(true);
    let fp = 0;
    for (let i = n; i < 2 * n; i++) if (check(Buffer.from(pad(i)))) fp++;
    expect(fp / n).toBeLessThan(0.03);
  });

  it('a filter built a batch of keys at a time, page by page, has the bits of one built a key at a time', () => {
    for (const n of [1, 1000, 150_000]) {
      const pages = bloomPageCount(n);
      const one = Buffer.alloc(pages * 4096);
      const builder = new BloomBuilder(pages);
      for (let i = 0; i < n; i++) {
        const key = Buffer.from(pad(i * 7));
        bloomAdd(one, pages, key);
        builder.add(key, 0, key.length);
      }
      expect(builder.finish().equals(one), `${n} keys`).toBe(true);
    }
  });

  it('finds every key, misses absent ones, and iterates in order from any start', () => {
    const dir = tempDir();
    const keys = Array.from({ length: 30000 }, (_, i) => pad(i * 2));
    const info = build(dir, 5, keys);
    expect(info.entries).toBe(keys.length);
    expect(info.minKey.toString()).toBe(keys[0]);
    expect(info.maxKey.toString()).toBe(keys[keys.length - 1]);
    const r = RunReader.open(realFs, dir, 5, PLAIN);
    expect(r.header.height).toBeGreaterThanOrEqual(2);
    for (let i = 0; i < keys.length; i += 97) {
      const e = r.find(Buffer.from(keys[i]))!;
      expect(e.key.toString()).toBe(keys[i]);
      expect(e.offset).toBe(16 + i * 40);
      expect(e.kind).toBe(i % 7 === 0 ? KIND_DEL : KIND_PUT);
      expect(e.expiresAt).toBe(i % 5 === 0 ? 1_900_000_000_000 + i : 0);
      expect(r.find(Buffer.from(pad(i * 2 + 1)))).toBeUndefined();
    }
    expect(r.find(Buffer.from('a'))).toBeUndefined();
    expect(r.find(Buffer.from('z'))).toBeUndefined();
    const all = [...r.cursor(Buffer.alloc(0))].map((e) => e.key.toString());
    expect(all).toEqual(keys);
    const from = [...r.cursor(Buffer.from(pad(20001)))].map((e) => e.key.toString());
    expect(from).toEqual(keys.filter((k) => k >= pad(20001)));
    r.close();
  });

  it('refuses keys out of order', () => {
    const dir = tempDir();
    const w = new RunWriter(realFs, dir, 9, 2, PLAIN);
    w.add('b', KIND_PUT, 1, 16, 30, 0);
    expect(() => w.add('a', KIND_PUT, 1, 46, 30, 0)).toThrow(/out of order/);
    w.abort();
  });

  it('refuses key bytes out of order, also in the first entry after its buffer was written out', () => {
    const dir = tempDir();
    const key = (i: number) => Buffer.from(pad(i));
    // Where the first write of the buffer happens: while adding entry `at`, whose key is then checked against the last one kept aside.
    let writes = 0;
    const fs = { ...realFs, write: (...args: Parameters<typeof realFs.write>) => (writes++, realFs.write(...args)) };
    const first = new RunWriter(fs, dir, 10, 40000, PLAIN);
    let at = -1;
    for (let i = 0; at < 0; i++) {
      first.addBytes(key(i), 0, 12, KIND_PUT, 1, 16 + i * 30, 30, 0);
      if (writes > 0) at = i;
    }
    first.abort();
    for (const wrong of [at - 1, at - 2]) {
      const w = new RunWriter(realFs, dir, 11, 40000, PLAIN);
      for (let i = 0; i < at; i++) w.addBytes(key(i), 0, 12, KIND_PUT, 1, 16 + i * 30, 30, 0);
      expect(() => w.addBytes(key(wrong), 0, 12, KIND_PUT, 1, 0, 30, 0), `key ${wrong} after ${at - 1}`).toThrow(/out of order/);
      w.abort();
    }
    const w = new RunWriter(realFs, dir, 12, 40000, PLAIN);
    for (let i = 0; i <= at + 10; i++) w.addBytes(key(i), 0, 12, KIND_PUT, 1, 16 + i * 30, 30, 0);
    expect(w.finish().maxKey.toString()).toBe(pad(at + 10));
  });

  it('reports a damaged block as CORRUPT with file and offset', () => {
    const dir = tempDir();
    build(dir, 4, Array.from({ length: 500 }, (_, i) => pad(i)));
    const path = `${dir}/00000004.tzix`;
    const bytes = readFileSync(path);
    bytes[64 + 100] ^= 0xff; // inside the first leaf block
    writeFileSync(path, bytes);
    const r = RunReader.open(realFs, dir, 4, PLAIN);
    expect(() => r.find(Buffer.from(pad(1)))).toThrow(/00000004\.tzix offset 64: block CRC mismatch/);
    expect(() => [...r.cursor(Buffer.alloc(0))]).toThrow(/CRC mismatch/);
    r.close();
  });

  it('an empty run has no blocks and finds nothing', () => {
    const dir = tempDir();
    const info = build(dir, 2, []);
    expect(info.entries).toBe(0);
    const r = RunReader.open(realFs, dir, 2, PLAIN);
    expect(r.find(Buffer.from('x'))).toBeUndefined();
    expect([...r.cursor(Buffer.alloc(0))]).toEqual([]);
    r.close();
  });
});

describe('murmur3Pair', () => {
  it('gives both bloom hashes of murmur3 in one pass', async () => {
    const bloom = await import('../../src/format/bloom.js');
    const { BLOOM_SEED_1, BLOOM_SEED_2 } = await import('../../src/format/constants.js');
    const buf = Buffer.from(Array.from({ length: 64 }, (_, i) => (i * 37 + 11) & 0xff));
    for (let start = 0; start < 5; start++) {
      for (let end = start; end <= 45; end++) {
        expect(bloom.murmur3Pair(buf, start, end)).toBe(murmur3(buf, start, end, BLOOM_SEED_1));
        expect(bloom.murmurPairSecond).toBe(murmur3(buf, start, end, BLOOM_SEED_2));
      }
    }
  });
});

describe('leaf entry codec', () => {
  const fields = () => ({ keyStart: 0, keyLength: 0, kind: 0, segment: 0, offset: 0, length: 0, expiresAt: 0, group: 0, groupLength: 0 });

  it('reads back what writeLeafKey and writeLeafFields wrote, and says why a damaged entry is not one', async () => {
    const { LEAF_BAD_KIND, LEAF_MALFORMED, LEAF_OUT_OF_RANGE, LEAF_PAST_END, readLeafEntry, writeLeafFields, writeLeafKey } = await import('../../src/format/index-block.js');
    const { LEAF_ENTRY_FIXED_BYTES, MAX_KEY_BYTES } = await import('../../src/format/constants.js');
    const buf = Buffer.alloc(64, 0xee);
    const end = writeLeafFields(buf, writeLeafKey(buf, 3, 'key:1'), KIND_PUT, 0xfffffffe, 2 ** 53 - 1, 0x80000001, 1_700_000_000_000);
    expect(end).toBe(3 + LEAF_ENTRY_FIXED_BYTES + 5);
    const e = fields();
    expect(readLeafEntry(buf, 3, end, e)).toBe(end);
    expect(e).toEqual({ keyStart: 5, keyLength: 5, kind: KIND_PUT, segment: 0xfffffffe, offset: 2 ** 53 - 1, length: 0x80000001, expiresAt: 1_700_000_000_000, group: 0, groupLength: 0 });
    expect(buf.toString('latin1', e.keyStart, e.keyStart + e.keyLength)).toBe('key:1');

    const untouched = fields();
    const damaged = (change: (b: Buffer) => void, upTo = end) => {
      const b = Buffer.from(buf);
      change(b);
      return readLeafEntry(b, 3, upTo, untouched);
    };
    expect(damaged(() => undefined, 4)).toBe(LEAF_PAST_END);
    expect(damaged(() => undefined, end - 1)).toBe(LEAF_MALFORMED);
    expect(damaged((b) => b.writeUInt16LE(0, 3))).toBe(LEAF_MALFORMED);
    expect(damaged((b) => b.writeUInt16LE(MAX_KEY_BYTES + 1, 3))).toBe(LEAF_MALFORMED);
    expect(damaged((b) => (b[10] = KIND_DEL + 1))).toBe(LEAF_BAD_KIND);
    expect(damaged((b) => (b[10 + 12] = 0x20))).toBe(LEAF_OUT_OF_RANGE); // offset's high word past 2^53
    expect(damaged((b) => (b[10 + 24] = 0x20))).toBe(LEAF_OUT_OF_RANGE); // expiresAt's
    expect(untouched, 'nothing is filled in for an entry that is not one').toEqual(fields());
  });
});
