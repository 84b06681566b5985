// An index run never points at bytes that could vanish (docs/design.md
// "Durability and sync: false"), whoever wrote them: a process with sync off
// (`tzkv serve --sync never`) appends without fsync, then a process with sync
// on indexes its tail without appending first (the roll before a batch that
// does not fit the active segment; a compaction's snapshot). Its index flush
// must fsync the tail first, or a power loss leaves a run pointing at
// nothing: a store that no longer verifies.
import { describe, expect, it } from 'vitest';
import { FaultFs } from '../helpers/fault-fs.js';
import { checkRecovered, inScratchDir, lockHolderDied, openStore } from './harness/stores.js';
import type { State } from './harness/values.js';
import { valueOf } from './harness/values.js';
import { T0 } from './harness/workload.js';

/** Puts `keys` through a sync-off store on `fs`: acknowledged, never fsynced. What the store holds afterwards. */
async function unsyncedPuts(dir: string, fs: FaultFs, keys: string[]): Promise<State> {
  const lax = await openStore(dir, { t: T0 }, { fs, sync: false });
  const state: State = new Map();
  for (const k of keys) {
    await lax.put(k, valueOf(k, 1));
    state.set(k, { version: 1, expiresAt: null });
  }
  await lax.close();
  expect(fs.unsynced().some((name) => name.endsWith('.tzds')), 'the sync-off puts are not durable yet').toBe(true);
  return state;
}

describe('an index flush by a sync-on writer over a sync-off writer\'s tail', () => {
  it('fsyncs the tail before the roll ahead of a batch that does not fit', async () => {
    await inScratchDir(async (dir) => {
      const clock = { t: T0 };
      const fs = new FaultFs(dir);
      const state = await unsyncedPuts(dir, fs, ['a', 'b', 'c']);
      const strict = await openStore(dir, clock, { fs });
      // Past the 4 KiB segment with the tail: the tail is indexed and the segment rolled before the batch is appended.
      const batch = strict.batch();
      for (let i = 0; i < 30; i++) {
        batch.put(`batch${i}`, valueOf(`batch${i}`, 1));
        state.set(`batch${i}`, { version: 1, expiresAt: null });
      }
      await batch.write();
      expect(fs.trace.filter((t) => /^createExclusive \d+\.tzds$/.test(t)).length, 'segments created: the first, then the roll').toBeGreaterThanOrEqual(2);
      await strict.close();
      fs.crash();
      lockHolderDied(dir);
      // The flush before the roll indexed a, b and c: it must have made them durable.
      await checkRecovered(dir, clock, [...state.keys()], [state], 'after a crash behind the roll');
    });
  });

  it("fsyncs the tail before a compaction's snapshot indexes it", async () => {
    await inScratchDir(async (dir) => {
      const clock = { t: T0 };
      const fs = new FaultFs(dir);
      const state = await unsyncedPuts(dir, fs, ['a', 'b', 'c']);
      // The power goes between the snapshot (which indexed the tail) and the rewrite.
      const strict = await openStore(dir, clock, {
        fs,
        onCompactPhase: (phase) => {
          if (phase === 'snapshot') fs.crash();
        },
      });
      await expect(strict.compact()).rejects.toThrow(/simulated crash/);
      lockHolderDied(dir);
      await checkRecovered(dir, clock, [...state.keys()], [state], 'after a crash behind a snapshot');
    });
  });
});
