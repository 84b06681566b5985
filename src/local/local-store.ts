// The local-directory Store: the facade the CLI and embedders use. Its
// arguments checked by CheckedStore, it acts through a View (reads, no lock)
// or a WriteSession (writes, under the writer lock, held only around the append),
// keeping the last view between calls (kept-view.ts).
// Past 300 lines with a reason: it is the facade, one method per Store and
// StoreAdmin member, each a few lines handing off to the engine.
import { resolve } from 'node:path';
import type {
  Batch,
  ChangeFeed,
  CompactionInfo,
  CompactOptions,
  CompactReport,
  Entry,
  KeyInfo,
  LockHolderInfo,
  OpenOptions,
  ReadOptions,
  Secret,
  RepairReport,
  ReplicateOptions,
  ReplicateReport,
  Store,
  StoreAdmin,
  StoreStats,
  Swapped,
  Transaction,
  VerifyOptions,
  VerifyReport,
  WatchEvent,
} from '../api.js';
import { TzkvError, ioError, isTzkvError } from '../errors.js';
import { KIND_DEL, KIND_PUT, FORMAT_VERSION } from '../format/constants.js';
import { manifestVersion } from '../format/manifest.js';
import { keyRequired, openCodec, rekeyStore } from '../engine/files/keyring-file.js';
import { encodeRecord } from '../format/record.js';
import type { StoreCodec } from '../format/store-codec.js';
import type { FileSystem } from '../io/fs.js';
import { realFs } from '../io/fs.js';
import type { Processes } from '../io/processes.js';
import { realProcesses } from '../io/processes.js';
import { WriterLock, forceRemoveLock } from '../lock/lockfile.js';
import { holderInfo } from '../lock/lock-holder.js';
import { formerLeaderIdentity, readFollowers } from '../replication/follower-record.js';
import { replicate } from '../replication/replicator.js';
import { DirectoryTarget } from '../replication/target.js';
import { CheckedStore, type CheckedUpdate, type Listing, type Watching } from '../checked-store.js';
import { type DirectoryWatch, watchDirectory } from '../io/dir-watch.js';
import { watchLog } from './local-watch.js';
import { LocalChangeFeed } from './local-changes.js';
import { segmentName } from '../engine/files/layout.js';
import { SPILL_BYTES, StagedBatch } from '../engine/write/batch.js';
import { putValue } from '../engine/write/put-value.js';
import { LocalBatch } from './local-batch.js';
import { commitTransaction } from './local-transaction.js';
import { CheckedTransaction, type TransactionWrite } from '../checked-transaction.js';
import { compactPhased, dryRunReport } from '../engine/compact/compact.js';
import { compactionInfo } from '../engine/files/compaction-marker.js';
import { DamageLog, damageOf } from '../engine/damage.js';
import type { CompactPhase } from '../engine/compact/compact.js';
import { type Condition, conditionHolds, isExpired, recordVersion } from '../keys.js';
import { inspectDir, unfinishedFollower } from '../engine/files/layout.js';
import { checkMode, makeOrWarn } from '../engine/files/permissions.js';
import { storeStats } from '../engine/read/stats.js';
import { repairStore } from '../engine/repair/repair.js';
import { readVerified, writeVerified } from '../engine/files/verified.js';
import { verifyStoreParallel } from '../engine/verify/verify.js';
import { ReadWindow } from '../engine/log/read-window.js';
import { View } from '../engine/read/view.js';
import { KeptView } from './kept-view.js';
import { findManifest, readManifest } from '../engine/files/store-manifest.js';
import type { StoreSettings } from '../engine/files/store-manifest.js';
import { settingsFromFiles } from '../engine/files/made-as.js';
import type { Located } from '../engine/read/view.js';
import { mergedEntries } from '../engine/read/merged-entries.js';
import { DEFAULT_SESSION_OPTIONS, WriteSession } from '../engine/write/write-session.js';
import type { SessionOptions } from '../engine/write/write-session.js';
import { forceEndCompaction } from '../engine/compact/compact-manifest.js';
import { keysGiven } from '../engine/keys-given.js';
import { addRotationKey, dropRetiredKeys, keyringIdentity, rotatableCodec } from '../engine/compact/key-rotation.js';
import type { RotatableCodec } from '../engine/compact/key-rotation.js';
import type { Clock } from '../io/clock.js';
import { monotonicMs, systemClock } from '../io/clock.js';

