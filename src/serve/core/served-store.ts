// The store as a server sees it: one long-lived process answering many
// clients, alongside CLI processes on the same store. Reads come from a read
// cache bounded in bytes that any process's change invalidates before the
// next read; writes from many clients share one commit and one fsync (group
// commit); the writer lock is held only while a commit is written, so the CLI
// keeps working. The Redis protocol (src/serve/redis) and the HTTP API
// (src/serve/http) both use this, never the Store directly for keys.
import type { Entry, KeyInfo, ListOptions, Store, StoreStats, Transaction } from '../../api.js';
import { TzkvError } from '../../errors.js';
import { CachedReads } from './cached-reads.js';
import { GroupCommit } from './group-commit.js';
import { ReadCache } from './read-cache.js';
import { SyncSchedule } from './sync-schedule.js';

/** How acknowledged writes are made durable (docs/serve.md "Durability"). */
export type SyncMode =
  /** fsync before acknowledging; writes arriving together share a commit and its fsync (the default). */
  | { kind: 'always' }
  /** acknowledge once written to the OS; fsync at most `ms` later (loss window: `ms` of writes on power loss). */
  | { kind: 'batch'; ms: number }
  /** never fsync: the OS writes when it likes (loss window: the OS's, typically up to 30 s). */
  | { kind: 'never' };

export interface ServedStoreOptions {
  sync: SyncMode;
  /** Read cache size in bytes (keys + values + overhead); 0 turns it off. A store without a change feed (etcd) has none. */
  cacheBytes: number;
  /** The data's clock (ms since the epoch), as the store was opened with: TTLs count from it, expiries are judged by it (default Date.now). */
  now?: () => number;
  /** Told of a failure no caller waits for: a background fsync (batch mode) that failed. */
  onError?: (err: Error) => void;
}

export interface ServedStoreCounters {
  cacheHits: number;
  cacheMisses: number;
  /** Bytes and entries the read cache holds now. */
  cacheBytes: number;
  cacheEntries: number;
  /** Commits written, and the write units they carried (writes / commits = the group size). */
  commits: number;
  writes: number;
}

export interface ServedStore {
  /**
   * The key's live entry. Every change committed (by this server or any other
   * process) before this call began is seen: a cached entry is served only
   * when the store is known not to have changed it. The store is asked what
   * changed once per synchronous run (two stat calls when nothing did): call
   * get() for all the commands of one network read before awaiting any, and
   * they share one look. The entry may be shared with the cache: do not
   * modify it or its buffers; `key` is not kept.
   */
  get(key: Buffer): Promise<Entry | undefined>;
  /**
   * Several keys' live entries, in order, as one cut of the store: on a
   * directory, read as get() reads them, then read again should one of them
   * have changed meanwhile (after a few tries, in one read-only transaction);
   * on etcd, one read-only transaction (all at one revision).
   */
  getMany(keys: readonly Buffer[]): Promise<Array<Entry | undefined>>;
  /**
   * Runs `fn` as one atomic unit: its reads see the store with the writes of
   * the units queued before it; its writes commit together with theirs
   * (group commit), and the promise settles once they are durable as the
   * sync mode promises. When `fn` throws, none of its writes are applied and
   * the promise rejects with that error; other units are not affected. A
   * failed commit (a full disk) rejects every unit in it, and nothing of it
   * is in the store. `fn` runs under the writer lock of a store directory
   * (do only the transaction's reads and writes in it: awaiting another
   * write() there waits forever, that one commits after it), and may run more
   * than once (as Store.transact's may on etcd; and when a commit had no room
   * left for its writes, it runs again in the next): what its last run
   * returned is what the promise gives. Refused (IO) once a background fsync
   * failed.
   */
  write<T>(fn: (tx: Transaction) => T | Promise<T>): Promise<T>;
  /** Live keys in order (no cache), as Store.keys(). */
  keys(options?: ListOptions): AsyncIterableIterator<KeyInfo>;
  stats(): Promise<StoreStats>;
  /** A snapshot of the counters, taken when read. */
  readonly counters: ServedStoreCounters;
  /**
   * Waits for every queued write to be committed, makes every acknowledged
   * write durable (Store.sync(), whatever the mode), stops its timers and
   * closes its change feed; later calls are refused (CLOSED). The Store
   * stays open: its opener closes it.
   */
  close(): Promise<void>;
}

