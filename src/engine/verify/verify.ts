// verify: read every byte of the store and report what is wrong, never throw
// on damaged data (docs/design.md "Verify"). Read-only; takes no lock.
// Order: the manifest, the directory's other files, every segment (records
// into a RecordJoin), then one merge walk of the index runs against them.
import type { VerifyReport } from '../../api.js';
import { TzkvError } from '../../errors.js';
import { MANIFEST_NAME } from '../../format/constants.js';
import type { Manifest } from '../../format/manifest.js';
import type { FileSystem } from '../../io/fs.js';
import type { StoreCodec } from '../../format/store-codec.js';
import type { Processes } from '../../io/processes.js';
import { realProcesses } from '../../io/processes.js';
import { fileKind, leftoverUnlessListed } from '../files/file-kinds.js';
import type { FileKind } from '../files/file-kinds.js';
import { inspectDir, runName, segmentName } from '../files/layout.js';
import { findManifest, readManifest } from '../files/store-manifest.js';
import { listedNames } from '../files/manifest-files.js';
import { RecordJoin } from './record-join.js';
import { RunReader } from '../runs/run-reader.js';
import { VerifyWorker } from './verify-worker.js';
import type { WorkerVerdict } from './worker-ring.js';
import { DEFAULT_LIMITS, Scratch, ScratchError } from './scratch.js';
import type { VerifyLimits } from './scratch.js';
import { VerifyLog } from './verify-log.js';
import { openToOthers } from '../files/permissions.js';
import { verifyRuns } from './verify-runs.js';
import { KEYS_NOT_CHECKED, verifyRunsWithoutKeys } from './verify-runs-keyless.js';
import { keysGiven } from '../keys-given.js';
import { checkFileKeys, checkKeyRanges } from './verify-file-keys.js';
import { checkKeyring } from './verify-keyring.js';
import { verifySegment } from './verify-segments.js';
import type { SegmentPlan } from './verify-segments.js';
import { followerCut } from '../read/view.js';
import { segmentVersion } from '../files/made-as.js';
import { V1_FILE } from '../../format/file-header.js';

const CHUNK = 4 * 1024 * 1024;

/** tzkv's own files that no manifest lists and no writer removes, or that a writer may be writing now: verify does not warn about them. */
const UNLISTED_OWN = new Set<FileKind>(['manifest', 'keyring', 'lock', 'lock-break', 'lock-temp', 'verified', 'replicating', 'followers', 'quarantine', 'quarantine-temp']);

/** Warns about files the manifest does not account for; tzkv's own files are left out. */
function checkDirectory(fs: FileSystem, dir: string, m: Manifest, log: VerifyLog, processes: Processes): void {
  const listed = listedNames(m);
  let names: string[];
  try {
    names = fs.readdir(dir);
  } catch (err) {
    log.problem('', null, 'unreadable', log.describe(err));
    return;
  }
  const exposed = openToOthers(fs, dir);
  if (exposed) log.warning('', null, 'permissions', exposed);
  for (const name of names.sort()) {
    const f = fileKind(name);
    if (listed.has(name) || UNLISTED_OWN.has(f.kind)) continue;
    if (f.pid > 0) {
      if (!processes.alive(f.pid)) log.warning(name, null, 'leftover', `left by process ${f.pid}, which is gone; the next writer removes it`);
      continue;
    }
    if (leftoverUnlessListed(f)) {
      log.warning(name, null, 'leftover', 'not listed in the manifest (left by an interrupted write); the next writer removes it');
    } else {
      log.warning(name, null, 'unknown-file', 'not a tzkv file; verify does not check it and tzkv never touches it');
    }
  }
}

type Report = Omit<VerifyReport, 'recorded'> & { unreadable: VerifyLog['unreadableRanges'] };

