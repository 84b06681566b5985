// Files in a store directory that no manifest lists: what a crashed or failed
// write leaves (docs/design.md "Recovery" and "Failures"). Every writer
// removes them when it starts, and a writer that fails removes its own
// before it lets go of the lock.
import { TzkvError, fsReason } from '../../errors.js';
import type { Manifest } from '../../format/manifest.js';
import type { FileSystem } from '../../io/fs.js';
import { cutFileBack } from '../../io/fs.js';
import type { Processes } from '../../io/processes.js';
import { lockTempInUse } from '../../lock/lockfile.js';
import { liveCompaction } from './compaction-marker.js';
import { fileKind, leftoverUnlessListed } from './file-kinds.js';
import type { StoreFile } from './file-kinds.js';
import { highestFileNumber, listedNames } from './manifest-files.js';

/**
 * Deletes .tmp files and segment and run files that `m` (the manifest on
 * disk; null: there is none yet) does not list, except what a running
 * process still writes (beingWritten; `names`: the directory's),
 * then moves `m.nextFile` past the number of any file left on disk: a new
 * file never takes a number still in use. Returns the names that could not be
 * removed (they stay for the next writer). `processes` judges whose
 * process is live. REQUIRES: the lock.
 */
export function removeLeftovers(fs: FileSystem, dir: string, m: Manifest | null, processes: Processes, names = fs.readdir(dir)): string[] {
  const listed = m ? listedNames(m) : new Set<string>();
  const compactor = m ? liveCompaction(m, processes)?.pid : undefined;
  const left: string[] = [];
  const stayed: string[] = [];
  for (const name of names) {
    const f = fileKind(name);
    if (!leftoverUnlessListed(f) || listed.has(name) || beingWritten(fs, dir, name, f, compactor, processes)) {
      left.push(name); // not ours, listed, or a file a running process is writing
      continue;
    }
    try {
      fs.unlink(`${dir}/${name}`);
    } catch (err) {
      left.push(name); // still there (or already gone): its number stays taken
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') stayed.push(name);
    }
  }
  const taken = highestFileNumber(left);
  if (m && taken >= m.nextFile) m.nextFile = taken + 1; // carried into the next manifest the writer writes
  return stayed;
}

/**
 * Whether a running process still writes `name` and will rename or link it
 * into place: a batch it stages, its verify's note (VERIFIED.PID.tmp: never
 * this process's, which writes its note without yielding), the output of the
 * running compaction (`compactor`), a waiting writer's lock file.
 */
export function beingWritten(fs: FileSystem, dir: string, name: string, f: StoreFile, compactor: number | undefined, processes: Processes): boolean {
  switch (f.kind) {
    case 'stage':
      return processes.alive(f.pid);
    case 'verified-temp':
      return f.pid > 0 && f.pid !== processes.pid && processes.alive(f.pid);
    case 'lock-temp':
      return lockTempInUse(fs, `${dir}/${name}`, processes);
    default:
      return f.pid > 0 && f.pid === compactor;
  }
}

/** Cuts a segment back to `end` bytes, durably, when it is longer: a failed write's own bytes. What fails goes into `left`, in words. */
export function cutBack(fs: FileSystem, dir: string, name: string, end: number, left: string[]): void {
  try {
    cutFileBack(fs, `${dir}/${name}`, end);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') left.push(`cutting ${name} back to ${end} bytes failed (${fsReason(err)})`);
  }
}

/** removeLeftovers for a write being undone: what could not be removed goes into `left`, in words. */
export function removeOwnLeftovers(fs: FileSystem, dir: string, m: Manifest | null, processes: Processes, left: string[]): void {
  try {
    const stayed = removeLeftovers(fs, dir, m, processes);
    if (stayed.length > 0) left.push(`${stayed.join(', ')} could not be removed`);
  } catch (err) {
    left.push(`the store directory could not be read to remove what the write left (${fsReason(err)})`);
  }
}

/**
 * The error of a failed write, with what its undo could not do (`left`: the
 * next writer does it; also as `info.leftBehind`) and whether the write
 * itself had been stored before the failure (`info.stored`).
 */
export function undoneError(err: TzkvError, left: string[], stored = false): TzkvError {
  if (left.length === 0 && !stored) return err;
  let message = err.message;
  if (stored) message += ' (the write itself had been stored before this failure, and stays)';
  if (left.length > 0) message += `; undoing the failed write failed too: ${left.join('; ')}. The next write to the store cuts and removes what is left`;
  const info = { ...err.info, ...(left.length > 0 ? { leftBehind: left } : {}), ...(stored ? { stored } : {}) };
  return new TzkvError(err.code, message, { path: err.path, offset: err.offset, info, cause: err.cause ?? err });
}
