import { existsSync, mkdirSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { open, TzkvError } from '../../src/index.js';
import { putPacked } from '../../src/checked-batch.js';
import { MAX_EXPIRY_MS, MAX_KEY_BYTES } from '../../src/format/constants.js';
import { tempDir, tempStore } from '../helpers/temp-store.js';
import { type FileSystem, realFs } from '../../src/io/fs.js';

async function collect<T>(it: AsyncIterable<T>): Promise<T[]> {
  const out: T[] = [];
  for await (const x of it) out.push(x);
  return out;
}

async function rejectsWith(p: Promise<unknown>, code: string, text?: RegExp | string) {
  const err = await p.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err, 'expected a rejection').toBeInstanceOf(TzkvError);
  expect((err as TzkvError).code).toBe(code);
  if (text) expect((err as TzkvError).message).toMatch(text);
}

describe('store: reads and writes', () => {
  it('puts, gets, overwrites and deletes, byte-exact', async () => {
    const s = await tempStore();
    const bin = Buffer.from([0, 1, 2, 255, 254, 10, 13, 0]);
    expect(await s.put('k', 'v1')).toBe(true);
    expect(await s.put('k', 'v2')).toBe(true);
    expect(await s.put(Buffer.from([0xff, 0x00]), bin)).toBe(true);
    expect(await s.put('empty', '')).toBe(true);
    expect((await s.get('k'))?.toString()).toBe('v2');
    expect(await s.get(Buffer.from([0xff, 0x00]))).toEqual(bin);
    expect(await s.get('empty')).toEqual(Buffer.alloc(0));
    expect(await s.has('empty')).toBe(true);
    expect(await s.get('missing')).toBeUndefined();
    expect(await s.del('k', 'missing', 'k')).toBe(1);
    expect(await s.get('k')).toBeUndefined();
    expect(await s.del('k')).toBe(0);
  });

  it('put ifAbsent writes only when the key does not exist', async () => {
    const s = await tempStore();
    expect(await s.put('k', 'first', { ifAbsent: true })).toBe(true);
    expect(await s.put('k', 'second', { ifAbsent: true })).toBe(false);
    expect((await s.get('k'))?.toString()).toBe('first');
  });

  it('a put with a 1 ms TTL is taken, whatever the clock does while it runs (it was refused as past when the clock ticked between two readings)', async () => {
    let now = 1_000_000;
    const s = await tempStore({ now: () => now++ }); // every reading is a millisecond later
    expect(await s.put('brief', 'x', { ttlMs: 1 })).toBe(true);
    await expect(s.put('past', 'x', { expiresAt: 5 })).rejects.toMatchObject({ code: 'INVALID_ARGUMENT' });
  });

  it('expires keys: invisible to every read and listing', async () => {
    let now = 1_000_000;
    const s = await tempStore({ now: () => now });
    await s.put('short', 'x', { ttlMs: 1000 });
    await s.put('long', 'y', { expiresAt: now + 60_000 });
    await s.put('forever', 'z');
    expect(await s.expiry('short')).toBe(1_001_000);
    expect(await s.expiry('forever')).toBeNull();
    now += 1000;
    expect(await s.get('short')).toBeUndefined();
    expect(await s.has('short')).toBe(false);
    expect(await s.expiry('short')).toBeUndefined();
    expect((await collect(s.keys())).map((k) => k.key.toString())).toEqual(['forever', 'long']);
    expect((await s.stats()).keys).toBe(2);
    expect((await s.stats()).expiredKeys).toBe(1);
    expect(await s.setExpiry('long', null)).toBe(true);
    expect(await s.expiry('long')).toBeNull();
    expect(await s.setExpiry('short', now + 10)).toBe(false);
    expect(await s.put('short', 'again', { ifAbsent: true })).toBe(true);
  });

  it('lists keys by prefix in byte order, with a limit', async () => {
    const s = await tempStore({ flushBytes: 512 });
    const keys = ['user:2', 'user:10', 'user:1', 'usex', 'user', 'a', 'user:\u00e9'];
    for (const k of keys) await s.put(k, k.toUpperCase());
    await s.del('user:10');
    const listed = (await collect(s.keys({ prefix: 'user:' }))).map((k) => k.key.toString());
    expect(listed).toEqual(['user:1', 'user:2', 'user:\u00e9']);
    expect((await collect(s.keys({ prefix: 'user', limit: 2 }))).map((k) => k.key.toString())).toEqual(['user', 'user:1']);
    const entries = await collect(s.entries({ prefix: 'user:2' }));
    expect(entries.map((e) => [e.key.toString(), e.value.toString()])).toEqual([['user:2', 'USER:2']]);
  });

  it('applies an atomic batch of puts and deletes, last write per key winning', async () => {
    const s = await tempStore({ flushBytes: 1024 });
    await s.put('old', 'x');
    const b = s.batch();
    for (let i = 0; i < 500; i++) b.put(`b:${String(i).padStart(3, '0')}`, `v${i}`);
    b.put('b:007', 'overwritten');
    b.del('old');
    expect(b.length).toBe(502);
    await b.write();
    expect((await s.get('b:007'))?.toString()).toBe('overwritten');
    expect((await s.get('b:499'))?.toString()).toBe('v499');
    expect(await s.get('old')).toBeUndefined();
    expect((await collect(s.keys({ prefix: 'b:' }))).length).toBe(500);
    await expect(b.write()).rejects.toThrow(/already written/);
  });

  it('update reads and writes under the lock (the basis of incr)', async () => {
    const s = await tempStore();
    const incr = () =>
      s.update('n', (cur) => ({ value: String(Number(cur?.value.toString() ?? '0') + 1) }));
    await Promise.all(Array.from({ length: 20 }, incr));
    expect((await s.get('n'))?.toString()).toBe('20');
    expect(await s.update('n', () => undefined)).toMatchObject({ value: Buffer.from('20') });
  });

  it('keeps working across segment rolls, index flushes and run merges', async () => {
    const dir = tempDir();
    const s = await tempStore({ segmentBytes: 8192, flushBytes: 600 }, dir);
    const expected = new Map<string, string>();
    for (let i = 0; i < 400; i++) {
      const k = `k${(i * 37) % 150}`;
      const v = `value ${i} `.repeat(1 + (i % 5));
      await s.put(k, v);
      expected.set(k, v);
      if (i % 9 === 0) {
        await s.del(`k${(i * 11) % 150}`);
        expected.delete(`k${(i * 11) % 150}`);
      }
    }
    for (const [k, v] of expected) expect((await s.get(k))?.toString()).toBe(v);
    expect((await collect(s.keys())).map((k) => k.key.toString())).toEqual([...expected.keys()].sort());
    const st = await s.stats();
    expect(st.keys).toBe(expected.size);
    expect(st.segments).toBeGreaterThanOrEqual(3);
    expect(st.details.runs as number).toBeLessThan(12);
    const files = readdirSync(dir).filter((f) => f.endsWith('.tzix'));
    expect(files.length).toBe(st.details.runs);
    const report = await s.compact();
    expect(report.compacted).toBe(true);
    for (const [k, v] of expected) expect((await s.get(k))?.toString()).toBe(v);
    expect((await s.stats()).keys).toBe(expected.size);
  });

  it('a second handle sees writes made through the first', async () => {
    const dir = tempDir();
    const a = await tempStore({}, dir);
    const b = await open(dir, { readOnly: true });
    await a.put('x', '1');
    expect((await b.get('x'))?.toString()).toBe('1');
    await a.put('x', '2');
    expect((await b.get('x'))?.toString()).toBe('2');
    await rejectsWith(b.put('y', '1'), 'READ_ONLY');
    await b.close();
    await rejectsWith(b.get('x'), 'CLOSED');
  });
});

