// A read view of an encrypted store's runs (docs/format.md "MANIFEST, version
// 2"): the MANIFEST holds each run's key range sealed, a view with the key
// skips runs by it for lookups and listings, and no key appears in the
// MANIFEST, plainly or in base64.
import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { isTzkvError } from '../../src/errors.js';
import { installManifest, newManifest, readManifest } from '../../src/engine/files/store-manifest.js';
import { mergedEntries } from '../../src/engine/read/merged-entries.js';
import { View } from '../../src/engine/read/view.js';
import { RunWriter } from '../../src/engine/runs/run-writer.js';
import { KIND_PUT, MAGIC_SEGMENT } from '../../src/format/constants.js';
import { encodeFileHeader } from '../../src/format/file-header.js';
import type { RunInfo } from '../../src/format/manifest.js';
import { realFs } from '../../src/io/fs.js';
import { skipVerify, tempDir } from '../helpers/temp-store.js';
import { ENCRYPTED, KEYLESS } from '../helpers/v2-codecs.js';

const pad = (i: number) => `key:${String(i).padStart(8, '0')}`;

function run(dir: string, file: number, keys: string[]): RunInfo {
  const w = new RunWriter(realFs, dir, file, keys.length, ENCRYPTED);
  keys.forEach((k, i) => w.add(k, KIND_PUT, 1, 16 + i * 40, 40, 0, 16, 4000));
  return w.finish();
}

/**
 * A store of index runs alone, as the engine lays one out: an active segment
 * with nothing in its tail, and the runs newest first. Its runs point at
 * records nobody wrote, so it is not one verify can pass.
 */
function storeOfRuns(runs: string[][]): string {
  const dir = tempDir();
  skipVerify(dir);
  writeFileSync(`${dir}/00000001.tzds`, encodeFileHeader(MAGIC_SEGMENT, 1));
  const infos = runs.map((keys, i) => run(dir, 2 + i, keys));
  installManifest(realFs, dir, { ...newManifest({ segments: [{ file: 1, size: null }], nextFile: 2 + runs.length, now: Date.now(), census: null }), runs: infos });
  return dir;
}

const keysOf = (from: number, to: number) => Array.from({ length: to - from }, (_, i) => pad(from + i));
/** base64 of `text` at each of its three alignments, without the ends that depend on what surrounds it. */
const base64Forms = (text: string) => [0, 1, 2].map((shift) => Buffer.from('x'.repeat(shift) + text).toString('base64').slice(4, -4));

describe('an encrypted store’s view of its runs', () => {
  it('skips runs by their sealed ranges: a lookup or listing outside a run never opens it', () => {
    const dir = storeOfRuns([keysOf(300, 400), keysOf(0, 50), keysOf(100, 200)]); // runs 2 (newest), 3, 4
    const view = View.load(realFs, dir, ENCRYPTED);
    expect(view.findIndexed(Buffer.from(pad(150)))).toMatchObject({ segment: 1, offset: 16 + 50 * 40, group: 16, groupLength: 4000 });
    expect(view.findIndexed(Buffer.from(pad(350)))).toMatchObject({ segment: 1, offset: 16 + 50 * 40 });
    expect(view.findIndexed(Buffer.from(pad(250)))).toBeUndefined();
    view.close();
    // Runs 2 and 3 gone: only a read that does not skip them by range notices.
    rmSync(`${dir}/00000002.tzix`);
    rmSync(`${dir}/00000003.tzix`);
    const after = View.load(realFs, dir, ENCRYPTED);
    expect(after.findIndexed(Buffer.from(pad(150)))).toMatchObject({ segment: 1 });
    expect(() => after.findIndexed(Buffer.from(pad(350)))).toThrow(/00000002\.tzix is missing/);
    expect(() => after.findIndexed(Buffer.from(pad(10)))).toThrow(/00000003\.tzix is missing/);
    // From pad(100): run 3 ends before it; under prefix key:000001, run 2 starts after every key with it.
    const listed = [...mergedEntries(after, Buffer.from('key:000001'), Buffer.from(pad(100)))].map((e) => e.key.toString());
    expect(listed).toEqual(keysOf(100, 200));
    after.close();
  });

  it('without the key, a lookup asks for it rather than guessing from the sealed bytes', () => {
    const dir = storeOfRuns([keysOf(1, 10)]);
    const view = View.load(realFs, dir, KEYLESS);
    let err: unknown;
    try {
      view.findIndexed(Buffer.from(pad(5)));
    } catch (e) {
      err = e;
    }
    expect(isTzkvError(err, 'KEY_REQUIRED')).toBe(true);
    view.close();
  });

  it('the MANIFEST holds no key of any run, plainly or in base64, and reads back its ranges sealed and keyed', () => {
    const canary = 'canary-5d21e0-key';
    const dir = storeOfRuns([[canary, pad(1)], [canary, 'zz-last'], [canary]]);
    const bytes = readFileSync(`${dir}/MANIFEST`);
    expect(bytes.includes(Buffer.from(canary))).toBe(false);
    for (const form of base64Forms(canary)) expect(bytes.includes(Buffer.from(form)), form).toBe(false);
    for (const form of base64Forms('zz-last')) expect(bytes.includes(Buffer.from(form))).toBe(false);
    const m = readManifest(realFs, dir)!;
    expect(m.runs.map((r) => r.key)).toEqual([1, 1, 1]);
    const view = View.load(realFs, dir, ENCRYPTED);
    expect(view.findIndexed(Buffer.from(canary))).toMatchObject({ segment: 1 });
    view.close();
  });
});
