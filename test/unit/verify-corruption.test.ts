// Corruption (issue #5): one byte flipped at 200 seeded places across the
// data, index and manifest files of a populated store. verify must report
// every flip, and reads must never return a wrong value: a key whose record
// holds the flipped byte may fail with CORRUPT, every other key stored in a
// data segment reads back exactly; damage in an index or the manifest fails
// the keys whose lookup passes through it, with CORRUPT, never silently.
import { readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { open } from '../../src/local/local-store.js';
import { verifyStore, verifyStoreParallel } from '../../src/engine/verify/verify.js';
import { TzkvError } from '../../src/errors.js';
import { FILE_HEADER_BYTES } from '../../src/format/constants.js';
import { scanLog } from '../../src/engine/log/log-scan.js';
import { realFs } from '../../src/io/fs.js';
import { seededRandom } from '../helpers/fault-fs.js';
import { skipVerify, tempDir } from '../helpers/temp-store.js';
import { PLAIN } from '../../src/format/store-codec.js';

const KEYS = 240;
const keyOf = (i: number) => `key:${String(i).padStart(4, '0')}`;
const valueOf = (i: number, v: number) => `value ${i} version ${v} `.repeat(1 + (i % 5));

let dir: string;
let files: Map<string, Buffer>;
/** The newest value of every key, and for each segment the record ranges with their keys. */
const expected = new Map<string, string | null>();
const ranges = new Map<string, Array<{ from: number; to: number; key: string }>>();

beforeAll(async () => {
  dir = tempDir();
  skipVerify(dir);
  // Small segments and flushes: several sealed segments and runs; every write indexed (an empty tail).
  const s = await open(dir, { segmentBytes: 8192, flushBytes: 1, sync: false });
  const far = Date.now() + 3_600_000;
  for (let v = 0; v < 2; v++) {
    for (let i = 0; i < KEYS; i += 1 + v) {
      await s.put(keyOf(i), valueOf(i, v), i % 7 === 0 ? { expiresAt: far + i } : undefined);
      expected.set(keyOf(i), valueOf(i, v));
    }
  }
  for (let i = 3; i < KEYS; i += 17) {
    await s.del(keyOf(i));
    expected.set(keyOf(i), null);
  }
  await s.close();
  files = new Map(readdirSync(dir).map((name) => [name, readFileSync(join(dir, name))]));
  for (const [name, bytes] of files) {
    if (!name.endsWith('.tzds')) continue;
    const scan = scanLog(bytes.subarray(FILE_HEADER_BYTES), FILE_HEADER_BYTES, PLAIN);
    ranges.set(name, scan.entries.map((e) => ({ from: e.offset, to: e.offset + e.length, key: e.key })));
  }
  expect(verifyStore(realFs, dir, PLAIN).problems).toEqual([]);
  expect((await verifyStoreParallel(realFs, dir, PLAIN, undefined, 0)).problems).toEqual([]);
});

describe('200 single-byte flips', () => {
  it('verify reports every one, and no read returns a wrong value', async () => {
    const random = seededRandom(5);
    const names = [...files.keys()].filter((n) => n.endsWith('.tzds') || n.endsWith('.tzix') || n === 'MANIFEST').sort();
    expect(names.filter((n) => n.endsWith('.tzix')).length).toBeGreaterThan(1);
    expect(names.filter((n) => n.endsWith('.tzds')).length).toBeGreaterThan(2);
    const total = names.reduce((n, name) => n + files.get(name)!.length, 0);
    const kinds = new Set<string>();
    for (let flip = 0; flip < 200; flip++) {
      // A place across all files, weighted by size, but at least a quarter in each kind of file.
      let name = names[Math.floor(random() * names.length)];
      if (flip % 4 === 0) {
        let at = Math.floor(random() * total);
        for (const n of names) {
          if (at < files.get(n)!.length) {
            name = n;
            break;
          }
          at -= files.get(n)!.length;
        }
      }
      const original = files.get(name)!;
      const offset = Math.floor(random() * original.length);
      const damaged = Buffer.from(original);
      damaged[offset] ^= 1 + Math.floor(random() * 255);
      writeFileSync(join(dir, name), damaged);
      try {
        const report = verifyStore(realFs, dir, PLAIN);
        const where = `flip ${flip}: ${name} offset ${offset}`;
        expect(report.ok, where).toBe(false);
        expect(report.problems.length, where).toBeGreaterThan(0);
        // "Reports each problem with the file name": the flipped file is named.
        expect(report.problems.map((p) => p.file), where).toContain(name);
        // The same with the records' CRCs checked on a worker thread (every 4th flip: a worker costs a start-up).
        if (flip % 4 === 1) expect((await verifyStoreParallel(realFs, dir, PLAIN, undefined, 0)).ok, `${where}, in parallel`).toBe(false);
        kinds.add(name.slice(-4));
        const hit = name.endsWith('.tzds') ? ranges.get(name)!.find((r) => offset >= r.from && offset < r.to)?.key : undefined;
        const s = await open(dir, { readOnly: true });
        try {
          for (const [key, value] of expected) {
            let got: string | null | undefined;
            try {
              got = (await s.get(key))?.toString() ?? null;
            } catch (err) {
              expect(err, `${where}: ${key}`).toBeInstanceOf(TzkvError);
              expect((err as TzkvError).code, `${where}: ${key}`).toBe('CORRUPT');
              // In a data segment, only the key of the damaged record (or the segment's header) may fail.
              if (name.endsWith('.tzds') && offset >= FILE_HEADER_BYTES) expect(key, `${where}: ${(err as Error).message}`).toBe(hit);
              continue;
            }
            expect(got, `${where}: ${key}`).toBe(value);
          }
        } finally {
          await s.close();
        }
      } finally {
        writeFileSync(join(dir, name), original);
      }
    }
    expect(kinds).toEqual(new Set(['tzds', 'tzix', 'FEST']));
  });
});
