// verify of version 2 stores on two threads (docs/design.md "Verify"): the
// worker reads each sealed segment in the format its header names. In an
// encrypted store, with the key, it checks the sealed segments' framing, CRCs
// and every group's tag while the main thread reads the groups sealed and
// decrypts only the keys, for the index check. Without the key the worker is
// not started. A group the worker finds bad (a tag that fails under a
// fixed-up CRC, or a CRC) is reported exactly as verify on one thread reports
// it, on the real file system and under an injected one that sends the
// worker the bytes. A compressed store's records are checked as what they
// are, not as version 1 records with unknown flags.
import { randomBytes } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeEach, describe, expect, it } from 'vitest';
import { openCodec } from '../../src/engine/files/keyring-file.js';
import { readManifest } from '../../src/engine/files/store-manifest.js';
import { verifyStore, verifyStoreParallel } from '../../src/engine/verify/verify.js';
import { KEYS_NOT_CHECKED } from '../../src/engine/verify/verify-runs-keyless.js';
import { crc32 } from '../../src/format/bytes.js';
import { FILE_HEADER_BYTES, KIND_PUT, KIND_SEAL, RECORD_HEADER_BYTES, RUN_HEADER_BYTES } from '../../src/format/constants.js';
import { fileVersion } from '../../src/format/file-header.js';
import { SEALED_PAGE_STRIDE, SEAL_RECORD_BYTES, openGroup, openPage, sealGroup, sealPage } from '../../src/format/seal.js';
import { decodeRunHeader } from '../../src/format/index-block.js';
import type { Manifest } from '../../src/format/manifest.js';
import { RECORD_OK, RecordInfo, decodeRecord } from '../../src/format/record.js';
import type { StoreCodec } from '../../src/format/store-codec.js';
import { realFs } from '../../src/io/fs.js';
import { open } from '../../src/local/local-store.js';
import { init } from '../../src/open.js';
import { imageFs } from '../helpers/image-fs.js';
import { onTwoThreads, workerFinish } from '../helpers/two-threads.js';
import { ENCRYPTED_KINDS, STORE_KINDS, initOptions } from '../helpers/store-kinds.js';
import { skipVerify, tempDir } from '../helpers/temp-store.js';

const segmentName = (file: number) => `${String(file).padStart(8, '0')}.tzds`;

/** A report without its timing, for comparing two verifies of the same bytes. */
function timeless<T extends { durationMs: number }>(report: T): Omit<T, 'durationMs'> {
  const { durationMs: _, ...rest } = report;
  return rest;
}

/** A PUT in the middle of a sealed segment's bytes: where it starts and how long it is. */
function middlePut(bytes: Buffer): { pos: number; length: number } {
  const puts = [];
  const info = new RecordInfo();
  for (let pos = FILE_HEADER_BYTES; decodeRecord(bytes, pos, bytes.length, info, true, true) === RECORD_OK; pos += info.length) {
    if (info.kind === KIND_PUT) puts.push({ pos, length: info.length });
  }
  return puts[Math.floor(puts.length / 2)];
}

/** The segment's bytes with one value byte of that PUT changed; its CRC fixed up when `fixCrc` (then only the group's tag shows it). */
function flippedValue(bytes: Buffer, fixCrc: boolean): { damaged: Buffer; at: number } {
  const put = middlePut(bytes);
  const damaged = Buffer.from(bytes);
  damaged[put.pos + put.length - 1] ^= 0x10;
  if (fixCrc) damaged.writeUInt32LE(crc32(damaged, put.pos + 4, put.pos + put.length), put.pos);
  return { damaged, at: put.pos };
}

