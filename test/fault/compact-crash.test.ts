// Compaction under faults (docs/design.md "Compaction"): writes land between
// its snapshot and its switch, and (1) every mutating call the compaction and
// those writes make fails once, in turn, with EIO; (2) the power fails before
// each of those calls. Every time the store opens, holds the old contents or
// the new ones with each acknowledged write exact (a write the fault hit may
// be there or not, wholly), verifies clean, leaks no descriptor, and the next
// write and the next compaction leave no file the manifest does not list.
// The power-loss sweeps run over the four kinds of store (test/helpers/store-kinds.ts).
import { readdirSync } from 'node:fs';
import { basename } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { Store } from '../../src/api.js';
import type { EngineOptions } from '../../src/local/local-store.js';
import type { CompactPhase } from '../../src/engine/compact/compact.js';
import { runName, segmentName } from '../../src/engine/files/layout.js';
import { FaultFs } from '../helpers/fault-fs.js';
import { STORE_KINDS } from '../helpers/store-kinds.js';
import type { StoreKind } from '../helpers/store-kinds.js';
import { checkRecovered, inScratchDir, openStore, readManifestFile, startKind } from './harness/stores.js';
import { keeper, withCrashImage } from './harness/sweep.js';
import type { CrashPoint, Keep } from './harness/sweep.js';
import type { State } from './harness/values.js';
import { valueOf } from './harness/values.js';
import type { Op } from './harness/workload.js';
import { T0, applyOp, keyNames, makeWorkload, runOp } from './harness/workload.js';

const KEYS = 12;
const keys = [...keyNames(KEYS), 'h-snap', 'h-late'];

/** Writes made from the compaction's hook: after its snapshot and after its rewrite. */
const DURING: Record<CompactPhase, Op[]> = {
  snapshot: [
    { t: 'put', key: 'h-snap', version: 9001 },
    { t: 'del', keys: ['k03'] },
    { t: 'expire', key: 'k05', inMs: 50_000 },
  ],
  rewritten: [
    { t: 'batch', ops: [{ t: 'put', key: 'h-late', version: 9002 }, { t: 'put', key: 'k01', version: 9003 }] },
    { t: 'put', key: 'k07', version: 9004, ttlMs: 40_000 },
  ],
};

interface Attempt {
  op: Op;
  /** Mutating calls made before it started, and when it resolved (Infinity: it failed). */
  from: number;
  to: number;
}

/**
 * A store of `kind` made in `dir` (its KEYRING and first files, synced), then
 * the fault layer over it: made first, so the layer counts those files as
 * durable (a file it first meets later it takes as never synced: 0 bytes
 * after a power loss), as sweep.ts recordCrashImages does.
 */
async function faultStore(dir: string, kind: StoreKind = STORE_KINDS[0]): Promise<{ fs: FaultFs; opens: EngineOptions }> {
  const opens = await startKind(dir, kind);
  return { fs: new FaultFs(dir), opens };
}

/** The setup workload on the store faultStore made, then a compaction whose hook runs DURING; every hook write's outcome is recorded. */
async function compactWithWrites(dir: string, { fs, opens }: { fs: FaultFs; opens: EngineOptions }, clock: { t: number }, beforeCompact?: () => void) {
  const ops = makeWorkload(71, { ops: 40, keys: KEYS });
  let state: State = new Map();
  let store!: Store;
  const attempts: Attempt[] = [];
  let armed = false; // the setup workload compacts too: only the last compaction writes meanwhile
  const hook = async (phase: CompactPhase) => {
    if (!armed) return;
    for (const op of DURING[phase]) {
      const attempt: Attempt = { op, from: fs.mutations, to: Infinity };
      attempts.push(attempt);
      try {
        await runOp(store, op, clock);
        attempt.to = fs.mutations;
      } catch (err) {
        if ((err as { code?: string }).code !== 'IO' && !String(err).includes('simulated crash')) throw err;
      }
    }
  };
  store = await openStore(dir, clock, { ...opens, fs, onCompactPhase: hook });
  for (const op of ops) {
    state = applyOp(state, op, clock.t).state;
    await runOp(store, op, clock);
  }
  clock.t += 3000; // some TTL keys have expired: the compaction drops them
  const start = fs.mutations;
  beforeCompact?.();
  armed = true;
  const outcome = await store.compact().then(
    () => 'ok',
    (err: Error) => err,
  );
  return { store, state, attempts, start, end: fs.mutations, outcome, opens };
}

/** The states the store may hold: `base` plus each attempt, an uncertain one either way. */
function candidates(base: State, attempts: Attempt[], now: number, certain: (a: Attempt) => boolean | undefined): State[] {
  let states = [base];
  for (const a of attempts) {
    const applied = (s: State) => applyOp(s, a.op, now).state;
    const c = certain(a);
    if (c === true) states = states.map(applied);
    else if (c === undefined) states = [...states, ...states.map(applied)];
  }
  return states;
}

/** Files in dir that the manifest does not list (LOCK aside). */
function unlisted(dir: string): string[] {
  const m = readManifestFile(dir);
  const listed = new Set(['MANIFEST', 'LOCK', 'KEYRING', ...m.segments.map((s) => segmentName(s.file)), ...m.runs.map((r) => runName(r.file))]);
  return readdirSync(dir).filter((n) => !listed.has(n));
}

