// Runs a workload with injected I/O errors and checks what the store makes of
// them: each failing operation rejects with IO and, unless its error says what
// its undo could not do, leaves nothing behind (no bytes beyond the committed
// end, no unlisted file, no lock); the store in the same process holds exactly
// the state before or after that operation (never a mix), goes on taking
// writes, leaks no file descriptor, and after a reopen with the real file
// system verifies, holds every acknowledged write and takes one more.
import { expect } from 'vitest';
import type { FaultSpec, FsOp } from '../../helpers/fault-fs.js';
import { FaultFs } from '../../helpers/fault-fs.js';
import type { EngineOptions } from '../../../src/local/local-store.js';
import { EngineEvents, checkRecovered, expectIoError, expectNothingLeftBehind, inScratchDir, leftBehind, openStore } from './stores.js';
import type { State } from './values.js';
import { expectOneOf } from './values.js';
import type { Op } from './workload.js';
import { T0, applyOp, describeOp, keyNames, runOp } from './workload.js';

/** ENOSPC and EIO at the calls that write (a short write first, for ENOSPC): a sweep over one path fails each call of each in turn. */
export const WRITE_FAULTS: ReadonlyArray<[FsOp, FaultSpec]> = [
  ['write', { code: 'ENOSPC', partial: true }],
  ['write', { code: 'EIO' }],
  ['createTruncate', { code: 'ENOSPC' }],
  ['fsync', { code: 'EIO' }],
  ['rename', { code: 'EIO' }],
  ['fsyncDir', { code: 'EIO' }],
];

/** Operations run after the last fault before the store is closed and reopened. */
const AFTER_FAULT = 4;

export interface FaultRun {
  /** How many operations rejected. */
  failures: number;
  /** The last operation that failed, when one did. */
  failedOp?: number;
  /** Failures whose undo could not do everything (their error says what is left for the next writer). */
  undoFailed: number;
}

/** The workload once with nothing failing: the calls it makes (per kind, and every mutating call in order). */
export async function dryRun(ops: Op[], options: EngineOptions = {}): Promise<{ calls: Record<string, number>; trace: string[]; events: EngineEvents }> {
  return inScratchDir(async (dir) => {
    const clock = { t: T0 };
    const fs = new FaultFs(dir);
    const store = await openStore(dir, clock, { ...options, fs });
    let state: State = new Map();
    const events = new EngineEvents(dir);
    for (const op of ops) {
      const { state: next, result } = applyOp(state, op, clock.t);
      expect(await runOp(store, op, clock), describeOp(op)).toEqual(result);
      state = next;
      events.after(op.t);
    }
    await store.close();
    return { calls: { ...fs.calls }, trace: [...fs.trace], events };
  });
}

export interface Fault {
  op: FsOp;
  nth: number;
  spec?: FaultSpec;
}

function describeFault({ op, nth, spec = {} }: Fault): string {
  return `${op}${spec.match ? ` ${spec.match}` : ''} #${nth} ${spec.code ?? 'EIO'}${spec.partial ? ' (short write)' : ''}`;
}

export async function runWithFaults(ops: Op[], keyCount: number, faults: Fault[], options: EngineOptions = {}): Promise<FaultRun> {
  const keys = keyNames(keyCount);
  const what = faults.map(describeFault).join(' + ');
  return inScratchDir(async (dir) => {
    const clock = { t: T0 };
    const fs = new FaultFs(dir);
    for (const f of faults) fs.failAt(f.op, f.nth, f.spec);
    const store = await openStore(dir, clock, { ...options, fs });
    let state: State = new Map();
    const run: FaultRun = { failures: 0, undoFailed: 0 };
    for (let i = 0; i < ops.length; i++) {
      if (run.failedOp !== undefined && i > run.failedOp + AFTER_FAULT) break;
      const label = `${what}, op ${i} (${describeOp(ops[i])})`;
      const { state: next, result } = applyOp(state, ops[i], clock.t);
      try {
        expect(await runOp(store, ops[i], clock), label).toEqual(result);
        state = next;
      } catch (err) {
        if (!(err instanceof Error) || err.name === 'AssertionError') throw err;
        expectIoError(err, label);
        expectNothingLeftBehind(dir, err, label);
        if (leftBehind(err) !== undefined) run.undoFailed++;
        run.failures++;
        run.failedOp = i;
        // A failed write may or may not have landed, but wholly or not at all.
        const which = await expectOneOf(store, keys, [state, next], clock.t, `${label}, right after the failure`);
        if (which === 1) state = next;
      }
    }
    await store.close();
    // An embedder keeps its process, and its descriptors, across I/O errors.
    expect(fs.openFds(), `${what}: descriptors left open after close()`).toEqual([]);
    await checkRecovered(dir, clock, keys, [state], `after ${what}`, options);
    return run;
  });
}
