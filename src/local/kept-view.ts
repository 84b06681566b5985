// The view a LocalStore keeps between its calls (docs/design.md "Write
// path", "The view a store keeps"), so that neither its next write session
// nor its next read rescans the active segment's unindexed tail (up to
// flushBytes, 1 MiB) when all that changed since is appends.
//
// After a write session commits, the store keeps that session's view and the
// active segment's end the session left (`settled`): the view's tail plus the
// bytes from its tailEnd up to that end are the committed log, as the
// manifest the view holds lists it. Nobody cuts a segment back below
// committed records (a writer cuts only a torn end past them, an undo only
// back to its own committed end), and anything else (a flush, merge, roll,
// compaction, repair or replicate) installs another manifest. So:
//  * a write session, under the lock, finding the same manifest and the
//    segment at least that long, catches the view up by reading only the
//    bytes after it: this process's own last records, and whatever other
//    processes appended since (all committed or cut by now: the lock is held);
//  * a read, without the lock, finding the same manifest and the segment
//    exactly that long, reads only this process's own last records. When
//    another process appended, it loads a new view: bytes read without the
//    lock may be a write in flight that fails and is cut back, and then
//    written over (they are never taken as settled).
// Anything else, or a session that failed (its undo cut the segment back),
// and the next call loads a new view.
import type { FileSystem } from '../io/fs.js';
import type { StoreCodec } from '../format/store-codec.js';
import { View } from '../engine/read/view.js';
import type { WriteSession } from '../engine/write/write-session.js';

export class KeptView {
  private view: View | undefined;
  /** The active segment's end this store's last write session left, while `view` is that session's (see above). */
  private settled: number | undefined;

  constructor(
    private readonly fs: FileSystem,
    private readonly dir: string,
    /** The store's: every view is loaded with it. */
    private readonly codec: StoreCodec,
  ) {}

  /**
   * A view current now, for a read: the kept one when still current or only
   * this store's own last records are new, else a new one (kept). Throws
   * View.load's errors (ENOENT: a file vanished under it, retry).
   */
  forRead(): View {
    const v = this.view;
    if (v) {
      if (this.settled !== undefined) {
        const size = v.activeSizeNow();
        if (size === this.settled && v.catchUp(size)) return v;
      } else if (v.stillCurrent()) {
        return v;
      }
    }
    this.drop();
    this.view = View.load(this.fs, this.dir, this.codec);
    return this.view;
  }

  /**
   * The view for a write session, current under the lock, which the session
   * then owns (give it back with keep(), or it is closed with the session):
   * the kept one caught up when this store's last session left it and only
   * appends came since, else a new one. REQUIRES: the writer lock.
   */
  forWrite(): View {
    const v = this.view;
    const settled = this.settled;
    this.view = undefined;
    this.settled = undefined;
    if (v && settled !== undefined) {
      try {
        const size = v.activeSizeNow();
        if (size !== undefined && size >= settled && v.catchUp(size)) return v;
      } catch {
        // A file or the manifest could not be read: a new view says why, or finds the store as it is now.
      }
    }
    v?.close();
    return View.load(this.fs, this.dir, this.codec);
  }

  /** Keeps the view of a write session that committed (before it closes): the next calls start from it. */
  keep(session: WriteSession): void {
    this.drop();
    const view = session.keepView();
    const { active } = session;
    this.view = view;
    // A session that ends with no segment open for appends (a promote, a compaction that made an older one active again) settles nothing.
    this.settled = active.isOpen && active.file === view.activeFile ? active.end : undefined;
  }

  /** Forgets the view (closing it): the next call loads a new one. After a failed write, a repair, a close. */
  drop(): void {
    this.view?.close();
    this.view = undefined;
    this.settled = undefined;
  }
}
