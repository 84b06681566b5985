// Fuzz (issue #5): 1,000 stores made of random or mutated files — random
// bytes, truncations, files of the wrong kind, a newer format version, absurd
// lengths and counts behind valid CRCs, valid files with bytes flipped,
// inserted or cut. verify always returns a report within its time box; open
// and reads either work or throw a TzkvError; nothing else escapes.
import { mkdirSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { open } from '../../src/local/local-store.js';
import { verifyStore, verifyStoreParallel } from '../../src/engine/verify/verify.js';
import { TzkvError } from '../../src/errors.js';
import { crc32 } from '../../src/format/bytes.js';
import { realFs } from '../../src/io/fs.js';
import { seededRandom } from '../helpers/fault-fs.js';
import { skipVerify, tempDir } from '../helpers/temp-store.js';
import { PLAIN } from '../../src/format/store-codec.js';

const CASES = 1000;
/** Per case: a report must come well within this (the store is a few KB). */
const TIME_BOX_MS = 3000;

let base: Map<string, Buffer>;

beforeAll(async () => {
  const dir = tempDir();
  const s = await open(dir, { segmentBytes: 4096, flushBytes: 512, sync: false });
  for (let i = 0; i < 120; i++) await s.put(`k${i}`, `value ${i}`.repeat(1 + (i % 4)), i % 5 === 0 ? { expiresAt: Date.now() + 1e7 + i } : undefined);
  await s.batch().put('b1', 'x').put('b2', 'y').del('k3').write();
  await s.put('tail', 'unindexed');
  await s.close();
  base = new Map(readdirSync(dir).map((n) => [n, readFileSync(join(dir, n))]));
});

type Mutation = (files: Map<string, Buffer>, names: string[], random: () => number) => void;

const pick = <T>(xs: T[], random: () => number): T => xs[Math.floor(random() * xs.length)];
const randomBytes = (n: number, random: () => number) => Buffer.from(Array.from({ length: n }, () => Math.floor(random() * 256)));

/** Rewrites the CRC of a file's 16-byte header (or a run header's 16–59) so only the field change counts. */
function fixHeaderCrcs(name: string, b: Buffer): void {
  if (b.length >= 16 && (name.endsWith('.tzds') || name.endsWith('.tzix'))) b.writeUInt32LE(crc32(b, 0, 12), 12);
  if (b.length >= 64 && name.endsWith('.tzix')) b.writeUInt32LE(crc32(b, 16, 60), 60);
  if (name === 'MANIFEST' && b.length >= 16) b.writeUInt32LE(crc32(b, 16, b.length), 12);
}

const mutations: Array<[string, Mutation]> = [
  ['random bytes', (f, names, r) => {
    const n = pick(names, r);
    f.set(n, randomBytes(Math.floor(r() * 3000), r));
  }],
  ['truncated', (f, names, r) => {
    const n = pick(names, r);
    f.set(n, f.get(n)!.subarray(0, Math.floor(r() * f.get(n)!.length)));
  }],
  ['flipped bytes', (f, names, r) => {
    const n = pick(names, r);
    const b = Buffer.from(f.get(n)!);
    for (let i = 1 + Math.floor(r() * 4); i > 0 && b.length > 0; i--) b[Math.floor(r() * b.length)] ^= 1 + Math.floor(r() * 255);
    f.set(n, b);
  }],
  ['bytes inserted or cut', (f, names, r) => {
    const n = pick(names, r);
    const b = f.get(n)!;
    const at = Math.floor(r() * b.length);
    f.set(n, r() < 0.5 ? Buffer.concat([b.subarray(0, at), randomBytes(1 + Math.floor(r() * 40), r), b.subarray(at)]) : Buffer.concat([b.subarray(0, at), b.subarray(at + 1 + Math.floor(r() * 40))]));
  }],
  ['a file of the wrong kind', (f, names, r) => {
    const n = pick(names, r);
    const other = pick(names.filter((x) => x !== n), r);
    f.set(n, Buffer.from(f.get(other)!));
  }],
  ['a newer format version', (f, names, r) => {
    const n = pick(names, r);
    const b = Buffer.from(f.get(n)!);
    if (b.length >= 6) b.writeUInt16LE(3 + Math.floor(r() * 100), 4);
    fixHeaderCrcs(n, b);
    f.set(n, b);
  }],
  ['absurd lengths and counts behind valid CRCs', (f, names, r) => {
    const runs = names.filter((x) => x.endsWith('.tzix'));
    const n = r() < 0.6 && runs.length > 0 ? pick(runs, r) : pick(names, r);
    const b = Buffer.from(f.get(n)!);
    const huge = [0xffffffff, 0x7fffffff, 0x10000000, b.length + 1, 0];
    for (let i = 0; i < 3 && b.length >= 64; i++) b.writeUInt32LE(pick(huge, r), 16 + 4 * Math.floor(r() * 11));
    if (n === 'MANIFEST' && b.length >= 12) b.writeUInt32LE(pick(huge, r), 8);
    fixHeaderCrcs(n, b);
    f.set(n, b);
  }],
  ['a file missing', (f, names, r) => {
    f.delete(pick(names, r));
  }],
  ['a MANIFEST body that is valid JSON of the wrong shape', (f, _names, r) => {
    const body = Buffer.from(pick(['[]', '{}', 'null', '{"generation":1,"nextFile":2,"active":{"file":1,"indexedTo":1e300},"segments":[{"file":1,"size":null}],"runs":[],"counters":{"puts":0,"deletes":0,"deadBytes":0}}', '{"segments":"x"}'], r));
    const head = Buffer.alloc(16);
    head.write('TZMF', 0, 'latin1');
    head.writeUInt16LE(1, 4);
    head.writeUInt32LE(body.length, 8);
    head.writeUInt32LE(crc32(body), 12);
    f.set('MANIFEST', Buffer.concat([head, body]));
  }],
];

describe(`fuzz: ${CASES} damaged stores`, () => {
  it('verify always reports, open and reads throw only TzkvErrors, nothing hangs', async () => {
    const random = seededRandom(20261129);
    const root = tempDir();
    skipVerify(root);
    const seen = new Map<string, number>();
    for (let i = 0; i < CASES; i++) {
      const files = new Map([...base].map(([n, b]) => [n, Buffer.from(b)]));
      const names = [...files.keys()].sort();
      const [label, mutate] = mutations[i % mutations.length];
      for (let k = 0; k < 1 + (i % 3 === 0 ? 1 : 0); k++) mutate(files, names, random);
      seen.set(label, (seen.get(label) ?? 0) + 1);
      const dir = join(root, `case-${i}`);
      mkdirSync(dir);
      for (const [n, b] of files) writeFileSync(join(dir, n), b);
      const what = `case ${i} (${label})`;
      const t0 = Date.now();
      const report = verifyStore(realFs, dir, PLAIN);
      expect(Date.now() - t0, what).toBeLessThan(TIME_BOX_MS);
      if (report.ok) expect(report.problems, what).toEqual([]);
      expect(report.problems.every((p) => typeof p.file === 'string' && typeof p.kind === 'string' && typeof p.message === 'string'), what).toBe(true);
      if (!report.ok) expect(report.problems.length, what).toBeGreaterThan(0);
      if (i % 10 === 0) {
        // With the CRCs on a worker thread: the same verdict.
        const parallel = await verifyStoreParallel(realFs, dir, PLAIN, undefined, 0);
        expect(parallel.ok, `${what}, in parallel`).toBe(report.ok);
        expect(parallel.newerVersion, `${what}, in parallel`).toBe(report.newerVersion);
      }
      try {
        const s = await open(dir, { readOnly: true });
        try {
          for (const key of ['k1', 'k50', 'b2', 'tail', 'absent']) await s.get(key).catch((err: unknown) => expect(err, `${what}: get ${key}`).toBeInstanceOf(TzkvError));
          await (async () => {
            for await (const _ of s.keys({ limit: 500 })) void _;
          })().catch((err: unknown) => expect(err, `${what}: keys`).toBeInstanceOf(TzkvError));
          await s.stats().catch((err: unknown) => expect(err, `${what}: stats`).toBeInstanceOf(TzkvError));
        } finally {
          await s.close();
        }
      } catch (err) {
        expect(err, `${what}: open`).toBeInstanceOf(TzkvError);
      }
      rmSync(dir, { recursive: true, force: true });
    }
    expect(seen.size).toBe(mutations.length);
  }, 600_000);
});