describe('store: bad input', () => {
  it('rejects empty and over-long keys and over-long values, writing nothing', async () => {
    const dir = tempDir();
    const s = await open(dir);
    await rejectsWith(s.put('', 'v'), 'INVALID_ARGUMENT', /empty/);
    await rejectsWith(s.put('k'.repeat(MAX_KEY_BYTES + 1), 'v'), 'INVALID_ARGUMENT', /1025 bytes, over the limit of 1024/);
    await rejectsWith(s.get(''), 'INVALID_ARGUMENT');
    await rejectsWith(s.put('k', 'v', { ttlMs: -5 }), 'INVALID_ARGUMENT', /ttl/);
    await rejectsWith(s.put('k', 'v', { expiresAt: 1000 }), 'INVALID_ARGUMENT', /past/);
    expect(() => s.batch().put('', 'x')).toThrow(TzkvError);
    expect(readdirSync(dir)).toEqual([]);
    expect(await s.put('k'.repeat(MAX_KEY_BYTES), 'v')).toBe(true);
  });

  it('refuses an expiry after 9999-12-31T23:59:59.999Z (MAX_EXPIRY_MS) from every write, accepts that one', async () => {
    const dir = tempDir();
    const s = await open(dir);
    const limit = /after 9999-12-31T23:59:59\.999Z, the latest expiry tzkv stores/;
    await rejectsWith(s.put('k', 'v', { expiresAt: MAX_EXPIRY_MS + 1 }), 'INVALID_ARGUMENT', limit);
    await rejectsWith(s.put('k', 'v', { ttlMs: 999_999_999_999_000 }), 'INVALID_ARGUMENT', limit);
    expect(() => s.batch().put('k', 'v', { expiresAt: MAX_EXPIRY_MS + 1 })).toThrow(limit);
    expect(readdirSync(dir)).toEqual([]);
    await s.put('k', 'v');
    await rejectsWith(s.setExpiry('k', MAX_EXPIRY_MS + 1), 'INVALID_ARGUMENT', limit);
    await rejectsWith(s.update('k', () => ({ value: 'w', expiresAt: MAX_EXPIRY_MS + 1 })), 'INVALID_ARGUMENT', limit);
    expect(await s.getEntry('k')).toMatchObject({ expiresAt: null });
    expect(await s.put('k', 'v', { expiresAt: MAX_EXPIRY_MS })).toBe(true);
    expect(new Date((await s.expiry('k'))!).toISOString()).toBe('9999-12-31T23:59:59.999Z');
    await s.close();
  });

  it('accepts a 64 MiB value', async () => {
    const s = await tempStore();
    const big = Buffer.alloc(64 * 1024 * 1024, 0xab);
    big[12345] = 1;
    await s.put('big', big);
    const back = await s.get('big');
    expect(back?.length).toBe(big.length);
    expect(back?.equals(big)).toBe(true);
  });

  it('refuses a regular file, and a directory of other files, touching nothing', async () => {
    const dir = tempDir();
    const file = join(dir, 'plain.txt');
    writeFileSync(file, 'hello');
    await rejectsWith(open(file), 'NOT_A_STORE', /plain\.txt is not a directory/);
    await rejectsWith(open(dir), 'NOT_A_STORE', /not a tzkv store: it holds other files \(plain\.txt\)/);
    expect(readdirSync(dir)).toEqual(['plain.txt']);
  });

  it('refuses a directory whose names only look like tzkv files (VERIFIED.123 is no VERIFIED), touching nothing', async () => {
    const dir = tempDir();
    writeFileSync(join(dir, 'VERIFIED.123'), '{}');
    await rejectsWith(open(dir), 'NOT_A_STORE', /not a tzkv store: it holds other files \(VERIFIED\.123\)/);
    expect(readdirSync(dir)).toEqual(['VERIFIED.123']);
  });

  it('a read on a missing directory fails naming it and creates nothing; a write creates it', async () => {
    const dir = join(tempDir(), 'nested', 'store');
    await rejectsWith(open(dir, { readOnly: true }), 'NO_STORE', dir);
    expect(existsSync(dir)).toBe(false);
    await rejectsWith(open(dir, { create: false }), 'NO_STORE');
    const s = await tempStore({}, dir);
    await s.put('a', 'b');
    expect(existsSync(join(dir, 'MANIFEST'))).toBe(true);
  });

  it('an existing empty directory is an empty store', async () => {
    const dir = tempDir();
    const s = await open(dir, { readOnly: true });
    expect(await s.get('a')).toBeUndefined();
    expect(await collect(s.keys())).toEqual([]);
    expect((await s.stats()).keys).toBe(0);
    expect((await s.verify()).ok).toBe(true);
    expect(readdirSync(dir)).toEqual([]);
  });

  it('create: false wants a store there: an empty directory is NO_STORE too, and stays empty', async () => {
    const dir = tempDir();
    await rejectsWith(open(dir, { create: false }), 'NO_STORE', /no tzkv store at .*: the directory holds none/);
    await rejectsWith(open(dir, { readOnly: true, create: false }), 'NO_STORE', /the directory holds none/);
    expect(readdirSync(dir)).toEqual([]);
  });

  it('a store path under a regular file is an IO error naming it', async () => {
    const file = join(tempDir(), 'file');
    writeFileSync(file, 'x');
    await rejectsWith(open(join(file, 'store')), 'IO', join(file, 'store'));
  });

  it('a store of a newer format version is refused with VERSION', async () => {
    const dir = tempDir();
    mkdirSync(dir, { recursive: true });
    const s = await open(dir);
    await s.put('a', 'b');
    const { readFileSync } = await import('node:fs');
    const m = readFileSync(join(dir, 'MANIFEST'));
    m.writeUInt16LE(9, 4);
    writeFileSync(join(dir, 'MANIFEST'), m);
    await rejectsWith(open(dir, { readOnly: true }), 'VERSION', /format version 9 is newer/);
    writeFileSync(join(dir, 'MANIFEST'), (m.writeUInt16LE(1, 4), m));
  });
});

