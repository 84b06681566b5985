// A write session: what a process does to a store while it holds the writer
// lock (docs/design.md "Write path"). It reads through a view current under
// the lock (loaded now, or its process's last one caught up), cuts a torn or
// uncommitted tail, appends records and batches (active-segment.ts), indexes
// the tail (tail-run.ts), merges runs (run-merging.ts), installs every
// manifest change through store-manifest.ts, and undoes a failed write before
// the lock goes (commit-point.ts). Compaction's locked steps use it too.
import type { TzkvError } from '../../errors.js';
import { DEFAULT_SEGMENT_BYTES, FILE_HEADER_BYTES, REPLICATING_NAME } from '../../format/constants.js';
import { censusValid } from '../../format/manifest.js';
import type { Manifest } from '../../format/manifest.js';
import { fileVersionFor } from '../../format/file-header.js';
import { encodeCommit } from '../../format/record.js';
import { SEAL_RECORD_BYTES } from '../../format/seal.js';
import type { StoreCodec } from '../../format/store-codec.js';
import type { FileSystem } from '../../io/fs.js';
import { removeQuietly } from '../../io/fs.js';
import { monotonicMs } from '../../io/clock.js';
import type { Processes } from '../../io/processes.js';
import { randomHex } from '../../io/random.js';
import { failedSummary, markerLive } from '../files/compaction-marker.js';
import { runName } from '../files/layout.js';
import { removeLeftovers } from '../files/leftovers.js';
import { FileNumbers, installManifest, nextManifest } from '../files/store-manifest.js';
import type { CensusCount, ManifestEdit } from '../files/store-manifest.js';
import { View } from '../read/view.js';
import { ActiveSegment, createSegment } from './active-segment.js';
import { startStore } from './new-store.js';
import { CommitPoint } from './commit-point.js';
import { sealStage, stageToSegment } from './batch.js';
import type { FinishedBatch, StageFile } from './batch.js';
import { writeNextMerge } from './run-merging.js';
import { sealedAlone } from './record-groups.js';
import { writeTailRun } from './tail-run.js';
import { refuseDamagedTail, refuseFollower, refuseMissingRuns, refuseOtherSettings } from './write-refusals.js';
import type { BatchInLog } from './tail-run.js';

export interface SessionOptions {
  sync: boolean;
  segmentBytes: number;
  /** Flush the tail into an index run once it holds this many bytes. */
  flushBytes: number;
  /**
   * In an encrypted store, flush the tail once it holds this many sealed
   * groups: every reader opens each group of the tail when it loads its view
   * (one AES-GCM open each: about 5 us in a warm process, ten times that in a
   * fresh one), so a tail of single writes would make a per-process read
   * slower with every write. Default ENCRYPTED_TAIL_GROUPS.
   */
  flushGroups?: number;
  now: () => number;
  /** Judges whether the process a compaction marker or a staging file names still runs. */
  processes: Processes;
}

export const DEFAULT_SESSION_OPTIONS: Omit<SessionOptions, 'now' | 'sync' | 'processes'> = {
  segmentBytes: DEFAULT_SEGMENT_BYTES,
  flushBytes: 1024 * 1024,
};

/** The sealed groups an encrypted tail holds before it is flushed (SessionOptions.flushGroups). */
export const ENCRYPTED_TAIL_GROUPS = 64;

/** A batch appended to the active segment, to index from memory. */
type AppendedBatch = BatchInLog & { puts: number; deletes: number };

export class WriteSession {
  view: View;
  /** The segment appends go to. */
  readonly active: ActiveSegment;
  /** When this session began: its process took the lock just before. */
  readonly lockedAt = monotonicMs();
  /** The manifest on disk: the last one this session installed, or the one it loaded. */
  private listed: Manifest | null;
  private readonly point = new CommitPoint();
  /** The caller took the view (keepView()): close() leaves it open. */
  private viewKept = false;
  /** Sealed groups appended since the view was loaded (its tailGroups does not count them). */
  private appendedGroups = 0;

  /**
   * REQUIRES: the writer lock, held until close(); `view`, when given, is
   * current under it (loaded or caught up since the lock was taken), loaded
   * with `codec`: the session owns it. `codec`: the store's, for everything
   * the session reads and writes.
   */
  constructor(
    readonly fs: FileSystem,
    readonly dir: string,
    readonly codec: StoreCodec,
    readonly options: SessionOptions,
    view?: View,
  ) {
    this.view = view ?? View.load(fs, dir, codec);
    this.listed = this.view.manifest;
    this.active = new ActiveSegment(fs, dir, codec, options.sync);
  }