/** Options for tests and tuning, beyond the public OpenOptions. */
export interface EngineOptions extends OpenOptions {
  fs?: FileSystem;
  /** Tests: the processes of this machine, as the lock, compaction markers and leftover files are judged by them (default the real ones). */
  processes?: Processes;
  /** Tests: the clock the writer lock waits and stamps by (default the system's; `now` is the data's clock, for expiries). */
  lockClock?: Clock;
  segmentBytes?: number;
  flushBytes?: number;
  /** A batch larger than this stages in a file and becomes a segment of its own (default 16 MiB). */
  spillBytes?: number;
  /** Tests: called between compaction's phases (no lock held), awaited. */
  onCompactPhase?: (phase: CompactPhase) => unknown;
  /** Tests: TTL expiries a compaction keeps in memory before spilling them to a scratch file (default SORT_CHUNK, 1M). */
  compactTtlSpillChunk?: number;
  /** Tests: keys a repair's index rebuild keeps in memory before writing them as a sorted run (default REBUILD_CHUNK_KEYS). */
  rebuildChunkKeys?: number;
  /** Tests: how a watch is told that the directory changed (default node:fs's watch; one that never tells leaves the timer). */
  watchDirectory?: DirectoryWatch;
}

const DEFAULT_LOCK_TIMEOUT_MS = 10_000;

type VerifiedStore = Awaited<ReturnType<typeof verifyStoreParallel>>;
const READ_RETRIES = 8;

function isLive(at: Located | undefined, now: number): at is Located {
  return at !== undefined && at.kind === KIND_PUT && !isExpired(at.expiresAt, now);
}

/**
 * The key's live entry in a view, with its version (keys.ts recordVersion):
 * compaction and repair move records and so change versions, a stale one is
 * never taken for the record now there (docs/design.md "Versions").
 */
function liveEntry(view: View, k: Buffer, now: number): Entry | undefined {
  const at = view.locate(k);
  return isLive(at, now) ? entryAt(view, k, at) : undefined;
}

/** The PUT record at `at` as an entry, with its version. */
function entryAt(view: View, k: Buffer, at: Located): Entry {
  const { value, crc } = view.readPut(k, at);
  return { key: k, value, expiresAt: at.expiresAt === 0 ? null : at.expiresAt, version: recordVersion(at.segment, at.offset, crc) };
}

/** Appends one PUT of k (then flushes when due); returns the new record's version. */
function appendPut(w: WriteSession, k: Buffer, value: Buffer, expiresAt: number): string {
  const file = w.active.file;
  const { flags, stored } = putValue(w.codec, value);
  const { offset, crc } = w.appendRecord(encodeRecord(KIND_PUT, flags, k, stored, expiresAt));
  w.flushIfDue();
  return recordVersion(file, offset, crc);
}

