// Maintenance of encrypted stores without their secret (#17): what must work
// without the key tells whether it was given without failing (keysGiven), and
// what rewrites records refuses before it changes anything (requireKeys).
import { createSecretKey, randomBytes } from 'node:crypto';
import { readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { TzkvError, isTzkvError } from '../../src/errors.js';
import { compactPhased } from '../../src/engine/compact/compact.js';
import { keysGiven } from '../../src/engine/keys-given.js';
import { repairStore } from '../../src/engine/repair/repair.js';
import { verifyStore, verifyStoreParallel } from '../../src/engine/verify/verify.js';
import { KEYS_NOT_CHECKED } from '../../src/engine/verify/verify-runs-keyless.js';
import { decodeRunHeader } from '../../src/format/index-block.js';
import { DataKeys, PLAIN } from '../../src/format/store-codec.js';
import type { StoreCodec } from '../../src/format/store-codec.js';
import { realFs } from '../../src/io/fs.js';
import { realProcesses } from '../../src/io/processes.js';
import { replicate } from '../../src/replication/replicator.js';
import { DirectoryTarget } from '../../src/replication/target.js';
import { skipVerify, tempDir, tempStore } from '../helpers/temp-store.js';

const keyless: StoreCodec = {
  encryption: {
    keys() {
      throw new TzkvError('KEY_REQUIRED', 'the store is encrypted: give its key');
    },
  },
  compression: undefined,
};

/** Every file of `dir` and its bytes. */
function snapshot(dir: string): Map<string, Buffer> {
  return new Map(readdirSync(dir).sort().map((n) => [n, readFileSync(join(dir, n))]));
}

function thrown(fn: () => unknown): unknown {
  try {
    fn();
  } catch (err) {
    return err;
  }
  return undefined;
}

describe('keysGiven', () => {
  it('is undefined for a store that is not encrypted, the keys when given, null without them', () => {
    const keys = new DataKeys(new Map([[1, createSecretKey(randomBytes(32))]]), 1);
    expect(keysGiven(PLAIN)).toBeUndefined();
    expect(keysGiven({ encryption: { keys: () => keys }, compression: undefined })).toBe(keys);
    expect(keysGiven(keyless)).toBeNull();
  });

  it('throws what keys() throws besides KEY_REQUIRED', () => {
    const wrong: StoreCodec = { encryption: { keys: () => { throw new TzkvError('KEY_WRONG', 'no'); } }, compression: undefined };
    expect(isTzkvError(thrown(() => keysGiven(wrong)), 'KEY_WRONG')).toBe(true);
  });
});

describe('rewriting an encrypted store without its key', () => {
  it('compaction is refused with KEY_REQUIRED before it takes the lock or writes', async () => {
    const dir = tempDir();
    const store = await tempStore({}, dir);
    await store.put('a', '1');
    await store.close();
    const before = snapshot(dir);
    let locked = 0;
    const err = await compactPhased({
      fs: realFs,
      dir,
      codec: keyless,
      now: Date.now(),
      segmentBytes: 1 << 20,
      locked: async () => {
        locked++;
        throw new Error('must not lock');
      },
    }).then(() => undefined, (e: unknown) => e);
    expect(isTzkvError(err, 'KEY_REQUIRED')).toBe(true);
    expect(locked).toBe(0);
    expect(snapshot(dir)).toEqual(before);
  });

  it('repair is refused with KEY_REQUIRED before it quarantines, cuts or rebuilds anything', async () => {
    const dir = tempDir();
    skipVerify(dir);
    const store = await tempStore({}, dir);
    await store.put('a', '1');
    await store.close();
    // A torn tail a repair would cut (and move to quarantine).
    const segment = readdirSync(dir).find((n) => n.endsWith('.tzds'))!;
    writeFileSync(join(dir, segment), Buffer.concat([readFileSync(join(dir, segment)), Buffer.from([1, 2, 3])]));
    const before = snapshot(dir);
    const err = thrown(() => repairStore(realFs, dir, keyless, Date.now(), realProcesses));
    expect(isTzkvError(err, 'KEY_REQUIRED')).toBe(true);
    expect(snapshot(dir)).toEqual(before);
  });
});

/** A store of several runs (some keys with an expiry) and its directory; verify is skipped for it (tests damage it). */
async function storeOfRuns() {
  const dir = tempDir();
  skipVerify(dir);
  const store = await tempStore({ segmentBytes: 8192, flushBytes: 1, sync: false }, dir);
  for (let i = 0; i < 60; i++) await store.put(`key:${i}`, `value ${i} `.repeat(1 + (i % 4)), i % 5 === 0 ? { expiresAt: Date.now() + 3_600_000 } : undefined);
  await store.close();
  const runs = readdirSync(dir).filter((n) => n.endsWith('.tzix')).sort();
  return { dir, runs };
}

function flip(path: string, at: number): void {
  const bytes = readFileSync(path);
  bytes[at] ^= 0x20;
  writeFileSync(path, bytes);
}

describe('verify without the key', () => {
  it('checks framing, CRCs and counts, and says the keys were not checked, never that they passed', async () => {
    const { dir } = await storeOfRuns();
    const keyed = verifyStore(realFs, dir, PLAIN);
    expect(keyed.ok).toBe(true);
    expect(keyed.skipped).toEqual([]);
    for (const report of [verifyStore(realFs, dir, keyless), await verifyStoreParallel(realFs, dir, keyless, undefined, 1)]) {
      expect(report.problems).toEqual([]);
      expect(report.ok).toBe(true);
      expect(report.skipped).toEqual([KEYS_NOT_CHECKED]);
      expect(report.records).toBe(keyed.records);
      expect(report.files).toBe(keyed.files);
    }
  });

  it('finds a flipped byte in a leaf block or a bloom page by its CRC', async () => {
    const { dir, runs } = await storeOfRuns();
    const path = join(dir, runs[0]);
    const header = decodeRunHeader(readFileSync(path), Number.parseInt(runs[0], 10));
    if (typeof header === 'string') throw new Error(header);
    flip(path, 64 + 12); // inside the first leaf block's entries
    flip(path, header.bloomOffset + 100); // inside the first bloom page
    const report = verifyStore(realFs, dir, keyless);
    expect(report.ok).toBe(false);
    // The bloom pages are read first; the damaged leaf block's entries are not counted.
    const firstBlock = readFileSync(path).readUInt16LE(64 + 2);
    expect(report.problems.map((p) => `${p.file} ${p.offset} ${p.message}`)).toEqual([
      `${runs[0]} ${header.bloomOffset} bloom filter page CRC mismatch`,
      `${runs[0]} 64 leaf block CRC mismatch`,
      `${runs[0]} 0 holds ${header.entries - firstBlock} readable entries, its header says ${header.entries}, the manifest ${header.entries}`,
    ]);
  });

  it('finds a flipped byte in a record by its CRC, and one in a TTL section', async () => {
    const { dir, runs } = await storeOfRuns();
    const segment = readdirSync(dir).find((n) => n.endsWith('.tzds'))!;
    flip(join(dir, segment), 16 + 22);
    const withTtl = runs.find((n) => {
      const buf = readFileSync(join(dir, n));
      const h = decodeRunHeader(buf, Number.parseInt(n, 10));
      return typeof h !== 'string' && buf.length > h.bloomOffset + h.bloomPages * 4100 + 16 + 4;
    })!;
    const size = readFileSync(join(dir, withTtl)).length;
    flip(join(dir, withTtl), size - 8);
    const report = verifyStore(realFs, dir, keyless);
    const found = report.problems.map((p) => `${p.file} ${p.kind}`);
    expect(found).toContain(`${segment} corrupt-record`);
    expect(found).toContain(`${withTtl} corrupt-index`);
    expect(report.skipped).toEqual([KEYS_NOT_CHECKED]);
  });
});

describe('replicate without the key', () => {
  it('ships the runs, checking each on arrival by framing, CRCs and counts', async () => {
    const { dir } = await storeOfRuns();
    const follower = join(tempDir(), 'follower');
    const report = replicate(realFs, dir, keyless, new DirectoryTarget(realFs, follower, realProcesses), Date.now());
    expect(report.filesShipped).toBeGreaterThan(2);
    expect(verifyStore(realFs, follower, PLAIN).ok).toBe(true);
  });

  it('refuses a run whose block fails its CRC, naming it, and leaves the follower as it was', async () => {
    const { dir, runs } = await storeOfRuns();
    flip(join(dir, runs[0]), 64 + 12);
    const follower = join(tempDir(), 'follower');
    const err = thrown(() => replicate(realFs, dir, keyless, new DirectoryTarget(realFs, follower, realProcesses), Date.now()));
    expect(isTzkvError(err, 'CORRUPT')).toBe(true);
    expect((err as Error).message).toContain(`${runs[0]} offset 64: leaf block CRC mismatch`);
    expect(readdirSync(follower).filter((n) => n === 'MANIFEST')).toEqual([]);
  });
});
