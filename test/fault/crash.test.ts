// Power loss at every point of a workload of puts, deletes, expiry changes,
// updates, batches, index flushes, segment rolls, run merges and compactions
// (sync on, the default). After the crash every acknowledged write must be
// there with its exact value, the operation in flight must be wholly there or
// wholly absent, and the store must take writes and verify clean.
import { describe, expect, it } from 'vitest';
import { checkRecovered } from './harness/stores.js';
import { describePoint, recordCrashImages, withCrashImage } from './harness/sweep.js';
import type { Keep } from './harness/sweep.js';
import { keyNames, makeWorkload } from './harness/workload.js';

const KEYS = 16;

describe('crash at every mutating call (sync on)', () => {
  const cases: Array<{ keep: Keep; seed: number }> = [
    { keep: 'none', seed: 11 },
    { keep: 'random', seed: 12 },
  ];
  for (const { keep, seed } of cases) {
    it(`keeps every acknowledged write and nothing partial (unsynced bytes kept: ${keep}, seed ${seed})`, async () => {
      const ops = makeWorkload(seed, { ops: 60, keys: KEYS });
      const rec = await recordCrashImages(ops, keep);
      // The workload reached every part of the write path.
      const count = (re: RegExp) => rec.trace.filter((t) => re.test(t)).length;
      expect(rec.events.rolls, 'segment rolls').toBeGreaterThanOrEqual(2);
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