export async function open(location: string, options: EngineOptions = {}): Promise<Store> {
  if (typeof location !== 'string' || location === '') {
    throw new TzkvError('INVALID_ARGUMENT', 'a store location (directory) is required');
  }
  const fs = options.fs ?? realFs;
  const dir = resolve(location);
  const readOnly = options.readOnly === true;
  const mode = checkMode(options.mode);
  const state = inspectDir(fs, dir);
  // A follower a replicate is still filling is no store yet. A store that lost its manifest opens
  // (verify names the loss, --repair rebuilds it); its reads and writes refuse (View.load).
  if (state === 'unfinished-follower') throw unfinishedFollower(dir);
  if (state === 'empty' && options.create === false) {
    throw new TzkvError('NO_STORE', `no tzkv store at ${dir}: the directory holds none`, { path: dir });
  }
  if (state === 'missing' && (readOnly || options.create === false)) {
    throw new TzkvError('NO_STORE', `no tzkv store at ${dir}: the directory does not exist`, { path: dir });
  }
  makeOrWarn(fs, dir, state === 'missing', mode, options.onWarning);
  if (state !== 'missing' && !readOnly) {
    try {
      fs.checkWritable(dir);
    } catch (err) {
      throw ioError(err, 'cannot write to store directory', dir);
    }
  }
  let manifest: StoreSettings | null = null;
  if (state === 'store') {
    try {
      manifest = readManifest(fs, dir);
    } catch (err) {
      // A newer format is refused at once; damage is left for reads to report and verify to examine.
      if (err instanceof TzkvError && err.code !== 'CORRUPT') throw err;
    }
  }
  // A lost manifest (missing or damaged): the kind of store its files say, so a repair rebuilds it as that kind.
  if ((state === 'store' && manifest === null) || state === 'lost-manifest') manifest = settingsFromFiles(fs, dir);
  // The store's codec, from its MANIFEST and KEYRING: an encrypted store's secret is checked now
  // (KEY_WRONG), before anything else is read or written.
  // Held rotatable: compact --new-data-key gives it the new current key.
  const seen = keyringIdentity(fs, dir);
  return new LocalStore(fs, dir, rotatableCodec(openCodec(fs, dir, manifest, options.secret), seen), options);
}

/** A store directory, and its administration (StoreAdmin): admin() is the store itself. */
class LocalStore extends CheckedStore implements StoreAdmin {
  private readonly writerOptions: SessionOptions;
  private readonly lockTimeoutMs: number;
  private readonly command: string;
  private readonly spillBytes: number;
  private readonly onCompactPhase: EngineOptions['onCompactPhase'];
  private readonly compactTtlSpillChunk: number | undefined;
  private readonly rebuildChunkKeys: number | undefined;
  private readonly processes: Processes;
  /** The secret the store was opened with (rekey unwraps with it). */
  private readonly secret: Secret | undefined;
  private readonly lockClock: Clock;
  private readonly watchDirectory: DirectoryWatch;
  private readonly views: KeptView;
  private closed = false;
  /** With sync off: the segments this store appended to without an fsync since the last sync(). */
  private readonly unsynced = new Set<number>();
  readonly codec: StoreCodec;

  constructor(
    private readonly fs: FileSystem,
    dir: string,
    /** How this store's bytes are read and written (format version 2); chosen by open(). Every engine path is handed its codec. */
    private readonly rotation: RotatableCodec,
    options: EngineOptions,
  ) {
    super(dir, options.readOnly === true, options.now ?? Date.now);
    this.codec = rotation.codec;
    this.lockTimeoutMs = options.lockTimeoutMs ?? DEFAULT_LOCK_TIMEOUT_MS;
    if (!Number.isFinite(this.lockTimeoutMs) || this.lockTimeoutMs < 0) {
      throw new TzkvError('INVALID_ARGUMENT', `lock timeout must be zero or more milliseconds, got ${options.lockTimeoutMs}`);
    }
    this.command = options.command ?? `node ${process.argv[1] ?? ''}`.trim();
    this.spillBytes = options.spillBytes ?? SPILL_BYTES;
    this.onCompactPhase = options.onCompactPhase;
    this.compactTtlSpillChunk = options.compactTtlSpillChunk;
    this.rebuildChunkKeys = options.rebuildChunkKeys;
    this.processes = options.processes ?? realProcesses;
    this.secret = options.secret;
    this.lockClock = options.lockClock ?? systemClock;
    this.watchDirectory = options.watchDirectory ?? watchDirectory;
    this.views = new KeptView(fs, dir, this.codec);
    this.writerOptions = {
      sync: options.sync !== false,
      segmentBytes: options.segmentBytes ?? DEFAULT_SESSION_OPTIONS.segmentBytes,
      flushBytes: options.flushBytes ?? DEFAULT_SESSION_OPTIONS.flushBytes,
      now: this.now,
      processes: this.processes,
    };
  }

  private checkOpen(): void {
    if (this.closed) throw new TzkvError('CLOSED', `store ${this.location} is closed`, { path: this.location });
  }

