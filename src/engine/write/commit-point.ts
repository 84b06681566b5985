// What a write that fails goes back to (docs/design.md "Failures"): the
// active segment's committed end as the last installed manifest names it, and
// the files that manifest lists. The commit point of a write is its append
// when it needs no index flush, else the manifest that indexes it.
import type { TzkvError } from '../../errors.js';
import type { Manifest } from '../../format/manifest.js';
import type { FileSystem } from '../../io/fs.js';
import type { Processes } from '../../io/processes.js';
import { segmentName } from '../files/layout.js';
import { cutBack, removeOwnLeftovers, undoneError } from '../files/leftovers.js';
import type { ActiveSegment } from './active-segment.js';

export class CommitPoint {
  /** The active segment and its committed end: what undo() cuts back to (null: none is open). */
  private committed: { file: number; end: number } | null = null;
  /** Records appended since the last manifest was installed. */
  private pending = false;
  /** An installed manifest covers records this session appended: that write stays whatever fails after. */
  private stored = false;

  /** The active segment is open for appends, everything in it committed. */
  opened(active: ActiveSegment): void {
    this.committed = { file: active.file, end: active.end };
  }

  appended(): void {
    this.pending = true;
  }

  /** `m` is in place: what it lists, and the active segment up to its end, is the store now (a failure after this undoes nothing of it). */
  installed(m: Manifest, active: ActiveSegment): void {
    this.committed = active.isOpen ? { file: m.active.file, end: active.end } : null;
    if (this.pending) this.stored = true;
    this.pending = false;
  }

  /**
   * Undoes a write that failed, before the lock is released: cuts the active
   * segment back to its committed end and removes every file `listed` (the
   * manifest on disk) does not list: a run or segment written for a manifest
   * that never came, a temp file. Returns `err` with what could not be undone
   * (the next writer does it) and whether the write itself had been stored.
   */
  undo(fs: FileSystem, dir: string, listed: Manifest | null, processes: Processes, err: TzkvError): TzkvError {
    const left: string[] = [];
    if (this.committed) cutBack(fs, dir, segmentName(this.committed.file), this.committed.end, left);
    removeOwnLeftovers(fs, dir, listed, processes, left);
    return undoneError(err, left, this.stored);
  }
}
