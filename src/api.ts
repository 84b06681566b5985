// The store interface every backend implements: a store directory (the
// engine) and an etcd cluster. Nothing here may mention files, segments or
// offsets.
// Past 300 lines with a reason: it is the public contract, types only, each
// with the documentation an embedder reads.
//
// Keys are bytes. Wherever a key is accepted, a string is taken as its UTF-8
// encoding. Times are absolute milliseconds since the Unix epoch.
//
// The event loop ("Loop:" in each method's comment). A directory store does
// its file I/O synchronously (src/io/fs.ts: a one-shot CLI process is fastest
// so): a method returns a promise, but does its work on the caller's thread
// before that promise settles, and nothing else in the program runs
// meanwhile, unless its comment says where it yields. Waiting for a writer
// lock another process holds always yields (the wait polls on a timer). An
// etcd store waits for the network: every call yields at each round trip and
// blocks only to encode and decode. bench/event-loop.mjs measures each method.

export type KeyInput = Buffer | Uint8Array | string;
export type ValueInput = Buffer | Uint8Array | string;

export interface Entry {
  key: Buffer;
  value: Buffer;
  /** Absolute expiry in ms since the epoch, or null when the key never expires. */
  expiresAt: number | null;
  /**
   * The key's version, an opaque string that PutOptions.ifVersion and
   * DeleteCondition.ifVersion compare: it changes whenever the key is written,
   * and one read before a write never matches after it. Set by getEntry(),
   * swap()'s previous, update() (the entry it found, and the one it wrote) and
   * entries(); keys() gives none. A directory store's also changes when a
   * compaction or repair moves the record (a condition on it then fails, never
   * the other way round); etcd's is the key's mod_revision.
   */
  version?: string;
}

/** What listing a key yields when values are not wanted. */
export interface KeyInfo {
  key: Buffer;
  expiresAt: number | null;
}

export interface PutOptions {
  /** Time to live in ms from now. Mutually exclusive with expiresAt. */
  ttlMs?: number;
  /** Absolute expiry in ms since the epoch; null or 0 means never. */
  expiresAt?: number | null;
  /** Only write when the key does not exist; put() then resolves false if it did. */
  ifAbsent?: boolean;
  /** Only write when the key's live value is exactly these bytes (not with ifAbsent or ifVersion). */
  ifValue?: ValueInput;
  /** Only write when the key's version (Entry.version) is this one (not with ifAbsent or ifValue). */
  ifVersion?: string;
}

/** What a conditional delete compares: exactly one of the two. */
export interface DeleteCondition {
  ifValue?: ValueInput;
  ifVersion?: string;
}

/** What swap() did: whether it wrote, and the live entry it found (undefined: none), with its version. */
export interface Swapped {
  written: boolean;
  previous: Entry | undefined;
  /** The version of the value it wrote (Entry.version); undefined when it wrote nothing. */
  version?: string;
}

/**
 * For reads that go on past damaged data (listings, stats): `onDamage` is told
 * of each damaged stretch they stepped over (file, offset, kind, message: the
 * shape of verify's problems). Without it, such a read throws CORRUPT once it
 * has returned everything it could (`err.info.damage` lists the stretches), so
 * an incomplete answer is never taken for a whole one.
 */
export interface ReadOptions {
  onDamage?: (damage: VerifyProblem) => void;
}

export interface ListOptions extends ReadOptions {
  /** Only keys starting with these bytes. */
  prefix?: KeyInput;
  /** Stop after this many results. */
  limit?: number;
  /**
   * Only keys after this one in byte order (it need not exist): a listing
   * resumes where an earlier one ended, at the cost of a seek, not of
   * stepping over the keys before it (a page of the server's listings).
   */
  after?: KeyInput;
}

