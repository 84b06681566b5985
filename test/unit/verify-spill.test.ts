// verify with tiny memory limits (src/engine/verify/scratch.ts VerifyLimits): the
// record tables, the index entries, the runs' expiry lists and the
// newest-record check spill to scratch files, and the report must be exactly
// the in-memory one, on a clean store and on damaged ones: flipped bytes,
// runs listed twice (every key in two runs, every record pointed at twice,
// thousands of problems: more than a report lists), a run left out (records
// not indexed), a census that does not add up. The scratch files are made in
// the directory given, and none is left behind.
import { readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { open } from '../../src/local/local-store.js';
import { verifyStore, verifyStoreParallel } from '../../src/engine/verify/verify.js';
import type { VerifyLimits } from '../../src/engine/verify/scratch.js';
import { decodeManifest, encodeManifest } from '../../src/format/manifest.js';
import type { Manifest } from '../../src/format/manifest.js';
import type { FileSystem } from '../../src/io/fs.js';
import { realFs } from '../../src/io/fs.js';
import { seededRandom } from '../helpers/fault-fs.js';
import { skipVerify, tempDir } from '../helpers/temp-store.js';
import { PLAIN } from '../../src/format/store-codec.js';

const KEYS = 1200;
const keyOf = (i: number) => `key:${String(i).padStart(5, '0')}`;

let base: Map<string, Buffer>;
let scratchDir: string;
const created: string[] = [];
/** realFs, noting every scratch file verify makes. */
const spying: FileSystem = {
  ...realFs,
  createExclusive: (path) => {
    if (path.startsWith(scratchDir)) created.push(path);
    return realFs.createExclusive(path);
  },
};
const tiny = (): VerifyLimits => ({ records: 7, ttlEntries: 5, candidates: 3, dir: scratchDir });

beforeAll(async () => {
  const dir = tempDir();
  skipVerify(dir);
  // Small segments and flushes: several segments and runs; overwrites, deletes and expiries.
  const s = await open(dir, { segmentBytes: 16384, flushBytes: 2048, sync: false });
  const far = Date.now() + 3_600_000;
  for (let v = 0; v < 2; v++) {
    for (let i = v; i < KEYS; i += 1 + v) await s.put(keyOf(i), `value ${i} version ${v}`, i % 5 === 0 ? { expiresAt: far + i } : undefined);
  }
  for (let i = 3; i < KEYS; i += 13) await s.del(keyOf(i));
  await s.close();
  base = new Map(readdirSync(dir).map((name) => [name, readFileSync(join(dir, name))]));
  expect([...base.keys()].filter((n) => n.endsWith('.tzix')).length).toBeGreaterThan(2);
});

beforeEach(() => {
  scratchDir = tempDir('tzkv-scratch-');
});

/** Writes the store's files, changed by `damage`, into a fresh directory. */
function storeWith(damage: (files: Map<string, Buffer>, m: Manifest) => void): string {
  const files = new Map([...base].map(([n, b]) => [n, Buffer.from(b)]));
  const m = decodeManifest(files.get('MANIFEST')!);
  damage(files, m);
  const dir = tempDir();
  skipVerify(dir);
  for (const [n, b] of files) writeFileSync(join(dir, n), b);
  return dir;
}

const withManifest = (change: (m: Manifest) => void) => (files: Map<string, Buffer>, m: Manifest) => {
  change(m);
  files.set('MANIFEST', encodeManifest(m));
};

/** Both reports, less their durations. */
function same(a: { durationMs: number }, b: { durationMs: number }) {
  return [
    { ...a, durationMs: 0 },
    { ...b, durationMs: 0 },
  ];
}

async function expectSpilledEqual(dir: string, what: string): Promise<ReturnType<typeof verifyStore>> {
  created.length = 0;
  const inMemory = verifyStore(realFs, dir, PLAIN);
  const spilled = verifyStore(spying, dir, PLAIN, undefined, undefined, tiny());
  const [a, b] = same(spilled, inMemory);
  expect(a, what).toEqual(b);
  expect(created.length, `${what}: scratch files made`).toBeGreaterThan(0);
  expect(readdirSync(scratchDir), `${what}: scratch files left`).toEqual([]);
  // The worker thread runs on the real file system only (the limits are those that spilled above).
  const [c, d] = same(await verifyStoreParallel(realFs, dir, PLAIN, undefined, 0, tiny()), await verifyStoreParallel(realFs, dir, PLAIN, undefined, 0));
  expect(c, `${what}, in parallel`).toEqual(d);
  return inMemory;
}

describe('verify spilled to scratch files', () => {
  it('reports a clean store as clean', async () => {
    const report = await expectSpilledEqual(storeWith(() => {}), 'clean');
    expect(report.problems).toEqual([]);
    expect(report.records).toBeGreaterThan(KEYS);
  });

  it('reports every kind of damage exactly as in memory', async () => {
    const cases: Array<[string, (files: Map<string, Buffer>, m: Manifest) => void, string[]]> = [
      // Every key in two runs, every record pointed at twice: thousands of problems, the first 1,000 listed.
      ['runs listed twice', withManifest((m) => (m.runs = [...m.runs, ...m.runs])), ['index-mismatch']],
      ['the newest run left out', withManifest((m) => (m.runs = m.runs.slice(1))), ['not-indexed']],
      ['a census off by one', withManifest((m) => m.census && (m.census.keys += 1)), ['census-mismatch']],
    ];
    for (const [name, damage, kinds] of cases) {
      const report = await expectSpilledEqual(storeWith(damage), name);
      expect(report.problems.map((p) => p.kind), name).toEqual(expect.arrayContaining(kinds));
      if (name === 'runs listed twice') expect(report.problemCount, name).toBeGreaterThan(report.problems.length);
    }
  });

  it('reports 60 seeded byte flips in runs and segments exactly as in memory', async () => {
    const random = seededRandom(13);
    const names = [...base.keys()].filter((n) => n.endsWith('.tzds') || n.endsWith('.tzix')).sort();
    for (let flip = 0; flip < 60; flip++) {
      const name = names[Math.floor(random() * names.length)];
      const at = Math.floor(random() * base.get(name)!.length);
      const xor = 1 + Math.floor(random() * 255);
      const dir = storeWith((files) => {
        files.get(name)![at] ^= xor;
      });
      await expectSpilledEqual(dir, `${name} offset ${at}`);
      rmSync(dir, { recursive: true, force: true });
    }
  }, 120_000);

  it('holds everything in memory, with a warning, when the scratch directory cannot be used', () => {
    const dir = storeWith(() => {});
    const absent = join(scratchDir, 'absent');
    const report = verifyStore(realFs, dir, PLAIN, undefined, undefined, { ...tiny(), dir: absent });
    expect(report.ok).toBe(true);
    expect(report.warnings).toEqual([expect.objectContaining({ kind: 'no-scratch', file: '', offset: null })]);
    expect(report.warnings[0].message).toContain(absent);
    const [a, b] = same({ ...report, warnings: [] }, verifyStore(realFs, dir, PLAIN));
    expect(a).toEqual(b);
  });
});
