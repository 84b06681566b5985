// verify --repair: each kind of damage repaired, the quarantine holding
// exactly the bytes moved, a clean verify after, every readable key kept;
// and a crash (power loss) before any step of a repair loses nothing that
// was readable and leaves a store that opens.
import { readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { Store } from '../../src/api.js';
import { open } from '../../src/local/local-store.js';
import type { EngineOptions } from '../../src/local/local-store.js';
import { RunReader } from '../../src/engine/runs/run-reader.js';
import { verifyStore } from '../../src/engine/verify/verify.js';
import { FILE_HEADER_BYTES } from '../../src/format/constants.js';
import { decodeManifest, encodeManifest } from '../../src/format/manifest.js';
import { decodeQuarantine } from '../../src/format/quarantine.js';
import { realFs } from '../../src/io/fs.js';
import type { FileSystem } from '../../src/io/fs.js';
import { FaultFs, writeImage } from '../helpers/fault-fs.js';
import { skipVerify, tempDir } from '../helpers/temp-store.js';
import { expectIoError, leftBehind } from './harness/stores.js';
import { WRITE_FAULTS } from './harness/io-faults.js';
import { PLAIN } from '../../src/format/store-codec.js';

const keyOf = (i: number) => `key:${String(i).padStart(3, '0')}`;
const valueOf = (i: number) => `value number ${i} `.repeat(1 + (i % 3));
const N = 150;

async function populated(options: EngineOptions = {}, n = N): Promise<{ dir: string; s: Store }> {
  const dir = tempDir();
  const s = await open(dir, { segmentBytes: 4096, flushBytes: 1024, sync: false, ...options });
  for (let i = 0; i < n; i++) await s.put(keyOf(i), valueOf(i));
  return { dir, s };
}

const segments = (dir: string) => readdirSync(dir).filter((n) => n.endsWith('.tzds')).sort();
const runs = (dir: string) => readdirSync(dir).filter((n) => n.endsWith('.tzix')).sort();
const manifest = (dir: string) => decodeManifest(readFileSync(join(dir, 'MANIFEST')));

/** Every key's value now, or the error code reading it gives. */
async function snapshot(dir: string, n = N): Promise<Map<string, string>> {
  const s = await open(dir, { readOnly: true });
  const out = new Map<string, string>();
  try {
    for (let i = 0; i < n + 5; i++) {
      out.set(keyOf(i), await s.get(keyOf(i)).then((v) => (v === undefined ? 'missing' : v.toString()), (e: { code?: string }) => `error ${e.code}`));
    }
  } finally {
    await s.close();
  }
  return out;
}

function expectKept(before: Map<string, string>, after: Map<string, string>): void {
  for (const [key, value] of before) if (!value.startsWith('error')) expect(after.get(key), key).toBe(value);
}

describe('verify --repair', () => {
  it('moves a damaged record of a sealed segment to quarantine, rewrites the segments from there, rebuilds the index', async () => {
    const { dir, s } = await populated();
    const name = segments(dir)[1];
    const bytes = readFileSync(join(dir, name));
    const at = bytes.indexOf('key:0') - 20; // the first record after the header
    expect(at).toBe(FILE_HEADER_BYTES);
    const length = bytes.readUInt16LE(at + 6) + bytes.readUInt32LE(at + 8) + 20;
    bytes[at + length - 2] ^= 0x40;
    writeFileSync(join(dir, name), bytes);
    const before = await snapshot(dir);
    expect([...before.values()].filter((v) => v.startsWith('error'))).toHaveLength(1);
    const report = await s.admin()!.repair();
    expect(report.problems).toEqual([]);
    const r = report.repair!;
    expect(r.moved).toEqual([{ file: name, offset: at, bytes: length, quarantineOffset: expect.any(Number) }]);
    expect(r.rewritten[0].from).toBe(name);
    expect(r.rebuiltRun).not.toBeNull();
    expect(r.census).toBe('recomputed');
    const q = decodeQuarantine(readFileSync(join(dir, r.quarantine!)));
    expect(q).toEqual([{ file: name, offset: at, bytes: bytes.subarray(at, at + length) }]);
    expect(readFileSync(join(dir, r.quarantine!)).subarray(r.moved[0].quarantineOffset, r.moved[0].quarantineOffset + length)).toEqual(bytes.subarray(at, at + length));
    expectKept(before, await snapshot(dir));
    expect(verifyStore(realFs, dir, PLAIN).warnings).toEqual([]);
    expect((await s.stats()).counted).toBe('census');
    expect((await s.stats()).keys).toBe(N - 1);
    expect(await s.put('after', 'repair')).toBe(true);
    await s.close();
  });

  it('cuts a torn tail after moving it to quarantine, and keeps the index', async () => {
    const { dir, s } = await populated({ flushBytes: 1 << 20 });
    const name = segments(dir).at(-1)!;
    const size = readFileSync(join(dir, name)).length;
    const garbage = Buffer.from([7, 7, 7, 7, 1, 0, 5, 0, 200, 0, 0, 0]);
    writeFileSync(join(dir, name), Buffer.concat([readFileSync(join(dir, name)), garbage]));
    const runsBefore = runs(dir);
    const report = await s.admin()!.repair();
    expect(report.problems).toEqual([]);
    expect(report.repair!.truncated).toEqual([{ file: name, from: size, to: size + garbage.length }]);
    expect(report.repair!.rebuiltRun).toBeNull();
    expect(runs(dir)).toEqual(runsBefore);
    expect(decodeQuarantine(readFileSync(join(dir, report.repair!.quarantine!)))).toEqual([{ file: name, offset: size, bytes: garbage }]);
    for (let i = 0; i < N; i++) expect((await s.get(keyOf(i)))?.toString()).toBe(valueOf(i));
    await s.close();
  });

  it('damage inside the unindexed tail, which makes reads refuse: repaired, every other key reads back', async () => {
    const { dir, s } = await populated({ flushBytes: 1 << 20 });
    const name = segments(dir).at(-1)!;
    const bytes = readFileSync(join(dir, name));
    const at = bytes.indexOf(keyOf(N - 10)) - 20;
    const length = bytes.readUInt16LE(at + 6) + bytes.readUInt32LE(at + 8) + 20;
    bytes[at + length - 1] ^= 0x01;
    writeFileSync(join(dir, name), bytes);
    // A process that reads the tail now (s read it before the damage: it finds the damaged record only when reading it).
    const reader = await open(dir, { readOnly: true });
    await expect(reader.get(keyOf(0))).rejects.toMatchObject({ code: 'CORRUPT' });
    await reader.close();
    await expect(s.get(keyOf(N - 10))).rejects.toMatchObject({ code: 'CORRUPT' });
    const report = await s.admin()!.repair();
    expect(report.problems).toEqual([]);
    expect(report.repair!.moved).toEqual([{ file: name, offset: at, bytes: length, quarantineOffset: expect.any(Number) }]);
    expect(report.repair!.rewritten).toEqual([{ from: name, to: expect.stringMatching(/\.tzds$/) }]);
    for (let i = 0; i < N; i++) expect((await s.get(keyOf(i)))?.toString(), keyOf(i)).toBe(i === N - 10 ? undefined : valueOf(i));
    expect(await s.put('after', 'repair')).toBe(true);
    await s.close();
  });

  it('rebuilds a damaged or missing index run from the data, and a census that does not match', async () => {
    for (const damage of ['flip', 'missing', 'census'] as const) {
      const { dir, s } = await populated();
      const run = runs(dir)[0];
      if (damage === 'flip') {
        const b = readFileSync(join(dir, run));
        b[100] ^= 1;
        writeFileSync(join(dir, run), b);
      } else if (damage === 'missing') {
        rmSync(join(dir, run));
      } else {
        const m = manifest(dir);
        m.census = { generation: m.generation, keys: m.census!.keys + 3, bytes: m.census!.bytes };
        writeFileSync(join(dir, 'MANIFEST'), encodeManifest(m));
      }
      expect(verifyStore(realFs, dir, PLAIN).ok, damage).toBe(false);
      const report = await s.admin()!.repair();
      expect(report.problems, damage).toEqual([]);
      expect(report.repair!.quarantine, damage).toBeNull();
      expect(report.repair!.rebuiltRun, damage).not.toBeNull();
      for (let i = 0; i < N; i++) expect((await s.get(keyOf(i)))?.toString(), damage).toBe(valueOf(i));
      expect((await s.stats()).keys, damage).toBe(N);
      await s.close();
    }
  });

  it('rebuilds a missing or unreadable MANIFEST from the segments on disk, the unreadable one moved to quarantine first', async () => {
    for (const damage of ['missing', 'flip'] as const) {
      const { dir, s } = await populated();
      await s.close();
      const before = await snapshot(dir);
      const old = manifest(dir);
      const bytes = readFileSync(join(dir, 'MANIFEST'));
      if (damage === 'missing') rmSync(join(dir, 'MANIFEST'));
      else writeFileSync(join(dir, 'MANIFEST'), Buffer.from(bytes).fill(0x20, 40, 48));
      const r = await open(dir);
      await expect(r.get(keyOf(0)), damage).rejects.toMatchObject({ code: 'CORRUPT', path: join(dir, 'MANIFEST') });
      const report = await r.admin()!.repair();
      await r.close();
      expect(report.problems, damage).toEqual([]);
      expect(report.repair!.rebuiltManifest, damage).toEqual({ segments: old.segments.map((x) => `${String(x.file).padStart(8, '0')}.tzds`), storeId: 'new' });
      expect(report.repair!.removed, damage).toEqual(old.runs.map((x) => `${String(x.file).padStart(8, '0')}.tzix`).sort());
      const rebuilt = manifest(dir);
      expect(rebuilt.nextFile, damage).toBeGreaterThan(Math.max(...old.runs.map((x) => x.file), ...old.segments.map((x) => x.file)) + 1);
      expect(rebuilt.counters, damage).toMatchObject({ puts: N, deletes: 0 });
      if (damage === 'flip') {
        expect(report.repair!.moved, damage).toEqual([{ file: 'MANIFEST', offset: 0, bytes: bytes.length, quarantineOffset: expect.any(Number) }]);
        const q = decodeQuarantine(readFileSync(join(dir, report.repair!.quarantine!)));
        expect(q.map((x) => [x.file, x.offset, x.bytes.toString('base64')]), damage).toEqual([['MANIFEST', 0, Buffer.from(bytes).fill(0x20, 40, 48).toString('base64')]]);
      } else {
        expect(report.repair!.quarantine, damage).toBeNull();
      }
      expect(await snapshot(dir), damage).toEqual(before);
    }
  });

  it('rebuilds the index through sorted runs on disk when it holds more keys than fit in memory, to the same index', async () => {
    // Overwrites, deletes and expiries: a chunk's tombstone must shadow an older chunk's PUT.
    const dirs: string[] = [];
    const far = Date.now() + 3_600_000;
    for (const rebuildChunkKeys of [undefined, 5]) {
      const runsWritten: string[] = [];
      const fs: FileSystem = { ...realFs, createTruncate: (path) => (path.endsWith('.tzix.tmp') && runsWritten.push(path), realFs.createTruncate(path)) };
      const { dir, s } = await populated({ rebuildChunkKeys, fs });
      for (let i = 0; i < N; i += 3) await s.put(keyOf(i), `again ${i}`, i % 2 === 0 ? { expiresAt: far + i } : undefined);
      for (let i = 1; i < N; i += 7) await s.del(keyOf(i));
      await s.put(keyOf(8), 'back after a delete');
      const run = runs(dir)[0];
      const b = readFileSync(join(dir, run));
      b[100] ^= 1;
      writeFileSync(join(dir, run), b);
      runsWritten.length = 0;
      const report = await s.admin()!.repair();
      expect(report.problems).toEqual([]);
      expect(report.repair!.rebuiltRun).not.toBeNull();
      // In memory: the one rebuilt run; else sorted runs of 5 keys (N / 5 of the first versions alone), merged 8 at a time, then into the rebuilt run.
      if (rebuildChunkKeys) expect(runsWritten.length).toBeGreaterThan(N / 5 + N / 5 / 8);
      else expect(runsWritten).toHaveLength(1);
      expect(runs(dir)).toEqual([report.repair!.rebuiltRun]);
      expect(readdirSync(dir).filter((n) => n.endsWith('.tmp'))).toEqual([]);
      await s.close();
      dirs.push(dir);
    }
    const [inMemory, spilled] = dirs;
    expect(await snapshot(spilled)).toEqual(await snapshot(inMemory));
    const entries = (dir: string) => {
      const m = manifest(dir);
      const r = RunReader.open(realFs, dir, m.runs[0].file, PLAIN);
      try {
        return { census: { keys: m.census!.keys, bytes: m.census!.bytes }, entries: [...r.cursor(Buffer.alloc(0))].map((e) => ({ ...e, segment: m.segments.findIndex((x) => x.file === e.segment) })) };
      } finally {
        r.close();
      }
    };
    expect(entries(spilled)).toEqual(entries(inMemory));
  });

  it('a clean store: nothing to do', async () => {
    const { dir, s } = await populated();
    const files = readdirSync(dir).sort();
    const report = await s.admin()!.repair();
    expect(report.ok).toBe(true);
    expect(report.repair).toMatchObject({ quarantine: null, moved: [], truncated: [], rewritten: [], rebuiltRun: null });
    expect(readdirSync(dir).sort()).toEqual(files);
    await s.close();
  });
});

/** Puts `image` in dir and repairs it, the power failing before the repair's mutating call `step`; true when the repair finished first. */
async function repairCrashingBefore(dir: string, image: Map<string, Buffer>, step: number, rebuildChunkKeys?: number): Promise<boolean> {
  writeImage(dir, image);
  const fs = new FaultFs(dir).crashBefore(step);
  const store = await open(dir, { fs, sync: false, rebuildChunkKeys });
  const done = await store.admin()!.repair().then(() => true, () => false);
  await store.close();
  fs.crash();
  return done;
}

describe('a crash at any step of a repair', () => {
  it.each([
    ['', undefined],
    [', its index rebuilt through sorted runs on disk', 20],
  ])('leaves a store that opens and loses nothing that was readable%s', async (_, rebuildChunkKeys) => {
    const n = 60;
    // Damage: a record inside a sealed segment, an index block, and a torn tail.
    const { dir, image } = await damagedStore(n, true);
    const before = await snapshot(dir, n);
    expect([...before.values()].filter((v) => !v.startsWith('error')).length).toBeGreaterThan(n / 2);
    let steps = 0;
    let probesTaken = 0;
    for (let step = 1; ; step++) {
      const done = await repairCrashingBefore(dir, image, step, rebuildChunkKeys);
      expectKept(before, await snapshot(dir, n));
      const report = verifyStore(realFs, dir, PLAIN);
      if (done) {
        expect(report.problems, 'after a whole repair').toEqual([]);
        steps = step;
        break;
      }
      // Whatever the moment, the store still opens for writing (every 4th moment: it costs). It takes a write,
      // unless the damaged tail of the active segment is still there, which writes refuse (CORRUPT, naming it).
      if (step % 4 !== 1) continue;
      const w = await open(dir, { sync: false });
      await w.put('zz-probe', 'x').then(
        () => probesTaken++,
        (e: { code?: string; message?: string }) => {
          expect(e.code).toBe('CORRUPT');
          expect(e.message).toContain(active);
        },
      );
      await w.close();
    }
    expect(steps, 'mutating calls of one repair').toBeGreaterThan(20);
    expect(probesTaken, 'writes taken once the tail was cut').toBeGreaterThan(0);
  }, 300_000);
});

describe('a crash at any step of rebuilding a lost MANIFEST', () => {
  it('leaves the store damaged as it was or whole; the next repair restores every key', async () => {
    const n = 60;
    const { dir, s } = await populated({ segmentBytes: 1536, flushBytes: 512 }, n);
    await s.close();
    skipVerify(dir);
    const before = await snapshot(dir, n);
    expect([...before.values()].filter((v) => v !== 'missing' && !v.startsWith('error')).length).toBe(n);
    rmSync(join(dir, 'MANIFEST'));
    const image = new Map(readdirSync(dir).map((name) => [name, readFileSync(join(dir, name))]));
    let steps = 0;
    for (let step = 1; ; step++) {
      const done = await repairCrashingBefore(dir, image, step);
      if (!done) {
        const again = await open(dir);
        const report = await again.admin()!.repair();
        await again.close();
        expect(report.problems, `repair after a crash before mutation ${step}`).toEqual([]);
      }
      expect(await snapshot(dir, n), `crash before mutation ${step}`).toEqual(before);
      if (done) {
        steps = step;
        break;
      }
    }
    expect(steps, 'mutating calls of one rebuild').toBeGreaterThan(5);
  }, 300_000);
});

/**
 * A store of `n` keys with damage a repair must rewrite: a record inside a
 * sealed segment, a torn tail and (with `index`) an index block. Returns its
 * files' bytes (to restore it between attempts) and its active segment.
 */
async function damagedStore(n: number, index: boolean): Promise<{ dir: string; image: Map<string, Buffer>; active: string }> {
  const { dir, s } = await populated({ segmentBytes: 1536, flushBytes: 512 }, n);
  await s.close();
  skipVerify(dir);
  const seg = segments(dir)[1];
  const b = readFileSync(join(dir, seg));
  b[FILE_HEADER_BYTES + 25] ^= 0x10;
  writeFileSync(join(dir, seg), b);
  if (index) {
    const run = runs(dir).at(-1)!;
    const r = readFileSync(join(dir, run));
    r[80] ^= 0x01;
    writeFileSync(join(dir, run), r);
  }
  const active = segments(dir).at(-1)!;
  writeFileSync(join(dir, active), Buffer.concat([readFileSync(join(dir, active)), Buffer.from([1, 2, 3, 4, 1, 0, 3])]));
  return { dir, image: new Map(readdirSync(dir).map((name) => [name, readFileSync(join(dir, name))])), active };
}

describe('an I/O error at any call of a repair', () => {
  it('is undone by the repair: the files of the store as before (a quarantine only with the tail it cut), nothing readable lost, the next repair whole', async () => {
    const n = 60;
    const { dir, image, active } = await damagedStore(n, false);
    const before = await snapshot(dir, n);
    const dry = new FaultFs(dir);
    const repaired = await open(dir, { fs: dry, sync: false });
    await repaired.admin()!.repair();
    await repaired.close();
    let failed = 0;
    for (const [op, spec] of WRITE_FAULTS) {
      const total = dry.trace.filter((t) => t.startsWith(`${op} `)).length;
      expect(total, `${op} calls of a repair`).toBeGreaterThan(0);
      for (let nth = 1; nth <= total; nth++) {
        const label = `${op} #${nth} of ${total} failing with ${spec.code}`;
        writeImage(dir, image);
        const store = await open(dir, { fs: new FaultFs(dir).failAt(op, nth, spec), sync: false });
        const err = await store.admin()!.repair().then(() => undefined, (e: unknown) => e);
        await store.close();
        if (err !== undefined) {
          failed++;
          expectIoError(err, label);
          expect(leftBehind(err), `${label}: the repair undid what it wrote`).toBeUndefined();
          // Failing after its manifest switch (removing the replaced files), the repair is in place.
          const installed = !readFileSync(join(dir, 'MANIFEST')).equals(image.get('MANIFEST')!);
          if (!installed) {
            const names = readdirSync(dir).filter((name) => !name.startsWith('QUARANTINE-'));
            const cut = readFileSync(join(dir, active)).length < image.get(active)!.length;
            expect(names.sort(), `${label}: the files of the store`).toEqual([...image.keys()].sort());
            expect(readdirSync(dir).length - names.length, `${label}: a quarantine file only with the tail it cut`).toBe(cut ? 1 : 0);
          }
        }
        expectKept(before, await snapshot(dir, n));
        const again = await open(dir, { sync: false });
        expect((await again.admin()!.repair()).problems, `${label}: the next repair`).toEqual([]);
        await again.close();
      }
    }
    expect(failed, 'repairs the faults made fail').toBeGreaterThan(20);
  }, 300_000);
});
