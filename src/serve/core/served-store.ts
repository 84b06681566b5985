// The store as a server sees it: one long-lived process answering many
// clients, alongside CLI processes on the same store. Reads come from a read
// cache bounded in bytes that any process's change invalidates before the
// next read; writes from many clients share one commit and one fsync (group
// commit); the writer lock is held only while a commit is written, so the CLI
// keeps working. The Redis protocol (src/serve/redis) and the HTTP API
// (src/serve/http) both use this, never the Store directly for keys.
import type { Entry, KeyInfo, ListOptions, StoreStats, Transaction } from '../../api.js';

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
  /** Read cache size in bytes (keys + values + overhead); 0 turns it off. */
  cacheBytes: number;
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
   * when the store is known not to have changed it.
   */
  get(key: Buffer): Promise<Entry | undefined>;
  /** Several keys' live entries, in order, as one cut of the store where the backend allows. */
  getMany(keys: readonly Buffer[]): Promise<Array<Entry | undefined>>;
  /**
   * Runs `fn` as one atomic unit: its reads see the store with the writes of
   * the units queued before it; its writes commit together with theirs
   * (group commit), and the promise settles once they are durable as the
   * sync mode promises. When `fn` throws, none of its writes are applied and
   * the promise rejects with that error; other units are not affected. A
   * failed commit (a full disk) rejects every unit in it, and nothing of it
   * is in the store.
   */
  write<T>(fn: (tx: Transaction) => T | Promise<T>): Promise<T>;
  /** Live keys in order (no cache), as Store.keys(). */
  keys(options?: ListOptions): AsyncIterableIterator<KeyInfo>;
  stats(): Promise<StoreStats>;
  readonly counters: ServedStoreCounters;
  /** Waits for every queued write to be committed and durable, then stops; later calls are refused. */
  close(): Promise<void>;
}
