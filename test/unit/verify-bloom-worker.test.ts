// verify's worker thread (src/engine/verify/verify-worker-thread.ts) checks every key of every
// index run against the run's bloom filter on stores of PARALLEL_MIN_BYTES of
// sealed segments or more. A filter whose bits were cleared but whose page
// CRCs were fixed up is damage only that check can see: the page CRCs pass,
// every entry matches its record, yet lookups skip the run for the keys it
// rules out (here: a newer value is hidden, an older one is served). verify
// must report it (file, offset, kind) as damage, and repair rebuild it.
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { problemLine } from '../../src/cli/damage.js';
import { VerifyWorker } from '../../src/engine/verify/verify-worker.js';
import { RunReader } from '../../src/engine/runs/run-reader.js';
import { open } from '../../src/local/local-store.js';
import { PARALLEL_MIN_BYTES, verifyStore } from '../../src/engine/verify/verify.js';
import { bloomBucket } from '../../src/format/bloom.js';
import { crc32 } from '../../src/format/bytes.js';
import { BLOOM_BUCKETS_PER_PAGE, BLOOM_BUCKET_BYTES, BLOOM_PAGE_BYTES, BLOOM_PAGE_STRIDE } from '../../src/format/constants.js';
import { decodeManifest } from '../../src/format/manifest.js';
import type { Manifest } from '../../src/format/manifest.js';
import { realFs } from '../../src/io/fs.js';
import { tempDir } from '../helpers/temp-store.js';
import { PLAIN } from '../../src/format/store-codec.js';

// A pass-through spy: the real worker runs, and the test sees what it said.
const finish = vi.spyOn(VerifyWorker.prototype, 'finish');
afterEach(() => finish.mockClear());

const manifestOf = (dir: string): Manifest => decodeManifest(readFileSync(join(dir, 'MANIFEST')));
const runFile = (n: number) => `${String(n).padStart(8, '0')}.tzix`;
const smallKey = (i: number) => `small:${String(i).padStart(4, '0')}`;
const TARGET = smallKey(7);

describe('a bloom filter cleared under valid page CRCs, on a store large enough for the worker', () => {
  it('is reported by the worker with file, offset and kind, as damage; repair rebuilds the index and verify is clean', async () => {
    const dir = tempDir();
    const store = await open(dir, { segmentBytes: 8 << 20, flushBytes: 4096, sync: false });
    // The first versions in one run of more than 1,024 entries: a tier of its own, which the later runs are not merged into.
    const first = store.batch();
    for (let i = 0; i < 1100; i++) first.put(smallKey(i), `first ${i}`);
    await first.write();
    // Sealed segments past the worker's threshold.
    const big = Buffer.alloc(1 << 20, 0x61);
    for (let i = 0; ; i++) {
      const m = manifestOf(dir);
      if (m.segments.reduce((n, s) => n + (s.size ?? 0), 0) >= PARALLEL_MIN_BYTES) break;
      await store.put(`big:${String(i).padStart(3, '0')}`, big);
    }
    for (let i = 0; i < 200; i++) await store.put(smallKey(i), `second ${i}`);
    await store.put('big:last', big); // indexes the tail
    const m = manifestOf(dir);
    expect((await store.stats()).details.tailBytes, 'every write indexed').toBe(0);
    expect(m.runs.length).toBeGreaterThan(1);
    expect((await store.get(TARGET))?.toString()).toBe('second 7');

    // The run holding the target's newest entry; clear the target's bucket and fix up its page's CRC.
    const key = Buffer.from(TARGET);
    const index = m.runs.findIndex((r) => {
      const reader = RunReader.open(realFs, dir, r.file, PLAIN);
      try {
        return reader.find(key) !== undefined;
      } finally {
        reader.close();
      }
    });
    const name = runFile(m.runs[index].file);
    const reader = RunReader.open(realFs, dir, m.runs[index].file, PLAIN);
    const { bloomOffset, bloomPages } = reader.header;
    const bucket = bloomBucket(key, bloomPages);
    // Every key of the run that falls in that bucket is ruled out: the count verify must give.
    let missing = 0;
    for (const e of reader.cursor(Buffer.alloc(0))) if (bloomBucket(e.key, bloomPages) === bucket) missing++;
    reader.close();
    const bytes = readFileSync(join(dir, name));
    const page = bloomOffset + Math.floor(bucket / BLOOM_BUCKETS_PER_PAGE) * BLOOM_PAGE_STRIDE;
    const at = page + (bucket % BLOOM_BUCKETS_PER_PAGE) * BLOOM_BUCKET_BYTES;
    bytes.fill(0, at, at + BLOOM_BUCKET_BYTES);
    bytes.writeUInt32LE(crc32(bytes, page, page + BLOOM_PAGE_BYTES), page + BLOOM_PAGE_BYTES);
    writeFileSync(join(dir, name), bytes);

    // The damage shows: the lookup skips the run and serves the older value.
    expect((await store.get(TARGET))?.toString()).toBe('first 7');

    finish.mockClear();
    const want = { file: name, offset: bloomOffset, kind: 'bloom-mismatch', message: `the bloom filter rules out ${missing} of the keys the run holds` };
    const report = await store.verify();
    expect(finish).toHaveBeenCalledTimes(1);
    const said = await finish.mock.results[0].value;
    expect([...said!.runs], 'the worker counts the ruled-out keys of that run only').toEqual(m.runs.map((r, i) => [r.file, i === index ? missing : 0]));
    expect([...said!.segments.values()].every((s) => s === -1)).toBe(true);
    expect(report).toMatchObject({ ok: false, newerVersion: false, problemCount: 1, problems: [want] });
    // The same report as verify on one thread gives.
    expect(verifyStore(realFs, dir, PLAIN).problems).toEqual([want]);

    // The line `tzkv verify` prints for it (the CLI exits 4 on a report that is not ok).
    expect(problemLine(report.problems[0])).toBe(`${name} offset ${bloomOffset}: ${want.message}`);

    // Repair rebuilds the index from the data; verify, on the worker again, is clean.
    finish.mockClear();
    const repaired = await store.admin()!.repair();
    expect(repaired.repair).toMatchObject({ quarantine: null, moved: [], truncated: [], rewritten: [], census: 'recomputed' });
    expect(repaired.repair!.rebuiltRun).toMatch(/^\d{8}\.tzix$/);
    expect(repaired.repair!.removed).toContain(name);
    expect(repaired).toMatchObject({ ok: true, problemCount: 0, problems: [] });
    expect(finish).toHaveBeenCalledTimes(1);
    expect([...(await finish.mock.results[0].value)!.runs.values()]).toEqual([0]);
    expect((await store.get(TARGET))?.toString()).toBe('second 7');
    expect((await store.get(smallKey(199)))?.toString()).toBe('second 199');
    expect((await store.stats()).keys).toBe(manifestOf(dir).census!.keys);
    expect(verifyStore(realFs, dir, PLAIN).problems).toEqual([]);
    await store.close();
  });
});
