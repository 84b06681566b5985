// Power loss at every point of a workload of puts, deletes, expiry changes,
// updates, batches, index flushes, segment rolls, run merges and compactions
// (sync on, the default). After the crash every acknowledged write must be
// there with its exact value, the operation in flight must be wholly there or
// wholly absent, and the store must take writes and verify clean.
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { FaultFs } from '../helpers/fault-fs.js';
import { STORE_KINDS } from '../helpers/store-kinds.js';
import type { StoreKind } from '../helpers/store-kinds.js';
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
  // Each kind of store (test/helpers/store-kinds.ts): the plain store recovered at every crash point,
  // the others at every third (the same workload reaches every part of the write path).
  const [plain, compressed, encrypted, both] = STORE_KINDS;
  const cases: Array<{ keep: Keep; seed: number; kind: StoreKind; every: number }> = [
    { keep: 'none', seed: 11, kind: plain, every: 1 },
    { keep: 'random', seed: 12, kind: plain, every: 1 },
    { keep: 'random', seed: 13, kind: compressed, every: 3 },
    { keep: 'none', seed: 14, kind: encrypted, every: 3 },
    { keep: 'random', seed: 15, kind: both, every: 3 },
  ];
  for (const { keep, seed, kind, every } of cases) {
    it(`keeps every acknowledged write and nothing partial (${kind.name} store, unsynced bytes kept: ${keep}, seed ${seed}, every ${every === 1 ? '' : `${every}rd `}crash point)`, async () => {
      const ops = makeWorkload(seed, { ops: 48, keys: KEYS });
      const rec = await recordCrashImages(ops, keep, {}, kind);
      // The workload reached every part of the write path.
      const count = (re: RegExp) => rec.trace.filter((t) => re.test(t)).length;
      expect(rec.events.rolls, 'segment rolls').toBeGreaterThanOrEqual(1);
      expect(count(/^rename \d+\.tzix\.tmp$/), 'index runs written').toBeGreaterThanOrEqual(5);
      expect(rec.events.merges, 'index-run merges').toBeGreaterThanOrEqual(1);
      expect(count(/^unlink \d+\.tzds$/), 'segments compacted away').toBeGreaterThanOrEqual(1);

      const keys = keyNames(KEYS);
      for (const p of rec.points.filter((_, i) => i % every === seed % every)) {
        const label = describePoint(ops, p);
        const candidates = [rec.states[p.op], rec.states[Math.min(p.op + 1, ops.length)]];
        await withCrashImage(p, (dir) => checkRecovered(dir, { t: rec.clocks[p.op] }, keys, candidates, label, rec.opens));
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
