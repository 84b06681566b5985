// Scratch directories, opening stores with the fault tier's settings, and the
// checks every fault test ends with: the store opens, holds one of the states
// it may hold, takes a new write behind whatever the fault left, and verifies.
import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect } from 'vitest';
import type { Store, VerifyReport } from '../../../src/api.js';
import { TzkvError } from '../../../src/errors.js';
import { open } from '../../../src/local/local-store.js';
import type { EngineOptions } from '../../../src/local/local-store.js';
import { decodeManifest } from '../../../src/format/manifest.js';
import type { Manifest } from '../../../src/format/manifest.js';
import { runName, segmentName } from '../../../src/engine/files/layout.js';
import { View } from '../../../src/engine/read/view.js';
import { realFs } from '../../../src/io/fs.js';
import type { State } from './values.js';
import { expectOneOf, valueOf } from './values.js';
import type { Clock } from './workload.js';
import { PLAIN } from '../../../src/format/store-codec.js';
import { randomBytes } from 'node:crypto';
import { initKind } from '../../helpers/store-kinds.js';
import type { StoreKind } from '../../helpers/store-kinds.js';

/** Small files so a short workload rolls segments, flushes index runs and merges them. */
const SMALL = { segmentBytes: 4096, flushBytes: 1024, lockTimeoutMs: 200 } as const;

const base = existsSync('/dev/shm') ? '/dev/shm' : tmpdir();

