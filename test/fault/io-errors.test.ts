// An I/O error at every call of each kind a workload makes (LevelDB's
// fault_injection_test, the error half): the failing operation rejects with a
// TzkvError of code IO, never a raw fs error, and the process that failed
// undoes it before it lets go of the lock: no bytes beyond the committed end,
// no file the manifest does not list (docs/design.md "Failures"). The store
// stays consistent and usable and leaks no descriptor; every write
// acknowledged before the fault survives a reopen. Each sweep runs with
// batches appended from memory and with batches staged in a file of their own.
import { beforeAll, describe, expect, it } from 'vitest';
import type { EngineOptions } from '../../src/local/local-store.js';
import type { FaultSpec, FsOp } from '../helpers/fault-fs.js';
import { dryRun, runWithFaults } from './harness/io-faults.js';
import { makeWorkload } from './harness/workload.js';

const KEYS = 12;
const ops = makeWorkload(21, { ops: 36, keys: KEYS });

const sweeps: Array<{ op: FsOp; spec: FaultSpec; surfaces: boolean }> = [
  { op: 'write', spec: { code: 'EIO' }, surfaces: true },
  // Half a record left in a segment is what the failing writer must cut off; other files are written whole under a .tmp name.
  { op: 'write', spec: { code: 'ENOSPC', partial: true, match: /\.tzds$/ }, surfaces: true },
  { op: 'write', spec: { code: 'EDQUOT', partial: true }, surfaces: true },
  { op: 'fsync', spec: { code: 'EIO' }, surfaces: true },
  { op: 'rename', spec: { code: 'EIO' }, surfaces: true },
  { op: 'fsyncDir', spec: { code: 'EIO' }, surfaces: true },
  { op: 'createExclusive', spec: { code: 'ENOSPC' }, surfaces: true },
  { op: 'createTruncate', spec: { code: 'ENOSPC' }, surfaces: true },
  // Removing files the store no longer lists may fail quietly (the next writer retries).
  { op: 'unlink', spec: { code: 'EIO', match: /\.(tzds|tzix|tmp)$/ }, surfaces: false },
];

for (const { batches, options } of [
  { batches: 'in memory', options: {} },
  { batches: 'staged in files', options: { spillBytes: 512 } },
] as Array<{ batches: string; options: EngineOptions }>) {
  describe(`batches ${batches}`, () => {
    let trace: string[];
    /** Calls of `op` the workload makes on names matching `match`. */
    const callsOf = (op: FsOp, match = /./) => trace.filter((t) => t.startsWith(`${op} `) && match.test(t.slice(op.length + 1))).length;

    beforeAll(async () => {
      const dry = await dryRun(ops, options);
      trace = dry.trace;
      const count = (re: RegExp) => dry.trace.filter((t) => re.test(t)).length;
      // The workload must reach rolls, index flushes, merges and a compaction for the sweep to mean anything.
      expect(dry.events.rolls, 'segment rolls').toBeGreaterThanOrEqual(1);
      expect(count(/^rename \d+\.tzix\.tmp$/), 'index runs written').toBeGreaterThanOrEqual(4);
      expect(dry.events.merges, 'index-run merges').toBeGreaterThanOrEqual(1);
      expect(count(/^unlink \d+\.tzds$/), 'segments compacted away').toBeGreaterThanOrEqual(1);
      if (options.spillBytes) expect(count(/^rename stage-\d+-[0-9a-f]+\.tmp$/), 'batches committed from a staging file').toBeGreaterThanOrEqual(4);
    });

    describe('an I/O error at every call', () => {
      for (const { op, spec, surfaces } of sweeps) {
        it(`${op} failing with ${spec.code}${spec.partial ? ' after a short write' : ''}${spec.match ? ` (names matching ${spec.match})` : ''}`, async () => {
          const total = callsOf(op, spec.match);
          expect(total, `the workload makes ${op} calls`).toBeGreaterThan(0);
          for (let n = 1; n <= total; n++) {
            const run = await runWithFaults(ops, KEYS, [{ op, nth: n, spec }], options);
            if (surfaces) expect(run.failures, `${op} #${n} of ${total} rejects exactly one operation`).toBe(1);
            else expect(run.failures, `${op} #${n} of ${total}`).toBeLessThanOrEqual(1);
            expect(run.undoFailed, `${op} #${n} of ${total}: the failed write was undone whole`).toBe(0);
          }
        });
      }
    });

    // The writer that failed cuts its own short write; when that cut fails too, its error says so and the next writer cuts.
    describe('cutting a short write back fails', () => {
      it('truncate failing after a short write, at every segment write', async () => {
        const total = callsOf('write', /\.tzds$/);
        expect(total).toBeGreaterThan(10);
        let undoFailed = 0;
        for (let n = 1; n <= total; n++) {
          const run = await runWithFaults(
            ops,
            KEYS,
            [
              { op: 'write', nth: n, spec: { code: 'ENOSPC', partial: true, match: /\.tzds$/ } },
              { op: 'truncate', nth: 1, spec: { code: 'EIO' } },
            ],
            options,
          );
          expect(run.failures, `segment write #${n}: the short write rejects, and the next writer cuts what it left`).toBe(1);
          undoFailed += run.undoFailed;
        }
        expect(undoFailed, 'runs in which cutting the short write back failed (and the error said so)').toBeGreaterThan(5);
      });
    });

    describe('a disk that stays full', () => {
      it('every write from the nth on fails with ENOSPC (short writes), each undone whole; after space is freed the store is whole', async () => {
        const total = callsOf('write');
        for (let n = 1; n <= total; n += 7) {
          const run = await runWithFaults(ops, KEYS, [{ op: 'write', nth: n, spec: { code: 'ENOSPC', partial: true, times: Infinity } }], options);
          expect(run.failures, `writes failing from #${n} on`).toBeGreaterThanOrEqual(1);
          expect(run.undoFailed, `writes failing from #${n} on`).toBe(0);
        }
      });
    });
  });
}
