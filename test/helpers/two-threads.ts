// verify on two threads in tests: runs verifyStoreParallel from any store size
// on, checks that the worker ran and answered, and returns its verdict too.
import { expect, vi } from 'vitest';
import { verifyStoreParallel } from '../../src/engine/verify/verify.js';
import { VerifyWorker } from '../../src/engine/verify/verify-worker.js';
import type { StoreCodec } from '../../src/format/store-codec.js';
import type { FileSystem } from '../../src/io/fs.js';

/** VerifyWorker#finish, watched: how many workers a verify started, and what each answered. */
export const workerFinish = vi.spyOn(VerifyWorker.prototype, 'finish');

/** Verifies on two threads; returns the report and what the worker said (it must have run). */
export async function onTwoThreads(fs: FileSystem, dir: string, codec: StoreCodec) {
  workerFinish.mockClear();
  const report = await verifyStoreParallel(fs, dir, codec, undefined, 0);
  expect(workerFinish, 'the worker ran').toHaveBeenCalledTimes(1);
  const verdict = await workerFinish.mock.results[0].value;
  expect(verdict, 'the worker answered').not.toBeNull();
  return { report, verdict: verdict! };
}