  /**
   * Before a key or value is read or written: an encrypted store opened
   * without its secret is KEY_REQUIRED (its stats, verify and replicate need none);
   * one that lost its manifest is CORRUPT first, as every read and write of it
   * is (docs/format.md "The store directory"): no key would read it.
   */
  private needKeys(): void {
    this.checkOpen();
    this.rotation.refresh(this.fs, this.location, this.secret);
    try {
      this.codec.encryption?.keys();
    } catch (err) {
      const found = isTzkvError(err, 'KEY_REQUIRED') ? findManifest(this.fs, this.location) : undefined;
      if (found?.kind === 'missing' || found?.kind === 'damaged') throw found.error;
      throw err;
    }
  }

  /** read() of keys and values: needKeys() first. */
  private readData<T>(fn: (v: View) => T): T {
    this.needKeys();
    return this.read(fn);
  }

  /** Runs fn on a current view, retrying when a file vanished under it (an index merge or compaction). */
  private read<T>(fn: (v: View) => T): T {
    this.checkOpen();
    for (let attempt = 0; ; attempt++) {
      try {
        return fn(this.views.forRead());
      } catch (err) {
        this.views.drop();
        if ((err as NodeJS.ErrnoException).code === 'ENOENT' && attempt < READ_RETRIES) continue;
        throw ioError(err, 'cannot read store', this.location);
      }
    }
  }

  /** Takes the writer lock, runs fn (awaited), releases it. */
  private async withLock<T>(fn: () => T | Promise<T>): Promise<T> {
    const lock = await WriterLock.acquire(this.fs, this.location, {
      timeoutMs: this.lockTimeoutMs,
      command: this.command,
      processes: this.processes,
      clock: this.lockClock,
    });
    try {
      return await fn();
    } finally {
      try {
        lock.release();
      } catch {
        // The change is durable; a LOCK we failed to remove names this process and is broken as a leftover.
      }
    }
  }

  /**
   * Takes the writer lock, prepares a write session on the kept view, runs
   * fn, keeps the session's view when it committed (kept-view.ts), releases
   * everything; `held` learns how long the lock was held (ms).
   */
  private async write<T>(fn: (w: WriteSession) => T | Promise<T>, prepare = true, held?: (ms: number) => void): Promise<T> {
    if (prepare) this.needKeys();
    else this.checkOpen();
    if (this.readOnly) {
      throw new TzkvError('READ_ONLY', `store ${this.location} is open read-only`, { path: this.location });
    }
    return this.withLock(async () => {
      let writer: WriteSession | undefined;
      try {
        // Under the lock KEYRING cannot change: seal with the key it calls current now (another process may have rotated).
        if (prepare) this.rotation.refresh(this.fs, this.location, this.secret);
        writer = new WriteSession(this.fs, this.location, this.codec, this.writerOptions, this.views.forWrite());
        if (prepare) writer.prepare();
        const result = await fn(writer);
        if (!this.writerOptions.sync && writer.active.file > 0) this.unsynced.add(writer.active.file);
        this.views.keep(writer);
        return result;
      } catch (err) {
        this.views.drop(); // the undo may cut the segment back: nothing kept is known to hold
        const failed = ioError(err, 'cannot write to store', this.location);
        throw writer ? writer.undo(failed) : failed;
      } finally {
        writer?.close();
        if (held && writer) held(monotonicMs() - writer.lockedAt);
      }
    });
  }

  protected async _get(k: Buffer): Promise<Buffer | undefined> {
    return (await this._getEntry(k))?.value;
  }

  protected async _getEntry(k: Buffer): Promise<Entry | undefined> {
    return this.readData((v) => liveEntry(v, k, this.now()));
  }

  protected async _has(k: Buffer): Promise<boolean> {
    return this.readData((v) => isLive(v.locate(k), this.now()));
  }

  protected async _expiry(k: Buffer): Promise<number | null | undefined> {
    return this.readData((v) => {
      const at = v.locate(k);
      if (!isLive(at, this.now())) return undefined;
      return at.expiresAt === 0 ? null : at.expiresAt;
    });
  }