/** The store's segments as verify scans them; `worker` checks the sealed ones' CRCs. */
function segmentPlans(m: Manifest, worker: VerifyWorker | null): SegmentPlan[] {
  // The active segment may grow while verify runs: its CRCs are always checked here, as far as it is read.
  const cut = followerCut(m);
  return m.segments.map((s) => {
    const active = s.file === m.active.file;
    return {
      file: s.file,
      size: s.size,
      indexedTo: active ? m.active.indexedTo : Infinity,
      ...(worker && s.size !== null ? { worker } : {}),
      ...(active && cut !== undefined ? { cut } : {}),
    };
  });
}

/** A verify between its two phases: everything read and walked, the last checks waiting. */
interface StoreScan {
  log: VerifyLog;
  m: Manifest | null;
  started: number;
  lastChecks: () => void;
  scratch: Scratch;
}

/** Limits that never spill: verify's way when its scratch directory cannot take the files. */
const IN_MEMORY: VerifyLimits = { records: Infinity, ttlEntries: Infinity, candidates: Infinity };

/**
 * Reads the manifest, the directory, every segment, and walks the index; the
 * last checks wait in the result. `worker`: the thread that checks the sealed
 * segments' CRCs and the runs' keys against their bloom filters (none: here). `manifest`: check the store against this
 * one instead of its MANIFEST (a repair checking the manifest it rebuilt,
 * before writing it).
 */
function scanStore(fs: FileSystem, dir: string, codec: StoreCodec, onProgress: ((done: number, total: number) => void) | undefined, worker: VerifyWorker | null, limits: VerifyLimits, processes: Processes, manifest?: Manifest): StoreScan {
  const started = Date.now();
  const log = new VerifyLog(onProgress);
  const scratch = new Scratch(fs, limits.dir);
  const none = { log, m: null, started, lastChecks: () => undefined, scratch };
  let m: Manifest | null;
  try {
    if (manifest) m = manifest;
    else if (inspectDir(fs, dir) === 'missing') {
      log.problem('', null, 'no-store', `no tzkv store at ${dir}`);
      return none;
    } else {
      const found = findManifest(fs, dir);
      if (found.kind === 'missing') {
        log.problem(MANIFEST_NAME, null, 'missing-file', found.error.message);
        return none;
      }
      if (found.kind === 'damaged' || found.kind === 'unfinished') throw found.error;
      m = found.kind === 'manifest' ? found.manifest : null;
    }
  } catch (err) {
    const notAStore = err instanceof TzkvError && err.code === 'NOT_A_STORE';
    if (err instanceof TzkvError && err.code === 'VERSION') log.newerVersion(MANIFEST_NAME, err.message);
    else log.problem(notAStore ? '' : MANIFEST_NAME, notAStore ? null : 0, notAStore ? 'not-a-store' : 'bad-manifest', log.describe(err));
    return none;
  }
  if (!m) return none;
  log.files++;
  try {
    checkDirectory(fs, dir, m, log, processes);
    for (const s of m.segments) log.total += s.size ?? fs.stat(`${dir}/${segmentName(s.file)}`)?.size ?? 0;
    for (const r of m.runs) log.total += fs.stat(`${dir}/${runName(r.file)}`)?.size ?? 0;
    const chunk = Buffer.allocUnsafe(CHUNK);
    const keys = keysGiven(codec);
    const keyring = checkKeyring(fs, dir, m, log);
    checkFileKeys(fs, dir, codec, m, keyring ?? (keys ? new Set(keys.ids) : null), log);
    if (keys) checkKeyRanges(codec, m, dir, log);
    if (keys === null) {
      // Encrypted, no key given: framing, CRCs and layout only; what needs the plaintext is reported as not checked.
      log.skipped.push(KEYS_NOT_CHECKED);
      for (const plan of segmentPlans(m, null)) verifySegment(fs, dir, codec, plan, chunk, log, null);
      verifyRunsWithoutKeys(fs, dir, codec, m, log, { scratch, limits });
      return { log, m, started, lastChecks: () => undefined, scratch };
    }
    const records = new RecordJoin(limits, scratch);
    for (const plan of segmentPlans(m, worker)) verifySegment(fs, dir, codec, plan, chunk, log, records);
    records.seal();
    return { log, m, started, lastChecks: verifyRuns(fs, dir, codec, m, records, log, { scratch, limits }, worker), scratch };
  } catch (err) {
    const failure = scratch.failure(err);
    if (failure) {
      scratch.dispose();
      throw failure;
    }
    log.problem('', null, 'unreadable', `verify stopped early: ${log.describe(err)}`);
    return { log, m, started, lastChecks: () => undefined, scratch };
  }
}

