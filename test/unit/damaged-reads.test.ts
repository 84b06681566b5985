// Reads past damaged data through the embedded API (docs/design.md "Reading
// past damage"): a damaged record costs that record only; a get returns a
// value only when it is certainly the newest; listings and stats return what
// is readable and tell onDamage, or throw CORRUPT after the good entries; a
// damaged bloom page or branch block is passed by, a damaged leaf stepped over.
import { cpSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { Store, VerifyProblem } from '../../src/api.js';
import { scanLog } from '../../src/engine/log/log-scan.js';
import { RunReader } from '../../src/engine/runs/run-reader.js';
import { verifyStore } from '../../src/engine/verify/verify.js';
import { View } from '../../src/engine/read/view.js';
import { TzkvError, open } from '../../src/index.js';
import { FILE_HEADER_BYTES, RUN_HEADER_BYTES } from '../../src/format/constants.js';
import { decodeManifest } from '../../src/format/manifest.js';
import { realFs } from '../../src/io/fs.js';
import { seededRandom } from '../helpers/fault-fs.js';
import { skipVerify, tempDir } from '../helpers/temp-store.js';
import { PLAIN } from '../../src/format/store-codec.js';

const segmentOf = (dir: string) => readdirSync(dir).filter((n) => n.endsWith('.tzds')).sort().pop()!;

/** Flips one byte of `name` in dir, `delta` bytes after the first occurrence of `marker`. */
function flipAfter(dir: string, name: string, marker: string, delta: number): number {
  const bytes = readFileSync(join(dir, name));
  const at = bytes.indexOf(marker);
  expect(at).toBeGreaterThan(0);
  bytes[at + delta] ^= 0x01;
  writeFileSync(join(dir, name), bytes);
  return at + delta;
}

async function collect<T>(it: AsyncIterable<T>): Promise<T[]> {
  const out: T[] = [];
  for await (const x of it) out.push(x);
  return out;
}

/** What a listing yielded before it threw, and what it threw. */
async function collectUntilThrow<T>(it: AsyncIterable<T>): Promise<{ items: T[]; error: unknown }> {
  const items: T[] = [];
  try {
    for await (const x of it) items.push(x);
  } catch (error) {
    return { items, error };
  }
  return { items, error: undefined };
}

/**
 * A store of keys k00..k(n-1), everything in the unindexed tail, with one
 * byte of k(damaged)'s value flipped, opened after the damage (the process
 * that wrote them keeps the tail it read: it meets the damage only in the
 * damaged record itself, docs/design.md "The view a store keeps").
 */
async function tailStore(n: number, damaged: number): Promise<{ dir: string; s: Store; offset: number }> {
  const dir = tempDir();
  skipVerify(dir);
  const writer = await open(dir, { flushBytes: 1 << 30 });
  for (let i = 0; i < n; i++) await writer.put(`k${String(i).padStart(2, '0')}`, `value-${i}-${'x'.repeat(20)}`);
  await writer.close();
  const name = segmentOf(dir);
  const offset = flipAfter(dir, name, `value-${damaged}-`, 3) - 3 - 20 - 3;
  return { dir, s: await open(dir, { flushBytes: 1 << 30 }), offset };
}

describe('damage in the unindexed tail', () => {
  it('the first of three: the two after it read; the damaged one names the damage and the fix', async () => {
    const { s, offset } = await tailStore(3, 0);
    expect((await s.get('k01'))?.toString()).toBe(`value-1-${'x'.repeat(20)}`);
    expect((await s.get('k02'))?.toString()).toBe(`value-2-${'x'.repeat(20)}`);
    const err = (await s.get('k00').catch((e: unknown) => e)) as TzkvError;
    expect(err).toBeInstanceOf(TzkvError);
    expect(err).toMatchObject({ code: 'CORRUPT', offset });
    expect(err.message).toContain(`00000001.tzds offset ${offset}: CRC mismatch`);
    expect(err.message).toContain('run `tzkv verify --repair`');
    // A key that is nowhere readable may be in the damaged record: not "not found".
    await expect(s.get('never-written')).rejects.toMatchObject({ code: 'CORRUPT' });
  });

  it('in the middle: keys after it read; keys before it may have a newer version in it, so a get refuses', async () => {
    const { s } = await tailStore(30, 15);
    for (let i = 16; i < 30; i++) expect((await s.get(`k${i}`))?.toString()).toBe(`value-${i}-${'x'.repeat(20)}`);
    for (const i of [0, 14, 15]) await expect(s.get(`k${String(i).padStart(2, '0')}`)).rejects.toMatchObject({ code: 'CORRUPT' });
    // A newer write of a key before the damage... is refused too: a writer never appends behind damage.
    await expect(s.put('k00', 'new')).rejects.toMatchObject({ code: 'CORRUPT', message: expect.stringContaining('tzkv verify --repair') });
  });

  it('a listing returns every readable key and tells onDamage; without it, throws CORRUPT after the good entries', async () => {
    const { s, offset } = await tailStore(5, 2);
    const told: VerifyProblem[] = [];
    const keys = await collect(s.keys({ onDamage: (d) => told.push(d) }));
    expect(keys.map((k) => k.key.toString())).toEqual(['k00', 'k01', 'k03', 'k04']);
    expect(told).toEqual([{ file: '00000001.tzds', offset, kind: 'corrupt-record', message: expect.stringMatching(/^CRC mismatch \(\d+ bytes unreadable up to the next valid record\)$/) }]);

    const { items, error } = await collectUntilThrow(s.entries());
    expect(items.map((e) => `${e.key}=${e.value}`)).toEqual([0, 1, 3, 4].map((i) => `k0${i}=value-${i}-${'x'.repeat(20)}`));
    expect(error).toBeInstanceOf(TzkvError);
    expect(error).toMatchObject({ code: 'CORRUPT', offset, info: { damage: [expect.objectContaining({ offset })] } });
    expect((error as Error).message).toContain('run `tzkv verify --repair`');

    // A limit reached before the end does not make the answer whole: the damage may hold a key before it.
    expect((await collectUntilThrow(s.keys({ limit: 1 }))).error).toMatchObject({ code: 'CORRUPT' });
    // The engine's own reads tell nobody: they stop at the damage (a compaction's dry run here).
    await expect(s.compact({ dryRun: true })).rejects.toMatchObject({ code: 'CORRUPT', offset, message: expect.stringContaining(`00000001.tzds offset ${offset}: CRC mismatch`) });
  });

  it('stats counts what is readable and tells onDamage; without it, throws', async () => {
    const { s } = await tailStore(5, 2);
    const told: VerifyProblem[] = [];
    const stats = await s.stats({ onDamage: (d) => told.push(d) });
    expect(stats.keys).toBe(4);
    expect(told).toHaveLength(1);
    await expect(s.stats()).rejects.toMatchObject({ code: 'CORRUPT' });
  });

  it('fuzz: a get returns the newest value or CORRUPT, never an older one; the reader and verify agree on the damage', async () => {
    const random = seededRandom(21);
    const base = tempDir();
    const s = await open(base, { flushBytes: 1 << 30 });
    for (let i = 0; i < 60; i++) {
      const key = `k${Math.floor(random() * 12)}`;
      if (random() < 0.15) await s.del(key);
      else if (random() < 0.2) await s.batch().put(key, `batch ${i}`).put(`k${Math.floor(random() * 12)}`, `batch ${i} b`).write();
      else await s.put(key, `value ${i} ${'v'.repeat(Math.floor(random() * 30))}`);
    }
    await s.close();
    const name = segmentOf(base);
    const original = readFileSync(join(base, name));
    // The newest record of each key, from the undamaged log.
    const newest = new Map<string, { offset: number; length: number; value: string | null }>();
    for (const e of scanLog(original.subarray(FILE_HEADER_BYTES), FILE_HEADER_BYTES, PLAIN).entries) {
      const value = e.kind === 1 ? original.toString('latin1', e.offset + 20 + e.key.length, e.offset + e.length) : null;
      newest.set(e.key, { offset: e.offset, length: e.length, value });
    }
    for (let round = 0; round < 80; round++) {
      const dir = tempDir();
      skipVerify(dir); // damaged on purpose
      cpSync(base, dir, { recursive: true });
      const bytes = Buffer.from(original);
      const at = FILE_HEADER_BYTES + Math.floor(random() * (bytes.length - FILE_HEADER_BYTES));
      bytes[at] ^= 1 + Math.floor(random() * 255);
      writeFileSync(join(dir, name), bytes);
      const view = View.load(realFs, dir, PLAIN);
      const readerDamage = view.tailDamage.map((d) => d.offset);
      const torn = view.tailState.kind === 'torn';
      view.close();
      const verified = verifyStore(realFs, dir, PLAIN).problems.filter((p) => p.kind === 'corrupt-record').map((p) => p.offset);
      expect(readerDamage, `round ${round}`).toEqual(verified);
      // A damaged last record is a torn tail, not damage (docs/format.md "Recovery rules").
      if (torn) continue;
      const r = await open(dir, { readOnly: true });
      for (const [key, want] of newest) {
        const got = await r.get(key).then((v) => v?.toString('latin1') ?? null, (e: TzkvError) => e.code);
        const intact = at < want.offset || at >= want.offset + want.length;
        if (got === 'CORRUPT') expect(intact && readerDamage.every((d) => d < want.offset), `round ${round}, key ${key}`).toBe(false);
        else expect(got, `round ${round}, key ${key}`).toBe(want.value);
      }
      await r.close();
    }
  });
});

/** 200 keys in sealed segments and several index runs (damage.test.ts's store). */
async function indexedStore(): Promise<{ dir: string; s: Store }> {
  const dir = tempDir();
  skipVerify(dir);
  const s = await open(dir, { segmentBytes: 4096, flushBytes: 1024 });
  for (let i = 0; i < 200; i++) await s.put(`key:${String(i).padStart(3, '0')}`, `value number ${i} `.repeat(3));
  return { dir, s };
}
const allKeys = Array.from({ length: 200 }, (_, i) => `key:${String(i).padStart(3, '0')}`);
const valueOf = (key: string) => `value number ${Number(key.slice(4))} `.repeat(3);

/** The run (file name and reader) with the most entries: after merges, one of at least two levels. */
function biggestRun(dir: string): { name: string; reader: RunReader } {
  const m = decodeManifest(readFileSync(join(dir, 'MANIFEST')));
  const info = [...m.runs].sort((a, b) => b.entries - a.entries)[0];
  return { name: `${String(info.file).padStart(8, '0')}.tzix`, reader: RunReader.open(realFs, dir, info.file, PLAIN) };
}

describe('damage in indexed data', () => {
  it('a damaged record in a sealed segment: keys lists every key; entries leaves that one out and says so', async () => {
    const { dir, s } = await indexedStore();
    const name = readdirSync(dir).filter((n) => n.endsWith('.tzds')).sort()[0];
    const offset = flipAfter(dir, name, 'key:002', 10) - 10 - 20;
    expect((await collect(s.keys())).length).toBe(200);
    const told: VerifyProblem[] = [];
    const entries = await collect(s.entries({ onDamage: (d) => told.push(d) }));
    expect(entries.map((e) => e.key.toString())).toEqual(allKeys.filter((k) => k !== 'key:002'));
    expect(told).toEqual([{ file: name, offset, kind: 'corrupt-record', message: expect.stringContaining('CRC mismatch') }]);
    await expect(s.get('key:002')).rejects.toMatchObject({ code: 'CORRUPT', message: expect.stringContaining('tzkv verify --repair') });
    expect((await s.get('key:003'))?.toString()).toBe(valueOf('key:003'));
  });

  it('a damaged bloom page rules nothing out: gets read the tree', async () => {
    const { dir, s } = await indexedStore();
    const { name, reader } = biggestRun(dir);
    const { bloomOffset, bloomPages } = reader.header;
    reader.close();
    const bytes = readFileSync(join(dir, name));
    for (let p = 0; p < bloomPages; p++) bytes[bloomOffset + p * 4100 + 100] ^= 0x01;
    writeFileSync(join(dir, name), bytes);
    for (const key of allKeys) expect((await s.get(key))?.toString(), key).toBe(valueOf(key));
    expect(await s.get('key:999')).toBeUndefined();
  });

  it('a damaged branch block: gets and listings walk the leaves instead', async () => {
    const { dir, s } = await indexedStore();
    const { name, reader } = biggestRun(dir);
    const { rootOffset, height } = reader.header;
    reader.close();
    expect(height).toBeGreaterThan(1);
    const bytes = readFileSync(join(dir, name));
    bytes[rootOffset + 12] ^= 0x01;
    writeFileSync(join(dir, name), bytes);
    for (const key of allKeys) expect((await s.get(key))?.toString(), key).toBe(valueOf(key));
    expect((await collect(s.keys({ prefix: 'key:1' }))).map((k) => k.key.toString())).toEqual(allKeys.filter((k) => k.startsWith('key:1')));
  });

  it('a damaged leaf: a listing steps over it to the next leaf and says so; gets of its keys refuse, others read', async () => {
    const { dir, s } = await indexedStore();
    const { name, reader } = biggestRun(dir);
    const firstLeaf = reader.leafFor(Buffer.alloc(0))!;
    expect(firstLeaf.offset).toBe(RUN_HEADER_BYTES);
    const lost = new Set(firstLeaf.entries.map((e) => e.key.toString()));
    const others = [...reader.cursor(Buffer.alloc(0))].map((e) => e.key.toString()).filter((k) => !lost.has(k));
    reader.close();
    expect(others.length).toBeGreaterThan(0);
    const bytes = readFileSync(join(dir, name));
    bytes[RUN_HEADER_BYTES + 40] ^= 0x01;
    writeFileSync(join(dir, name), bytes);
    const told: VerifyProblem[] = [];
    const listed = new Set((await collect(s.keys({ onDamage: (d) => told.push(d) }))).map((k) => k.key.toString()));
    expect(told).toEqual([{ file: name, offset: RUN_HEADER_BYTES, kind: 'corrupt-index', message: expect.stringContaining('up to the next valid leaf') }]);
    for (const k of others) expect(listed.has(k), k).toBe(true);
    await expect(s.get([...lost][0])).rejects.toMatchObject({ code: 'CORRUPT', message: expect.stringContaining('tzkv verify --repair') });
    expect((await s.get(others[others.length - 1]))?.toString()).toBe(valueOf(others[others.length - 1]));
    expect((await collectUntilThrow(s.keys())).error).toMatchObject({ code: 'CORRUPT' });
    await expect(s.compact({ dryRun: true })).rejects.toMatchObject({ code: 'CORRUPT', offset: RUN_HEADER_BYTES, message: expect.stringContaining(`${name} offset ${RUN_HEADER_BYTES}: `) });
  });

  it('a run whose header is damaged: a listing goes on without it and says so', async () => {
    const { dir, s } = await indexedStore();
    const { name, reader } = biggestRun(dir);
    reader.close();
    const bytes = readFileSync(join(dir, name));
    bytes[20] ^= 0x01;
    writeFileSync(join(dir, name), bytes);
    const told: VerifyProblem[] = [];
    const listed = await collect(s.keys({ onDamage: (d) => told.push(d) }));
    expect(told).toEqual([expect.objectContaining({ file: name, offset: 0, kind: 'corrupt-index' })]);
    expect(listed.length).toBeLessThan(200);
    await expect(s.compact({ dryRun: true })).rejects.toMatchObject({ code: 'CORRUPT', message: expect.stringContaining(name) });
  });

  it('a missing sealed segment: keys lists every key (it reads no values); entries leaves out and reports the values it held', async () => {
    const { dir, s } = await indexedStore();
    const m = decodeManifest(readFileSync(join(dir, 'MANIFEST')));
    const gone = `${String(m.segments[1].file).padStart(8, '0')}.tzds`;
    const held = allKeys.filter((k) => readFileSync(join(dir, gone)).includes(`${k}value number`));
    expect(held.length).toBeGreaterThan(0);
    rmSync(join(dir, gone));
    expect((await collect(s.keys())).length).toBe(200);
    const told: VerifyProblem[] = [];
    const entries = await collect(s.entries({ onDamage: (d) => told.push(d) }));
    expect(entries.map((e) => e.key.toString())).toEqual(allKeys.filter((k) => !held.includes(k)));
    expect(told.length).toBeGreaterThan(0);
    expect(told.every((d) => d.file === gone && d.message.includes('is missing'))).toBe(true);
  });
});