  /** The manifest on disk. REQUIRES: a store (prepare() makes one). */
  get manifest(): Manifest {
    return this.listed!;
  }

  /** Makes the store ready for appends: creates it when empty, cuts a torn tail. */
  prepare(): void {
    refuseFollower(this.dir, this.listed);
    if (!this.listed) this.createStore();
    else {
      refuseOtherSettings(this.dir, this.listed, this.codec);
      const names = this.fs.readdir(this.dir);
      refuseMissingRuns(this.dir, this.listed, names);
      removeLeftovers(this.fs, this.dir, this.listed, this.options.processes, names); // moves nextFile past what stays
      this.endStaleCompaction();
    }
    const v = this.view;
    refuseDamagedTail(this.dir, v);
    this.active.open(v.activeFile, v.tailEnd, v.activeSize, v.activeHeader);
    this.point.opened(this.active);
    if (!this.active.current) this.rollForNewKey();
  }

  /**
   * Starts a new segment, the tail indexed first: the active one's header
   * names a data key other than the one new files are written with (a
   * compaction rotated it), and a segment is encrypted with one key from end to end.
   */
  private rollForNewKey(): void {
    if (this.active.end > this.manifest.active.indexedTo) this.flush();
    if (this.active.current) return; // the flush rolled a full segment
    const numbers = new FileNumbers(this.manifest.nextFile);
    const edit: ManifestEdit = {};
    this.roll(edit, numbers);
    edit.nextFile = numbers.next;
    this.install(edit);
  }

  /** Turns a follower into an independent store with its own id; false when it was not a follower. (No prepare() needed.) */
  promote(): boolean {
    if (!this.listed?.follower) return false;
    this.install({ follower: null, storeId: randomHex(8) });
    this.removeFile(REPLICATING_NAME); // the note of a replicate that was killed: this store is no follower now
    return true;
  }

  private createStore(): void {
    this.switchTo(startStore(this.fs, this.dir, this.codec, this.options.now(), this.options.processes));
  }

  /** Installs the manifest `edit` makes of the one on disk, and loads the view from it. Returns that manifest. */
  install(edit: ManifestEdit): Manifest {
    const next = nextManifest(this.manifest, edit);
    this.switchTo(next);
    return next;
  }

  private switchTo(m: Manifest): void {
    installManifest(this.fs, this.dir, m, () => {
      this.listed = m;
      this.point.installed(m, this.active);
    });
    this.reloadView();
  }

  private reloadView(): void {
    this.view.close();
    this.view = View.load(this.fs, this.dir, this.codec);
    this.appendedGroups = 0;
  }

  /** Undoes a write that failed (CommitPoint.undo), before the lock is released. */
  undo(err: TzkvError): TzkvError {
    return this.point.undo(this.fs, this.dir, this.listed, this.options.processes, err);
  }

  /** Appends committed record bytes, laid out as the active segment takes them, to it (fsynced when sync is on); returns where they start. REQUIRES: prepare(). */
  private append(chunks: Buffer[]): number {
    const base = this.active.append(chunks);
    this.point.appended();
    return base;
  }

  /**
   * Appends one committed PUT or DEL, encoded with a plain body (CRC set or
   * not); in an encrypted segment as a group of its own. Returns where the
   * record starts and its CRC as stored (what its version is made of).
   * REQUIRES: prepare().
   */
  appendRecord(record: Buffer): { offset: number; crc: number } {
    if (!this.active.encrypted) return { offset: this.append([record]), crc: record.readUInt32LE(0) };
    const group = sealedAlone(record, this.active.end, this.active.key);
    const offset = this.append([group]) + SEAL_RECORD_BYTES;
    this.appendedGroups++;
    return { offset, crc: group.readUInt32LE(SEAL_RECORD_BYTES) };
  }

  /**
   * Appends a finished batch held in memory and its COMMIT (docs/design.md
   * "Atomic batches"), its groups sealed for where it lands; returns where it
   * starts (its entries' offsets are relative to that). REQUIRES: prepare().
   */
  appendBatch(batch: FinishedBatch & { records: { chunks: Buffer[] } }): number {
    if (batch.groups) this.appendedGroups += batch.groups.sealAll(this.active.end, this.active.key);
    return this.append([...batch.records.chunks, encodeCommit(batch.count)]);
  }