/** Runs a scan's last checks, ends its scratch files, and reports what it all found. */
function finishReport(scan: StoreScan, onProgress: ((done: number, total: number) => void) | undefined): Report {
  const { log } = scan;
  try {
    scan.lastChecks();
  } catch (err) {
    const failure = scan.scratch.failure(err);
    if (failure) throw failure;
    // A bug or an I/O error: still a report, naming what happened.
    log.problem('', null, 'unreadable', `verify stopped early: ${log.describe(err)}`);
  } finally {
    scan.scratch.dispose();
  }
  onProgress?.(log.bytes, Math.max(log.total, log.bytes));
  return {
    ok: log.problemCount === 0,
    newerVersion: log.newer,
    files: log.files,
    records: log.records,
    bytes: log.bytes,
    problemCount: log.problemCount,
    problems: log.problems,
    warnings: log.warnings,
    skipped: log.skipped,
    durationMs: Date.now() - scan.started,
    unreadable: log.unreadableRanges,
  };
}

/**
 * After `err`: when it is a failure of verify's scratch files (the temporary
 * directory is read-only, full, missing), verifies again holding everything
 * in memory, and says so in a warning; else throws it.
 */
function againInMemory(err: unknown, fs: FileSystem, dir: string, codec: StoreCodec, onProgress: ((done: number, total: number) => void) | undefined, processes: Processes, manifest?: Manifest): Report {
  if (!(err instanceof ScratchError)) throw err;
  const report = finishReport(scanStore(fs, dir, codec, onProgress, null, IN_MEMORY, processes, manifest), onProgress);
  report.warnings.unshift({ file: '', offset: null, kind: 'no-scratch', message: `${err.message}; verify held what it checks in memory instead` });
  return report;
}

/**
 * Verifies on this thread alone; against `manifest` when given, else the
 * store's MANIFEST. `limits`: how much it holds in memory before spilling (tests).
 * `processes` judges whether a staging or compaction file's process is gone.
 * `codec`: the store's (verify checks framing and CRCs without its keys).
 */
export function verifyStore(fs: FileSystem, dir: string, codec: StoreCodec, onProgress?: (done: number, total: number) => void, manifest?: Manifest, limits = DEFAULT_LIMITS, processes: Processes = realProcesses): Report {
  try {
    return finishReport(scanStore(fs, dir, codec, onProgress, null, limits, processes, manifest), onProgress);
  } catch (err) {
    return againInMemory(err, fs, dir, codec, onProgress, processes, manifest);
  }
}

/** Where a run's bloom filter starts, as the one-thread walk reports a bloom mismatch; null when its header cannot be read now. */
function bloomOffsetOf(fs: FileSystem, dir: string, codec: StoreCodec, file: number): number | null {
  try {
    const run = RunReader.open(fs, dir, file, codec);
    run.close();
    return run.header.bloomOffset;
  } catch {
    return null;
  }
}

/** Segment bytes from which verify checks record CRCs on a second thread. */
export const PARALLEL_MIN_BYTES = 64 * 1024 * 1024;

/**
 * Verifies with a worker thread checking the sealed segments' record CRCs (and
 * in an encrypted store, given its key, their groups' tags) and the runs' keys
 * against their bloom filters (not an encrypted store's: sealed), on the bytes
 * this thread reads through `fs`, while this one scans framing and walks the
 * index. A segment the worker finds a bad record in is then checked again
 * here, the sequential way, which reports it; in an encrypted store the whole
 * store is (docs/design.md "Verify", Two cores). Only for stores of
 * PARALLEL_MIN_BYTES of sealed segments or more (`minBytes` for tests).
 */