/** What Store.watch() follows: one key, or every key under a prefix. Give `key` or `prefix`, not both. */
export interface WatchOptions extends ReadOptions {
  key?: KeyInput;
  /** Every key starting with these bytes; empty: every key. */
  prefix?: KeyInput;
  /** First a put event for each watched key that exists when the watch starts (its value as of then), then the changes. */
  existing?: boolean;
  /** Ends the watch: the iterator finishes, quietly. Breaking out of the loop (return()) ends it too. */
  signal?: AbortSignal;
}

/** One change Store.watch() reports. */
export interface WatchEvent {
  /** put: a value was written; del: the key was deleted; expire: its expiry passed with no later write of it. */
  type: 'put' | 'del' | 'expire';
  key: Buffer;
  /** The value a put wrote; null for del and expire. */
  value: Buffer | null;
  /** put: the key's expiry (ms), or null for never; expire: when it expired; del: null. */
  expiresAt: number | null;
}

/** An atomic group of writes: a reader sees all of it or none of it. */
export interface Batch {
  /**
   * Queues a put. A large batch stages its records in a file in the store as
   * it grows: when that file cannot be written (a full disk), the call throws
   * IO and the batch is discarded, its file removed. Loop: synchronous (the
   * staging file is written on the caller's thread).
   */
  put(key: KeyInput, value: ValueInput, options?: Omit<PutOptions, 'ifAbsent' | 'ifValue' | 'ifVersion'>): this;
  del(key: KeyInput): this;
  /** Number of operations queued so far. */
  readonly length: number;
  /** Makes every queued write visible at once, durably (unless sync is off). Loop: as Store.put(), for the whole batch. */
  write(): Promise<void>;
  /** Throws the queued writes away. */
  discard(): Promise<void>;
}

/**
 * The reads and writes of one transaction (Store.transact). Reads see the
 * store as the transaction found it, together with the transaction's own
 * earlier writes; writes are queued, each key's last one counting, and
 * become visible together when the transaction's function returns, or not
 * at all. Arguments are checked as Store's are. Once the function has
 * returned, every call is refused (INVALID_ARGUMENT).
 */
export interface Transaction {
  /** The key's entry as this transaction sees it (undefined: missing, expired, or deleted by it). Loop: as Store.getEntry(); none for a key it wrote. */
  getEntry(key: KeyInput): Promise<Entry | undefined>;
  /**
   * Queues a put; a ttlMs counts from this call. An expiresAt already past
   * is taken (as by Batch.put): the key is written expired, so it is gone.
   * A Buffer value is kept, not copied: leave it unchanged until transact()
   * has settled.
   */
  put(key: KeyInput, value: ValueInput, options?: Omit<PutOptions, 'ifAbsent'>): this;
  /** Queues a delete (of a key that may not exist). */
  del(key: KeyInput): this;
}

