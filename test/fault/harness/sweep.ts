// Crash at every point of a workload without replaying it for each point:
// the workload runs once over a FaultFs, and before every mutating call the
// image a power loss would leave at that moment is kept (FaultFs.image is
// exactly what crash() writes back). Each image is then restored into a
// directory of its own and recovered.
import { basename } from 'node:path';
import { expect } from 'vitest';
import type { EngineOptions } from '../../../src/local/local-store.js';
import { FaultFs, seededRandom, writeImage } from '../../helpers/fault-fs.js';
import { STORE_KINDS } from '../../helpers/store-kinds.js';
import type { StoreKind } from '../../helpers/store-kinds.js';
import { EngineEvents, inScratchDir, lockHolderDied, openStore, startKind } from './stores.js';
import type { State } from './values.js';
import type { Op } from './workload.js';
import { T0, applyOp, describeOp, runOp } from './workload.js';

export type Keep = 'none' | 'all' | 'random';

export interface CrashPoint {
  img: Map<string, Buffer>;
  /** Index of the operation running when the crash hit (ops.length: after the last). */
  op: number;
  /** The mutating call that never happened. */
  what: string;
  /** Mutating calls made before the crash. */
  mutation: number;
}

export interface Recording {
  points: CrashPoint[];
  /** states[i]: the model before operation i; states[ops.length]: after the last. */
  states: State[];
  /** clocks[i]: the clock when operation i ran. */
  clocks: number[];
  /** Every mutating call the workload made, in order. */
  trace: string[];
  /** synced[i]: after operation i-1 completed, every segment's bytes were durable (synced[0]: at the start). */
  synced: boolean[];
  /** Segment rolls and index-run merges the workload caused. */
  events: EngineEvents;
  /** What every later open of an image needs: the store's secret. */
  opens: EngineOptions;
}

/** How much unsynced appended data survives a crash: none (LevelDB's model), all of it, or a random prefix. */
export function keeper(keep: Keep, seed: number): ((name: string, durable: number, current: number) => number) | undefined {
  if (keep === 'none') return undefined;
  if (keep === 'all') return (_n, _d, current) => current;
  const rng = seededRandom(seed);
  return (_n, durable, current) => durable + Math.floor(rng() * (current - durable + 1));
}

/**
 * Runs `ops` once on a fresh store of `kind` (test/helpers/store-kinds.ts; a
 * plain one is started by the first write, the others made by init() first),
 * keeping the crash image before every mutating call.
 */
export async function recordCrashImages(ops: Op[], keep: Keep, options: EngineOptions = {}, kind: StoreKind = STORE_KINDS[0]): Promise<Recording> {
  return inScratchDir(async (dir) => {
    const clock = { t: T0 };
    const opens = { ...options, ...(await startKind(dir, kind)) };
    const fs = new FaultFs(dir);
    const points: CrashPoint[] = [];
    const states: State[] = [new Map()];
    const clocks: number[] = [];
    let current = 0;
    fs.beforeMutation = (op, path) => {
      points.push({ img: fs.image(keeper(keep, points.length)), op: current, what: `${op} ${basename(path)}`, mutation: fs.mutations });
    };
    const store = await openStore(dir, clock, { ...opens, fs });
    const synced = [true];
    const events = new EngineEvents(dir);
    for (current = 0; current < ops.length; current++) {
      clocks.push(clock.t);
      const { state, result } = applyOp(states[current], ops[current], clock.t);
      expect(await runOp(store, ops[current], clock), `result of ${describeOp(ops[current])}`).toEqual(result);
      states.push(state);
      synced.push(!fs.unsynced().some((name) => name.endsWith('.tzds')));
      events.after(ops[current].t);
    }
    clocks.push(clock.t);
    await store.close();
    points.push({ img: fs.image(keeper(keep, points.length)), op: ops.length, what: 'nothing (the workload had ended)', mutation: fs.mutations });
    return { points, states, clocks, trace: fs.trace, synced, events, opens };
  });
}

/** Restores a crash image into a scratch directory, as the next process after the crash would find it. */
export async function withCrashImage<T>(point: CrashPoint, fn: (dir: string) => Promise<T>): Promise<T> {
  return inScratchDir(async (dir) => {
    writeImage(dir, point.img);
    lockHolderDied(dir);
    return fn(dir);
  });
}

export function describePoint(ops: Op[], p: CrashPoint): string {
  const op = p.op < ops.length ? `during op ${p.op} (${describeOp(ops[p.op])})` : 'after the workload';
  return `crash before mutation #${p.mutation + 1} (${p.what}) ${op}`;
}