export async function verifyStoreParallel(fs: FileSystem, dir: string, codec: StoreCodec, onProgress?: (done: number, total: number) => void, minBytes = PARALLEL_MIN_BYTES, limits = DEFAULT_LIMITS, processes: Processes = realProcesses): Promise<Report> {
  try {
    return await parallel(fs, dir, codec, onProgress, minBytes, limits, processes);
  } catch (err) {
    return againInMemory(err, fs, dir, codec, onProgress, processes);
  }
}

async function parallel(fs: FileSystem, dir: string, codec: StoreCodec, onProgress: ((done: number, total: number) => void) | undefined, minBytes: number, limits: VerifyLimits, processes: Processes): Promise<Report> {
  let m: Manifest | null = null;
  try {
    m = readManifest(fs, dir);
  } catch {
    m = null; // damaged, newer, unreadable: the sequential path reports it
  }
  const sealedBytes = m?.segments.reduce((n, s) => n + (s.size ?? 0), 0) ?? 0;
  // An encrypted store without the key on one thread: there is nothing for the worker's join and bloom checks, and
  // no key material goes to a thread that has no key.
  const encrypted = codec.encryption !== undefined;
  if (!m || sealedBytes < minBytes || sealedBytes === 0 || (encrypted && keysGiven(codec) === null)) return verifyStore(fs, dir, codec, onProgress, undefined, limits, processes);
  // Sealed segments only (they never change); the active one is checked on this thread. An encrypted store's
  // runs are sealed: their keys are checked against their filters here, as they are opened.
  const sealed = segmentPlans(m, null).filter((p) => p.size !== null);
  const jobs = sealed.map((p) => ({ file: p.file, to: p.size!, as: segmentVersion(fs, `${dir}/${segmentName(p.file)}`, p.file) ?? V1_FILE }));
  const worker = VerifyWorker.start(fs, dir, codec, jobs, encrypted ? [] : m.runs.map((r) => r.file));
  if (!worker) return verifyStore(fs, dir, codec, onProgress, undefined, limits, processes);
  let scan: StoreScan;
  let verdict: WorkerVerdict | null;
  try {
    scan = scanStore(fs, dir, codec, onProgress, worker, limits, processes);
    verdict = await worker.finish();
  } finally {
    worker.stop();
  }
  // The worker failed, or the store changed between the two reads of its manifest: the sequential way, from the start.
  // So too when the worker found an encrypted segment bad: this thread's key hashes of its groups are then
  // unauthenticated (sealed-key-hashes.ts), and the one-thread verify reports the damage, the index entries it hides included.
  if (verdict === null || scan.m?.generation !== m.generation || (encrypted && [...verdict.segments.values()].some((bad) => bad >= 0))) {
    scan.scratch.dispose();
    return verifyStore(fs, dir, codec, onProgress, undefined, limits, processes);
  }
  const { log } = scan;
  const chunk = Buffer.allocUnsafe(CHUNK);
  for (const plan of sealed) {
    if (verdict.segments.get(plan.file)! < 0) continue;
    // Checked again with CRCs: what it reports replaces what the framing-only scan said of this segment.
    const counted = { files: log.files, records: log.records, bytes: log.bytes };
    log.forget(segmentName(plan.file));
    verifySegment(fs, dir, codec, plan, chunk, log, null);
    Object.assign(log, counted);
  }
  for (const run of m.runs) {
    const name = runName(run.file);
    const missing = verdict.runs.get(run.file) ?? 0; // none: the walk could not open the run, and said why
    // A run with other problems is reported already.
    if (missing > 0 && !log.problems.some((p) => p.file === name)) {
      log.problem(name, bloomOffsetOf(fs, dir, codec, run.file), 'bloom-mismatch', `the bloom filter rules out ${missing} of the keys the run holds`);
    }
  }
  return finishReport(scan, onProgress);
}