export interface StoreStats {
  /** Where the store lives (a resolved directory, or a cluster address). */
  location: string;
  formatVersion: number;
  /** Live keys: present and not expired. */
  keys: number;
  /** Keys whose expiry has passed but whose records are still stored. */
  expiredKeys: number;
  segments: number;
  totalBytes: number;
  /** Bytes of the records of live keys (in an encrypted store, with each one's share of its group's SEAL record: docs/design.md "Stats of version 2 stores"). */
  liveBytes: number;
  /** totalBytes − liveBytes − the segments' 16-byte file headers: overwritten, deleted and expired records, tombstones, batch COMMIT records, SEAL records of dead groups. */
  deadBytes: number;
  /** deadBytes / totalBytes (0 for an empty store). */
  deadRatio: number;
  /** Put and delete operations ever written (persisted counters). */
  puts: number;
  deletes: number;
  lastCompaction: string | null;
  /** How the last compaction ended, with its figures; null before the first. */
  lastCompactionReport: CompactionSummary | null;
  /** The compaction running now (its snapshot taken, its switch not yet made), or null. */
  compacting: CompactionInfo | null;
  /** Records (keys' newest versions: deleted or expired) compactions have dropped, in all. */
  compactedRecords: number;
  /** When verify last ran and what it found, or null. */
  lastVerify: VerifyRecord | null;
  /**
   * 'census' when keys and bytes came from the counters the store keeps
   * (constant cost); 'scan' when the store predates them and its index was
   * merged (the next compaction starts the counters); 'etcd' when an etcd
   * cluster counted the keys under the prefix (its database sizes are the bytes);
   * 'indexed' when an encrypted store opened without its key has records not
   * yet indexed, which count in puts and deletes but not in keys and bytes
   * (which of them are new keys needs the key).
   */
  counted: 'census' | 'scan' | 'etcd' | 'indexed';
  /** Who holds the writer lock now, or null. */
  lockHolder: LockHolderInfo | null;
  /** Followers this store has replicated to, oldest catch-up first. */
  followers: FollowerInfo[];
  /** Backend-specific extra facts (index runs, the active segment, ...). */
  details: Record<string, unknown>;
  /**
   * An encrypted store's cipher and the id of the data key new files are
   * written with (KEYRING `current`; null when KEYRING cannot be read); null
   * for a store that is not encrypted, and on etcd. Known without the secret.
   */
  encryption: { cipher: string; dataKey: number | null } | null;
  /**
   * A compressed store's algorithm, and the PUT values the last compaction
   * kept: their bytes as stored and uncompressed, and stored ÷ uncompressed
   * (`values` null before its first compaction: counting them otherwise would
   * read every value); `pending`: the bytes of values bulk imports wrote
   * uncompressed since, and the segments holding them, which the next
   * compaction compresses (from the manifest). Null for a store that does not
   * compress, and on etcd.
   */
  compression: {
    algorithm: string;
    values: { stored: number; raw: number; ratio: number; at: string } | null;
    pending: { bytes: number; segments: number };
  } | null;
}

/** A compaction recorded as running in the store (its marker): who runs it, since when, from which snapshot. */
export interface CompactionInfo {
  pid: number;
  host: string;
  since: string;
  snapshotGeneration: number;
}

export interface Store {
  readonly location: string;
  readonly readOnly: boolean;

  /**
   * The key's newest value. CORRUPT when that record is damaged, or when
   * damaged data after its newest readable record may hold a newer one (a
   * value is returned only when it is certainly the newest).
   * Loop: a few block reads on the caller's thread (well under a millisecond
   * from the page cache, a disk read each when cold); etcd: one round trip.
   */
  get(key: KeyInput): Promise<Buffer | undefined>;
  /** Loop: as get(); etcd: a second round trip for a key with an expiry. */
  getEntry(key: KeyInput): Promise<Entry | undefined>;
  /** Loop: as get(). */
  has(key: KeyInput): Promise<boolean>;
  /** Expiry of a key: a time in ms, null for never, undefined when the key is missing. Loop: as getEntry(). */
  expiry(key: KeyInput): Promise<number | null | undefined>;

  /**
   * Resolves true when written, false when ifAbsent was set and the key existed.
   * Loop: once the writer lock is taken, the append and its fsync run on the
   * caller's thread, and now and then (every flushBytes) so do writing an
   * index run and merging runs, longer on a big store; etcd: round trips.
   */
  put(key: KeyInput, value: ValueInput, options?: PutOptions): Promise<boolean>;
  /**
   * put() that also gives the live entry the write replaced, or, when a
   * condition failed, the one it found; the check and the write are one step
   * (under the writer lock; one etcd transaction). Loop: as put().
   */
  swap(key: KeyInput, value: ValueInput, options?: PutOptions): Promise<Swapped>;
  /** Deletes keys; resolves to how many of them existed. Loop: as put(). */
  del(...keys: KeyInput[]): Promise<number>;
  /**
   * Deletes every live key that starts with `prefix` (an empty prefix: every
   * key; a missing one is INVALID_ARGUMENT), atomically: a reader sees all of them or none gone, and a key
   * written meanwhile is either deleted or written after. Resolves to how
   * many were deleted. A directory store lists the keys under the writer
   * lock and deletes them in one batch, and deletes nothing (CORRUPT) when
   * damaged data may hide a key under the prefix; etcd: one DeleteRange.
   * Loop: as put(), listing the keys included (O(keys under the prefix)).
   */
  delPrefix(prefix: KeyInput): Promise<number>;
  /** Deletes the key only if the condition holds, in one step as swap(); resolves whether it deleted. Loop: as put(). */
  delIf(key: KeyInput, condition: DeleteCondition): Promise<boolean>;
  /** Sets (or with null removes) a key's expiry; resolves false when the key is missing. Loop: as put(). */
  setExpiry(key: KeyInput, expiresAt: number | null): Promise<boolean>;
  /**
   * Reads a key and writes what `fn` returns, atomically with respect to every
   * other writer (the basis of `incr`). Returning undefined writes nothing.
   * Loop: as put(), `fn` called under the lock.
   */
  update(
    key: KeyInput,
    fn: (current: Entry | undefined) => { value: ValueInput; expiresAt?: number | null } | undefined,
  ): Promise<Entry | undefined>;

