// sync: false, documented by test. Writes are acknowledged before they are
// fsynced, so a power loss loses the writes made since segment bytes were
// last fsynced: nothing before that point, and never a partial write or a
// store that will not open, read or write. What the store holds after the
// crash is the state after some prefix of the operations.
import { describe, expect, it } from 'vitest';
import { FaultFs } from '../helpers/fault-fs.js';
import { STORE_KINDS } from '../helpers/store-kinds.js';
import { checkRecovered, inScratchDir, lockHolderDied, openStore } from './harness/stores.js';
import { describePoint, recordCrashImages, withCrashImage } from './harness/sweep.js';
import type { Keep } from './harness/sweep.js';
import type { State } from './harness/values.js';
import { valueOf } from './harness/values.js';
import { T0, keyNames, makeWorkload } from './harness/workload.js';

const KEYS = 12;

describe('sync: false under power loss', () => {
  // Over the kinds of store (test/helpers/store-kinds.ts): plain twice, an encrypted and compressed one once.
  for (const [keep, kind] of [['none', STORE_KINDS[0]], ['random', STORE_KINDS[0]], ['random', STORE_KINDS[3]]] as const) {
    it(`loses only writes since the last segment fsync, never corrupts (${kind.name} store, unsynced bytes kept: ${keep})`, async () => {
      const ops = makeWorkload(41, { ops: 32, keys: KEYS });
      const rec = await recordCrashImages(ops, keep as Keep, { sync: false }, kind);
      expect(rec.events.merges, 'index-run merges').toBeGreaterThanOrEqual(1);
      expect(rec.events.rolls, 'segment rolls').toBeGreaterThanOrEqual(1);
      const keys = keyNames(KEYS);
      let lossy = 0;
      for (const p of rec.points) {
        // Every state from the last moment all segment bytes were durable up to the operation in flight.
        let floor = p.op;
        while (floor > 0 && !rec.synced[floor]) floor--;
        const candidates = rec.states.slice(floor, Math.min(p.op + 1, ops.length) + 1);
        await withCrashImage(p, async (dir) => {
          const which = await checkRecovered(dir, { t: rec.clocks[p.op] }, keys, candidates, describePoint(ops, p), rec.opens);
          if (floor + which < p.op) lossy++;
        });
      }
      // The window is real: some crashes lost writes that had been acknowledged.
      expect(lossy, 'crashes that lost acknowledged writes').toBeGreaterThan(0);
    });
  }

  it('a crash loses the unsynced writes, keeps what an index flush or a compaction made durable', async () => {
    await inScratchDir(async (dir) => {
      const clock = { t: T0 };
      let fs = new FaultFs(dir);
      let store = await openStore(dir, clock, { fs, sync: false });
      await store.put('lost', valueOf('lost', 1));
      fs.crash();
      lockHolderDied(dir);
      // Nothing had been fsynced but the new store's first segment header: the put is gone, the store is fine.
      await checkRecovered(dir, clock, ['lost'], [new Map()], 'after losing the only put', { sync: false });

      fs = new FaultFs(dir);
      store = await openStore(dir, clock, { fs, sync: false });
      const kept: State = new Map([['zz-probe', { version: 1, expiresAt: null }]]);
      for (let i = 0; i < 5; i++) {
        await store.put(`c${i}`, valueOf(`c${i}`, 1));
        kept.set(`c${i}`, { version: 1, expiresAt: null });
      }
      await store.compact();
      // Well past flushBytes: the tail is flushed into index runs now and then, and the segment rolls.
      let flushed: State = new Map(kept);
      let flushes = 0;
      for (let i = 0; i < 30; i++) {
        const before = fs.trace.length;
        await store.put(`f${i}`, valueOf(`f${i}`, 1));
        kept.set(`f${i}`, { version: 1, expiresAt: null });
        if (fs.trace.slice(before).some((t) => /^rename \d+\.tzix\.tmp$/.test(t))) {
          flushes++;
          flushed = new Map(kept);
        }
      }
      expect(flushes, 'index flushes').toBeGreaterThanOrEqual(2);
      expect(kept.size, 'puts after the last flush').toBeGreaterThan(flushed.size);
      fs.crash();
      lockHolderDied(dir);
      // The writes the last flush indexed survive; the ones after it were never fsynced and are gone.
      await checkRecovered(dir, clock, [...kept.keys()], [flushed], 'after a crash behind an index flush', { sync: false });
    });
  });
});