  protected async _put(k: Buffer, val: Buffer, expiresAt: number, ifAbsent: boolean): Promise<boolean> {
    return this.write((w) => {
      if (ifAbsent && isLive(w.view.locate(k), this.now())) return false;
      appendPut(w, k, val, expiresAt);
      return true;
    });
  }

  protected async _swap(k: Buffer, val: Buffer, expiresAt: number, condition: Condition | undefined): Promise<Swapped> {
    return this.write((w) => {
      const previous = liveEntry(w.view, k, this.now());
      if (!conditionHolds(condition, previous)) return { written: false, previous };
      return { written: true, previous, version: appendPut(w, k, val, expiresAt) };
    });
  }

  protected async _delIf(k: Buffer, condition: Condition): Promise<boolean> {
    return this.write((w) => {
      if (!conditionHolds(condition, liveEntry(w.view, k, this.now()))) return false;
      w.appendRecord(encodeRecord(KIND_DEL, 0, k, null, 0));
      w.flushIfDue();
      return true;
    });
  }

  protected async _del(keys: Buffer[]): Promise<number> {
    if (keys.length === 0) return 0;
    return this.write((w) => {
      const now = this.now();
      return deleteAll(w, keys.filter((k) => isLive(w.view.locate(k), now)));
    });
  }

  protected async _delPrefix(prefix: Buffer): Promise<number> {
    return this.write((w) => {
      // Listed under the lock, so no write comes between the listing and the delete; damage that may hide a key refuses the whole delete.
      const damage = new DamageLog(this.location, undefined);
      const now = this.now();
      const live: Buffer[] = [];
      for (const e of mergedEntries(w.view, prefix, prefix, damage.report)) {
        if (e.kind === KIND_PUT && !isExpired(e.expiresAt, now)) live.push(Buffer.from(e.key));
      }
      damage.finish(`deleting the keys under ${JSON.stringify(prefix.toString('utf8'))}`);
      return deleteAll(w, live);
    });
  }

  protected async _setExpiry(k: Buffer, exp: number): Promise<boolean> {
    return this.write((w) => {
      const at = w.view.locate(k);
      if (!isLive(at, this.now())) return false;
      appendPut(w, k, w.view.readValue(k, at), exp);
      return true;
    });
  }

  protected async _update(k: Buffer, fn: (current: Entry | undefined) => CheckedUpdate | undefined): Promise<Entry | undefined> {
    return this.write((w) => {
      const current = liveEntry(w.view, k, this.now());
      const next = fn(current);
      if (next === undefined) return current;
      const version = appendPut(w, k, next.value, next.expiresAt);
      return { key: k, value: next.value, expiresAt: next.expiresAt === 0 ? null : next.expiresAt, version };
    });
  }

  /**
   * Runs `fn` under the writer lock, reading the session's view, and commits
   * its writes as one batch. What `fn` throws is passed on as it is (a write's
   * own failure is an IO error): nothing was written.
   */
  protected async _transact<T>(fn: (tx: Transaction) => Promise<T> | T): Promise<T> {
    let failed: { err: unknown } | undefined;
    const result = await this.write(async (w) => {
      const tx = new CheckedTransaction(this.now, async (k) => liveEntry(w.view, k, this.now()));
      let ran: { result: T; writes: TransactionWrite[] };
      try {
        ran = await tx.run(fn);
      } catch (err) {
        failed = { err };
        return undefined;
      }
      commitTransaction(w, ran.writes, { fs: this.fs, dir: this.location, bytes: this.spillBytes }, (k) => isLive(w.view.locate(k), this.now()));
      return ran.result;
    });
    if (failed) throw failed.err;
    return result as T;
  }

  protected async *_keys({ prefix, start, limit, onDamage }: Listing): AsyncIterableIterator<KeyInfo> {
    const damage = new DamageLog(this.location, onDamage);
    for (const e of this.liveEntries(prefix, start, limit, false, damage)) yield { key: e.key, expiresAt: e.expiresAt };
    damage.finish('the listing');
  }

