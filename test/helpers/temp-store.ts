// Temp directories and stores for tests. When a test ends, every store in a
// directory tempDir() made (the directory itself, or one level down: a leader
// and its follower) must pass verify with no problem, whichever file system
// the test gave it (bbolt's habit: every test ends with a consistency check).
// Tests that damage a store on purpose opt its directory out with skipVerify.
import { existsSync, mkdtempSync, readdirSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, expect } from 'vitest';
import type { Store } from '../../src/api.js';
import { open } from '../../src/local/local-store.js';
import type { EngineOptions } from '../../src/local/local-store.js';
import { verifyStore } from '../../src/engine/verify/verify.js';
import { PLAIN } from '../../src/format/store-codec.js';

const dirs: string[] = [];
/** Directories checked after the test through the file system (and processes) a test opened them with, not the real ones. */
const injected = new Map<string, Pick<EngineOptions, 'fs' | 'processes'>>();
const skipped = new Set<string>();

export function tempDir(prefix = 'tzkv-test-'): string {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  dirs.push(dir);
  return dir;
}

/** Opens a store in a new temp dir (or `dir`); verify must pass on it after the test, through `options.fs` when given. */
export async function tempStore(options: EngineOptions = {}, dir = tempDir()): Promise<Store> {
  const store = await open(dir, options);
  if (options.fs) injected.set(dir, { fs: options.fs, processes: options.processes });
  return store;
}

/** Opts a directory, and every store under it, out of the end-of-test verify (tests that damage it on purpose). */
export function skipVerify(dir: string): void {
  skipped.add(dir);
}

/** The directories under `root` (itself, then one level down) that hold a store's files. */
function storesUnder(root: string): string[] {
  if (!existsSync(root) || !statSync(root).isDirectory()) return [];
  const holdsStore = (d: string) => readdirSync(d).some((n) => n === 'MANIFEST' || n.endsWith('.tzds'));
  if (holdsStore(root)) return [root];
  return readdirSync(root, { withFileTypes: true })
    .filter((e) => e.isDirectory())
    .map((e) => join(root, e.name))
    .filter((d) => !skipped.has(d) && holdsStore(d));
}

async function problemsOf(dir: string): Promise<unknown[]> {
  const seam = injected.get(dir);
  if (seam?.fs) {
    // verifyStore is verify's one-thread path: its worker thread reads the real file system, not the injected one.
    return verifyStore(seam.fs, dir, PLAIN, undefined, undefined, undefined, seam.processes).problems;
  }
  const s = await open(dir, { readOnly: true });
  try {
    return (await s.verify()).problems;
  } finally {
    await s.close();
  }
}

/** What verify finds in each store the test made so far (the end-of-test check; exported for its own test). */
export async function storeProblems(): Promise<Map<string, unknown[]>> {
  const found = new Map<string, unknown[]>();
  // A store opened by tempStore in a directory of the test's own is checked too.
  for (const root of new Set([...dirs, ...injected.keys()])) {
    if (skipped.has(root)) continue;
    for (const dir of storesUnder(root)) found.set(dir, await problemsOf(dir));
  }
  return found;
}

afterEach(async () => {
  try {
    for (const [dir, problems] of await storeProblems()) expect(problems, `verify of ${dir} after the test`).toEqual([]);
  } finally {
    for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
    injected.clear();
    skipped.clear();
  }
});
