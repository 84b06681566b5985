// A replicate that dies at every mutating call it makes (issue #6): the
// follower is a valid store holding the old cut or the new one, never a mix;
// the next replicate finishes the job without blaming the follower for the
// interrupted run's own changes; and after a power loss at that point, or with
// half of the write it died in on disk, too.
import { cpSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { Store } from '../../src/api.js';
import { open } from '../../src/engine/store.js';
import { decodeManifest, encodeManifest } from '../../src/format/manifest.js';
import { realFs, replaceFile } from '../../src/io/fs.js';
import { replicate } from '../../src/replication/replicator.js';
import { DirectoryTarget } from '../../src/replication/target.js';
import { FaultFs, SimulatedCrash } from '../helpers/fault-fs.js';
import { tempDir } from '../helpers/temp-store.js';

async function dump(dir: string): Promise<string> {
  const s: Store = await open(dir, { readOnly: true });
  try {
    const out: string[] = [];
    for await (const e of s.entries()) out.push(`${e.key.toString('hex')}=${e.value.toString('hex')}@${e.expiresAt}`);
    return out.join('\n');
  } finally {
    await s.close();
  }
}

/**
 * Copies the follower as the last replicate left it. A copy has new inodes and
 * change times, which replicate would rightly take for changes made on the
 * follower: the copy's mark is given the copy's own fingerprints.
 */
function copyFollower(from: string, to: string): void {
  cpSync(from, to, { recursive: true });
  const m = decodeManifest(readFileSync(join(to, 'MANIFEST')));
  const mark = m.extra.follower as { files: Record<string, string> };
  const target = new DirectoryTarget(realFs, to);
  for (const name of Object.keys(mark.files)) mark.files[name] = target.fingerprint(name)!;
  replaceFile(realFs, to, 'MANIFEST', encodeManifest(m));
}

describe('replicate killed at every mutating call', () => {
  it.each([
    ['after a compaction (new files, obsolete ones to remove)', true],
    ['with the active segment growing in place', false],
  ])('%s: leaves the old cut or the new one, and the next run ends identical and clean', async (_, compact) => {
    const leaderDir = tempDir();
    const leader = await open(leaderDir, { segmentBytes: compact ? 4096 : 1 << 20, flushBytes: 1024 });
    for (let i = 0; i < 150; i++) await leader.put(`k${i}`, `first ${i}`, i % 4 ? {} : { expiresAt: 4_000_000_000_000 + i });
    const template = join(tempDir(), 'follower');
    await leader.replicate(template);
    const cutA = await dump(template);
    // Cut B: overwrites, deletes, new keys, maybe a compaction, and a fresh tail.
    for (let i = 0; i < 150; i += 3) await leader.put(`k${i}`, `second ${i}`);
    await leader.del('k1', 'k2', 'k4');
    if (compact) await leader.compact();
    for (let i = 150; i < 220; i++) await leader.put(`k${i}`, `late ${i}`);
    const cutB = await dump(leaderDir);
    expect(cutB).not.toBe(cutA);

    // How many mutating calls a whole replicate from A to B makes.
    const probeDir = mkdtempSync(join(tmpdir(), 'tzkv-rep-'));
    copyFollower(template, probeDir);
    const probe = new FaultFs(probeDir);
    replicate(probe, leaderDir, new DirectoryTarget(probe, probeDir), Date.now());
    const total = probe.mutations;
    expect(total).toBeGreaterThan(10);
    rmSync(probeDir, { recursive: true });

    let sawA = 0;
    let sawB = 0;
    for (const { powerLoss, tornWrite } of [
      { powerLoss: false, tornWrite: false },
      { powerLoss: false, tornWrite: true },
      { powerLoss: true, tornWrite: false },
    ]) {
      for (let n = 1; n <= total; n++) {
        const label = `crash before mutation ${n} of ${total}${tornWrite ? ' (half of a write landed)' : ''}${powerLoss ? ', then power loss' : ''}`;
        const dir = mkdtempSync(join(tmpdir(), 'tzkv-rep-'));
        try {
          copyFollower(template, dir);
          const fs = new FaultFs(dir).crashBefore(n, { tornWrite });
          expect(() => replicate(fs, leaderDir, new DirectoryTarget(fs, dir), Date.now()), label).toThrow(SimulatedCrash);
          if (powerLoss) fs.crash();
          const seen = await dump(dir);
          expect([cutA, cutB], label).toContain(seen);
          if (seen === cutA) sawA++;
          else sawB++;
          // The follower as the crash left it verifies clean too (a replicate's bytes after its cut are a warning).
          const left = await open(dir, { readOnly: true });
          expect((await left.verify()).problems, label).toEqual([]);
          await left.close();
          const report = replicate(realFs, leaderDir, new DirectoryTarget(realFs, dir), Date.now());
          // Killed: the run's own changes are not blamed on the follower. (After the simulated
          // power loss, FaultFs rewrites every file, so fingerprints change and resyncs are fine.)
          if (!powerLoss) expect(report.resynced, label).toEqual([]);
          expect(await dump(dir), label).toBe(cutB);
          const follower = await open(dir, { readOnly: true });
          expect((await follower.verify()).problems, label).toEqual([]);
          await follower.close();
        } finally {
          rmSync(dir, { recursive: true, force: true });
        }
      }
    }
    expect(sawA).toBeGreaterThan(0);
    expect(sawB).toBeGreaterThan(0);
    await leader.close();
  }, 120_000);
});