  protected async *_entries({ prefix, start, limit, onDamage }: Listing): AsyncIterableIterator<Entry> {
    const damage = new DamageLog(this.location, onDamage);
    for (const e of this.liveEntries(prefix, start, limit, true, damage)) yield e as Entry;
    damage.finish('the listing');
  }

  /**
   * Live entries under `prefix` from `start` on, in key order (with values when asked), all from one view that
   * opens every file it needs before the first entry: the listing is one
   * consistent cut (an import is in it wholly or not at all) even when a
   * compaction deletes those files meanwhile, and other calls on this store
   * cannot close it. Damage is stepped over and told to `damage`; a key
   * whose value is damaged is left out.
   */
  private *liveEntries(prefix: Buffer, start: Buffer, limit: number, values: boolean, damage: DamageLog): Generator<KeyInfo | Entry> {
    if (limit === 0) return;
    this.needKeys();
    let view: View | undefined;
    for (let attempt = 0; view === undefined; attempt++) {
      try {
        view = View.load(this.fs, this.location, this.codec);
        view.openAll();
      } catch (err) {
        view?.close();
        view = undefined;
        // A file vanished between reading the manifest and opening it: take the new manifest.
        if ((err as NodeJS.ErrnoException).code === 'ENOENT' && attempt < READ_RETRIES) continue;
        throw ioError(err, 'cannot list store', this.location);
      }
    }
    if (values) view.window = new ReadWindow(256 * 1024, false);
    const now = this.now();
    let n = 0;
    try {
      for (const e of mergedEntries(view, prefix, start, damage.report)) {
        if (e.kind !== KIND_PUT || isExpired(e.expiresAt, now)) continue;
        const key = Buffer.from(e.key);
        if (!values) yield { key, expiresAt: e.expiresAt === 0 ? null : e.expiresAt };
        else {
          let entry: Entry;
          try {
            entry = entryAt(view, key, e);
          } catch (err) {
            if (!isTzkvError(err, 'CORRUPT')) throw err;
            damage.report(damageOf(err, 'corrupt-record'));
            continue;
          }
          yield entry;
        }
        if (++n >= limit) return;
      }
    } catch (err) {
      throw ioError(err, 'cannot list store', this.location);
    } finally {
      view.close();
    }
  }

  protected async *_watch(watching: Watching): AsyncIterableIterator<WatchEvent> {
    this.needKeys();
    yield* watchLog({ fs: this.fs, dir: this.location, codec: this.codec, now: this.now, watchDirectory: this.watchDirectory }, watching);
  }

  batch(): Batch {
    this.checkOpen();
    const spill = this.readOnly ? undefined : { fs: this.fs, dir: this.location, bytes: this.spillBytes };
    return new LocalBatch(this.now, (staged) => this.commitBatch(staged), this.codec, spill);
  }

  private async commitBatch(staged: StagedBatch): Promise<void> {
    try {
      const batch = staged.finish(); // before the lock: a spilled batch's last records reach its staging file
      await this.write((w) => w.commitBatch(batch));
    } finally {
      staged.cleanup();
    }
  }

  async stats(options?: ReadOptions): Promise<StoreStats> {
    const damage = new DamageLog(this.location, options?.onDamage);
    const count = (v: View) => storeStats(v, this.now(), v.manifest ? manifestVersion(v.manifest) : FORMAT_VERSION, damage.report, this.processes);
    // Without the key (an encrypted store): a view that counts the tail's records but knows none of its keys.
    const stats = keysGiven(this.codec) === null ? this.readKeyless(count) : this.read(count);
    damage.finish('stats');
    return { ...stats, lastVerify: readVerified(this.fs, this.location), lockHolder: await this.lockHolder(), followers: readFollowers(this.fs, this.location) };
  }

  /** fn on a view of an encrypted store opened without its key (View.load's withKey false). */
  private readKeyless<T>(fn: (v: View) => T): T {
    this.checkOpen();
    const view = View.load(this.fs, this.location, this.codec, false);
    try {
      return fn(view);
    } finally {
      view.close();
    }
  }

