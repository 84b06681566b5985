// Store.changes() on a store directory (docs/design.md "Change feed"): the
// keys the log says were written since the last look, for a cache kept in
// front of the store. A look when nothing changed is two stat calls: the
// MANIFEST (every replacement is a new file, so a new inode) and the active
// segment (every append changes its size and modification time). When either
// moved, the engine's log follower (engine/follow/), the one Store.watch()
// reads, scans the records past its position, and the feed answers their
// keys as its key filter sees them: the filter answers no, so no record is
// read a second time, and a batch's keys may be told before its COMMIT is
// there, and again with it (a superset, as the contract allows). What the
// log cannot tell record by record is 'unknown', and the
// follower starts again at the end of the log: a compaction or repair that
// removed segments, the active segment cut back or rewritten in place (a
// write undone after a failure), damage, a follower that fell behind.
import type { ChangeFeed } from '../api.js';
import { TzkvError } from '../errors.js';
import type { FileSystem } from '../io/fs.js';
import { segmentName } from '../engine/files/layout.js';
import { loadManifest } from '../engine/files/store-manifest.js';
import { type KeyFilter, LogFollower } from '../engine/follow/log-follower.js';
import { View } from '../engine/read/view.js';
import type { StoreCodec } from '../format/store-codec.js';

type Stat = ReturnType<FileSystem['stat']>;

/** A file as last seen: where, and its stat then (undefined: not there). */
interface Seen {
  path: string;
  stat: Stat;
}

const NOTHING: readonly Buffer[] = Object.freeze([]);
/** Attempts to start the follower while files vanish under it (a merge or compaction replacing them). */
const START_RETRIES = 8;

export class LocalChangeFeed implements ChangeFeed {
  private readonly manifestPath: string;
  /** undefined: it could not start (the store unreadable); every poll answers 'unknown' and tries again. */
  private follower: LogFollower | undefined;
  /** The segments the last manifest read listed. */
  private segments = new Set<number>();
  /** The MANIFEST and the active segment as the follower last read past them. */
  private manifestSeen: Stat = undefined;
  private activeSeen: Seen | undefined;
  private closed = false;
  /** Why the follower could not start, when it could not. */
  private startFailure: unknown;
  /** The keys the follower's scan met, in the poll going on. */
  private met: Buffer[] = [];
  private readonly meet: KeyFilter = (buf, start, end) => {
    this.met.push(Buffer.from(buf.subarray(start, end)));
    return false;
  };

  constructor(
    private readonly fs: FileSystem,
    private readonly dir: string,
    /** The store's: the follower's view is loaded with it. */
    private readonly codec: StoreCodec,
  ) {
    this.manifestPath = `${dir}/MANIFEST`;
    const manifest = fs.stat(this.manifestPath);
    this.start(manifest);
    if (!this.follower) throw this.startFailure;
  }

  poll(): readonly Buffer[] | 'unknown' {
    if (this.closed) throw new TzkvError('CLOSED', `the change feed of ${this.dir} is closed`, { path: this.dir });
    // Both stats are taken before the log is read: a write after them changes them again.
    const manifest = this.fs.stat(this.manifestPath);
    const seen = this.activeSeen;
    const active = seen === undefined ? undefined : this.fs.stat(seen.path);
    if (this.follower && same(manifest, this.manifestSeen) && same(active, seen?.stat)) return NOTHING;
    return this.follow(manifest, seen && { path: seen.path, stat: active });
  }

  close(): void {
    this.closed = true;
    this.follower?.close();
    this.follower = undefined;
  }

  private follow(manifest: Stat, active: Seen | undefined): readonly Buffer[] | 'unknown' {
    if (!this.follower) return this.restart(manifest);
    try {
      if (!same(manifest, this.manifestSeen)) {
        const m = loadManifest(this.fs, this.dir);
        const listed = new Set(m?.segments.map((s) => s.file));
        for (const file of this.segments) if (!listed.has(file)) return this.restart(manifest); // compacted or repaired
        this.segments = listed;
        const path = m ? `${this.dir}/${segmentName(m.active.file)}` : undefined;
        if (path !== active?.path) active = path === undefined ? undefined : { path, stat: this.fs.stat(path) };
      }
      if (active && this.activeSeen && active.path === this.activeSeen.path && rewritten(active.stat, this.activeSeen.stat)) return this.restart(manifest);
      this.met = [];
      // No onDamage: damage in the log throws, and is 'unknown'. Nothing is yielded (meet answers no).
      for (const _ of this.follower.changes());
      this.manifestSeen = manifest;
      this.activeSeen = active;
      return this.met;
    } catch {
      return this.restart(manifest);
    } finally {
      this.met = [];
    }
  }

  /** Starts the follower again at the end of the log: whatever changed before is 'unknown'. */
  private restart(manifest: Stat): 'unknown' {
    this.follower?.close();
    this.follower = undefined;
    this.start(manifest);
    return 'unknown';
  }

  /**
   * Starts the follower at the end of the log as a view loaded now holds it.
   * The active segment is stat'ed before that view is loaded (`manifest`
   * before that): a write after either changes them again. On failure the
   * follower stays unset and `startFailure` says why.
   */
  private start(manifest: Stat): void {
    for (let attempt = 0; ; attempt++) {
      let view: View | undefined;
      try {
        const m = loadManifest(this.fs, this.dir);
        const path = m ? `${this.dir}/${segmentName(m.active.file)}` : undefined;
        const active = path === undefined ? undefined : { path, stat: this.fs.stat(path) };
        view = View.load(this.fs, this.dir, this.codec);
        this.follower = LogFollower.at(this.fs, this.dir, view, this.meet);
        this.segments = new Set(view.manifest?.segments.map((s) => s.file));
        this.manifestSeen = manifest;
        this.activeSeen = active;
        return;
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code === 'ENOENT' && attempt < START_RETRIES) continue;
        this.startFailure = err;
        return;
      } finally {
        view?.close();
      }
    }
  }
}

function same(a: Stat, b: Stat): boolean {
  if (a === undefined || b === undefined) return a === b;
  return a.ino === b.ino && a.size === b.size && a.mtimeMs === b.mtimeMs;
}

/** The active segment shorter than before, or changed without growing: bytes already read were cut or written over. */
function rewritten(now: Stat, before: Stat): boolean {
  if (now === undefined || before === undefined) return now !== before;
  return now.size < before.size || (now.size === before.size && now.mtimeMs !== before.mtimeMs) || now.ino !== before.ino;
}
