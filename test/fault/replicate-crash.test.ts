// A replicate that dies at every mutating call it makes (issue #6): the
// follower is a valid store holding the old cut or the new one, never a mix;
// the next replicate finishes the job without blaming the follower for the
// interrupted run's own changes; and after a power loss at that point, or with
// half of the write it died in on disk, too.
import { cpSync, mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { Store } from '../../src/api.js';
import { open } from '../../src/local/local-store.js';
import { decodeManifest, encodeManifest } from '../../src/format/manifest.js';
import { realFs, replaceFile } from '../../src/io/fs.js';
import { realProcesses } from '../../src/io/processes.js';
import { replicate } from '../../src/replication/replicator.js';
import { DirectoryTarget } from '../../src/replication/target.js';
import type { FaultSpec, FsOp } from '../helpers/fault-fs.js';
import { FaultFs, SimulatedCrash } from '../helpers/fault-fs.js';
import { WRITE_FAULTS } from './harness/io-faults.js';
import { expectIoError, leftBehind } from './harness/stores.js';
import { tempDir } from '../helpers/temp-store.js';
import { PLAIN } from '../../src/format/store-codec.js';

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
  const mark = m.follower!;
  const target = new DirectoryTarget(realFs, to, realProcesses);
  for (const name of Object.keys(mark.files!)) mark.files![name] = target.fingerprint(name)!;
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
    await leader.admin()!.replicate(template);
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
    replicate(probe, leaderDir, PLAIN, new DirectoryTarget(probe, probeDir, realProcesses), Date.now());
    const total = probe.mutations;
    const probeTrace = [...probe.trace];
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
          expect(() => replicate(fs, leaderDir, PLAIN, new DirectoryTarget(fs, dir, realProcesses), Date.now()), label).toThrow(SimulatedCrash);
          if (powerLoss) fs.crash();
          const seen = await dump(dir);
          expect([cutA, cutB], label).toContain(seen);
          if (seen === cutA) sawA++;
          else sawB++;
          // The follower as the crash left it verifies clean too (a replicate's bytes after its cut are a warning).
          const left = await open(dir, { readOnly: true });
          expect((await left.verify()).problems, label).toEqual([]);
          await left.close();
          const report = replicate(realFs, leaderDir, PLAIN, new DirectoryTarget(realFs, dir, realProcesses), Date.now());
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

    // An I/O error instead of a death: the replicate that fails takes back what it wrote
    // (docs/design.md "Failures"): the follower holds the old cut, with nothing after it.
    let failed = 0;
    for (const [op, spec] of [...WRITE_FAULTS, ['truncate', { code: 'EIO' }]] as Array<[FsOp, FaultSpec]>) {
      const calls = probeTrace.filter((t) => t.startsWith(`${op} `)).length;
      for (let nth = 1; nth <= calls; nth++) {
        const label = `${op} #${nth} of ${calls} failing with ${spec.code}`;
        const dir = mkdtempSync(join(tmpdir(), 'tzkv-rep-'));
        try {
          copyFollower(template, dir);
          const fs = new FaultFs(dir).failAt(op, nth, spec);
          let err: unknown;
          try {
            replicate(fs, leaderDir, PLAIN, new DirectoryTarget(fs, dir, realProcesses), Date.now());
          } catch (e) {
            err = e;
          }
          if (err !== undefined) {
            failed++;
            expectIoError(err, label);
            expect(leftBehind(err), `${label}: the replicate undid what it wrote`).toBeUndefined();
            const seen = await dump(dir);
            expect([cutA, cutB], label).toContain(seen);
            const left = await open(dir, { readOnly: true });
            const report = await left.verify();
            await left.close();
            expect(report.problems, label).toEqual([]);
            // Nothing after the follower's cut, no file its manifest does not list.
            if (seen === cutA) expect(report.warnings, label).toEqual([]);
          }
          replicate(realFs, leaderDir, PLAIN, new DirectoryTarget(realFs, dir, realProcesses), Date.now());
          expect(await dump(dir), label).toBe(cutB);
        } finally {
          rmSync(dir, { recursive: true, force: true });
        }
      }
    }
    expect(failed, 'replicates the faults made fail').toBeGreaterThan(10);
    await leader.close();
  }, 180_000);

  it('promote failing at any call: rejects with IO, leaves nothing behind, and the next promote works', async () => {
    const leaderDir = tempDir();
    const leader = await open(leaderDir, { segmentBytes: 4096, flushBytes: 1024 });
    for (let i = 0; i < 40; i++) await leader.put(`k${i}`, `v${i}`);
    const template = join(tempDir(), 'follower');
    await leader.admin()!.replicate(template);
    await leader.close();
    const cut = await dump(template);
    const probeDir = mkdtempSync(join(tmpdir(), 'tzkv-rep-'));
    copyFollower(template, probeDir);
    const probe = new FaultFs(probeDir);
    const promoting = await open(probeDir, { fs: probe });
    expect(await promoting.admin()!.promote()).toBe(true);
    await promoting.close();
    rmSync(probeDir, { recursive: true });
    let failed = 0;
    for (const [op, spec] of [
      ['createTruncate', { code: 'ENOSPC' }],
      ['write', { code: 'ENOSPC', partial: true }],
      ['fsync', { code: 'EIO' }],
      ['rename', { code: 'EIO' }],
      ['link', { code: 'EIO' }],
    ] as Array<[FsOp, FaultSpec]>) {
      const calls = probe.trace.filter((t) => t.startsWith(`${op} `)).length;
      expect(calls, `${op} calls of a promote`).toBeGreaterThan(0);
      for (let nth = 1; nth <= calls; nth++) {
        const label = `${op} #${nth} of ${calls} failing with ${spec.code}`;
        const dir = mkdtempSync(join(tmpdir(), 'tzkv-rep-'));
        try {
          copyFollower(template, dir);
          const s = await open(dir, { fs: new FaultFs(dir).failAt(op, nth, spec) });
          const err = await s.admin()!.promote().then(() => undefined, (e: unknown) => e);
          await s.close();
          expect(err, label).toBeDefined();
          failed++;
          expectIoError(err, label);
          const still = decodeManifest(readFileSync(join(dir, 'MANIFEST'))).follower !== null;
          expect(still, `${label}: still a follower`).toBe(true);
          expect(readdirSync(dir).filter((n) => n.endsWith('.tmp') || n === 'LOCK'), `${label}: nothing left behind`).toEqual([]);
          const again = await open(dir);
          expect(await again.admin()!.promote(), label).toBe(true);
          await again.close();
          expect(await dump(dir), label).toBe(cut);
        } finally {
          rmSync(dir, { recursive: true, force: true });
        }
      }
    }
    expect(failed).toBeGreaterThan(4);
  });
});
