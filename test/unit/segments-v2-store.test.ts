// Data segments of version 2 through the real writer and readers (issue 17,
// part "segments"): an encrypted store's puts, deletes, batches and big
// (staged) batches are sealed in groups, read back plain, and no key or value
// byte reaches a file. Stores are made with init({encrypt}) and opened with
// their secret; the tests read the segments with the store's own codec.
import { createSecretKey, randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, readdirSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { putPacked } from '../../src/checked-batch.js';
import { TzkvError } from '../../src/errors.js';
import { crc32 } from '../../src/format/bytes.js';
import { RECORD_HEADER_BYTES } from '../../src/format/constants.js';
import { LogFollower } from '../../src/engine/follow/log-follower.js';
import { View } from '../../src/engine/read/view.js';
import { realFs } from '../../src/io/fs.js';
import { writeFileSync } from 'node:fs';
import { FILE_HEADER_BYTES, KIND_PUT, KIND_SEAL } from '../../src/format/constants.js';
import { fileVersion } from '../../src/format/file-header.js';
import { DataKeys, type StoreCodec } from '../../src/format/store-codec.js';
import { SEAL_RECORD_BYTES } from '../../src/format/seal.js';
import { scanLog } from '../../src/engine/log/log-scan.js';
import { segmentFormat } from '../../src/engine/log/segment-format.js';
import { type EngineOptions, open } from '../../src/local/local-store.js';
import { init } from '../../src/open.js';
import { openCodec } from '../../src/engine/files/keyring-file.js';
import { readManifest } from '../../src/engine/files/store-manifest.js';
import { ENCRYPTED_TAIL_GROUPS, WriteSession } from '../../src/engine/write/write-session.js';
import { realProcesses } from '../../src/io/processes.js';
import { encodeRecord } from '../../src/format/record.js';

/** A bulk writer's group size (docs/format.md "Records, version 2"): a single write is a group of its own. */
const GROUP_TARGET_BYTES = 16 * 1024;

const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

function newDir(): string {
  const d = mkdtempSync(join(tmpdir(), 'tzkv-seg2-'));
  dirs.push(d);
  return d;
}

const OPTIONS = { flushBytes: 1 << 30 };

/** A new encrypted store (init --encrypt with a random key), open with its secret, and its codec (the data keys). */
async function encryptedStore(options: EngineOptions = {}) {
  const dir = newDir();
  const secret = { key: randomBytes(32) };
  await init(dir, { encrypt: true, secret });
  const store = await open(dir, { ...OPTIONS, ...options, secret });
  const codec = openCodec(realFs, dir, readManifest(realFs, dir), secret);
  return { dir, secret, store, codec };
}

function segmentFiles(dir: string): string[] {
  return readdirSync(dir).filter((n) => n.endsWith('.tzds')).sort();
}

/** Every file of the store, its bytes, checked for the canary as raw bytes, latin1 text and base64. */
function expectNowhere(dir: string, canary: string): void {
  const needles = [Buffer.from(canary), Buffer.from(Buffer.from(canary).toString('base64'))];
  for (const name of readdirSync(dir)) {
    let bytes: Buffer;
    try {
      bytes = readFileSync(join(dir, name));
    } catch {
      continue; // a directory
    }
    for (const n of needles) expect(bytes.includes(n), `${name} holds ${n.toString()}`).toBe(false);
  }
}

/** Scans a segment with the key: the committed entries, and its header. */
function scanFile(dir: string, name: string, codec: StoreCodec) {
  const bytes = readFileSync(join(dir, name));
  const header = fileVersion(bytes);
  const format = segmentFormat(header, codec, name, true);
  return { header, scan: scanLog(bytes.subarray(FILE_HEADER_BYTES), FILE_HEADER_BYTES, codec, bytes.length - FILE_HEADER_BYTES, format), bytes };
}

/** The import the group-size tests make: IMPORTED packed puts of keys i:k0000… and values of 70–73 bytes. */
const IMPORTED = 3000;
const IMPORT_CANARY = 'import-canary-9a9a';
const importedValue = (i: number) => `${IMPORT_CANARY}-${i}-${'v'.repeat(60)}`;
/** The longest record of that import. */
const IMPORTED_RECORD_BYTES = RECORD_HEADER_BYTES + 7 + importedValue(1000).length;

async function importPacked(store: Awaited<ReturnType<typeof open>>, n: number): Promise<void> {
  const parts: Buffer[] = [];
  const spans = { keyStart: new Uint32Array(n), keyEnd: new Uint32Array(n), valueStart: new Uint32Array(n), valueEnd: new Uint32Array(n), expiresAt: new Float64Array(n) };
  let at = 0;
  for (let i = 0; i < n; i++) {
    const k = Buffer.from(`k${String(i).padStart(4, '0')}`);
    const v = Buffer.from(importedValue(i));
    parts.push(k, v);
    spans.keyStart[i] = at;
    spans.keyEnd[i] = spans.valueStart[i] = at += k.length;
    spans.valueEnd[i] = at += v.length;
  }
  const batch = store.batch();
  putPacked(batch, { bytes: Buffer.concat(parts), count: n, prefix: Buffer.from('i:'), ...spans });
  await batch.write();
}

/** Every group of `entries` (in log order) but the last is filled to within a record of GROUP_TARGET_BYTES. */
function expectFullGroups(entries: Array<{ group: number; groupLength: number }>): void {
  const lengths = [...new Map(entries.map((e) => [e.group, e.groupLength])).values()];
  expect(lengths.length).toBeGreaterThan(1);
  for (const g of lengths.slice(0, -1)) {
    expect(g).toBeLessThanOrEqual(SEAL_RECORD_BYTES + GROUP_TARGET_BYTES);
    expect(g).toBeGreaterThan(SEAL_RECORD_BYTES + GROUP_TARGET_BYTES - IMPORTED_RECORD_BYTES);
  }
}

describe('segments v2: an encrypted store through the writer and the readers', () => {
  it('puts, overwrites and deletes, each one sealed group, and reads them back plain', async () => {
    const { dir, secret, store, codec } = await encryptedStore();
    const canaryKey = 'canary-key-7f3a91';
    const canaryValue = 'canary-value-c0ffee-0123456789';
    await store.put(canaryKey, canaryValue);
    await store.put('k', 'v1');
    await store.put('k', 'v2');
    await store.put('gone', 'x');
    expect(await store.del('gone')).toBe(1);
    expect((await store.get(canaryKey))?.toString()).toBe(canaryValue);
    expect((await store.get('k'))?.toString()).toBe('v2');
    expect(await store.get('gone')).toBeUndefined();
    await store.close();
    expectNowhere(dir, canaryKey);
    expectNowhere(dir, canaryValue);

    const [seg] = segmentFiles(dir);
    const { header, scan, bytes } = scanFile(dir, seg, codec);
    expect(header).toEqual({ version: 2, keyId: 1 });
    expect(scan.end.kind).toBe('clean');
    expect(scan.damage).toEqual([]);
    expect(scan.entries.map((e) => e.key)).toEqual([canaryKey, 'k', 'k', 'gone', 'gone']);
    for (const e of scan.entries) {
      // Each write is a group of its own: its SEAL record right before it.
      expect(e.group).toBe(e.offset - SEAL_RECORD_BYTES);
      expect(e.groupLength).toBe(SEAL_RECORD_BYTES + e.length);
      expect(bytes[e.group + 4]).toBe(KIND_SEAL);
    }

    // A new process: the tail scanned from disk, values opened from their groups.
    const again = await open(dir, { ...OPTIONS, secret });
    expect((await again.get(canaryKey))?.toString()).toBe(canaryValue);
    expect((await again.get('k'))?.toString()).toBe('v2');
    await again.close();
  });

  it('lays a batch out in groups, lists it with values, and seals a big (staged) batch in place', async () => {
    const { store, dir, codec } = await encryptedStore({ spillBytes: 64 * 1024 });
    const canary = 'batch-canary-5e5e5e';
    const small = store.batch();
    for (let i = 0; i < 200; i++) small.put(`b${String(i).padStart(4, '0')}`, `${canary}-${i}`);
    await small.write();
    expect((await store.get('b0007'))?.toString()).toBe(`${canary}-7`);
    const listed: Array<[string, string]> = [];
    for await (const e of store.entries({ prefix: 'b' })) listed.push([e.key.toString(), e.value.toString()]);
    expect(listed.length).toBe(200);
    expect(listed[199]).toEqual(['b0199', `${canary}-199`]);

    const bigCanary = 'staged-canary-abcdef';
    const big = store.batch();
    for (let i = 0; i < 3000; i++) big.put(`${bigCanary}-key-${String(i).padStart(5, '0')}`, `${bigCanary}-${i}-${'x'.repeat(40)}`);
    // Staging already: its file names the data key its groups are sealed with (a key rotation meanwhile keeps it).
    const stages = readdirSync(dir).filter((n) => n.startsWith('stage-'));
    expect(stages).toHaveLength(1);
    expect(fileVersion(readFileSync(join(dir, stages[0])))).toEqual({ version: 2, keyId: 1 });
    await big.write();
    // Indexed by a run at once (a staged batch is): read through its entries' groups.
    expect((await store.get(`${bigCanary}-key-02999`))?.toString()).toBe(`${bigCanary}-2999-${'x'.repeat(40)}`);
    expect((await store.get('b0100'))?.toString()).toBe(`${canary}-100`);
    let n = 0;
    for await (const e of store.entries({ prefix: bigCanary })) if (e.value.toString().startsWith(bigCanary)) n++;
    expect(n).toBe(3000);
    await store.close();
    expectNowhere(dir, canary);
    expectNowhere(dir, bigCanary);

    const segs = segmentFiles(dir);
    expect(segs.length).toBeGreaterThanOrEqual(2);
    let groups = 0;
    let entries = 0;
    for (const name of segs) {
      const { header, scan } = scanFile(dir, name, codec);
      expect(header).toEqual({ version: 2, keyId: 1 });
      expect(scan.damage).toEqual([]);
      expect(scan.end.kind).toBe('clean');
      entries += scan.entries.length;
      const seen = new Set<number>();
      for (const e of scan.entries) {
        expect(e.groupLength).toBeGreaterThan(SEAL_RECORD_BYTES);
        expect(e.groupLength).toBeLessThanOrEqual(SEAL_RECORD_BYTES + GROUP_TARGET_BYTES);
        expect(e.offset).toBeGreaterThan(e.group);
        expect(e.offset + e.length).toBeLessThanOrEqual(e.group + e.groupLength);
        seen.add(e.group);
      }
      groups += seen.size;
    }
    expect(entries).toBe(3200);
    expect(groups).toBeLessThan(200); // groups of many records, not one per record
  });

  it('rolls an active segment whose header names another data key before appending (key rotation)', async () => {
    const { dir, store, codec } = await encryptedStore();
    await store.put('old', 'under key 1');
    await store.close();
    // Key 2 becomes current (what a compaction with a new data key leaves): the writer is given it.
    const ring = codec.encryption!.keys();
    const rotated = new DataKeys(new Map([...ring.ids.map((id) => [id, ring.key(id)!] as const), [2, createSecretKey(randomBytes(32))]]), 2);
    const second: StoreCodec = { encryption: { keys: () => rotated }, compression: undefined };
    const session = new WriteSession(realFs, dir, second, { sync: true, segmentBytes: 1 << 30, flushBytes: 1 << 30, now: Date.now, processes: realProcesses });
    try {
      session.prepare();
      session.appendRecord(encodeRecord(KIND_PUT, 0, Buffer.from('new'), Buffer.from('under key 2'), 0));
    } finally {
      session.close();
    }
    const segs = segmentFiles(dir);
    expect(segs.length).toBe(2);
    expect(fileVersion(readFileSync(join(dir, segs[0])))).toEqual({ version: 2, keyId: 1 });
    const { header, scan } = scanFile(dir, segs[1], second);
    expect(header).toEqual({ version: 2, keyId: 2 });
    expect(scan.entries.map((e) => [e.key, e.kind])).toEqual([['new', KIND_PUT]]);
    // The manifest names each segment's data key (docs/format.md "MANIFEST, version 2").
    expect(readManifest(realFs, dir)!.segments.map((e) => e.key)).toEqual([1, 2]);
  });

  it('writes plain stores as version 1 records, byte for byte (no SEAL records, header version 1)', async () => {
    const dir = newDir();
    const store = await open(dir, OPTIONS);
    await store.put('a', '1');
    await store.close();
    const bytes = readFileSync(join(dir, segmentFiles(dir)[0]));
    expect(fileVersion(bytes)).toEqual({ version: 1, keyId: 0 });
    expect(bytes.length).toBe(FILE_HEADER_BYTES + 20 + 1 + 1);
    expect(bytes.subarray(FILE_HEADER_BYTES + 20).toString()).toBe('a1');
  });

  it('get never returns bytes whose group fails its tag: CORRUPT naming the segment and the group', async () => {
    const { dir, secret, store, codec } = await encryptedStore();
    await store.put('before', 'fine');
    await store.put('target', 'the value');
    expect((await store.get('target'))?.toString()).toBe('the value'); // the store keeps this view
    const [seg] = segmentFiles(dir);
    const path = join(dir, seg);
    const { scan } = scanFile(dir, seg, codec);
    const target = scan.entries.find((e) => e.key === 'target')!;
    const bytes = readFileSync(path);
    // A value byte changed and the record's CRC fixed up: only the tag can tell.
    bytes[target.offset + RECORD_HEADER_BYTES + 'target'.length] ^= 0x20;
    bytes.writeUInt32LE(crc32(bytes, target.offset + 4, target.offset + target.length), target.offset);
    writeFileSync(path, bytes);
    const err = await store.get('target').then(() => undefined, (e: unknown) => e);
    expect(err).toBeInstanceOf(TzkvError);
    expect((err as TzkvError).code).toBe('CORRUPT');
    expect((err as TzkvError).message).toContain(`${seg} offset ${target.group}`);
    expect((err as TzkvError).message).toContain('authentication failed');
    await store.close();
    // A new process finds the damage in the tail scan: the key's newest version cannot be vouched for.
    const again = await open(dir, { ...OPTIONS, secret });
    await expect(again.get('target')).rejects.toMatchObject({ code: 'CORRUPT', message: expect.stringContaining('authentication failed') });
    await again.close();
  });

  it('an import (packed puts) is laid out in groups of 16 KiB, a single put in a group of its own, and reads back', async () => {
    const { dir, store, codec } = await encryptedStore();
    await store.put('single-before', 'one');
    await importPacked(store, IMPORTED);
    await store.put('single-after', 'two');
    expect((await store.get('i:k0421'))?.toString()).toBe(importedValue(421));
    expect((await store.get('single-after'))?.toString()).toBe('two');
    await store.close();
    expectNowhere(dir, IMPORT_CANARY);
    const { scan } = scanFile(dir, segmentFiles(dir)[0], codec);
    expect(scan.entries).toHaveLength(IMPORTED + 2);
    const byKey = new Map(scan.entries.map((e) => [e.key, e]));
    for (const k of ['single-before', 'single-after']) expect(byKey.get(k)!.groupLength, k).toBe(SEAL_RECORD_BYTES + byKey.get(k)!.length);
    expectFullGroups(scan.entries.filter((e) => e.key.startsWith('i:')));
  });

  it('a compaction rewrites the records in groups of 16 KiB', async () => {
    const { dir, secret, store, codec } = await encryptedStore();
    for (let i = 0; i < 200; i++) await store.put(`i:k${String(i).padStart(4, '0')}`, 'older'); // 200 groups of one record
    await importPacked(store, IMPORTED);
    await store.compact();
    await store.close();
    const entries = segmentFiles(dir).flatMap((name) => scanFile(dir, name, codec).scan.entries);
    expect(entries).toHaveLength(IMPORTED);
    expectFullGroups(entries);
    const again = await open(dir, { ...OPTIONS, secret });
    expect((await again.get('i:k0007'))?.toString()).toBe(importedValue(7));
    await again.close();
  });

  it('the log follower (watch) reports plain keys and values; without the key, KEY_REQUIRED', async () => {
    const { dir, secret, store, codec } = await encryptedStore();
    await store.put('first', 'before the follower');
    const view = View.load(realFs, dir, codec);
    const follower = LogFollower.at(realFs, dir, view, () => true);
    view.close();
    await store.put('k1', 'v1');
    const b = store.batch();
    b.put('k2', 'v2');
    b.del('k1');
    await b.write();
    const seen = [...follower.changes()].map((r) => `${r.kind === KIND_PUT ? 'put' : 'del'} ${r.key.toString()} ${r.value.toString()}`);
    expect(seen).toEqual(['put k1 v1', 'put k2 v2', 'del k1 ']);
    follower.close();
    await store.close();

    const keyless = await open(dir, OPTIONS);
    const watching = keyless.watch({ prefix: '' });
    await expect(watching.next()).rejects.toMatchObject({ code: 'KEY_REQUIRED' });
    await expect(keyless.get('k2')).rejects.toMatchObject({ code: 'KEY_REQUIRED' });
    await keyless.close();
  });

  it('a torn group at the end of the active segment is cut by the next writer (Recovery rule 2)', async () => {
    const { dir, secret, store, codec } = await encryptedStore();
    await store.put('kept', 'acknowledged');
    await store.put('torn', 'x'.repeat(300));
    await store.close();
    const [seg] = segmentFiles(dir);
    const path = join(dir, seg);
    const { scan } = scanFile(dir, seg, codec);
    const torn = scan.entries.find((e) => e.key === 'torn')!;
    const bytes = readFileSync(path);
    writeFileSync(path, bytes.subarray(0, torn.group + torn.groupLength - 100)); // the write reached the disk in part
    const again = await open(dir, { ...OPTIONS, secret });
    expect(await again.get('torn')).toBeUndefined();
    await again.put('after', 'the cut');
    expect((await again.get('kept'))?.toString()).toBe('acknowledged');
    expect((await again.get('after'))?.toString()).toBe('the cut');
    await again.close();
    const after = scanFile(dir, seg, codec).scan;
    expect(after.end.kind).toBe('clean');
    expect(after.entries.map((e) => e.key)).toEqual(['kept', 'after']);
    expect(after.entries[1].group).toBe(torn.group);
  });

  it('an encrypted tail is flushed once it holds 64 sealed groups (each one a GCM open for every reader); a plain one by bytes only', async () => {
    const { dir, secret, store } = await encryptedStore();
    for (let i = 0; i < ENCRYPTED_TAIL_GROUPS - 1; i++) await store.put(`k${i}`, 'v');
    expect(readManifest(realFs, dir)!.runs).toHaveLength(0);
    await store.put('last', 'v');
    const m = readManifest(realFs, dir)!;
    expect(m.runs).toHaveLength(1);
    expect(m.active.indexedTo).toBe(statSync(join(dir, segmentFiles(dir)[0])).size);
    // Read back through the run: its entries carry each record's group.
    expect((await store.get('k3'))?.toString()).toBe('v');
    await store.close();
    const again = await open(dir, { ...OPTIONS, secret });
    expect((await again.get('k62'))?.toString()).toBe('v');
    expect((await again.get('last'))?.toString()).toBe('v');
    await again.close();
    const plainDir = newDir();
    const plain = await open(plainDir, OPTIONS);
    for (let i = 0; i < ENCRYPTED_TAIL_GROUPS + 10; i++) await plain.put(`k${i}`, 'v');
    expect(readManifest(realFs, plainDir)!.runs).toHaveLength(0);
    await plain.close();
  });

  it('a compressed-only store writes version 2 segments with data key 0 and no SEAL records', async () => {
    const dir = newDir();
    await init(dir, { compression: 'deflate' });
    const store = await open(dir, OPTIONS);
    await store.put('a', 'x'.repeat(1000));
    const b = store.batch();
    b.put('b', 'y');
    b.del('a');
    await b.write();
    expect((await store.get('b'))?.toString()).toBe('y');
    expect(await store.get('a')).toBeUndefined();
    await store.close();
    const { header, scan } = scanFile(dir, segmentFiles(dir)[0], openCodec(realFs, dir, readManifest(realFs, dir), undefined));
    expect(header).toEqual({ version: 2, keyId: 0 });
    expect(scan.end.kind).toBe('clean');
    expect(scan.entries.map((e) => [e.key, e.group, e.groupLength])).toEqual([
      ['a', 0, 0],
      ['b', 0, 0],
      ['a', 0, 0],
    ]);
    // The 1000-byte value was stored compressed (flags bits 1-2), the 1-byte one as it is.
    const bytes = readFileSync(join(dir, segmentFiles(dir)[0]));
    expect(bytes[scan.entries[0].offset + 5] & 0x06).not.toBe(0);
    expect(scan.entries[0].length).toBeLessThan(100);
    expect(bytes[scan.entries[1].offset + 5] & 0x06).toBe(0);
  });

  it('an encrypted and compressed store: values compressed, then sealed; get, listings and watch read them plain', async () => {
    const dir = newDir();
    const secret = { key: randomBytes(32) };
    await init(dir, { encrypt: true, compression: 'brotli', secret });
    const store = await open(dir, { ...OPTIONS, secret });
    const big = JSON.stringify(Array.from({ length: 50 }, (_, i) => ({ id: i, name: `item ${i}`, tags: ['a', 'b'] })));
    const view = View.load(realFs, dir, openCodec(realFs, dir, readManifest(realFs, dir), secret));
    const follower = LogFollower.at(realFs, dir, view, () => true);
    view.close();
    await store.put('doc', big);
    const b = store.batch();
    for (let i = 0; i < 20; i++) b.put(`d${i}`, `${big}${i}`);
    await b.write();
    expect((await store.get('doc'))?.toString()).toBe(big);
    expect((await store.get('d7'))?.toString()).toBe(`${big}7`);
    let listed = 0;
    for await (const e of store.entries({ prefix: 'd' })) if (e.value.toString().startsWith(big)) listed++;
    expect(listed).toBe(21);
    expect([...follower.changes()].map((r) => r.value.toString())).toEqual([big, ...Array.from({ length: 20 }, (_, i) => `${big}${i}`)]);
    follower.close();
    await store.close();
    const codec = openCodec(realFs, dir, readManifest(realFs, dir), secret);
    const { scan } = scanFile(dir, segmentFiles(dir)[0], codec);
    expect(scan.entries[0].length).toBeLessThan(big.length / 4);
  });

  it('a value larger than a group, or than a batch chunk, is a group of its own', async () => {
    const { store, dir, codec } = await encryptedStore();
    const huge = randomBytes(5 * 1024 * 1024);
    const mid = randomBytes(GROUP_TARGET_BYTES + 1000);
    await store.put('alone', huge);
    const b = store.batch();
    b.put('s1', 'small');
    b.put('mid', mid);
    b.put('huge', huge);
    b.put('s2', 'small');
    await b.write();
    expect((await store.get('alone'))?.equals(huge)).toBe(true);
    expect((await store.get('huge'))?.equals(huge)).toBe(true);
    expect((await store.get('mid'))?.equals(mid)).toBe(true);
    expect((await store.get('s2'))?.toString()).toBe('small');
    await store.close();
    const { scan } = scanFile(dir, segmentFiles(dir)[0], codec);
    const groupOf = new Map(scan.entries.map((e) => [e.key, e]));
    for (const k of ['alone', 'mid', 'huge']) expect(groupOf.get(k)!.groupLength, k).toBe(SEAL_RECORD_BYTES + groupOf.get(k)!.length);
    expect(groupOf.get('s2')!.group).not.toBe(groupOf.get('huge')!.group);
  });
});