  protected async _verify(options: VerifyOptions | undefined): Promise<VerifyReport> {
    this.checkOpen();
    const started = this.now();
    const report = await this.checked(options);
    return { ...report, recorded: this.record(report, started, options) };
  }

  async repair(options?: VerifyOptions): Promise<VerifyReport & { repair: RepairReport }> {
    this.checkOpen();
    const started = this.now();
    if (this.readOnly) throw new TzkvError('READ_ONLY', `store ${this.location} is open read-only: it cannot be repaired`, { path: this.location });
    this.views.drop();
    const { repair, unchanged } = await this.withLock(() => repairStore(this.fs, this.location, this.codec, this.now(), this.processes, () => formerLeaderIdentity(this.fs, this.location), this.rebuildChunkKeys));
    // A repair that changed nothing has just verified the store as it is.
    const report = { ...(await this.checked(options, unchanged)), repair };
    return { ...report, recorded: this.record(report, started, options) };
  }

  /** Verify's findings: `known` (a repair's of the store as it is) or a new verify's. */
  private async checked(options: VerifyOptions | undefined, known: VerifiedStore | null = null): Promise<Omit<VerifyReport, 'recorded'>> {
    const { unreadable: _, ...verified } = known ?? (await verifyStoreParallel(this.fs, this.location, this.codec, options?.onProgress, undefined, undefined, this.processes));
    return verified;
  }

  /** Whether a verify begun at `started` was recorded in the VERIFIED note: only when asked, and a store is there to note it in. */
  private record(report: Omit<VerifyReport, 'recorded'>, started: number, options: VerifyOptions | undefined): boolean {
    return (
      options?.record === true &&
      !report.newerVersion &&
      this.fs.stat(`${this.location}/MANIFEST`) !== undefined &&
      writeVerified(this.fs, this.location, { verifiedAt: new Date(started).toISOString(), ok: report.ok, problems: report.problemCount, bytes: report.bytes, durationMs: report.durationMs })
    );
  }

  async compact(options?: CompactOptions): Promise<CompactReport> {
    const rotate = options?.newDataKey === true;
    if (rotate && this.codec.encryption === undefined) {
      throw new TzkvError('INVALID_ARGUMENT', `store ${this.location} is not encrypted: --new-data-key rotates the data key of an encrypted store`, { path: this.location });
    }
    const { segmentBytes } = this.writerOptions;
    if (options?.dryRun) return this.read((v) => dryRunReport(v, this.now(), segmentBytes));
    if (rotate) {
      // docs/design.md "Rotation": the new key is current before the compaction writes anything (its snapshot's new active segment included).
      this.needKeys();
      if (this.readOnly) throw new TzkvError('READ_ONLY', `store ${this.location} is open read-only`, { path: this.location });
      const secret = this.secret;
      if (secret === undefined) throw keyRequired(this.location);
      this.rotation.rotate(await this.withLock(() => addRotationKey(this.fs, this.location, secret, this.now())));
    }
    const report = await this.compactWith(segmentBytes);
    // After the switch: the keys no file names any more leave KEYRING (a failure here leaves them, harmless).
    if (rotate) await this.withLock(() => dropRetiredKeys(this.fs, this.location));
    return report;
  }

  private compactWith(segmentBytes: number): Promise<CompactReport> {
    return compactPhased({
      fs: this.fs,
      dir: this.location,
      codec: this.codec,
      now: this.now(),
      segmentBytes,
      locked: async (fn) => {
        let heldMs = 0;
        const value = await this.write(fn, true, (ms) => (heldMs = ms));
        return { value, heldMs };
      },
      onPhase: this.onCompactPhase,
      ttlSpillChunk: this.compactTtlSpillChunk,
    });
  }

  async replicate(target: string, options?: ReplicateOptions): Promise<ReplicateReport> {
    this.checkOpen();
    if (typeof target !== 'string' || target === '') throw new TzkvError('INVALID_ARGUMENT', 'a follower location is required');
    const dir = resolve(target);
    try {
      // The leader's codec: replicate must work WITHOUT the key (it never asks the codec for one).
      return replicate(this.fs, this.location, this.codec, new DirectoryTarget(this.fs, dir, this.processes, checkMode(options?.mode)), this.now(), options ?? {});
    } catch (err) {
      throw ioError(err, 'cannot replicate to', dir);
    }
  }

