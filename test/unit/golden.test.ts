// The golden store in test/fixtures/golden-v1 was written by an independent
// encoder (test/fixtures/make-golden.py) from docs/format.md alone. If this
// test fails, the code and the spec disagree about the bytes on disk.
import { cpSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { open } from '../../src/local/local-store.js';
import { FLAG_BATCH, KIND_PUT } from '../../src/format/constants.js';
import { encodeFileHeader } from '../../src/format/file-header.js';
import { decodeManifest } from '../../src/format/manifest.js';
import { encodeCommit, encodeRecord } from '../../src/format/record.js';
import { tempDir } from '../helpers/temp-store.js';

const GOLDEN = join(import.meta.dirname, '..', 'fixtures', 'golden-v1');

describe('golden store (format version 1)', () => {
  it('reads every key, expiry and tombstone as the spec says', async () => {
    const s = await open(GOLDEN, { readOnly: true, now: () => Date.parse('2030-01-01T00:00:00Z') });
    expect((await s.get('a'))?.toString()).toBe('one-more'); // the tail's newer version shadows the run
    expect(await s.getEntry('b')).toMatchObject({ value: Buffer.from('expires in 2099'), expiresAt: 4070908800000 });
    expect(await s.get('gone')).toBeUndefined();
    expect((await s.get('batch:1'))?.toString()).toBe('first');
    expect((await s.get('batch:2'))?.toString()).toBe('second');
    expect(await s.get('bin')).toEqual(Buffer.from([0, 255, 10, 13]));
    const keys: string[] = [];
    for await (const k of s.keys()) keys.push(k.key.toString());
    expect(keys).toEqual(['a', 'b', 'batch:1', 'batch:2', 'bin']);
    const report = await s.verify();
    expect(report.problems).toEqual([]);
    expect(report.records).toBe(9);
  });

  it('the engine encodes records and headers byte for byte as the fixture', () => {
    const seg1 = readFileSync(join(GOLDEN, '00000001.tzds'));
    const expected = Buffer.concat([
      encodeFileHeader('TZDS', 1),
      encodeRecord(KIND_PUT, 0, Buffer.from('a'), Buffer.from('1'), 0),
      encodeRecord(KIND_PUT, 0, Buffer.from('b'), Buffer.from('expires in 2099'), 4070908800000),
      encodeRecord(KIND_PUT, 0, Buffer.from('gone'), Buffer.from('soon deleted'), 0),
      encodeRecord(2, 0, Buffer.from('gone'), null, 0),
      encodeRecord(KIND_PUT, FLAG_BATCH, Buffer.from('batch:1'), Buffer.from('first'), 0),
      encodeRecord(KIND_PUT, FLAG_BATCH, Buffer.from('batch:2'), Buffer.from('second'), 0),
      encodeCommit(2),
    ]);
    expect(seg1).toEqual(expected);
    const m = decodeManifest(readFileSync(join(GOLDEN, 'MANIFEST')));
    expect(m.active).toEqual({ file: 3, indexedTo: 16 });
    expect(m.runs[0].minKey.toString()).toBe('a');
  });

  it('a writer appends to the golden store and flushes its tail into a new run', async () => {
    const dir = tempDir();
    cpSync(GOLDEN, dir, { recursive: true });
    const s = await open(dir, { flushBytes: 1 });
    await s.put('c', 'new');
    expect((await s.get('c'))?.toString()).toBe('new');
    expect((await s.get('a'))?.toString()).toBe('one-more');
    expect((await s.get('batch:2'))?.toString()).toBe('second');
    expect((await s.verify()).problems).toEqual([]);
    const m = decodeManifest(readFileSync(join(dir, 'MANIFEST')));
    expect(m.runs.length).toBe(2);
    expect(m.nextFile).toBe(5);
  });
});