describe('store: administration (StoreAdmin)', () => {
  it('a directory store has one; repair on a read-only handle is READ_ONLY and changes nothing; verify never repairs', async () => {
    const s = await tempStore();
    await s.put('k', 'v');
    await s.close();
    const reader = await open(s.location, { readOnly: true });
    const admin = reader.admin();
    expect(admin).toBeDefined();
    await rejectsWith(admin!.repair(), 'READ_ONLY', /is open read-only: it cannot be repaired/);
    expect((await reader.verify()).repair).toBeUndefined();
    expect((await reader.get('k'))?.toString()).toBe('v');
    await reader.close();
  });
});

describe('store: compaction', () => {
  it('keeps the operation counters, predicts its size exactly in a dry run, and drops dead records', async () => {
    let now = 5_000_000;
    const s = await tempStore({ now: () => now, segmentBytes: 4096, flushBytes: 1024 });
    for (let i = 0; i < 100; i++) await s.put(`k${i % 30}`, `value ${i}`);
    await s.put('ttl', 'x', { ttlMs: 10 });
    await s.del('k1', 'k2');
    now += 10;
    const before = await s.stats();
    expect([before.puts, before.deletes]).toEqual([101, 2]);
    const dry = await s.compact({ dryRun: true });
    expect(dry.compacted).toBe(false);
    expect(dry.recordsKept).toBe(28);
    const real = await s.compact();
    expect(real.compacted).toBe(true);
    expect(real.bytesAfter).toBe(dry.bytesAfter);
    expect(real.bytesAfter).toBeLessThan(real.bytesBefore);
    const after = await s.stats();
    expect([after.puts, after.deletes, after.keys]).toEqual([101, 2, 28]);
    expect(after.totalBytes).toBe(real.bytesAfter);
    expect(after.lastCompaction).toBe(new Date(now).toISOString());
  });
});

