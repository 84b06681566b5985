// The reads of a served store: through the read cache, kept fresh by the
// store's change feed (Store.changes()). Before a read is answered, the feed
// is asked what changed since it last looked, and those keys are dropped from
// the cache ('unknown': all of them); the answer is shared by every read that
// begins in the same synchronous run (the commands of one network read), and
// a look when nothing changed costs two stat calls. So every change committed
// by any process before a read began is seen, and a key's cached entry is
// served only while the store is known not to have changed it. A read that
// went to the store is cached only if no key was dropped meanwhile (`epoch`):
// what it read may be older than a change the cache was told of.
// Without a feed (etcd) there is no cache: every read goes to the store.
import type { ChangeFeed, Entry, Store } from '../../api.js';
import type { ReadCache } from './read-cache.js';

/** Keys whose reads must be one cut: marked when any of them changes before the reads end. */
interface CutWatch {
  ids: Set<string>;
  changed: boolean;
}

/** Times getMany reads its keys again when one changed while it read, before it reads them in one transaction. */
const CUT_ATTEMPTS = 4;

export class CachedReads {
  hits = 0;
  misses = 0;
  /** A look at the feed was made in this synchronous run. */
  private looked = false;
  private readonly endRun = (): void => {
    this.looked = false;
  };
  /** Counts the times keys were dropped: a read begun at another count is not cached. */
  private epoch = 0;
  private readonly cuts = new Set<CutWatch>();

  constructor(
    private readonly store: Store,
    private readonly feed: ChangeFeed | undefined,
    private readonly cache: ReadCache | undefined,
    private readonly now: () => number,
  ) {}

  /** The key's live entry, as ServedStore.get() promises. */
  get(key: Buffer): Promise<Entry | undefined> {
    const cache = this.cache;
    if (cache === undefined) {
      this.misses++;
      return this.store.getEntry(key);
    }
    if (!this.looked) this.lookOncePerRun();
    const id = key.toString('latin1');
    const hit = cache.answer(id, this.now());
    if (hit !== undefined) {
      this.hits++;
      return hit;
    }
    this.misses++;
    return this.readThrough(cache, key, id);
  }

  /**
   * The keys' live entries as one cut of the store: read, then the feed
   * asked again, and read again when one of them changed meanwhile. Without
   * a feed, or when they keep changing, one read-only transaction (etcd
   * reads it at one revision; a directory store under the writer lock).
   */
  async getMany(keys: readonly Buffer[]): Promise<Array<Entry | undefined>> {
    if (keys.length === 0) return [];
    if (this.feed !== undefined) {
      for (let attempt = 0; attempt < CUT_ATTEMPTS; attempt++) {
        const watch: CutWatch = { ids: new Set(keys.map((k) => k.toString('latin1'))), changed: false };
        this.cuts.add(watch);
        try {
          if (!this.looked) this.lookOncePerRun();
          const entries = await Promise.all(keys.map((k) => this.get(k)));
          this.look(); // after every read: whatever changed since the look before them is told now
          if (!watch.changed) return entries;
        } finally {
          this.cuts.delete(watch);
        }
      }
    }
    return this.store.transact(async (tx) => {
      // The first read fixes etcd's revision; the others are read at it.
      const first = await tx.getEntry(keys[0]);
      return [first, ...(await Promise.all(keys.slice(1).map((k) => tx.getEntry(k))))];
    });
  }

  /** This process wrote these keys (latin1 forms), or tried to: a commit just ended. */
  wrote(ids: readonly string[]): void {
    if (ids.length === 0) return;
    this.epoch++;
    for (const id of ids) this.dropped(id);
  }

  close(): void {
    this.feed?.close();
    this.cache?.clear();
  }

  private async readThrough(cache: ReadCache, key: Buffer, id: string): Promise<Entry | undefined> {
    const epoch = this.epoch;
    const entry = await this.store.getEntry(key);
    if (epoch === this.epoch) cache.remember(id, entry && owned(entry, id));
    return entry;
  }

  private lookOncePerRun(): void {
    this.looked = true;
    queueMicrotask(this.endRun);
    this.look();
  }

  /** Asks the feed what changed and drops it from the cache. */
  private look(): void {
    let changed: readonly Buffer[] | 'unknown';
    try {
      changed = this.feed!.poll();
    } catch {
      changed = 'unknown'; // the reads that follow go to the store, which says what is wrong
    }
    if (changed === 'unknown') {
      this.epoch++;
      this.cache?.clear();
      for (const watch of this.cuts) watch.changed = true;
      return;
    }
    if (changed.length === 0) return;
    this.epoch++;
    for (const key of changed) this.dropped(key.toString('latin1'));
  }

  private dropped(id: string): void {
    this.cache?.forget(id);
    for (const watch of this.cuts) if (watch.ids.has(id)) watch.changed = true;
  }
}

/**
 * The entry as the cache keeps it: its key and value copied into one buffer
 * of their own (a store's read may hand out a slice of a larger buffer, or
 * of Node's shared pool, which would stay alive with it).
 */
function owned(entry: Entry, id: string): Entry {
  const bytes = Buffer.allocUnsafeSlow(id.length + entry.value.length);
  bytes.write(id, 0, 'latin1');
  entry.value.copy(bytes, id.length);
  const e: Entry = { key: bytes.subarray(0, id.length), value: bytes.subarray(id.length), expiresAt: entry.expiresAt };
  if (entry.version !== undefined) e.version = entry.version;
  return e;
}
