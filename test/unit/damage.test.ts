// Damage in the middle of sealed files is never skipped silently: the keys it
// touches fail with CORRUPT naming file and offset, every other key works,
// and verify reports it.
import { readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { open, TzkvError } from '../../src/index.js';
import { decodeManifest, encodeManifest } from '../../src/format/manifest.js';
import type { IndexEntry } from '../../src/format/index-block.js';
import { skipVerify, tempDir } from '../helpers/temp-store.js';
import { PLAIN } from '../../src/format/store-codec.js';

async function populated(dir: string) {
  const s = await open(dir, { segmentBytes: 4096, flushBytes: 1024 });
  for (let i = 0; i < 200; i++) await s.put(`key:${String(i).padStart(3, '0')}`, `value number ${i} `.repeat(3));
  return s;
}

describe('damage in sealed files', () => {
  it('a flipped value byte fails that key only, and verify names file and offset', async () => {
    const dir = tempDir();
    skipVerify(dir);
    const s = await populated(dir);
    const m = decodeManifest(readFileSync(join(dir, 'MANIFEST')));
    const sealed = m.segments[0];
    const name = `${String(sealed.file).padStart(8, '0')}.tzds`;
    const bytes = readFileSync(join(dir, name));
    const offset = bytes.indexOf('key:002') - 20;
    expect(bytes.toString('latin1', offset + 20, offset + 27)).toBe('key:002');
    bytes[offset + 30] ^= 0x20;
    writeFileSync(join(dir, name), bytes);
    const err = await s.get('key:002').catch((e: unknown) => e);
    expect(err).toBeInstanceOf(TzkvError);
    expect((err as TzkvError).code).toBe('CORRUPT');
    expect((err as TzkvError).message).toContain(`${name} offset ${offset}: CRC mismatch`);
    for (const i of [0, 1, 3, 150, 199]) {
      expect((await s.get(`key:${String(i).padStart(3, '0')}`))?.toString()).toBe(`value number ${i} `.repeat(3));
    }
    const report = await s.verify();
    expect(report.ok).toBe(false);
    expect(report.problems).toContainEqual(expect.objectContaining({ file: name, offset, kind: 'corrupt-record' }));
    // A writer never appends behind the damage, but the damage is in a sealed segment: writes go on.
    expect(await s.put('after', 'still works')).toBe(true);
  });

  it('a damaged index block fails the keys it holds, with the run named', async () => {
    const dir = tempDir();
    skipVerify(dir);
    const s = await populated(dir);
    const run = readdirSync(dir).filter((f) => f.endsWith('.tzix')).sort()[0];
    const bytes = readFileSync(join(dir, run));
    bytes[64 + 40] ^= 0xff; // inside the first leaf block
    writeFileSync(join(dir, run), bytes);
    const results = await Promise.all(
      Array.from({ length: 200 }, (_, i) => s.get(`key:${String(i).padStart(3, '0')}`).then(() => 'ok', (e: TzkvError) => e.code)),
    );
    expect(results).toContain('CORRUPT');
    expect(results.filter((r) => r === 'ok').length).toBeGreaterThan(50);
    const report = await s.verify();
    expect(report.problems.some((p) => p.file === run)).toBe(true);
  });

  it('a damaged manifest is reported, not crashed on', async () => {
    const dir = tempDir();
    skipVerify(dir);
    const s = await populated(dir);
    const bytes = readFileSync(join(dir, 'MANIFEST'));
    bytes[bytes.length - 3] ^= 0x01;
    writeFileSync(join(dir, 'MANIFEST'), bytes);
    const reopened = await open(dir, { readOnly: true });
    await expect(reopened.get('key:001')).rejects.toMatchObject({ code: 'CORRUPT', message: expect.stringContaining('MANIFEST') });
    const report = await reopened.verify();
    expect(report.problems).toEqual([expect.objectContaining({ file: 'MANIFEST', kind: 'bad-manifest' })]);
    await s.close();
  });
});

/** A store of keys a, b, c in one batch, its newest run rewritten (valid CRCs) with the entries `rewrite` returns. */
async function withRewrittenRun(rewrite: (entries: IndexEntry[]) => IndexEntry[]) {
  const { RunWriter } = await import('../../src/engine/runs/run-writer.js');
  const { RunReader } = await import('../../src/engine/runs/run-reader.js');
  const { realFs } = await import('../../src/io/fs.js');
  const dir = tempDir();
  skipVerify(dir);
  const s = await open(dir, { flushBytes: 1 });
  await s.batch().put('a', 'value a').put('b', 'value b').put('c', 'value c').write();
  const m = decodeManifest(readFileSync(join(dir, 'MANIFEST')));
  const newest = m.runs[0];
  const reader = RunReader.open(realFs, dir, newest.file, PLAIN);
  const entries = [...reader.cursor(Buffer.alloc(0))].map((e) => ({ ...e, key: Buffer.from(e.key) }));
  reader.close();
  const written = rewrite(entries);
  const w = new RunWriter(realFs, dir, newest.file, written.length, PLAIN);
  for (const e of written) w.add(e.key.toString('latin1'), e.kind, e.segment, e.offset, e.length, e.expiresAt);
  w.finish();
  if (written.length !== entries.length) {
    m.runs[0].entries = written.length;
    writeFileSync(join(dir, 'MANIFEST'), encodeManifest(m));
  }
  return { s, entries };
}

describe('index entries that do not match their records', () => {
  it('an entry pointing between records, or at another key, is reported by verify', async () => {
    // Its first entry one byte off its record, every other one at the first entry's record.
    const { s, entries } = await withRewrittenRun((es) => es.map((e, i) => ({ ...e, offset: i === 0 ? e.offset + 1 : es[0].offset })));
    const report = await s.verify();
    expect(report.ok).toBe(false);
    const mismatches = report.problems.filter((p) => p.kind === 'index-mismatch');
    expect(entries.length).toBe(3);
    expect(mismatches.length).toBe(3);
  });
});

describe('a bloom filter that rules out keys of its run', () => {
  it('is reported even when its pages carry valid CRCs', async () => {
    const { RunReader } = await import('../../src/engine/runs/run-reader.js');
    const { realFs } = await import('../../src/io/fs.js');
    const { crc32 } = await import('../../src/format/bytes.js');
    const dir = tempDir();
    skipVerify(dir);
    const s = await populated(dir);
    const m = decodeManifest(readFileSync(join(dir, 'MANIFEST')));
    const file = m.runs[m.runs.length - 1].file;
    const reader = RunReader.open(realFs, dir, file, PLAIN);
    const { bloomOffset } = reader.header;
    reader.close();
    const name = `${String(file).padStart(8, '0')}.tzix`;
    const bytes = readFileSync(join(dir, name));
    bytes.fill(0, bloomOffset, bloomOffset + 4096);
    bytes.writeUInt32LE(crc32(bytes, bloomOffset, bloomOffset + 4096), bloomOffset + 4096);
    writeFileSync(join(dir, name), bytes);
    const report = await s.verify();
    expect(report.problems).toContainEqual(expect.objectContaining({ file: name, kind: 'bloom-mismatch' }));
    // The same found by the worker thread that checks blooms on large stores.
    const { verifyStoreParallel } = await import('../../src/engine/verify/verify.js');
    const parallel = await verifyStoreParallel(realFs, dir, PLAIN, undefined, 0);
    expect(parallel.problems).toContainEqual(expect.objectContaining({ file: name, kind: 'bloom-mismatch' }));
  });
});

describe('a record that is the newest of its key but in no index run', () => {
  it('is reported as not indexed, and a census that no longer matches too', async () => {
    // The same run without its entry for "b" (the manifest's count adjusted, so only the missing entry counts).
    const { s } = await withRewrittenRun((es) => es.filter((e) => e.key.toString() !== 'b'));
    const report = await s.verify();
    expect(report.problems).toContainEqual(expect.objectContaining({ kind: 'not-indexed', file: expect.stringMatching(/\.tzds$/) }));
    expect(report.problems).toContainEqual(expect.objectContaining({ kind: 'census-mismatch', file: 'MANIFEST' }));
  });
});