  /**
   * Keys in ascending byte order, with their expiry. Past damage: every key
   * readable, each with its newest readable record, and the damage reported
   * (ReadOptions).
   * Loop: each entry is read on the caller's thread and handed over as an
   * already settled promise, which gives timers and I/O no turn: a `for await`
   * that awaits nothing else runs the whole listing as one block (600,000
   * keys: about a second). To let other work in, await something that
   * yields (setImmediate) every so many entries. etcd: yields at each page of
   * 1,000 keys.
   */
  keys(options?: ListOptions): AsyncIterableIterator<KeyInfo>;
  /** Entries in ascending key byte order; damage as for keys(), a key whose value is damaged left out. Loop: as keys(). */
  entries(options?: ListOptions): AsyncIterableIterator<Entry>;

  /**
   * The changes to a key, or to the keys under a prefix, as they happen and
   * in the order they were made: every put and delete made after the call
   * (with `existing`, first the watched keys there at that moment), and an
   * expire event when a watched key's expiry passes with no later write of it.
   * It waits for changes until `signal` aborts or the loop stops; a store
   * directory is read only, never locked, so the watch holds up no writer.
   * Damage it steps over in the log is reported (ReadOptions): the changes
   * it held are not. A directory store reports a delete a batch wrote for a
   * key that was not there; etcd reports none (docs/design.md "Watch").
   * Loop: waits on a timer and on the directory's notifications (yields);
   * what changed is read on the caller's thread, a segment's new bytes at a
   * time, and handed over one event at a time. etcd: a streaming watch.
   */
  watch(options: WatchOptions): AsyncIterableIterator<WatchEvent>;