/** After recovery (which wrote once): nothing unlisted is left, and a compaction runs clean. */
async function expectCleanAfter(dir: string, clock: { t: number }, label: string, opens: EngineOptions = {}): Promise<void> {
  expect(unlisted(dir), `${label}: left after the next write`).toEqual([]);
  expect(readManifestFile(dir).compaction, `${label}: marker after the next write`).toBeNull();
  const store = await openStore(dir, clock, opens);
  expect((await store.compact()).compacted, `${label}: the next compaction`).toBe(true);
  expect((await store.verify()).problems, `${label}: verify after the next compaction`).toEqual([]);
  await store.close();
  expect(unlisted(dir), `${label}: left after the next compaction`).toEqual([]);
}

describe('compaction under faults, with writes between its snapshot and its switch', () => {
  it('every mutating call of the compaction fails in turn: the store is old or new, never a mix, and cleans up', async () => {
    const dry = await inScratchDir(async (dir) => {
      const made = await faultStore(dir);
      const { fs } = made;
      const clock = { t: T0 };
      const r = await compactWithWrites(dir, made, clock);
      await r.store.close();
      expect(r.outcome).toBe('ok');
      return { trace: [...fs.trace], start: r.start, end: r.end };
    });
    const calls = dry.trace.slice(dry.start, dry.end);
    // The sweep reaches every phase: the snapshot's manifest, the rewrite's files, the switch's renames and deletions.
    expect(calls.filter((c) => /^createTruncate compact-\d+-\d{8}\.tz(ds|ix)\.tmp$/.test(c)).length).toBeGreaterThanOrEqual(2);
    expect(calls.filter((c) => /^rename compact-/.test(c)).length).toBeGreaterThanOrEqual(2);
    expect(calls.filter((c) => /^unlink \d{8}\.tzds$/.test(c)).length).toBeGreaterThanOrEqual(1);
    let failedCompactions = 0;
    for (let i = dry.start; i < dry.end; i++) {
      const [op] = dry.trace[i].split(' ') as [keyof FaultFs];
      const nth = dry.trace.slice(0, i + 1).filter((t) => t.startsWith(`${op} `)).length;
      const label = `EIO at mutation #${i + 1} (${dry.trace[i]})`;
      await inScratchDir(async (dir) => {
        const made = await faultStore(dir);
        const { fs } = made;
        fs.failAt(op as never, nth);
        const clock = { t: T0 };
        const r = await compactWithWrites(dir, made, clock);
        if (r.outcome !== 'ok') {
          failedCompactions++;
          expect((r.outcome as { code?: string }).code, `${label}: ${String(r.outcome)}`).toMatch(/^(IO|PRECONDITION)$/);
        }
        // The store in the same process still reads what it holds.
        const states = candidates(r.state, r.attempts, clock.t, (a) => (a.to !== Infinity ? true : undefined));
        await r.store.close();
        expect(fs.openFds(), `${label}: descriptors left open`).toEqual([]);
        await checkRecovered(dir, clock, keys, states, label);
        await expectCleanAfter(dir, clock, label);
      });
    }
    expect(failedCompactions, 'faults that failed the compaction').toBeGreaterThan(10);
  }, 300_000);

  const [plain, compressed, encrypted, both] = STORE_KINDS;
  const losses: Array<[Keep, StoreKind]> = [['none', plain], ['random', plain], ['random', compressed], ['none', encrypted], ['random', both]];
  for (const [keep, kind] of losses) {
    it(`the power fails before each mutating call of the compaction and of the writes meanwhile (${kind.name} store, unsynced bytes kept: ${keep})`, async () => {
      const images: CrashPoint[] = [];
      const rec = await inScratchDir(async (dir) => {
        const made = await faultStore(dir, kind);
        const { fs } = made;
        const clock = { t: T0 };
        let recording = false;
        // Only the compaction's calls and the writes made meanwhile: the setup's are swept by crash.test.ts.
        fs.beforeMutation = (op, path) => {
          if (recording) images.push({ img: fs.image(keeper(keep, images.length)), op: 0, mutation: fs.mutations, what: `${op} ${basename(path)}` });
        };
        const r = await compactWithWrites(dir, made, clock, () => (recording = true));
        recording = false;
        expect(r.outcome).toBe('ok');
        await r.store.close();
        images.push({ img: fs.image(keeper(keep, images.length)), op: 0, mutation: fs.mutations, what: 'nothing (the compaction had ended)' });
        return { state: r.state, attempts: r.attempts, now: clock.t, opens: r.opens };
      });
      expect(images.length).toBeGreaterThan(40);
      for (const p of images) {
        const label = `power loss before mutation #${p.mutation + 1} (${p.what})`;
        const states = candidates(rec.state, rec.attempts, rec.now, (a) => (a.to <= p.mutation ? true : a.from >= p.mutation ? false : undefined));
        const clock = { t: rec.now };
        await withCrashImage(p, async (dir) => {
          await checkRecovered(dir, clock, keys, states, label, rec.opens);
          await expectCleanAfter(dir, clock, label, rec.opens);
        });
      }
    }, 300_000);
  }
});
