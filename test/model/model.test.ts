// Model-based test (basho bitcask's QuickCheck state machine, in fast-check):
// random sequences of put / del / ttl / persist / batch / delPrefix / advance-clock /
// reopen / compact against a plain Map, checking every read after every step.
// Compactions run writes between their snapshot and their switch (as other
// processes' writers would), with every read checked there too.
//
// Faults of the environment are steps too, as in bitcask_qc_fsm: a LOCK left
// by a holder that is dead, recycled, live, unreadable or on another host; a
// compaction marker of a dead or a live process; a flipped byte in a record,
// an index run or the MANIFEST followed by admin().repair(); replicate to
// a follower and promote it. Runs use a small or the default `spillBytes`, so
// batches also land as segments of their own. What the model expects of each
// is written at its step. Processes and the lock's clock are the test's own
// (test/helpers/fake-processes.ts, fake-clock.ts): no real process, no waiting.
//
// Over the four kinds of store (test/helpers/store-kinds.ts): plain gets half
// the runs, compressed, encrypted and both a sixth each. In an encrypted store
// a damage step aimed at a record hits an index run instead (the MANIFEST
// while there is none): the oracle reads records as plain bytes
// (crypt-bitflips.test.ts damages sealed groups).
//
// Deterministic: the seed is fixed (TZKV_MODEL_SEED=N picks another, to
// explore). A failure names the seed and lists the steps of the shrunk run.
import fc from 'fast-check';
import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { Store } from '../../src/api.js';
import { open } from '../../src/local/local-store.js';
import type { EngineOptions } from '../../src/local/local-store.js';
import { FakeClock } from '../helpers/fake-clock.js';
import { FakeProcesses } from '../helpers/fake-processes.js';
import { STORE_KINDS, initKind } from '../helpers/store-kinds.js';
import type { StoreKind } from '../helpers/store-kinds.js';
import { tempDir } from '../helpers/temp-store.js';
import type { LockHolderKind } from './environment.js';
import { flipByte, plantCompaction, plantLock } from './environment.js';
import { newestOf, readStoreManifest } from './log-oracle.js';
import type { Op, Write } from './operations.js';
import { KEYS, op, spill, stepLine } from './operations.js';

const SEED = Number(process.env.TZKV_MODEL_SEED ?? 20261206);

type Model = Map<string, { value: string; expiresAt: number | null }>;

function live(model: Model, k: string, now: number) {
  const e = model.get(k);
  if (!e) return undefined;
  if (e.expiresAt !== null && e.expiresAt <= now) {
    model.delete(k);
    return undefined;
  }
  return e;
}

async function checkAll(store: Store, model: Model, now: number) {
  for (const k of KEYS) {
    const want = live(model, k, now);
    const got = await store.getEntry(k);
    expect(got?.value.toString(), `value of ${JSON.stringify(k)}`).toBe(want?.value);
    if (want) expect(got?.expiresAt, `expiry of ${JSON.stringify(k)}`).toBe(want.expiresAt);
  }
  const listed: string[] = [];
  for await (const k of store.keys()) listed.push(k.key.toString());
  const expected = [...model.keys()].filter((k) => live(model, k, now)).sort((a, b) => Buffer.compare(Buffer.from(a), Buffer.from(b)));
  expect(listed, 'keys()').toEqual(expected);
}