for (const kind of ENCRYPTED_KINDS) {
  describe(`verify of an ${kind.name} store on two threads`, () => {
    let dir: string;
    let codec: StoreCodec;
    let m: Manifest;
    /** The second sealed segment: damaged by the tests. */
    let segment: number;

    beforeEach(async () => {
      dir = tempDir();
      skipVerify(dir);
      const secret = { key: randomBytes(32) };
      await init(dir, initOptions(kind, secret));
      // Small segments and flushes: several sealed segments and runs; batches whose records span groups.
      const s = await open(dir, { segmentBytes: 64 * 1024, flushBytes: 16 * 1024, sync: false, secret });
      for (let i = 0; i < 3000; i++) await s.put(`key:${String(i % 2000).padStart(5, '0')}`, `value ${i} `.repeat(1 + (i % 24)));
      for (let b = 0; b < 20; b++) {
        const batch = s.batch();
        for (let i = 0; i < 40; i++) {
          if (i % 7 === 0) batch.del(`key:${String(b * 40 + i).padStart(5, '0')}`);
          else batch.put(`batch:${b}:${i}`, `batched ${b} ${i} `.repeat(8));
        }
        await batch.write();
      }
      await s.close();
      m = readManifest(realFs, dir)!;
      codec = openCodec(realFs, dir, m, secret);
      const sealed = m.segments.filter((x) => x.size !== null);
      expect(sealed.length).toBeGreaterThan(3);
      segment = sealed[1].file;
    });

    it('checks the sealed segments on the worker with the key, and reports what one thread reports', async () => {
      const alone = verifyStore(realFs, dir, codec);
      expect(alone.problems).toEqual([]);
      expect(alone.skipped).toEqual([]);
      const { report, verdict } = await onTwoThreads(realFs, dir, codec);
      const sealed = m.segments.filter((x) => x.size !== null).map((x) => x.file);
      expect([...verdict.segments.keys()].sort((a, b) => a - b)).toEqual(sealed);
      expect([...verdict.segments.values()].every((bad) => bad === -1), 'every group opened and its tag held').toBe(true);
      expect(timeless(report)).toEqual(timeless(alone));
    });

    it('starts no worker without the key, and says the keys were not checked', async () => {
      const keyless = openCodec(realFs, dir, m, undefined);
      workerFinish.mockClear();
      const report = await verifyStoreParallel(realFs, dir, keyless, undefined, 0);
      expect(workerFinish).not.toHaveBeenCalled();
      expect(report.problems).toEqual([]);
      expect(report.skipped).toEqual([KEYS_NOT_CHECKED]);
    });

    for (const fixCrc of [true, false]) {
      const what = fixCrc ? 'a group whose tag fails (its CRC fixed up)' : 'a record whose CRC fails';
      it(`reports ${what} found by the worker as one thread does`, async () => {
        const path = join(dir, segmentName(segment));
        const { damaged, at } = flippedValue(readFileSync(path), fixCrc);
        writeFileSync(path, damaged);
        const alone = verifyStore(realFs, dir, codec);
        expect(alone.ok).toBe(false);
        const found = alone.problems.filter((p) => p.file === segmentName(segment));
        expect(found).toEqual([expect.objectContaining({ kind: 'corrupt-record', message: expect.stringContaining(fixCrc ? 'authentication failed' : 'CRC mismatch') })]);
        const { report, verdict } = await onTwoThreads(realFs, dir, codec);
        expect(verdict.segments.get(segment), 'the worker found the group').toBeGreaterThanOrEqual(FILE_HEADER_BYTES);
        expect(verdict.segments.get(segment)).toBeLessThanOrEqual(at);
        expect(timeless(report)).toEqual(timeless(alone));
      });
    }

    it('reports a tag that fails only as the injected file system reads the segment as one thread does', async () => {
      const path = join(dir, segmentName(segment));
      const { damaged } = flippedValue(readFileSync(path), true);
      const fs = imageFs(new Map([[path, damaged]]));
      const alone = verifyStore(fs, dir, codec);
      expect(alone.problems.map((p) => p.message).join('\n')).toContain('authentication failed');
      const { report, verdict } = await onTwoThreads(fs, dir, codec);
      expect([...verdict.segments].filter(([, bad]) => bad >= 0).map(([file]) => file), 'the worker, sent the bytes, found it').toEqual([segment]);
      expect(timeless(report)).toEqual(timeless(alone));
      expect(verifyStore(realFs, dir, codec).problems, 'the disk is intact').toEqual([]);
    });

    it('checks the runs\' keys against their filters on the worker: a filter page cleared and sealed again is found as one thread finds it', async () => {
      const clean = await onTwoThreads(realFs, dir, codec);
      expect([...clean.verdict.runs.keys()].sort((a, b) => a - b), 'the worker checked every run').toEqual(m.runs.map((r) => r.file).sort((a, b) => a - b));
      expect([...clean.verdict.runs.values()].every((n) => n === 0)).toBe(true);
      // A bloom page of the largest run, opened, every bit cleared, and sealed again: CRC and tag hold, only the keys' probes fail.
      const run = [...m.runs].sort((a, b) => b.entries - a.entries)[0];
      const path = join(dir, `${String(run.file).padStart(8, '0')}.tzix`);
      const bytes = Buffer.from(readFileSync(path));
      const header = decodeRunHeader(bytes.subarray(0, RUN_HEADER_BYTES), run.file);
      if (typeof header === 'string') throw new Error(header);
      const key = codec.encryption!.keys().key(header.version.keyId)!;
      const pos = header.bloomOffset;
      expect(openPage(bytes.subarray(pos, pos + SEALED_PAGE_STRIDE), 0, key)).not.toBeNull();
      sealPage(Buffer.alloc(4096), 0, key, bytes, pos);
      writeFileSync(path, bytes);

      const alone = verifyStore(realFs, dir, codec);
      expect(alone.problems).toEqual([expect.objectContaining({ kind: 'bloom-mismatch', file: `${String(run.file).padStart(8, '0')}.tzix` })]);
      const { report, verdict } = await onTwoThreads(realFs, dir, codec);
      expect(verdict.runs.get(run.file), 'the worker found the keys the filter rules out').toBeGreaterThan(0);
      expect(timeless(report)).toEqual(timeless(alone));
    });

    it('checks the index against the keys it decrypts in bulk: a key changed and sealed again under the key is found', async () => {
      // The group of the middle PUT, opened, one byte of that record's key changed, and sealed again: CRCs and tag
      // hold, so only the index check (which needs the key's plaintext) sees that the record is not the one indexed.
      const path = join(dir, segmentName(segment));
      const bytes = Buffer.from(readFileSync(path));
      const put = middlePut(bytes);
      const info = new RecordInfo();
      let seal = FILE_HEADER_BYTES;
      for (let pos = FILE_HEADER_BYTES; pos < put.pos; pos += info.length) {
        decodeRecord(bytes, pos, bytes.length, info, true, true);
        if (info.kind === KIND_SEAL) seal = pos;
      }
      const key = codec.encryption!.keys().key(fileVersion(bytes).keyId)!;
      const plain = openGroup(bytes, seal, seal, key)!;
      const from = seal + SEAL_RECORD_BYTES;
      plain.copy(bytes, from);
      bytes[put.pos + RECORD_HEADER_BYTES] ^= 0x01;
      sealGroup(bytes, seal, from + plain.length, seal, key);
      writeFileSync(path, bytes);

      const alone = verifyStore(realFs, dir, codec);
      expect(alone.ok).toBe(false);
      // The record is of a key no index entry names, and the entry for the old key finds another record.
      expect(alone.problems.map((p) => p.kind)).toContain('not-indexed');
      const { report, verdict } = await onTwoThreads(realFs, dir, codec);
      expect([...verdict.segments.values()].every((bad) => bad === -1), 'every tag held').toBe(true);
      expect(timeless(report)).toEqual(timeless(alone));
    });
  });
}

describe('verify of a compressed store on two threads', () => {
  it('checks the compressed records in their own format: the worker finds every sealed segment whole', async () => {
    const dir = tempDir();
    const kind = STORE_KINDS.find((k) => k.name === 'compressed')!;
    await init(dir, initOptions(kind, { key: randomBytes(32) }));
    const s = await open(dir, { segmentBytes: 64 * 1024, flushBytes: 16 * 1024, sync: false });
    // Values of 128 bytes or more that compress well: stored compressed (flags bits 1-2).
    for (let i = 0; i < 6000; i++) await s.put(`key:${String(i).padStart(5, '0')}`, `compressible value ${i} `.repeat(20));
    await s.close();
    const m = readManifest(realFs, dir)!;
    const codec = openCodec(realFs, dir, m, undefined);
    const alone = verifyStore(realFs, dir, codec);
    expect(alone.problems).toEqual([]);
    const { report, verdict } = await onTwoThreads(realFs, dir, codec);
    expect(verdict.segments.size).toBeGreaterThan(3);
    expect([...verdict.segments.values()].every((bad) => bad === -1), 'no compressed record taken for damage').toBe(true);
    expect(timeless(report)).toEqual(timeless(alone));
  });
});
