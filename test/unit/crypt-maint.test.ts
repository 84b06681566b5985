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
import { encodeFileHeader } from '../../src/format/file-header.js';
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

/**
 * What verify reports besides the file headers' key ids: the stores here are
 * written plain (the writers of encrypted segments and runs are other parts of
 * #17), so every header of one verified as encrypted says version 1.
 */
function besidesKeyIds<T extends { problems: Array<{ kind: string; message: string }>; problemCount: number }>(report: T): T {
  const problems = report.problems.filter((p) => !(p.kind === 'bad-header' && p.message.endsWith('the file of an encrypted store must say 2')));
  return { ...report, problems, problemCount: report.problemCount - (report.problems.length - problems.length) };
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
    for (const full of [verifyStore(realFs, dir, keyless), await verifyStoreParallel(realFs, dir, keyless, undefined, 1)]) {
      const report = besidesKeyIds(full);
      expect(report.problems).toEqual([]);
      expect(report.problemCount).toBe(0);
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
    const report = besidesKeyIds(verifyStore(realFs, dir, keyless));
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
    const report = besidesKeyIds(verifyStore(realFs, dir, keyless));
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

describe('verify checks each file header against the store', () => {
  it('reports a version or data key id that does not fit the store, with or without the key', async () => {
    const { dir, runs } = await storeOfRuns();
    const segments = readdirSync(dir).filter((n) => n.endsWith('.tzds')).sort();
    const files = [...segments, ...runs];
    const headerProblems = (codec: StoreCodec) => verifyStore(realFs, dir, codec).problems.filter((p) => p.kind === 'bad-header').map((p) => `${p.file}: ${p.message}`).sort();
    expect(headerProblems(PLAIN)).toEqual([]);
    const compressed: StoreCodec = { encryption: undefined, compression: { algorithm: 'deflate', minBytes: 256 } };
    expect(headerProblems(compressed)).toEqual(files.map((n) => `${n}: header says format version 1, the file of a compressed store must say 2`).sort());
    const keys = new DataKeys(new Map([[1, createSecretKey(randomBytes(32))]]), 1);
    const encrypted: StoreCodec = { encryption: { keys: () => keys }, compression: undefined };
    // A version 2 header naming key 7, which the store's keys do not hold (the header CRC made good again).
    const path = join(dir, segments[0]);
    const bytes = readFileSync(path);
    encodeFileHeader('TZDS', Number.parseInt(segments[0], 10), bytes, { version: 2, keyId: 7 });
    writeFileSync(path, bytes);
    const seen = headerProblems(encrypted);
    expect(seen).toContain(`${segments[0]}: header names data key 7, which KEYRING does not hold`);
    expect(seen).toContain(`${runs[0]}: header says format version 1, the file of an encrypted store must say 2`);
    expect(headerProblems(PLAIN)).toEqual([`${segments[0]}: header says format version 2, the file of a plain (version 1) store must say 1`]);
  });
});