  batch(): Batch;
  /**
   * Runs `fn` as one transaction (Transaction) and resolves to what it
   * returns: what it reads and what it writes are one atomic step with
   * respect to every other writer, and its writes are made durable in one
   * commit (unless sync is off). When `fn` throws, nothing is written and
   * its error is passed on. A directory store runs `fn` once, under the
   * writer lock. An etcd store takes no lock: it commits in one etcd
   * transaction that holds only if no key `fn` read has changed since, and
   * otherwise runs `fn` again, so `fn` must act on the store only through
   * its Transaction; its reads are all at one revision. That etcd
   * transaction holds at most 128 keys read and 128 written (etcd's default
   * --max-txn-ops) and 1 MiB of keys and values: past that, INVALID_ARGUMENT
   * and nothing written (a function that writes nothing sends none, and has
   * no such limit; docs/etcd.md "transact and batch").
   * Loop: as put() for the whole; `fn` runs under the lock, its reads as
   * getEntry() (the lock and fsync once). etcd: a round trip per key read
   * (and per lease looked up), one to commit.
   */
  transact<T>(fn: (tx: Transaction) => Promise<T> | T): Promise<T>;
  /**
   * Counts what is readable; damage it met is reported (ReadOptions). Loop: on
   * the caller's thread, at a constant cost from the census; with `counted:
   * "scan"` it merges the whole index first (O(keys)). etcd: round trips.
   */
  stats(options?: ReadOptions): Promise<StoreStats>;
  /**
   * Checks every stored byte; never throws on damaged data, it reports it.
   * Loop: runs on the caller's thread. From 64 MiB of sealed segments a
   * worker thread checks the records' CRCs meanwhile, and verify yields while
   * it waits for that thread, if it is still running when this one has
   * scanned the rest (seldom: the scan takes longer). etcd: a round trip per
   * member.
   */
  verify(options?: VerifyOptions): Promise<VerifyReport>;
  /**
   * Loop: the rewrite, which holds no lock, yields every 10,000 records; its
   * snapshot and its switch (under the writer lock, with the index runs they
   * write) run on the caller's thread. A dry run is one block, O(keys). etcd:
   * round trips.
   */
  compact(options?: CompactOptions): Promise<CompactReport>;
  /**
   * Makes every write this store acknowledged durable. A directory store
   * opened with `sync: false` fsyncs the active segments it appended to
   * since (the loss window of OpenOptions.sync ends there; sealed segments,
   * index runs and manifests are fsynced as they are written anyway). With
   * sync on, and on etcd (which acknowledges a write once a quorum of its
   * members has it on disk), there is nothing to do. For a program that
   * writes with sync off and fsyncs on its own schedule (`tzkv serve
   * --sync batch-ms N`). Loop: the fsyncs run on the caller's thread.
   */
  sync(): Promise<void>;
  /**
   * A feed of which keys change (ChangeFeed), for a cache kept in front of
   * the store; undefined where telling costs as much as reading the key
   * (etcd: a linearizable check is a round trip, as a get is). A directory
   * store follows its log from here, as watch() does (docs/design.md
   * "Change feed"). Close it when done: it holds files open. Loop: a
   * directory store reads its manifest and scans the active segment's tail
   * on the caller's thread (as the first get after a write does).
   */
  changes(): ChangeFeed | undefined;
  /** The store's administration (StoreAdmin), or undefined for a backend without one (etcd). */
  admin(): StoreAdmin | undefined;
  /** Loop: closes the store's files on the caller's thread; etcd: its connections. */
  close(): Promise<void>;
}

/**
 * Which keys changed since the feed last looked (Store.changes()): any
 * process's writes, this one's included, as committed to the store.
 */
export interface ChangeFeed {
  /**
   * The keys written since the last poll() (since changes(), the first
   * time): every key that a write committed before this call began changed
   * is in this answer or an earlier one. A superset: a key may come more
   * than once, or as written when its value did not change (a write undone
   * after a failure). 'unknown' when the feed cannot tell which keys
   * changed (a compaction or repair rewrote the store's files, a write was
   * undone in place, damage in the log): take every key as changed. The
   * keys are the caller's to keep. Loop: synchronous, on the caller's
   * thread: when nothing changed, two stat calls of a few microseconds;
   * otherwise the new records of the log are read.
   */
  poll(): readonly Buffer[] | 'unknown';
  /** Closes the files the feed holds; poll() is refused afterwards (CLOSED). */
  close(): void;
}

/**
 * What only a store directory has: a writer lock, followers, repair. An etcd
 * cluster has none of it (it takes no lock, replicates and repairs its own
 * members), so Store.admin() gives it only for a directory store.
 */