describe('store: large batches', () => {
  it('a batch past the spill size stages in a file and becomes its own segment, atomically', async () => {
    const dir = tempDir();
    const s = await tempStore({ spillBytes: 64 * 1024, segmentBytes: 1 << 20, flushBytes: 4096 }, dir);
    await s.put('before', 'x');
    const b = s.batch();
    for (let i = 0; i < 2000; i++) b.put(`k${String(i).padStart(5, '0')}`, `value ${i} `.repeat(10));
    b.put('k00007', 'last write wins');
    b.del('before');
    const staging = readdirSync(dir).filter((f) => f.startsWith('stage-'));
    expect(staging).toHaveLength(1);
    expect(await s.get('k00001')).toBeUndefined(); // nothing visible before write()
    await b.write();
    expect(readdirSync(dir).filter((f) => f.startsWith('stage-'))).toEqual([]);
    expect((await s.get('k00007'))?.toString()).toBe('last write wins');
    expect((await s.get('k01999'))?.toString()).toBe('value 1999 '.repeat(10));
    expect(await s.get('before')).toBeUndefined();
    await s.put('after', 'y');
    expect((await s.stats()).keys).toBe(2001);
    const discarded = s.batch();
    for (let i = 0; i < 2000; i++) discarded.put(`z${i}`, 'x'.repeat(100));
    await discarded.discard();
    expect(readdirSync(dir).filter((f) => f.startsWith('stage-'))).toEqual([]);
    expect(await s.get('z1')).toBeUndefined();
  });

  it('has the disk start on a staging file every 32 MiB written and once sealed, before the commit fsyncs it', async () => {
    const dir = tempDir();
    const synced: string[] = [];
    const names = new Map<number, string>();
    const fs: FileSystem = {
      ...realFs,
      createExclusive: (path) => {
        const fd = realFs.createExclusive(path);
        names.set(fd, path);
        return fd;
      },
      syncAhead: (fd) => synced.push(`ahead ${names.get(fd)}`),
      fsync: (fd) => {
        synced.push(`fsync ${names.get(fd)}`);
        realFs.fsync(fd);
      },
    };
    const s = await tempStore({ fs }, dir);
    const b = s.batch();
    const value = 'v'.repeat(1000);
    for (let i = 0; i < 70_000; i++) b.put(`k${String(i).padStart(6, '0')}`, value);
    await b.write();
    // Every 32 MiB written, then once it has its header and COMMIT (its run is written meanwhile), then the commit's fsync.
    const stage = synced.filter((e) => e.includes('/stage-'));
    expect(stage[0]).toMatch(/^ahead .*stage-.*\.tmp$/);
    expect(stage).toEqual([stage[0], stage[0], stage[0], stage[0].replace('ahead', 'fsync')]);
    expect((await s.get('k069999'))?.toString()).toBe(value);
  });

  it("another writer leaves a live process's staging file alone, and removes a dead one's", async () => {
    const dir = tempDir();
    const s = await tempStore({}, dir);
    await s.put('a', '1');
    writeFileSync(join(dir, `stage-${process.pid}-abc123.tmp`), 'in progress');
    writeFileSync(join(dir, 'stage-999999999-def456.tmp'), 'left by a dead process');
    await s.put('b', '2');
    const names = readdirSync(dir);
    expect(names).toContain(`stage-${process.pid}-abc123.tmp`);
    expect(names).not.toContain('stage-999999999-def456.tmp');
    rmSync(join(dir, `stage-${process.pid}-abc123.tmp`));
  });
});

