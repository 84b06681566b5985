// verify: read every byte of the store and report what is wrong, never throw
// on damaged data (docs/design.md "Verify"). Read-only; takes no lock.
// Order: the manifest, the directory's other files, every segment (records
// into RecordTables), then one merge walk of the index runs against them.
import type { VerifyReport } from '../api.js';
import { TzkvError } from '../errors.js';
import { parseFileName } from '../format/bytes.js';
import { FOLLOWERS_DIR, LOCK_NAME, MANIFEST_NAME, REPLICATING_NAME, RUN_EXT, SEGMENT_EXT } from '../format/constants.js';
import type { Manifest } from '../format/manifest.js';
import type { FileSystem } from '../io/fs.js';
import { pidAlive } from '../lock/lockfile.js';
import { compactFilePid, inspectDir, runName, segmentName, stageFilePid } from './layout.js';
import type { RecordTable } from './record-table.js';
import { VERIFIED_NAME, isQuarantineName } from './verified.js';
import { VerifyLog } from './verify-log.js';
import { verifyRuns } from './verify-runs.js';
import { verifySegment } from './verify-segments.js';
import { readManifest } from './view.js';

const CHUNK = 4 * 1024 * 1024;

/** Warns about files the manifest does not account for; tzkv's own files are left out. */
function checkDirectory(fs: FileSystem, dir: string, m: Manifest, log: VerifyLog): void {
  const listed = new Set([...m.segments.map((s) => segmentName(s.file)), ...m.runs.map((r) => runName(r.file))]);
  let names: string[];
  try {
    names = fs.readdir(dir);
  } catch (err) {
    log.problem('', null, 'unreadable', log.describe(err));
    return;
  }
  for (const name of names.sort()) {
    if (listed.has(name) || name === MANIFEST_NAME || name === LOCK_NAME || name === `${LOCK_NAME}.break` || name === VERIFIED_NAME) continue;
    if (name === REPLICATING_NAME || name === FOLLOWERS_DIR || isQuarantineName(name) || /^LOCK\.[0-9a-f]+\.tmp$/.test(name)) continue;
    const pid = Math.max(stageFilePid(name), compactFilePid(name));
    if (pid > 0) {
      if (!pidAlive(pid)) log.warning(name, null, 'leftover', `left by process ${pid}, which is gone; the next writer removes it`);
      continue;
    }
    if (parseFileName(name, SEGMENT_EXT) > 0 || parseFileName(name, RUN_EXT) > 0 || name.endsWith('.tmp')) {
      log.warning(name, null, 'leftover', 'not listed in the manifest (left by an interrupted write); the next writer removes it');
    } else {
      log.warning(name, null, 'unknown-file', 'not a tzkv file; verify does not check it and tzkv never touches it');
    }
  }
}

export function verifyStore(fs: FileSystem, dir: string, onProgress?: (done: number, total: number) => void): Omit<VerifyReport, 'recorded'> & { unreadable: VerifyLog['unreadableRanges'] } {
  const started = Date.now();
  const log = new VerifyLog(onProgress);
  const finish = () => ({
    ok: log.problemCount === 0,
    newerVersion: log.newer,
    files: log.files,
    records: log.records,
    bytes: log.bytes,
    problemCount: log.problemCount,
    problems: log.problems,
    warnings: log.warnings,
    durationMs: Date.now() - started,
    unreadable: log.unreadableRanges,
  });
  let m: Manifest | null;
  try {
    if (inspectDir(fs, dir) === 'missing') {
      log.problem('', null, 'no-store', `no tzkv store at ${dir}`);
      return finish();
    }
    m = readManifest(fs, dir);
  } catch (err) {
    if (err instanceof TzkvError && err.code === 'VERSION') log.newerVersion(MANIFEST_NAME, err.message);
    else log.problem(err instanceof TzkvError && err.code === 'NOT_A_STORE' ? '' : MANIFEST_NAME, err instanceof TzkvError && err.code === 'NOT_A_STORE' ? null : 0, err instanceof TzkvError && err.code === 'NOT_A_STORE' ? 'not-a-store' : 'bad-manifest', log.describe(err));
    return finish();
  }
  if (!m) return finish();
  log.files++;
  try {
    checkDirectory(fs, dir, m, log);
    for (const s of m.segments) log.total += s.size ?? fs.stat(`${dir}/${segmentName(s.file)}`)?.size ?? 0;
    for (const r of m.runs) log.total += fs.stat(`${dir}/${runName(r.file)}`)?.size ?? 0;
    const chunk = Buffer.allocUnsafe(CHUNK);
    const tables = new Map<number, RecordTable | null>();
    for (const s of m.segments) {
      const indexedTo = s.file === m.active.file ? m.active.indexedTo : Infinity;
      tables.set(s.file, verifySegment(fs, dir, { file: s.file, size: s.size, indexedTo }, chunk, log));
    }
    verifyRuns(fs, dir, m, tables, log);
  } catch (err) {
    // A bug or an I/O error: still a report, naming what happened.
    log.problem('', null, 'unreadable', `verify stopped early: ${log.describe(err)}`);
  }
  onProgress?.(log.bytes, Math.max(log.total, log.bytes));
  return finish();
}