export interface StoreAdmin {
  /**
   * Brings a follower store at `target` up to a consistent cut of this store.
   * Loop: runs on the caller's thread from start to end, never yielding, and
   * calls onProgress from there (a first copy of 80 MB: about a second).
   */
  replicate(target: string, options?: ReplicateOptions): Promise<ReplicateReport>;
  /** Makes a follower an independent, writable store; resolves false when it was not a follower. Loop: as Store.put(). */
  promote(): Promise<boolean>;
  /**
   * Changes an encrypted store's secret to `secret` (`tzkv rekey`): every data
   * key in KEYRING is wrapped anew, KEYRING replaced (temp + fsync + rename)
   * under the writer lock, no data rewritten: O(1). From then on only `secret`
   * opens the store (a process that opened it before keeps its keys). The
   * store must have been opened with its current secret (KEY_REQUIRED);
   * INVALID_ARGUMENT when it is not encrypted (as compact({ newDataKey })).
   * Loop: as Store.put().
   */
  rekey(secret: Secret): Promise<void>;
  /**
   * Repairs what can be repaired, under the writer lock: unreadable bytes
   * moved to a quarantine file, a torn tail cut, damaged segments rewritten,
   * the index rebuilt. Then verifies: the report is the verify after the
   * repair, its `repair` what the repair changed. Loop: once the writer lock
   * is taken, the repair runs on the caller's thread, then verify as
   * Store.verify().
   */
  repair(options?: VerifyOptions): Promise<VerifyReport & { repair: RepairReport }>;
  /** Who holds the writer lock now, or null. Loop: reads the lock file on the caller's thread. */
  lockHolder(): Promise<LockHolderInfo | null>;
  /**
   * Removes the writer lock whoever holds it (`tzkv unlock --force`): for a
   * lock left by a process on another host that is known to be gone. Resolves
   * to the holder whose lock was removed, or null when there was none. Loop:
   * on the caller's thread.
   */
  forceUnlock(): Promise<LockHolderInfo | null>;
  /**
   * Ends a compaction the store records as running on another host, for one
   * known to be gone (`tzkv unlock --force`): tzkv cannot see whether that
   * process still runs, so it never ends one by itself, and until then every
   * other compaction is refused. Takes the writer lock. One that runs on this
   * host is left alone (a dead one needs nothing: the next writer clears it).
   * Its unfinished output is removed by the next writer; should it still be
   * running after all, its switch finds its marker gone and fails, losing
   * nothing. Resolves to the compaction it ended, or null. Loop: as Store.put().
   */
  forceEndCompaction(): Promise<CompactionInfo | null>;
}

export interface OpenOptions {
  /** Open for reading only: no lock is ever taken and nothing is written. */
  readOnly?: boolean;
  /**
   * Whether a store may be started here: true (the default unless readOnly)
   * creates a missing directory and starts a store in an empty one. false
   * requires a store to be there: a missing directory, or one holding no
   * store, is NO_STORE. Left out with readOnly, a missing directory is
   * NO_STORE and an empty one reads as an empty store.
   */
  create?: boolean;
  /** fsync before acknowledging a write (default true). See docs/design.md for the loss window when off. */
  sync?: boolean;
  /** How long a writer waits for the lock, in ms (default 10000; 0 = fail at once). */
  lockTimeoutMs?: number;
  /** Name of the operation, recorded in the lock file (for example "tzkv import"). */
  command?: string;
  /** Clock, for tests. */
  now?: () => number;
  /** For an etcd address (`etcd://host:port[,host:port...]/PREFIX`, docs/etcd.md): how to reach the cluster. */
  etcd?: EtcdConnectOptions;
  /**
   * Permission bits of the store directory when this open creates it
   * (default 0o700: private); files tzkv creates in a store get its
   * directory's bits less execute (docs/design.md "Permissions").
   */
  mode?: number;
  /** Told, in words, about a store directory that group or others may write to (default: nobody is told). */
  onWarning?: (message: string) => void;
  /**
   * The secret of an encrypted store (docs/cli.md "--key-file"): checked at
   * open (KEY_WRONG), before anything is read or written. Without it an
   * encrypted store's data is KEY_REQUIRED. A store that is not encrypted
   * accepts it and never reads it (scripts give one secret to many stores).
   */
  secret?: Secret;
}

/** How `init` (`tzkv init`, docs/cli.md "init") makes a directory store. */
export interface InitOptions {
  /** Encrypt the store (docs/format.md "Format version 2"); needs `secret`, which wraps its data key. */
  encrypt?: boolean;
  /** Compress values with this algorithm: 'deflate' or 'brotli' (docs/format.md "Records, version 2"). */
  compression?: string;
  secret?: Secret;
  /** Permission bits of the store directory when init creates it (default 0o700), as OpenOptions.mode. */
  mode?: number;
  /** How long to wait for the writer lock, in ms (default 10000). */
  lockTimeoutMs?: number;
  /** Name of the operation, recorded in the lock file. */
  command?: string;
  /** Told of a store directory that group or others may write to. */
  onWarning?: (message: string) => void;
}