  /** Flushes the tail when it holds flushBytes, or the active segment is full. */
  flushIfDue(): void {
    const tailBytes = this.active.end - this.manifest.active.indexedTo;
    const tailGroups = this.view.tailGroups + this.appendedGroups;
    if (tailBytes >= this.options.flushBytes || tailGroups >= (this.options.flushGroups ?? ENCRYPTED_TAIL_GROUPS) || this.active.end >= this.options.segmentBytes) this.flush();
  }

  /** Indexes the tail, then merges runs as the policy asks. */
  flush(): void {
    this.indexTail();
    this.mergeRuns();
  }

  /**
   * Indexes the whole tail into one run and rolls a full segment, in one
   * manifest replacement; merges nothing (compaction's snapshot: the runs are
   * about to be rewritten).
   */
  indexTail(): void {
    this.syncBeforeIndexing();
    // The view is as of before our appends: caught up (or rescanned), its tail holds everything up to the end.
    if (!this.view.catchUp(this.active.end)) this.reloadView();
    this.index(undefined);
  }

  /** Indexes the tail the view holds and `batch`, appended after it, from memory; merges nothing. */
  private indexTailAndBatch(batch: AppendedBatch): void {
    this.syncBeforeIndexing();
    this.index(batch);
  }

  /**
   * An index run must never point at bytes that could still vanish: the
   * active segment is fsynced first, unless this session fsynced it since it
   * last wrote (sync on, an append just before). A writer with sync on that
   * indexes without appending (the roll before a batch, a compaction's
   * snapshot) may index bytes another process appended with sync off.
   */
  private syncBeforeIndexing(): void {
    this.active.makeDurable();
  }

  /** Writes the view's tail (and `batch`) into one run and rolls a full segment, in one manifest replacement. */
  private index(batch: AppendedBatch | undefined): void {
    const m = this.manifest;
    const v = this.view;
    const numbers = new FileNumbers(m.nextFile);
    const census = this.census();
    const counted = { puts: v.tailCounts.puts + (batch?.puts ?? 0), deletes: v.tailCounts.deletes + (batch?.deletes ?? 0), deadBytes: v.tailCounts.deadBytes };
    const edit: ManifestEdit = { counted, indexedTo: this.active.end, census };
    const tail = v.tailSorted();
    if (tail.length > 0 || (batch && batch.entries.count > 0)) {
      const { run, shadowed } = writeTailRun(this.fs, this.dir, numbers.take(), v, tail, batch, census);
      counted.deadBytes += shadowed;
      edit.runs = { add: [run] };
    }
    if (this.active.end >= this.options.segmentBytes) this.roll(edit, numbers);
    if (edit.runs) this.fs.fsyncDir(this.dir);
    edit.nextFile = numbers.next;
    this.install(edit);
  }

  /** The census to carry into an edit that indexes records: a copy of the valid one, or null. */
  private census(): CensusCount | null {
    const m = this.manifest;
    return censusValid(m) ? { keys: m.census.keys, bytes: m.census.bytes, ...(m.census.phantom ? { phantom: { ...m.census.phantom } } : {}) } : null;
  }

  /** Seals the active segment at its end and starts a new one, recorded in `edit` (its number from `numbers`). */
  roll(edit: ManifestEdit, numbers: FileNumbers): void {
    const file = numbers.take();
    createSegment(this.fs, this.dir, file, this.codec);
    this.switchActive(edit, file, FILE_HEADER_BYTES);
  }

  /**
   * Seals the active segment at its end and makes segment `file` (on disk,
   * whole up to `end`, all of it indexed) the one appends go to, recorded in
   * `edit`; `pending`: its values' bytes left for compaction to compress.
   */
  private switchActive(edit: ManifestEdit, file: number, end: number, pending = 0): void {
    const add = [...(edit.segments?.add ?? [])];
    // The segment being left is sealed at its end: one this edit started, or the manifest's active one (sealedAt).
    if (add.length > 0) add[add.length - 1] = { ...add[add.length - 1], size: this.active.end };
    else edit.sealedAt = this.active.end;
    // In an encrypted store every segment entry names its data key (docs/format.md "MANIFEST, version 2"): the one new segments are written with.
    const { keyId } = fileVersionFor(this.codec);
    add.push({ file, size: null, ...(keyId > 0 ? { key: keyId } : {}), ...(pending > 0 ? { pending } : {}) });
    edit.segments = { remove: edit.segments?.remove, add };
    edit.indexedTo = end;
    this.active.switchTo(file, end);
  }