/**
 * Serves `store` (open, writable) as `options` say. The store's own sync
 * option decides whether each commit is fsynced: open it with
 * `sync: options.sync.kind === 'always'` (batch and never fsync through
 * Store.sync() instead). Throws IO when the store's changes cannot be
 * followed (Store.changes()).
 */
export function openServedStore(store: Store, options: ServedStoreOptions): ServedStore {
  checkOptions(options);
  return new Served(store, options);
}

function checkOptions({ sync, cacheBytes }: ServedStoreOptions): void {
  const kind = (sync as { kind?: unknown } | undefined)?.kind;
  if (kind !== 'always' && kind !== 'batch' && kind !== 'never') {
    throw new TzkvError('INVALID_ARGUMENT', `sync mode must be always, batch or never, got ${JSON.stringify(kind)}`);
  }
  if (sync.kind === 'batch' && !(Number.isSafeInteger(sync.ms) && sync.ms >= 0)) {
    throw new TzkvError('INVALID_ARGUMENT', `batch sync's delay must be zero or more whole milliseconds, got ${sync.ms}`);
  }
  if (!(Number.isSafeInteger(cacheBytes) && cacheBytes >= 0)) {
    throw new TzkvError('INVALID_ARGUMENT', `cache size must be zero or more whole bytes, got ${cacheBytes}`);
  }
}

/** The served store: the read path (cached-reads.ts), group commit (group-commit.ts) and the sync mode (sync-schedule.ts). */
class Served implements ServedStore {
  private readonly reads: CachedReads;
  private readonly cache: ReadCache | undefined;
  private readonly commits: GroupCommit;
  private readonly syncs: SyncSchedule;
  private closing: Promise<void> | undefined;

  constructor(
    private readonly store: Store,
    options: ServedStoreOptions,
  ) {
    const now = options.now ?? Date.now;
    const feed = store.changes();
    this.cache = feed && options.cacheBytes > 0 ? new ReadCache(options.cacheBytes) : undefined;
    this.reads = new CachedReads(store, feed, this.cache, now);
    this.syncs = new SyncSchedule(store, options.sync.kind === 'batch' ? options.sync.ms : undefined, options.onError);
    this.commits = new GroupCommit(store, now, {
      ended: (ids, written) => {
        this.reads.wrote(ids);
        if (written) this.syncs.committed();
      },
    });
  }

  get(key: Buffer): Promise<Entry | undefined> {
    return this.closing ? refused() : this.reads.get(key);
  }

  getMany(keys: readonly Buffer[]): Promise<Array<Entry | undefined>> {
    return this.closing ? refused() : this.reads.getMany(keys);
  }

  write<T>(fn: (tx: Transaction) => T | Promise<T>): Promise<T> {
    if (this.closing) return refused();
    if (typeof fn !== 'function') return Promise.reject(new TzkvError('INVALID_ARGUMENT', `write() takes a function, got ${typeof fn}`));
    const refusal = this.syncs.refusal;
    return refusal ? Promise.reject(refusal) : this.commits.submit(fn);
  }

  keys(options?: ListOptions): AsyncIterableIterator<KeyInfo> {
    if (!this.closing) return this.store.keys(options);
    return (async function* () {
      await refused();
    })();
  }

  stats(): Promise<StoreStats> {
    return this.closing ? refused() : this.store.stats();
  }

  get counters(): ServedStoreCounters {
    return {
      cacheHits: this.reads.hits,
      cacheMisses: this.reads.misses,
      cacheBytes: this.cache?.bytes ?? 0,
      cacheEntries: this.cache?.entries ?? 0,
      commits: this.commits.commits,
      writes: this.commits.units,
    };
  }

  close(): Promise<void> {
    this.closing ??= this.shutdown();
    return this.closing;
  }

  private async shutdown(): Promise<void> {
    try {
      await this.commits.idle();
      await this.syncs.finish();
    } finally {
      this.reads.close();
    }
  }
}

function refused(): Promise<never> {
  return Promise.reject(new TzkvError('CLOSED', 'the served store is closed'));
}
