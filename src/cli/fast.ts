// The fast path's bundle (dist/fast.cjs): runs a get, put, getset, del, keys, incr, ttl or batch line that
// src/cli/fast-argv.ts recognised, with the same code the oclif commands run
// (src/cli/key-actions.ts) and the same error reporting (src/cli/failure.ts),
// but without loading oclif. docs/cli.md "Start-up time" has the figures.

import { runBatch } from './batch-action.js';
import { reportFailure } from './failure.js';
import type { FastPlan } from './fast-argv.js';
import { exitWhenDone } from './finish.js';
import { incrementKey, keyTtl, putKey } from './key-actions.js';
import { listKeys } from './key-listing.js';
import { deleteMany, getMany } from './many-keys.js';
import { mark, note } from './trace.js';

export async function runFast(plan: FastPlan): Promise<void> {
  note('fast path');
  try {
    const [first, second] = plan.args;
    switch (plan.command) {
      case 'get':
        await getMany({ ...plan, keys: plan.args });
        break;
      case 'put':
        await putKey({ ...plan, key: first, value: second });
        break;
      case 'getset':
        await putKey({ ...plan, key: first, value: second, get: true });
        break;
      case 'del':
        await deleteMany({ ...plan, keys: plan.args });
        break;
      case 'keys':
        await listKeys({ ...plan, ...(first === undefined ? {} : { prefix: first }) });
        break;
      case 'incr':
        await incrementKey({ ...plan, key: first, ...(second === undefined ? {} : { by: second }) });
        break;
      case 'ttl':
        await keyTtl({ ...plan, key: first, ...(second === undefined ? {} : { duration: second }) });
        break;
      case 'batch':
        process.exitCode = await runBatch({ ...plan, file: first, each: plan.each === true });
        break;
    }
    mark('command');
  } catch (err) {
    reportFailure(err, { json: plan.json, command: plan.command });
  }
  exitWhenDone();
}
