// Power loss at every point of a workload of puts, deletes, expiry changes,
// updates, batches, index flushes, segment rolls, run merges and compactions
// (sync on, the default). After the crash every acknowledged write must be
// there with its exact value, the operation in flight must be wholly there or
// wholly absent, and the store must take writes and verify clean.
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { FaultFs } from '../helpers/fault-fs.js';
import { checkRecovered, inScratchDir, openStore } from './harness/stores.js';
import { describePoint, recordCrashImages, withCrashImage } from './harness/sweep.js';
import type { Keep } from './harness/sweep.js';
import { T0, keyNames, makeWorkload, runOp } from './harness/workload.js';

const KEYS = 16;

/** A MANIFEST's JSON body without its random store id, compaction token and timings. */
function manifestSansId(file: Buffer): string {
  const body = JSON.parse(file.subarray(16).toString('utf8')) as Record<string, Record<string, unknown> | undefined>;
  delete body.storeId;
  if (body.compaction) delete body.compaction.token;
  if (body.lastCompactionReport) body.lastCompactionReport.durationMs = body.lastCompactionReport.lockHeldMs = 0;
  return JSON.stringify(body);
}

describe('crash at every mutating call (sync on)', () => {
  const cases: Array<{ keep: Keep; seed: number }> = [
    { keep: 'none', seed: 11 },
    { keep: 'random', seed: 12 },
  ];
  for (const { keep, seed } of cases) {
    it(`keeps every acknowledged write and nothing partial (unsynced bytes kept: ${keep}, seed ${seed})`, async () => {
      const ops = makeWorkload(seed, { ops: 48, keys: KEYS });
      const rec = await recordCrashImages(ops, keep);
      // The workload reached every part of the write path.
      const count = (re: RegExp) => rec.trace.filter((t) => re.test(t)).length;
      expect(rec.events.rolls, 'segment rolls').toBeGreaterThanOrEqual(1);
      expect(count(/^rename \d+\.tzix\.tmp$/), 'index runs written').toBeGreaterThanOrEqual(5);
      expect(rec.events.merges, 'index-run merges').toBeGreaterThanOrEqual(1);
      expect(count(/^unlink \d+\.tzds$/), 'segments compacted away').toBeGreaterThanOrEqual(1);

      const keys = keyNames(KEYS);
      for (const p of rec.points) {
        const label = describePoint(ops, p);
        const candidates = [rec.states[p.op], rec.states[Math.min(p.op + 1, ops.length)]];
        await withCrashImage(p, (dir) => checkRecovered(dir, { t: rec.clocks[p.op] }, keys, candidates, label));
      }
    });
  }
});

describe('the sweep itself', () => {
  it('the image kept before a mutating call is what crash() leaves when the process dies there', async () => {
    const ops = makeWorkload(11, { ops: 48, keys: KEYS });
    const rec = await recordCrashImages(ops, 'none');
    for (let i = 1; i <= 12; i++) {
      const p = rec.points[Math.floor((i * rec.points.length) / 13)];
      await inScratchDir(async (dir) => {
        const clock = { t: T0 };
        const fs = new FaultFs(dir).crashBefore(p.mutation + 1);
        const store = await openStore(dir, clock, { fs });
        for (const op of ops) {
          const done = await runOp(store, op, clock).then(() => true, () => false);
          if (!done) break;
        }
        expect(fs.crashed, describePoint(ops, p)).toBe(true);
        fs.crash();
        // LOCK holds a random token and the time it was taken, MANIFEST a random store id: those cannot match.
        const comparable = (m: Map<string, Buffer>) => new Map([...m].map(([n, b]) => [n, n === 'LOCK' ? 'a lock' : n === 'MANIFEST' ? manifestSansId(b) : b.toString('base64')]));
        const left = new Map(readdirSync(dir).map((n) => [n, readFileSync(join(dir, n))]));
        expect(comparable(left), describePoint(ops, p)).toEqual(comparable(p.img));
      });
    }
  });
});
