// A failed operation must not leak file descriptors: an embedding process
// that keeps a store open across I/O errors would otherwise run out of them.
import { beforeAll, describe, expect, it } from 'vitest';
import type { FaultSpec, FsOp } from '../helpers/fault-fs.js';
import { dryRun, runWithFaults } from './harness/io-faults.js';
import { makeWorkload } from './harness/workload.js';

const KEYS = 12;
const ops = makeWorkload(21, { ops: 36, keys: KEYS });
let trace: string[];

beforeAll(async () => {
  trace = (await dryRun(ops)).trace;
});

const onSegments = /\.tzds$/;
const sweeps: Array<{ op: FsOp; spec: FaultSpec }> = [
  { op: 'write', spec: { code: 'ENOSPC', match: onSegments } },
  { op: 'fsync', spec: { code: 'EIO', match: onSegments } },
];

describe('no descriptor outlives a failed operation', () => {
  for (const { op, spec } of sweeps) {
    it(`${op} of a segment failing with ${spec.code}, at every such call`, async () => {
      const total = trace.filter((t) => t.startsWith(`${op} `) && onSegments.test(t)).length;
      expect(total).toBeGreaterThan(10);
      const leaks: string[] = [];
      for (let n = 1; n <= total; n++) {
        const run = await runWithFaults(ops, KEYS, [{ op, nth: n, spec }]);
        if (run.leakedFds.length > 0) leaks.push(`${op} #${n} (op ${run.failedOp}): ${run.leakedFds.join(', ')} left open`);
      }
      expect(leaks).toEqual([]);
    });
  }
});