/** Runs fn in a fresh scratch directory, removed afterwards. */
export async function inScratchDir<T>(fn: (dir: string) => Promise<T>): Promise<T> {
  const dir = mkdtempSync(join(base, 'tzkv-fault-'));
  try {
    return await fn(dir);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

export function openStore(dir: string, clock: Clock, options: EngineOptions = {}): Promise<Store> {
  return open(dir, { ...SMALL, now: () => clock.t, command: 'fault test', ...options });
}

/**
 * Makes a store of `kind` in the empty `dir` (init(), on the real file
 * system) unless it is plain, which the first write starts; returns the
 * options every open of it needs (its secret).
 */
export async function startKind(dir: string, kind: StoreKind): Promise<EngineOptions> {
  const secret = { key: randomBytes(32) };
  if (kind.encrypt || kind.compression !== undefined) await initKind(dir, kind, secret);
  return { secret };
}

export function readManifestFile(dir: string): Manifest {
  return decodeManifest(readFileSync(join(dir, 'MANIFEST')));
}

/**
 * Counts what a workload made the engine do besides compact(): segment rolls
 * (more segments listed after an operation) and index-run merges (fewer runs).
 */
export class EngineEvents {
  rolls = 0;
  merges = 0;
  private segments = 0;
  private runs = 0;
  constructor(private readonly dir: string) {}
  after(opKind: string): void {
    if (!existsSync(join(this.dir, 'MANIFEST'))) return;
    const m = readManifestFile(this.dir);
    if (opKind !== 'compact') {
      if (m.segments.length > this.segments && this.segments > 0) this.rolls++;
      if (m.runs.length < this.runs) this.merges++;
    }
    this.segments = m.segments.length;
    this.runs = m.runs.length;
  }
}

export function activeSegmentPath(dir: string): string {
  return join(dir, segmentName(readManifestFile(dir).active.file));
}

/**
 * After a simulated power loss the crashed process is gone. A LOCK it left
 * names our own pid, which after a real reboot would be dead or someone else;
 * give it a start time that is not ours so the lock module sees a recycled pid
 * (docs/format.md "LOCK") and breaks it, as it would after a real crash.
 */
export function lockHolderDied(dir: string): void {
  const path = join(dir, 'LOCK');
  if (!existsSync(path)) return;
  let holder: { pid: number; startTime: string };
  try {
    holder = JSON.parse(readFileSync(path, 'utf8')) as { pid: number; startTime: string };
  } catch {
    // LOCK is not fsynced: after a power loss it may be empty. A reboot takes longer than the
    // 2 s after which an unreadable LOCK counts as abandoned: age it so.
    const old = (Date.now() - 60_000) / 1000;
    utimesSync(path, old, old);
    return;
  }
  if (holder.pid === process.pid) writeFileSync(path, JSON.stringify({ ...holder, startTime: 'before-the-crash' }) + '\n');
}

/** Problems a store may show before its next write: a torn or uncommitted tail of the active segment (docs/format.md "Recovery rules" 2). */
function expectOnlyTornTail(report: VerifyReport, dir: string, label: string): void {
  const active = existsSync(join(dir, 'MANIFEST')) ? segmentName(readManifestFile(dir).active.file) : '';
  const other = report.problems.filter((p) => p.file !== active || !['torn-tail', 'uncommitted-batch'].includes(p.kind));
  expect(other, `${label}: verify problems other than a torn tail`).toEqual([]);
}

/** What the undo of a failed write could not do, as its error says (docs/design.md "Failures"); undefined: it did everything. */
export function leftBehind(err: unknown): string[] | undefined {
  return (err as TzkvError).info?.leftBehind as string[] | undefined;
}

/**
 * Right after a write failed, before anything else touches the store: unless
 * its error says what its undo could not do, the failing process left nothing
 * behind: no bytes beyond the committed end of the active segment, no file
 * the manifest does not list (nor in `before`, what was there already), no lock.
 */
export function expectNothingLeftBehind(dir: string, err: unknown, label: string, before: string[] = []): void {
  if (leftBehind(err) !== undefined) return;
  const listed = new Set(['MANIFEST', ...before]);
  if (!listed.has('LOCK')) expect(existsSync(join(dir, 'LOCK')), `${label}: the lock is released`).toBe(false);
  const v = View.load(realFs, dir, PLAIN);
  try {
    const m = v.manifest;
    if (m) {
      for (const s of m.segments) listed.add(segmentName(s.file));
      for (const r of m.runs) listed.add(runName(r.file));
      expect(v.activeSize, `${label}: no bytes beyond the committed end of ${segmentName(m.active.file)}`).toBe(v.tailEnd);
    }
    expect(readdirSync(dir).filter((name) => !listed.has(name)), `${label}: files the manifest does not list`).toEqual([]);
  } finally {
    v.close();
  }
}

export function expectIoError(err: unknown, label: string): void {
  expect(err, `${label}: rejects with a TzkvError, not a raw fs error`).toBeInstanceOf(TzkvError);
  expect((err as TzkvError).code, `${label}: ${(err as Error).message}`).toBe('IO');
}

/**
 * Opens the store in `dir` with the real file system and checks it: verify
 * shows at most a torn tail; it holds one of `candidates`; a new write lands
 * and, after another reopen, it and the chosen state are readable and verify
 * is clean. Returns the index of the candidate the store held.
 */
export async function checkRecovered(dir: string, clock: Clock, keys: string[], candidates: State[], label: string, options: EngineOptions = {}): Promise<number> {
  let store = await openStore(dir, clock, options);
  expectOnlyTornTail(await store.verify(), dir, label);
  const chosen = await expectOneOf(store, keys, candidates, clock.t, label);
  const probe = 'zz-probe';
  expect(await store.put(probe, valueOf(probe, 1)), `${label}: a write after recovery`).toBe(true);
  expect((await store.verify()).problems, `${label}: verify after the first write`).toEqual([]);
  await store.close();
  expect(existsSync(join(dir, 'LOCK')), `${label}: the lock is released`).toBe(false);
  store = await openStore(dir, clock, options);
  const after = new Map(candidates[chosen]);
  after.set(probe, { version: 1, expiresAt: null });
  await expectOneOf(store, [...keys, probe], [after], clock.t, `${label}, reopened after the write`);
  await store.close();
  return chosen;
}
