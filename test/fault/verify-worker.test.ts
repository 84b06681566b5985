// verify on two threads under an injected file system. The worker thread
// reads no file: the main thread reads through the io/ seam and hands it the
// bytes (src/engine/verify/verify-worker.ts). So damage or a read error that
// only the injected file system shows — the disk stays intact — must reach
// the worker's checks and be reported as the one-thread verify reports it.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeEach, describe, expect, it } from 'vitest';
import { RunReader } from '../../src/engine/runs/run-reader.js';
import { scanLog } from '../../src/engine/log/log-scan.js';
import { verifyStore } from '../../src/engine/verify/verify.js';
import { bloomBucket } from '../../src/format/bloom.js';
import { crc32 } from '../../src/format/bytes.js';
import { BLOOM_BUCKETS_PER_PAGE, BLOOM_BUCKET_BYTES, BLOOM_PAGE_BYTES, BLOOM_PAGE_STRIDE, FILE_HEADER_BYTES } from '../../src/format/constants.js';
import { decodeManifest } from '../../src/format/manifest.js';
import type { Manifest } from '../../src/format/manifest.js';
import { realFs } from '../../src/io/fs.js';
import { open } from '../../src/local/local-store.js';
import { FaultFs } from '../helpers/fault-fs.js';
import { imageFs } from '../helpers/image-fs.js';
import { onTwoThreads } from '../helpers/two-threads.js';
import { tempDir } from '../helpers/temp-store.js';
import { PLAIN } from '../../src/format/store-codec.js';

const name = (file: number, ext: string) => `${String(file).padStart(8, '0')}${ext}`;
let dir: string;
let m: Manifest;

beforeEach(async () => {
  dir = tempDir();
  // Small segments and flushes: several sealed segments and several runs.
  const s = await open(dir, { segmentBytes: 64 * 1024, flushBytes: 16 * 1024, sync: false });
  for (let i = 0; i < 3000; i++) await s.put(`key:${String(i % 2000).padStart(5, '0')}`, `value ${i} `.repeat(8));
  await s.close();
  m = decodeManifest(readFileSync(join(dir, 'MANIFEST')));
  expect(m.segments.filter((x) => x.size !== null).length).toBeGreaterThan(3);
  expect(m.runs.length).toBeGreaterThan(1);
  expect(verifyStore(realFs, dir, PLAIN).problems).toEqual([]);
});

describe('verify on two threads, under an injected file system', () => {
  it('sees a record whose CRC fails only as the injected file system reads it', async () => {
    // A record in the middle of the second sealed segment, its last value byte changed: the framing holds,
    // so only a CRC check finds it, and on two threads only the worker checks CRCs.
    const segment = m.segments.filter((x) => x.size !== null)[1].file;
    const path = join(dir, name(segment, '.tzds'));
    const bytes = readFileSync(path);
    const records = scanLog(bytes.subarray(FILE_HEADER_BYTES), FILE_HEADER_BYTES, PLAIN).entries;
    const record = records[Math.floor(records.length / 2)];
    const damaged = Buffer.from(bytes);
    damaged[record.offset + record.length - 1] ^= 0x20;
    const fs = imageFs(new Map([[path, damaged]]));

    const alone = verifyStore(fs, dir, PLAIN);
    const found = alone.problems.filter((p) => p.file === name(segment, '.tzds'));
    expect(found).toEqual([expect.objectContaining({ offset: record.offset, kind: 'corrupt-record' })]);
    const { report, verdict } = await onTwoThreads(fs, dir, PLAIN);
    expect(verdict.segments.get(segment), 'the worker found the record').toBe(record.offset);
    expect([...verdict.segments].filter(([, at]) => at >= 0)).toHaveLength(1);
    // The segment checked again here says what one thread says of it. (The index entry pointing at the record is
    // reported by one thread only: on two, the walk met the record framed whole, before its CRC was known.)
    expect(report.ok).toBe(false);
    expect(report.problems.filter((p) => p.file === name(segment, '.tzds'))).toEqual(found);
    expect(report.unreadable).toEqual(alone.unreadable);
    expect(verifyStore(realFs, dir, PLAIN).problems, 'the disk is intact').toEqual([]);
  });

  it('sees a bloom filter cleared (its page CRC fixed up) only as the injected file system reads it', async () => {
    const run = m.runs[m.runs.length - 1].file;
    const path = join(dir, name(run, '.tzix'));
    const reader = RunReader.open(realFs, dir, run, PLAIN);
    const { bloomOffset, bloomPages } = reader.header;
    const keys = [...reader.cursor(Buffer.alloc(0))].map((e) => e.key);
    reader.close();
    const bucket = bloomBucket(keys[0], bloomPages);
    const missing = keys.filter((k) => bloomBucket(k, bloomPages) === bucket).length;
    const damaged = Buffer.from(readFileSync(path));
    const page = bloomOffset + Math.floor(bucket / BLOOM_BUCKETS_PER_PAGE) * BLOOM_PAGE_STRIDE;
    const at = page + (bucket % BLOOM_BUCKETS_PER_PAGE) * BLOOM_BUCKET_BYTES;
    damaged.fill(0, at, at + BLOOM_BUCKET_BYTES);
    damaged.writeUInt32LE(crc32(damaged, page, page + BLOOM_PAGE_BYTES), page + BLOOM_PAGE_BYTES);
    const fs = imageFs(new Map([[path, damaged]]));

    const want = { file: name(run, '.tzix'), offset: bloomOffset, kind: 'bloom-mismatch', message: `the bloom filter rules out ${missing} of the keys the run holds` };
    expect(verifyStore(fs, dir, PLAIN).problems).toEqual([want]);
    const { report, verdict } = await onTwoThreads(fs, dir, PLAIN);
    expect(verdict.runs.get(run), 'the worker counted the keys the filter rules out').toBe(missing);
    expect(report.problems).toEqual([want]);
  });

  it('reports a segment the injected file system fails to read as one thread does', async () => {
    const segment = m.segments.filter((x) => x.size !== null)[2].file;
    // Every read of that segment after its header fails with EIO.
    const failing = () => new FaultFs(dir).failAt('read', 2, { code: 'EIO', times: Infinity, match: new RegExp(`^${name(segment, '.tzds')}$`) });
    const alone = verifyStore(failing(), dir, PLAIN);
    expect(alone.problems).toEqual([expect.objectContaining({ file: name(segment, '.tzds'), offset: null, kind: 'unreadable', message: expect.stringContaining('EIO') })]);
    const { report, verdict } = await onTwoThreads(failing(), dir, PLAIN);
    expect(verdict.segments.get(segment), 'the worker was sent none of its records').toBe(FILE_HEADER_BYTES);
    expect(report.problems).toEqual(alone.problems);
  });
});