/** The store init made. */
export interface InitReport {
  location: string;
  /** 1 for a plain store, 2 for an encrypted or compressed one. */
  formatVersion: number;
  encrypted: boolean;
  /** The compression algorithm, or null. */
  compression: string | null;
}

/**
 * How an encrypted store's key is given: a key file (32 raw bytes, or their
 * base64 as `tzkv keygen` writes it), the 32 key bytes, or a passphrase
 * (stretched by scrypt with parameters the store records).
 */
export type Secret = ({ keyFile: string } | { key: Uint8Array } | { passphrase: string }) & {
  /** How it was given, for messages (for example "the passphrase in $TZKV_PASSPHRASE"); default: what it is. */
  given?: string;
};

export interface EtcdConnectOptions {
  user?: string;
  password?: string;
  /** PEM files for etcds://: the CA to trust, and a client certificate and key. */
  ca?: string;
  cert?: string;
  key?: string;
  /** How long one call may take, every member tried (default 5000). */
  timeoutMs?: number;
}

/** One problem found by verify. */
export interface VerifyProblem {
  /** File name relative to the store (for example "00000003.tzds"), or "" for the store itself. */
  file: string;
  /** Byte offset inside the file, when the problem has one. */
  offset: number | null;
  /** Stable kind, for example "crc-mismatch", "torn-tail", "bad-header", "index-mismatch". */
  kind: string;
  message: string;
}

export interface VerifyReport {
  ok: boolean;
  /** A file of the store was written by a newer format version (the CLI exits 5). */
  newerVersion: boolean;
  files: number;
  records: number;
  bytes: number;
  /** Problems found (the list keeps the first 1,000). */
  problemCount: number;
  problems: VerifyProblem[];
  /** Files that do not belong to the store, or leftovers the next writer removes: reported, not damage. */
  warnings: VerifyProblem[];
  /**
   * Checks verify could not make, each with why ("keys not checked: no key
   * given …" for an encrypted store verified without its secret): not done,
   * so never counted as passed. Empty when everything was checked.
   */
  skipped: string[];
  durationMs: number;
  /** Whether the result was recorded in the store's VERIFIED note (for stats). */
  recorded: boolean;
  /** From StoreAdmin.repair(): what the repair did (the rest of the report is the verify after it). */
  repair?: RepairReport;
}

/** What `verify --repair` changed (docs/cli.md "verify"). */
export interface RepairReport {
  /** The quarantine file the unreadable bytes were moved into, or null when none were. */
  quarantine: string | null;
  /** Each moved range: where it was, its length, and where its bytes start in the quarantine file. */
  moved: Array<{ file: string; offset: number; bytes: number; quarantineOffset: number }>;
  /** A torn end cut off the active segment: bytes [from, to) (moved to quarantine first). */
  truncated: Array<{ file: string; from: number; to: number }>;
  /** Segments rewritten without their unreadable ranges, under new numbers. */
  rewritten: Array<{ from: string; to: string }>;
  /** The index run rebuilt from the data (replacing every run), or null. */
  rebuiltRun: string | null;
  /** Files no longer part of the store, removed after the switch. */
  removed: string[];
  /** 'recomputed' when the index was rebuilt (the census counted from it), else 'kept'. */
  census: 'recomputed' | 'kept';
  /**
   * The MANIFEST, when it was missing or unreadable, rebuilt from the segments
   * on disk (each listed here); the store id 'kept' (learned from a follower) or 'new'. Else null.
   */
  rebuiltManifest: { segments: string[]; storeId: 'kept' | 'new' } | null;
}