describe('store: a key put twice in a row in one batch', () => {
  it.each([
    ['in memory', { flushBytes: 1024 }],
    ['spilled to a staging file', { spillBytes: 4096 }],
  ])('the second put wins (%s)', async (_, options) => {
    const s = await tempStore(options);
    const b = s.batch();
    for (let i = 0; i < 200; i++) b.put(`k${String(i).padStart(3, '0')}`, 'first').put(`k${String(i).padStart(3, '0')}`, `second ${i}`);
    await b.write();
    expect((await s.get('k007'))?.toString()).toBe('second 7');
    expect((await s.stats()).keys).toBe(200);
  });
});

describe('store: packed puts (a bulk load)', () => {
  /** Puts of every length class (an empty value, a short one copied byte by byte, long ones), one with an expiry. */
  const puts = Array.from({ length: 300 }, (_, i) => ({
    key: `k${String(i).padStart(4, '0')}${'x'.repeat(i % 40)}`,
    value: Buffer.from('v'.repeat([0, 5, 31, 32, 100, 5000][i % 6]) + i),
    expiresAt: i % 7 === 0 ? 4_000_000_000_000 + i : 0,
  }));

  it.each([
    ['in memory', {}],
    ['spilled to a staging file', { spillBytes: 64 * 1024 }],
  ])('writes the same segment bytes as put one at a time (%s)', async (_, options) => {
    const one = tempDir();
    const packed = tempDir();
    const a = await tempStore(options, one);
    const b = await tempStore(options, packed);
    const byPut = a.batch();
    for (const p of puts) byPut.put(`p:${p.key}`, p.value, { expiresAt: p.expiresAt || null });
    await byPut.write();
    const bytes = Buffer.concat(puts.flatMap((p) => [Buffer.from(p.key), p.value]));
    const n = puts.length;
    const spans = { keyStart: new Uint32Array(n), keyEnd: new Uint32Array(n), valueStart: new Uint32Array(n), valueEnd: new Uint32Array(n), expiresAt: new Float64Array(n) };
    let at = 0;
    puts.forEach((p, i) => {
      spans.keyStart[i] = at;
      spans.keyEnd[i] = spans.valueStart[i] = at += p.key.length;
      spans.valueEnd[i] = at += p.value.length;
      spans.expiresAt[i] = p.expiresAt;
    });
    const byPacked = b.batch();
    putPacked(byPacked, { bytes, count: n, prefix: Buffer.from('p:'), ...spans });
    expect(byPacked.length).toBe(n);
    await byPacked.write();
    const segments = (dir: string) => readdirSync(dir).filter((f) => f.endsWith('.tzds')).sort();
    expect(segments(packed)).toEqual(segments(one));
    for (const f of segments(one)) expect(readFileSync(join(packed, f)).equals(readFileSync(join(one, f))), f).toBe(true);
    for (const p of puts) expect(await b.getEntry(`p:${p.key}`)).toMatchObject({ key: Buffer.from(`p:${p.key}`), value: p.value, expiresAt: p.expiresAt || null });
  });
});

describe('store: listings racing maintenance', () => {
  it('a listing keeps reading the cut it started on when a compaction deletes its files', async () => {
    const dir = tempDir();
    const s = await tempStore({ segmentBytes: 4096, flushBytes: 1024 }, dir);
    const expected: string[] = [];
    for (let i = 0; i < 300; i++) {
      const k = `k${String(i).padStart(4, '0')}`;
      await s.put(k, `value of ${k} `.repeat(4));
      expected.push(k);
    }
    const other = await open(dir, { segmentBytes: 4096, flushBytes: 1024 });
    const seen: string[] = [];
    let compacted = false;
    for await (const e of s.entries()) {
      expect(e.value.toString()).toBe(`value of ${e.key.toString()} `.repeat(4));
      seen.push(e.key.toString());
      if (seen.length === 20 && !compacted) {
        compacted = (await other.compact()).compacted;
        // The files the listing was reading are gone now.
        expect(readdirSync(dir).filter((f) => f.endsWith('.tzds')).length).toBeGreaterThan(0);
      }
    }
    expect(compacted).toBe(true);
    expect(seen).toEqual(expected);
  });
});