  async lockHolder(): Promise<LockHolderInfo | null> {
    this.checkOpen();
    const h = WriterLock.readHolder(this.fs, this.location);
    if (h === null) return null;
    if (h === undefined) return { pid: 0, host: '', command: '', since: null, state: 'unknown' };
    return holderInfo(h, this.processes);
  }

  async forceUnlock(): Promise<LockHolderInfo | null> {
    this.checkOpen();
    // Allowed on a read-only handle too: it is an administrator's repair, not a write to the data.
    const { existed, holder } = forceRemoveLock(this.fs, this.location);
    if (!existed) return null;
    try {
      this.fs.fsyncDir(this.location);
    } catch (err) {
      throw ioError(err, 'cannot fsync', this.location);
    }
    return holder ? holderInfo(holder, this.processes) : { pid: 0, host: '', command: '', since: null, state: 'unknown' };
  }

  async forceEndCompaction(): Promise<CompactionInfo | null> {
    return this.write((w) => {
      const ended = forceEndCompaction(w);
      return ended && compactionInfo(ended);
    });
  }

  async promote(): Promise<boolean> {
    return this.write((w) => w.promote(), false);
  }

  async rekey(secret: Secret): Promise<void> {
    this.checkOpen();
    if (this.readOnly) throw new TzkvError('READ_ONLY', `store ${this.location} is open read-only: it cannot be rekeyed`, { path: this.location });
    if (this.codec.encryption === undefined) {
      throw new TzkvError('INVALID_ARGUMENT', `store ${this.location} is not encrypted: rekey changes the secret of an encrypted store`, { path: this.location });
    }
    const current = this.secret;
    if (current === undefined) throw keyRequired(this.location);
    await this.withLock(() => rekeyStore(this.fs, this.location, current, secret));
  }

  admin(): StoreAdmin {
    return this;
  }

  /**
   * fsyncs the segments this store appended to with sync off: a segment it
   * left since was fsynced when sealed (an index flush fsyncs the tail
   * first), and one a compaction has removed since had its records copied
   * into segments fsynced before the switch.
   */
  async sync(): Promise<void> {
    this.checkOpen();
    for (const file of [...this.unsynced]) {
      const path = `${this.location}/${segmentName(file)}`;
      let fd: number;
      try {
        fd = this.fs.openRead(path);
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code === 'ENOENT') {
          this.unsynced.delete(file);
          continue;
        }
        throw ioError(err, 'cannot fsync', path);
      }
      try {
        this.fs.fsync(fd);
      } catch (err) {
        throw ioError(err, 'cannot fsync', path);
      } finally {
        this.fs.close(fd);
      }
      this.unsynced.delete(file);
    }
  }

  changes(): ChangeFeed {
    this.checkOpen();
    try {
      return new LocalChangeFeed(this.fs, this.location, this.codec);
    } catch (err) {
      throw ioError(err, 'cannot follow the changes of store', this.location);
    }
  }

  async close(): Promise<void> {
    this.closed = true;
    this.views.drop();
  }
}

/** Appends a tombstone for each of `keys` (live, distinct), several as one atomic batch; how many. */
function deleteAll(w: WriteSession, keys: Buffer[]): number {
  if (keys.length === 1) {
    w.appendRecord(encodeRecord(KIND_DEL, 0, keys[0], null, 0));
  } else if (keys.length > 1) {
    const staged = new StagedBatch(w.codec); // in memory: no spill without a store to spill into
    for (const k of keys) staged.add(KIND_DEL, k, null, 0);
    const batch = staged.finish();
    if (!('chunks' in batch.records)) throw new TzkvError('INTERNAL', 'an unspillable batch spilled');
    w.appendBatch({ ...batch, records: batch.records });
  }
  if (keys.length > 0) w.flushIfDue();
  return keys.length;
}
