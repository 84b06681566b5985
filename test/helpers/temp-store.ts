// Opens stores in fresh temp directories and, when the test ends, checks each
// one with verify() (bbolt's habit: every test ends with a consistency check).
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, expect } from 'vitest';
import type { Store } from '../../src/api.js';
import { open } from '../../src/local/local-store.js';
import type { EngineOptions } from '../../src/local/local-store.js';

const dirs: string[] = [];
const toVerify: string[] = [];

export function tempDir(prefix = 'tzkv-test-'): string {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  dirs.push(dir);
  return dir;
}

/** Opens a store in a new temp dir (or `dir`); verify() must pass on it after the test. */
export async function tempStore(options: EngineOptions = {}, dir = tempDir()): Promise<Store> {
  const store = await open(dir, options);
  if (!options.fs) toVerify.push(dir);
  return store;
}

/** Opt a directory out of the end-of-test verify (tests that damage it on purpose). */
export function skipVerify(dir: string): void {
  const i = toVerify.indexOf(dir);
  if (i >= 0) toVerify.splice(i, 1);
}

afterEach(async () => {
  try {
    for (const dir of toVerify.splice(0)) {
      const s = await open(dir, { readOnly: true });
      const report = await s.verify();
      await s.close();
      expect(report.problems, `verify of ${dir} after the test`).toEqual([]);
    }
  } finally {
    for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
  }
});
