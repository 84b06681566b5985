// docs/format.md "Recovery rules" 1: a writer deletes *.tmp files and the
// segments and runs the manifest does not list (leftovers of an interrupted
// write), so a crash or a failed compaction does not keep its disk space.
import { readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { runName, segmentName } from '../../src/engine/files/layout.js';
import { decodeManifest } from '../../src/format/manifest.js';
import { FaultFs } from '../helpers/fault-fs.js';
import { expectIoError, inScratchDir, openStore, readManifestFile } from './harness/stores.js';
import { describePoint, recordCrashImages, withCrashImage } from './harness/sweep.js';
import { valueOf } from './harness/values.js';
import { T0, makeWorkload } from './harness/workload.js';

/** Files in dir that are neither MANIFEST nor listed by it. */
function unlisted(dir: string): string[] {
  const m = readManifestFile(dir);
  const listed = new Set(['MANIFEST', ...m.segments.map((s) => segmentName(s.file)), ...m.runs.map((r) => runName(r.file))]);
  return readdirSync(dir).filter((n) => !listed.has(n));
}

describe('leftovers of interrupted writes', () => {
  it('after a crash at any point, the next write removes the files the manifest does not list', async () => {
    const ops = makeWorkload(51, { ops: 36, keys: 12 });
    const rec = await recordCrashImages(ops, 'none');
    const kept: string[] = [];
    let withLeftovers = 0;
    for (const p of rec.points) {
      const manifest = p.img.get('MANIFEST');
      if (!manifest) continue;
      const m = decodeManifest(manifest);
      const listed = new Set([...m.segments.map((s) => segmentName(s.file)), ...m.runs.map((r) => runName(r.file)), 'MANIFEST', 'LOCK']);
      if ([...p.img.keys()].every((n) => listed.has(n))) continue;
      withLeftovers++;
      await withCrashImage(p, async (dir) => {
        const store = await openStore(dir, { t: rec.clocks[p.op] });
        await store.put('zz-probe', valueOf('zz-probe', 1));
        await store.close();
        const left = unlisted(dir);
        if (left.length > 0) kept.push(`${describePoint(ops, p)}: ${left.join(', ')}`);
      });
    }
    expect(withLeftovers, 'crash images holding leftovers').toBeGreaterThan(10);
    expect(kept, 'leftovers still there after the next write').toEqual([]);
  });

  it('a compaction that fails half way removes what it wrote; one that dies half way leaves files the next write removes', async () => {
    const fill = async (dir: string, fs: FaultFs) => {
      const store = await openStore(dir, { t: T0 }, { fs });
      for (let i = 0; i < 60; i++) await store.put(`k${i % 20}`, valueOf(`k${i % 20}`, i));
      return store;
    };
    // Where the switch renames the compaction's index run into place.
    const renameAt = await inScratchDir(async (dir) => {
      const fs = new FaultFs(dir);
      const store = await fill(dir, fs);
      await store.compact();
      await store.close();
      return fs.trace.findIndex((t) => /^rename compact-\d+-\d{8}\.tzix\.tmp$/.test(t)) + 1;
    });
    expect(renameAt).toBeGreaterThan(0);
    await inScratchDir(async (dir) => {
      const fs = new FaultFs(dir);
      const store = await fill(dir, fs);
      fs.failAt('rename', 1, { match: /\.tzix\.tmp$/ });
      expectIoError(await store.compact().then(() => undefined, (e: unknown) => e), 'compact');
      expect(unlisted(dir), 'files the failed compaction wrote').toEqual([]);
      expect(readManifestFile(dir).compaction).toBeNull();
      expect(readManifestFile(dir).lastCompactionReport?.result).toMatch(/^failed: /);
      await store.close();
    });
    await inScratchDir(async (dir) => {
      const fs = new FaultFs(dir).crashBefore(renameAt);
      const store = await fill(dir, fs);
      await expect(store.compact()).rejects.toThrow(/simulated crash/);
      expect(unlisted(dir).length, 'files the killed compaction wrote').toBeGreaterThan(0);
      expect(readManifestFile(dir).compaction, 'its marker').not.toBeNull();
      // This process "died" holding the lock; it still counts the lock as its own, so remove it as its death would have.
      rmSync(join(dir, 'LOCK'), { force: true });
      const next = await openStore(dir, { t: T0 });
      await next.put('after', valueOf('after', 1));
      await next.close();
      expect(unlisted(dir).filter((n) => n !== 'LOCK')).toEqual([]);
      expect(readManifestFile(dir).compaction).toBeNull();
    });
  });

  it('a numbered file the writer could not remove keeps its number: new files are numbered past it, and it is never overwritten', async () => {
    await inScratchDir(async (dir) => {
      const clock = { t: T0 };
      const seed = await openStore(dir, clock);
      for (let i = 0; i < 20; i++) await seed.put(`k${i}`, valueOf(`k${i}`, i));
      await seed.close();
      // Unlisted files at the next numbers (a segment and a run) that the next writer fails to remove.
      const next = readManifestFile(dir).nextFile;
      const stuck = [segmentName(next), runName(next + 1)];
      for (const name of stuck) writeFileSync(join(dir, name), `a file that stays: ${name}`);
      const fs = new FaultFs(dir).failAt('unlink', 1, { match: /^\d{8}\.(tzds|tzix)$/, code: 'EACCES', times: Infinity });
      const store = await openStore(dir, clock, { fs });
      for (let i = 0; i < 120; i++) await store.put(`k${i % 30}`, valueOf(`k${i % 30}`, i + 100));
      await store.close();
      const m = readManifestFile(dir);
      expect(m.nextFile, 'numbers handed out since').toBeGreaterThan(next + 4);
      for (const name of stuck) expect(readFileSync(join(dir, name), 'utf8'), name).toBe(`a file that stays: ${name}`);
      const used = [...m.segments.map((x) => x.file), ...m.runs.map((x) => x.file)];
      expect(used).not.toContain(next);
      expect(used).not.toContain(next + 1);
      const reader = await openStore(dir, clock, { readOnly: true });
      for (let j = 0; j < 30; j++) expect((await reader.get(`k${j}`))?.equals(valueOf(`k${j}`, 190 + j)), `k${j}`).toBe(true); // its last put: i = 90 + j
      await reader.close();
    });
  });
});