  /** Commits a finished batch atomically (docs/design.md "Atomic batches"). REQUIRES: prepare(). */
  commitBatch(batch: FinishedBatch): void {
    if ('stage' in batch.records) {
      this.commitSpilled(batch.records.stage, batch);
      return;
    }
    // A batch is never split across segments.
    if (this.active.end + batch.bytes > this.options.segmentBytes) this.rollBeforeBatch();
    const base = this.appendBatch({ ...batch, records: batch.records });
    if (batch.bytes < this.options.flushBytes) {
      this.flushIfDue();
      return;
    }
    this.indexTailAndBatch({ base, entries: batch.entries, puts: batch.puts, deletes: batch.deletes });
    this.mergeRuns();
  }

  /** Starts a new segment now, the tail indexed first (before a batch that would overflow the active one). */
  private rollBeforeBatch(): void {
    if (this.active.end === FILE_HEADER_BYTES) return;
    this.flush();
    if (this.active.end === FILE_HEADER_BYTES) return;
    const numbers = new FileNumbers(this.manifest.nextFile);
    const edit: ManifestEdit = {};
    this.roll(edit, numbers);
    edit.nextFile = numbers.next;
    this.install(edit);
  }

  /**
   * Commits a spilled batch: its staging file becomes a new segment
   * (sealStage, then stageToSegment once its run is written: the disk takes
   * the segment's last bytes meanwhile), indexed by one new run, and the
   * active segment, in one manifest replacement. A crash before that
   * replacement leaves an unlisted segment, run or staging file the next
   * writer removes.
   */
  private commitSpilled(stage: StageFile, batch: FinishedBatch): void {
    if (this.active.end > this.manifest.active.indexedTo) this.flush();
    const numbers = new FileNumbers(this.manifest.nextFile);
    const file = numbers.take();
    const segmentEnd = sealStage(this.fs, this.dir, stage, file, batch.count, this.codec);
    const census = this.census();
    const { run, shadowed } = writeTailRun(this.fs, this.dir, numbers.take(), this.view, [], { base: FILE_HEADER_BYTES, entries: batch.entries, segment: file }, census);
    stageToSegment(this.fs, this.dir, stage, file);
    this.fs.fsyncDir(this.dir);
    const edit: ManifestEdit = { runs: { add: [run] }, counted: { puts: batch.puts, deletes: batch.deletes, deadBytes: shadowed }, census };
    this.switchActive(edit, file, segmentEnd, batch.pending);
    if (this.active.end >= this.options.segmentBytes) this.roll(edit, numbers);
    edit.nextFile = numbers.next;
    this.install(edit);
    this.mergeRuns();
  }

  /** Merges index runs as the policy asks, one manifest replacement per merge, so a lookup touches few files. */
  private mergeRuns(): void {
    const { fs, dir, options, codec } = this;
    for (let merge = writeNextMerge(fs, dir, this.manifest, options.processes, codec); merge; merge = writeNextMerge(fs, dir, this.manifest, options.processes, codec)) {
      this.install(merge.edit);
      for (const r of merge.replaced) this.removeFile(runName(r.file));
    }
  }

  /** Removes a stale compaction marker (its process died), recording the compaction as failed: merges may touch its runs again. */
  private endStaleCompaction(): void {
    const c = this.manifest.compaction;
    if (!c || markerLive(c, this.options.processes)) return;
    const at = new Date(this.options.now()).toISOString();
    this.install({ compaction: null, compactionReport: failedSummary(at, `failed: the compacting process (pid ${c.pid}) ended before its switch`) });
  }

  /** Removes a file of the store; one that stays (a failure) is an unlisted leftover a later writer removes. */
  removeFile(name: string): void {
    removeQuietly(this.fs, `${this.dir}/${name}`);
  }

  /**
   * The session's view, for its caller to keep past close(): the store as
   * the last manifest this session installed (or loaded) lists it, with the
   * active segment's tail as far as the view had read it, not the records
   * appended after (View.catchUp reads them).
   */
  keepView(): View {
    this.viewKept = true;
    return this.view;
  }

  close(): void {
    this.active.close();
    if (!this.viewKept) this.view.close();
  }
}