async function runModel(kind: StoreKind, ops: Op[], spillBytes: number | undefined, steps: string[]): Promise<void> {
  let dir = tempDir();
  const secret = { key: randomBytes(32) };
  let now = 1_700_000_000_000;
  let during: { phase: string; writes: Write[] } | undefined;
  const processes = new FakeProcesses();
  const lockClock = new FakeClock();
  const options: EngineOptions = {
    now: () => now,
    segmentBytes: 2048,
    flushBytes: 300,
    spillBytes,
    processes,
    lockClock,
    secret,
    lockTimeoutMs: 50, // of lockClock's time: a refused write takes no real time
    onCompactPhase: async (phase) => {
      if (during?.phase !== phase) return;
      for (const w of during.writes) {
        await apply(w);
        await checkAll(store, model, now);
      }
    },
  };
  await initKind(dir, kind, secret);
  let store = await open(dir, options);
  let model: Model = new Map();
  /** The follower a replicate last filled, and the model as it was then: what the follower must read. */
  let follower: { dir: string; model: Model } | undefined;
  let nextPid = 40_000;

  const apply = async (o: Write) => {
    switch (o.t) {
      case 'put': {
        const exists = live(model, o.k, now) !== undefined;
        const wrote = await store.put(o.k, o.v, { ttlMs: o.ttl ?? undefined, ifAbsent: o.ifAbsent });
        expect(wrote).toBe(!(o.ifAbsent && exists));
        if (wrote) model.set(o.k, { value: o.v, expiresAt: o.ttl === null ? null : now + o.ttl });
        break;
      }
      case 'del': {
        const unique = [...new Set(o.ks)];
        const existing = unique.filter((k) => live(model, k, now)).length;
        expect(await store.del(...o.ks)).toBe(existing);
        for (const k of unique) model.delete(k);
        break;
      }
      case 'ttl': {
        const e = live(model, o.k, now);
        const at = o.ms === null ? null : now + o.ms;
        expect(await store.setExpiry(o.k, at)).toBe(e !== undefined);
        if (e) e.expiresAt = at;
        break;
      }
      case 'delPrefix': {
        const doomed = [...model.keys()].filter((k) => k.startsWith(o.prefix) && live(model, k, now));
        expect(await store.delPrefix(o.prefix)).toBe(doomed.length);
        for (const k of doomed) model.delete(k);
        break;
      }
      case 'batch': {
        const b = store.batch();
        for (const x of o.ops) (x.v === null ? b.del(x.k) : b.put(x.k, x.v));
        await b.write();
        for (const x of o.ops) (x.v === null ? model.delete(x.k) : model.set(x.k, { value: x.v, expiresAt: null }));
        break;
      }
    }
  };

  /** A write refused because the lock is held: LOCKED, and nothing changes (checkAll after the step). */
  const refusedWrite = () => expect(store.put('a', 'written while locked')).rejects.toMatchObject({ code: 'LOCKED' });

  /**
   * A planted LOCK. A stale one (dead, recycled, own) is reported dead and broken
   * by the next writer, whenever it comes. A live holder's refuses writes until it
   * exits (then it is a dead one); another host's until `forceUnlock`; an
   * unreadable one until it has been so for 2 s of the lock's wall clock.
   */
  const lockStep = async (holder: LockHolderKind) => {
    const pid = nextPid++;
    plantLock(dir, holder, pid, processes, lockClock);
    const reported = await store.admin()!.lockHolder();
    if (holder === 'live') {
      expect(reported?.state).toBe('alive');
      await refusedWrite();
      processes.exit(pid);
      expect((await store.admin()!.lockHolder())?.state).toBe('dead');
    } else if (holder === 'foreign') {
      expect(reported).toMatchObject({ host: 'other-host', state: 'unknown' });
      await refusedWrite();
      expect(await store.admin()!.forceUnlock()).toMatchObject({ pid, host: 'other-host' });
    } else if (holder === 'unreadable') {
      expect(reported).toMatchObject({ pid: 0, state: 'unknown' });
      await refusedWrite();
      lockClock.jump(2_001);
    } else {
      expect(reported?.state).toBe('dead');
    }
  };

  /**
   * A compaction marker of another process, with its output file. Dead: not
   * reported as running, and the next compaction runs (the stale marker
   * cleared, its output removed). Live: reported; a compaction is refused
   * (LOCKED) while writes go on and its output stays; once it exits, as dead.
   */
  const markerStep = async (isLive: boolean) => {
    const pid = nextPid++;
    if (isLive) processes.start(pid);
    const output = plantCompaction(dir, pid, processes, now);
    if (isLive) {
      expect((await store.stats()).compacting?.pid).toBe(pid);
      await expect(store.compact()).rejects.toMatchObject({ code: 'LOCKED' });
      await apply({ t: 'put', k: 'b', v: 'written during their compaction', ttl: null, ifAbsent: false });
      expect(existsSync(output), "a live compaction's output stays").toBe(true);
      processes.exit(pid);
    }
    expect((await store.stats()).compacting).toBeNull();
    expect((await store.compact()).compacted).toBe(true);
    expect(existsSync(output), "a dead compaction's output is removed").toBe(false);
    expect(readStoreManifest(dir).compaction).toBeNull();
  };

  /**
   * A flipped byte, then admin().repair() (docs/design.md "Repair": it
   * deletes nothing readable). The repaired store verifies clean. A flip that
   * makes a header's format version newer is refused (VERSION) with nothing
   * touched: the byte is put back. Damage to a
   * run or the MANIFEST costs nothing: both are rebuilt from the data. Damage
   * to a record costs that record, or its whole batch: every key with a
   * record among them reads as its newest record left in the log, or is
   * absent (a deleted key may come back); every other key reads as before.
   */
  const damageStep = async (o: Extract<Op, { t: 'damage' }>) => {
    // An encrypted store's records are never hit: the oracle cannot read their sealed keys (with no run yet, the MANIFEST is).
    const target = kind.encrypt && o.target === 'record' ? (readStoreManifest(dir).runs.length > 0 ? 'run' : 'manifest') : o.target;
    const { where, lost, log, newerVersion, undo } = flipByte(dir, target, o.pick, o.at, o.xor);
    steps[steps.length - 1] += ` -> ${where}, ${newerVersion ? 'a newer format version' : `losing ${lost.length} records`}`;
    if (newerVersion) {
      await expect(store.admin()!.repair()).rejects.toMatchObject({ code: 'VERSION' });
      undo();
      return;
    }
    const found = await store.verify();
    expect(found.problemCount + found.warnings.length, `verify notices ${where}`).toBeGreaterThan(0);
    const repaired = await store.admin()!.repair();
    expect(repaired.problems, 'after repair').toEqual([]);
    const gone = new Set(lost);
    for (const k of new Set(lost.filter((r) => r.kind !== 3).map((r) => r.key))) {
      const before = newestOf(log, k);
      const want = live(model, k, now);
      // The oracle agrees with the model on the undamaged log.
      expect(before?.kind === 1 && (before.expiresAt === 0 || before.expiresAt > now) ? before.value : undefined, `log before the damage, ${k}`).toBe(want?.value);
      const after = newestOf(log, k, gone);
      if (after?.kind === 1) model.set(k, { value: after.value, expiresAt: after.expiresAt === 0 ? null : after.expiresAt });
      else model.delete(k);
    }
  };

  /** Replicate: the follower reads exactly what the leader does. */
  const replicateStep = async () => {
    const to = follower?.dir ?? tempDir();
    await store.admin()!.replicate(to);
    follower = { dir: to, model: new Map([...model].map(([k, e]) => [k, { ...e }])) };
    const f = await open(to, { readOnly: true, now: () => now, secret });
    await checkAll(f, new Map(follower.model), now);
    await f.close();
  };

  /** Promote the last follower: it refused writes, now takes them; it becomes the store, with what it held at its replicate. */
  const promoteStep = async () => {
    if (!follower) return;
    await store.close();
    store = await open(follower.dir, options);
    await expect(store.put('a', 'a write to a follower')).rejects.toMatchObject({ code: 'READ_ONLY' });
    expect(await store.admin()!.promote()).toBe(true);
    ({ dir, model } = follower);
    follower = undefined;
  };

  const faults = new Set(['lock', 'marker', 'damage', 'replicate', 'promote']);
  for (const o of ops) {
    steps.push(stepLine(o));
    if (faults.has(o.t) && !existsSync(join(dir, 'MANIFEST'))) {
      steps[steps.length - 1] += ' -> skipped: no store yet';
      continue;
    }
    switch (o.t) {
      case 'tick':
        now += o.ms;
        break;
      case 'reopen':
        await store.close();
        store = await open(dir, options);
        break;
      case 'compact':
        during = { phase: o.phase, writes: o.during };
        expect((await store.compact()).compacted).toBe(true);
        during = undefined;
        break;
      case 'lock':
        await lockStep(o.holder);
        break;
      case 'marker':
        await markerStep(o.live);
        break;
      case 'damage':
        await damageStep(o);
        break;
      case 'replicate':
        await replicateStep();
        break;
      case 'promote':
        await promoteStep();
        break;
      default:
        await apply(o);
    }
    await checkAll(store, model, now);
  }
  const report = await store.verify();
  expect(report.problems).toEqual([]);
  await store.close();
}

const RUNS = Number(process.env.TZKV_MODEL_RUNS ?? 60);

describe('store against a Map model', () => {
  STORE_KINDS.forEach((kind, k) => {
    it(`agrees on every read after every step, through environment faults (${kind.name} store)`, async () => {
      await fc.assert(
        fc.asyncProperty(fc.array(op, { minLength: 1, maxLength: 40 }), spill, async (ops, spillBytes) => {
          const steps: string[] = [];
          try {
            await runModel(kind, ops, spillBytes, steps);
          } catch (err) {
            const lines = steps.map((s, i) => `  ${i + 1}. ${s}`).join('\n');
            throw new Error(`${(err as Error).message}\n\n${kind.name} store, seed ${SEED + k} (TZKV_MODEL_SEED ${SEED}), spillBytes ${spillBytes ?? 'default'}; the steps, the last one failing:\n${lines}`, { cause: err });
          }
        }),
        { numRuns: Math.max(1, Math.round(kind.name === 'plain' ? RUNS / 2 : RUNS / 6)), seed: SEED + k },
      );
    });
  });
});