/** The last verify's result, as `stats` shows it (the VERIFIED note). */
export interface VerifyRecord {
  verifiedAt: string;
  ok: boolean;
  problems: number;
  bytes: number;
  durationMs: number;
}

export interface VerifyOptions {
  /** Called now and then with bytes checked so far and the total, for a progress bar. */
  onProgress?: (done: number, total: number) => void;
  /** Record the result in the store's VERIFIED note for `stats` (the CLI does; off by default, so the API's verify writes nothing). */
  record?: boolean;
}

export interface CompactOptions {
  /** Only report what would be reclaimed. */
  dryRun?: boolean;
  /** etcd only: also defragment every member after compacting (a directory store ignores it). */
  defrag?: boolean;
  /**
   * An encrypted directory store only (INVALID_ARGUMENT elsewhere): rotate the
   * data key as the compaction rewrites (docs/design.md "Rotation"). Needs the
   * secret, as every compaction of an encrypted store does.
   */
  newDataKey?: boolean;
}

export interface CompactReport {
  compacted: boolean;
  dryRun: boolean;
  /** Bytes of the segments compacted (the snapshot; a dry run: the whole store). */
  bytesBefore: number;
  /** Bytes of the segments written in their place. */
  bytesAfter: number;
  /** Keys whose newest record was a live PUT, copied. */
  recordsKept: number;
  /** Keys whose newest record was a tombstone or an expired PUT, dropped (older versions are dropped too, uncounted). */
  recordsDropped: number;
  /** Of recordsDropped, the expired PUTs. */
  expiredDropped: number;
  durationMs: number;
  /** How long the writer lock was held (the snapshot and the switch); 0 for a dry run. */
  lockHeldMs: number;
}

/** How a compaction ended (StoreStats.lastCompactionReport). */
export interface CompactionSummary {
  /** When it started, by its clock (ISO). */
  at: string;
  /** "ok", or "failed: " and why. */
  result: string;
  durationMs: number;
  /** How long it held the writer lock (the snapshot and the switch). */
  lockHeldMs: number;
  /** As in CompactReport. */
  bytesBefore: number;
  bytesAfter: number;
  recordsKept: number;
  recordsDropped: number;
  expiredDropped: number;
}

export interface ReplicateOptions {
  /** Called with bytes shipped so far and the total to ship, for a progress bar. */
  onProgress?: (done: number, total: number) => void;
  /**
   * Also compare every follower file with the leader's bytes (reads both
   * stores whole), to catch damage that left no trace in size or change time.
   */
  check?: boolean;
  /** Permission bits of the follower directory when this replicate creates it (default 0o700), as OpenOptions.mode. */
  mode?: number;
}

export interface ReplicateReport {
  /** Where the follower is. */
  target: string;
  /** True on the first run into an empty target. */
  initial: boolean;
  filesShipped: number;
  bytesShipped: number;
  /** Records (PUT, DEL and COMMIT) in the segment bytes shipped. */
  records: number;
  filesRemoved: number;
  /**
   * Follower files found changed or damaged since the last replicate (by
   * their size, inode and change time, or by content with `check`) and
   * shipped whole again.
   */
  resynced: string[];
  /** Follower bytes compared with the leader's (only with `check`). */
  checkedBytes: number;
  /** The leader's position the follower now holds. */
  position: { generation: number; segment: number; offset: number };
  durationMs: number;
}

/** A follower as the leader last saw it (StoreStats.followers). */
export interface FollowerInfo {
  location: string;
  /** When it last caught up (ISO). */
  replicatedAt: string;
  /** The leader's manifest generation it holds. */
  generation: number;
  position: { generation: number; segment: number; offset: number };
  bytesShipped: number;
}

export interface LockHolderInfo {
  pid: number;
  host: string;
  command: string;
  /** When the lock was taken (ISO), or null when unknown. */
  since: string | null;
  /** 'alive', 'dead' (broken automatically by the next writer), or 'unknown' (another host). */
  state: 'alive' | 'dead' | 'unknown';
}
