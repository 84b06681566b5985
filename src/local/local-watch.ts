// Store.watch() on a store directory (docs/design.md "Watch"): the engine's
// log follower (engine/follow/) read whenever the directory says something
// changed, and on a timer as well, since such notifications can be lost; the
// expiries of the keys watched kept on the clock. A reader: no lock, nothing
// written, so a watch never holds up a writer.
import type { WatchEvent } from '../api.js';
import type { Watching } from '../checked-store.js';
import { ioError, isTzkvError } from '../errors.js';
import { KIND_PUT } from '../format/constants.js';
import type { DirectoryWatch } from '../io/dir-watch.js';
import type { FileSystem } from '../io/fs.js';
import { isExpired } from '../keys.js';
import { damageOf } from '../engine/damage.js';
import { ExpirySchedule } from '../engine/follow/expiry-schedule.js';
import { type KeyFilter, LogFollower } from '../engine/follow/log-follower.js';
import { mergedEntries } from '../engine/read/merged-entries.js';
import { View } from '../engine/read/view.js';
import type { StoreCodec } from '../format/store-codec.js';

export interface WatchContext {
  fs: FileSystem;
  dir: string;
  /** The store's: the watch's view and follower read with it. */
  codec: StoreCodec;
  /** The clock expiries are judged by. */
  now: () => number;
  watchDirectory: DirectoryWatch;
}

/** How often the log is looked at when nothing said it changed (ms): the backstop for lost notifications. */
const POLL_MS = 200;
const START_RETRIES = 8;

/** The watch's events, as Store.watch() documents them. REQUIRES: `w` checked (checked-store.ts). */
export async function* watchLog(ctx: WatchContext, w: Watching): AsyncGenerator<WatchEvent> {
  const { signal } = w;
  if (signal?.aborted) return;
  const wake = new Wake();
  const stopWatching = ctx.watchDirectory(ctx.dir, wake.ring);
  signal?.addEventListener('abort', wake.ring);
  const schedule = new ExpirySchedule();
  let follower: LogFollower | undefined;
  try {
    const start = startAt(ctx, w);
    follower = start.follower;
    try {
      for (const e of start.present(schedule)) {
        if (signal?.aborted) return;
        yield e;
      }
    } finally {
      start.view.close();
    }
    for (;;) {
      // Expiries are judged at a time taken before the log is read: a write made before it is seen first.
      const now = ctx.now();
      for (const r of follower.changes(w.onDamage)) {
        if (signal?.aborted) return;
        schedule.set(r.key.toString('latin1'), r.kind === KIND_PUT ? r.expiresAt : 0);
        yield r.kind === KIND_PUT
          ? { type: 'put', key: r.key, value: r.value, expiresAt: r.expiresAt === 0 ? null : r.expiresAt }
          : { type: 'del', key: r.key, value: null, expiresAt: null };
      }
      for (const [key, at] of schedule.expired(now)) {
        if (signal?.aborted) return;
        yield { type: 'expire', key: Buffer.from(key, 'latin1'), value: null, expiresAt: at };
      }
      if (signal?.aborted) return;
      const next = schedule.next();
      await wake.after(next === undefined ? POLL_MS : Math.max(0, Math.min(POLL_MS, next - ctx.now())));
    }
  } catch (err) {
    throw ioError(err, 'cannot watch store', ctx.dir);
  } finally {
    stopWatching();
    signal?.removeEventListener('abort', wake.ring);
    follower?.close();
  }
}

/** Which record keys the watch reports. */
function keyFilter({ match, exact }: Watching): KeyFilter {
  const n = match.length;
  return exact
    ? (buf, start, end) => end - start === n && buf.compare(match, 0, n, start, end) === 0
    : (buf, start, end) => end - start >= n && buf.compare(match, 0, n, start, start + n) === 0;
}

/**
 * Where the watch starts: one view of the store, the follower at its end,
 * and what it holds of the keys watched (`present`): each live one's expiry
 * into the schedule and, with `existing`, each one as a put. Retried when a
 * compaction or index merge removed a file of the view meanwhile.
 */
function startAt(ctx: WatchContext, w: Watching) {
  for (let attempt = 0; ; attempt++) {
    let view: View | undefined;
    try {
      view = View.load(ctx.fs, ctx.dir, ctx.codec);
      view.openAll();
      const follower = LogFollower.at(ctx.fs, ctx.dir, view, keyFilter(w));
      const v = view;
      return { view: v, follower, present: (schedule: ExpirySchedule) => present(v, w, schedule, ctx.now()) };
    } catch (err) {
      view?.close();
      if ((err as NodeJS.ErrnoException).code === 'ENOENT' && attempt < START_RETRIES) continue;
      throw err;
    }
  }
}

/** The live keys watched as `view` holds them: their expiries scheduled, and each a put event when `existing` asks. */
function* present(view: View, w: Watching, schedule: ExpirySchedule, now: number): Generator<WatchEvent> {
  for (const e of mergedEntries(view, w.match, w.match, w.onDamage)) {
    if (w.exact && !e.key.equals(w.match)) return;
    if (e.kind !== KIND_PUT || isExpired(e.expiresAt, now)) continue;
    schedule.set(e.key.toString('latin1'), e.expiresAt);
    if (!w.existing) continue;
    let value: Buffer;
    try {
      value = view.readValue(e.key, e);
    } catch (err) {
      if (!isTzkvError(err, 'CORRUPT') || !w.onDamage) throw err;
      w.onDamage(damageOf(err, 'corrupt-record'));
      continue;
    }
    yield { type: 'put', key: e.key, value, expiresAt: e.expiresAt === 0 ? null : e.expiresAt };
  }
}

/** What the watch waits for: a notification, an abort, or a time. A ring while nobody waits is kept for the next wait. */
class Wake {
  private rung = false;
  private wakeUp: (() => void) | undefined;

  readonly ring = (): void => {
    this.rung = true;
    this.wakeUp?.();
  };

  after(ms: number): Promise<void> {
    if (this.rung) {
      this.rung = false;
      return Promise.resolve();
    }
    return new Promise((resolve) => {
      const timer = setTimeout(() => this.wakeUp?.(), ms);
      this.wakeUp = () => {
        clearTimeout(timer);
        this.wakeUp = undefined;
        this.rung = false;
        resolve();
      };
    });
  }
}
