// The write side of the engine. A Writer exists only while its process holds
// the writer lock: it loads a fresh view, recovers the tail (truncating a torn
// or uncommitted end), appends, fsyncs, and flushes the tail into index runs.
import { TzkvError, ioError } from '../../errors.js';
import { DEFAULT_SEGMENT_BYTES, FILE_HEADER_BYTES, MAGIC_SEGMENT, REPLICATING_NAME, RUN_EXT } from '../../format/constants.js';
import { encodeFileHeader } from '../../format/file-header.js';
import { encodeCommit } from '../../format/record.js';
import type { StageFile } from './batch.js';
import { censusValid } from '../../format/manifest.js';
import type { Census, CompactionMarker, CompactionSummary } from '../../format/manifest.js';
import type { Manifest, RunInfo } from '../../format/manifest.js';
import type { FileSystem } from '../../io/fs.js';
import { removeQuietly, closeQuietly } from '../../io/fs.js';
import { runName, segmentName } from '../files/layout.js';
import { cutBack, removeLeftovers, removeOwnLeftovers, undoneError } from '../files/leftovers.js';
import { missingFileError, missingFiles } from '../files/manifest-files.js';
import { endMarker, liveCompaction, markerLive, markerState, mergeableRuns, newMarker, snapshotIntact } from '../files/compaction-marker.js';
import type { RewriteOutput } from '../compact/compact-rewrite.js';
import type { LogEntry } from '../log/log-scan.js';
import { CensusDelta, phantomOf } from '../read/census.js';
import { installManifest, newManifest, nextManifest } from '../files/store-manifest.js';
import { planMerge } from '../runs/merge-policy.js';
import { sortedLookup } from '../runs/run-probe.js';
import { readTtlRemoves, ttlSection } from '../runs/run-ttl.js';
import { TtlList } from '../runs/ttl-list.js';
import { RunReader } from '../runs/run-reader.js';
import { mergeInto, sortedUnique } from '../runs/run-merge.js';
import { RunWriter } from '../runs/run-writer.js';

/**
 * Collects the TTL removes of a group of runs into `into`; false when a run
 * has no TTL section (written before the census), which ends the census.
 */
function groupRemoves(readers: RunReader[], into: TtlList): boolean {
  for (const r of readers) {
    const section = ttlSection(r);
    if (!section) return false;
    into.addAll(readTtlRemoves(r, section));
  }
  return true;
}

/** The next manifest to write: a copy one generation on, keeping the census only while it is valid. */
function successor(m: Manifest): Manifest {
  return nextManifest(m, {});
}
import { View } from '../read/view.js';
import { randomHex } from '../../io/random.js';
import { monotonicMs } from '../../io/clock.js';
import type { Processes } from '../../io/processes.js';

/** The report of a compaction that ended without a result. */
export function failedSummary(at: string, result: string, durationMs = 0, lockHeldMs = 0): CompactionSummary {
  return { at, result, durationMs, lockHeldMs, bytesBefore: 0, bytesAfter: 0, recordsKept: 0, recordsDropped: 0, expiredDropped: 0 };
}

export interface WriterOptions {
  sync: boolean;
  segmentBytes: number;
  /** Flush the tail into an index run once it holds this many bytes. */
  flushBytes: number;
  now: () => number;
  /** Judges whether the process a compaction marker or a staging file names still runs. */
  processes: Processes;
}

export const DEFAULT_WRITER_OPTIONS: Omit<WriterOptions, 'now' | 'sync' | 'processes'> = {
  segmentBytes: DEFAULT_SEGMENT_BYTES,
  flushBytes: 1024 * 1024,
};

/**
 * Entries of one batch, struct-of-arrays (typed arrays: no garbage per entry);
 * keys as latin1 strings; offsets relative to the batch start. Valid: [0, keys.length).
 */
export interface BatchEntries {
  keys: string[];
  kinds: Uint8Array;
  offsets: Float64Array;
  lengths: Uint32Array;
  expiries: Float64Array;
}

export class Writer {
  view: View;
  private fd = -1;
  /** End of committed data in the active segment: where the next append goes. */
  end = 0;
  /** When this writer was made: its process took the lock just before. */
  readonly lockedAt = monotonicMs();
  /** The manifest on disk: the last one this writer installed, or the one it loaded. */
  private listed: Manifest | null;
  /** The active segment and its end as of the last manifest installed (or prepare): what rollback() cuts back to. */
  private committed: { file: number; end: number } | null = null;
  /** Records appended since the last manifest was installed. */
  private pending = false;
  /** A manifest installed by this writer covers records it appended: that write stays whatever fails after. */
  private stored = false;

  constructor(
    private readonly fs: FileSystem,
    readonly dir: string,
    private readonly options: WriterOptions,
  ) {
    this.view = View.load(fs, dir);
    this.listed = this.view.manifest;
  }

  get manifest(): Manifest {
    return this.view.manifest!;
  }

  /** Makes the store ready for appends: creates it when empty, cuts a torn tail. REQUIRES: the lock. */
  prepare(): void {
    const follower = this.view.manifest?.follower;
    if (follower) {
      throw new TzkvError(
        'READ_ONLY',
        `store ${this.dir} is a follower of ${follower.leader || 'another store'}: writes are refused (run \`tzkv promote\` to make it an independent store)`,
        { path: this.dir },
      );
    }
    if (!this.view.manifest) this.initStore();
    else {
      const names = this.fs.readdir(this.dir);
      this.refuseMissingRuns(this.view.manifest, names);
      removeLeftovers(this.fs, this.dir, this.view.manifest, this.options.processes, names);
      this.clearStaleCompaction();
    }
    const v = this.view;
    const active = this.manifest.active.file;
    if (v.tailState.kind === 'corrupt') {
      throw new TzkvError(
        'CORRUPT',
        `${segmentName(active)} offset ${v.tailState.offset}: ${v.tailState.reason}; refusing to write behind damaged data (run \`tzkv verify --repair\`)`,
        { path: `${this.dir}/${segmentName(active)}`, offset: v.tailState.offset },
      );
    }
    const path = `${this.dir}/${segmentName(active)}`;
    try {
      this.fd = this.fs.openReadWrite(path);
      if (v.activeSize !== v.tailEnd) {
        // A torn record or an interrupted batch: never acknowledged, cut it off.
        this.fs.truncate(this.fd, v.tailEnd);
        this.fs.fsync(this.fd);
      }
    } catch (err) {
      throw ioError(err, 'cannot open for writing', path);
    }
    this.end = v.tailEnd;
    this.committed = { file: active, end: this.end };
  }

  /** Turns a follower into an independent store with its own id; false when it was not a follower. REQUIRES: the lock. */
  promote(): boolean {
    const m = this.view.manifest;
    if (!m || !m.follower) return false;
    const next = successor(m);
    next.follower = null;
    next.storeId = randomHex(8);
    this.writeManifest(next);
    this.unlinkQuietly(REPLICATING_NAME); // the note of a replicate that was killed: this store is no follower now
    return true;
  }

  private initStore(): void {
    removeLeftovers(this.fs, this.dir, null, this.options.processes);
    const file = 1;
    this.createSegment(file);
    this.writeManifest(newManifest({ segments: [{ file, size: null }], nextFile: file + 1, now: this.options.now(), census: { keys: 0, bytes: 0 } }));
  }

  private createSegment(file: number): void {
    const path = `${this.dir}/${segmentName(file)}`;
    try {
      // Never over a file still on disk: removeLeftovers took numbers past them.
      const fd = this.fs.createExclusive(path);
      try {
        const header = encodeFileHeader(MAGIC_SEGMENT, file);
        this.fs.write(fd, header, 0, header.length, 0);
        this.fs.fsync(fd);
      } finally {
        this.fs.close(fd);
      }
      this.fs.fsyncDir(this.dir);
    } catch (err) {
      throw ioError(err, 'cannot create segment', path);
    }
  }

  /** Replaces the manifest durably and reloads the view from it; stamps a census carried along. */
  private writeManifest(m: Manifest): void {
    if (m.census) m.census.generation = m.generation;
    installManifest(this.fs, this.dir, m, () => this.installed(m));
    this.view.close();
    this.view = View.load(this.fs, this.dir);
  }

  /** `m` is in place: what it lists, and the active segment up to `end`, is the store now (a failure after this undoes nothing of it). */
  private installed(m: Manifest): void {
    this.listed = m;
    this.committed = this.fd >= 0 ? { file: m.active.file, end: this.end } : null;
    if (this.pending) this.stored = true;
    this.pending = false;
  }

  /**
   * Undoes a write that failed, before the lock is released (docs/design.md
   * "Failures"): cuts the active segment back to its committed end and
   * removes every file the manifest on disk does not list (a run or segment
   * written for a manifest that never came, a temp file). What an installed
   * manifest covers stays. Returns `err` with what could not be undone (the
   * next writer does it) and whether the write itself had been stored.
   * REQUIRES: the lock.
   */
  undo(err: TzkvError): TzkvError {
    const left: string[] = [];
    if (this.committed) cutBack(this.fs, this.dir, segmentName(this.committed.file), this.committed.end, left);
    removeOwnLeftovers(this.fs, this.dir, this.listed, this.options.processes, left);
    return undoneError(err, left, this.stored);
  }

  /** Appends committed record bytes at the end of the active segment; fsyncs when sync is on. */
  append(chunks: Buffer[]): number {
    const base = this.end;
    let pos = base;
    try {
      for (const c of chunks) {
        this.fs.write(this.fd, c, 0, c.length, pos);
        pos += c.length;
      }
      if (this.options.sync) this.fs.fsync(this.fd);
    } catch (err) {
      // Whatever reached the file is an unacknowledged tail: undo() cuts it off.
      throw ioError(err, 'cannot append to', `${this.dir}/${segmentName(this.manifest.active.file)}`);
    }
    this.end = pos;
    this.pending = true;
    return base;
  }

  /**
   * Flushes the tail when it is big enough, or when `force`. Rolls the segment when full.
   * Then merges runs as the policy says, unless `merge` is false (a compaction's snapshot:
   * the runs are about to be rewritten, and the lock is held).
   */
  maybeFlush(force = false, batch?: { base: number; entries: BatchEntries; puts: number; deletes: number }, merge = true): void {
    const m = this.manifest;
    const tailBytes = this.end - m.active.indexedTo;
    if (!force && tailBytes < this.options.flushBytes && this.end < this.options.segmentBytes) return;
    // An index run must never point at bytes that could still vanish: with sync off, fsync them now.
    if (!this.options.sync) this.syncActive();
    // The view was loaded before our appends: rescan so the tail holds everything up to `end`.
    if (!batch) {
      this.view.close();
      this.view = View.load(this.fs, this.dir);
    }
    const v = this.view;
    const next = successor(m);
    next.counters.puts += v.tailCounts.puts + (batch?.puts ?? 0);
    next.counters.deletes += v.tailCounts.deletes + (batch?.deletes ?? 0);
    next.counters.deadBytes += v.tailCounts.deadBytes;
    const newRuns: RunInfo[] = [];
    const sortedTail = v.tailSorted();
    if (sortedTail.length > 0 || (batch && batch.entries.keys.length > 0)) {
      const file = next.nextFile++;
      const w = new RunWriter(this.fs, this.dir, file, sortedTail.length + (batch?.entries.keys.length ?? 0));
      try {
        next.counters.deadBytes += this.writeTailRun(w, sortedTail, batch, next.census);
        newRuns.push(w.finish());
      } catch (err) {
        w.abort();
        throw err;
      }
    }
    next.runs = [...newRuns, ...next.runs];
    next.active.indexedTo = this.end;
    if (this.end >= this.options.segmentBytes) this.roll(next);
    if (newRuns.length > 0) this.fs.fsyncDir(this.dir);
    this.writeManifest(next);
    if (merge) this.mergeRuns();
  }

  /** Writes tail entries (and a batch, newer) into a run, newest version per key. Returns shadowed bytes. */
  private writeTailRun(
    w: RunWriter,
    tail: LogEntry[],
    batch: { base: number; entries: BatchEntries; segment?: number } | undefined,
    census: Census | null,
  ): number {
    const active = this.manifest.active.file;
    const batchSegment = batch?.segment ?? active;
    let dead = 0;
    // The census weighs each entry against the runs indexed so far (the view's).
    const delta = census ? new CensusDelta(sortedLookup(this.view.manifest!.runs, (i) => this.view.run(i)), w.ttlRemoves) : null;
    const add = (key: string, kind: number, segment: number, offset: number, length: number, expiresAt: number) => {
      delta?.account(key, kind, length);
      w.add(key, kind, segment, offset, length, expiresAt);
    };
    try {
      if (!batch) {
        for (const e of tail) add(e.key, e.kind, active, e.offset, e.length, e.expiresAt);
        return 0;
      }
      const { keys, kinds, offsets, lengths, expiries } = batch.entries;
      const order = sortedUnique(keys, (shadowed) => (dead += lengths[shadowed]));
      const count = order === null ? keys.length : order.length;
      let ti = 0;
      for (let j = 0; j < count; j++) {
        const i = order === null ? j : order[j];
        const key = keys[i];
        while (ti < tail.length && tail[ti].key < key) {
          const e = tail[ti++];
          add(e.key, e.kind, active, e.offset, e.length, e.expiresAt);
        }
        if (ti < tail.length && tail[ti].key === key) dead += tail[ti++].length;
        add(key, kinds[i], batchSegment, batch.base + offsets[i], lengths[i], expiries[i]);
      }
      while (ti < tail.length) {
        const e = tail[ti++];
        add(e.key, e.kind, active, e.offset, e.length, e.expiresAt);
      }
      return dead;
    } finally {
      if (census && delta) delta.applyTo(census);
    }
  }

  private syncActive(): void {
    try {
      this.fs.fsync(this.fd);
    } catch (err) {
      throw ioError(err, 'cannot fsync', `${this.dir}/${segmentName(this.manifest.active.file)}`);
    }
  }

  /** Seals the active segment at `end` and starts a new one, in the manifest `next`. */
  private roll(next: Manifest): void {
    const file = next.nextFile++;
    this.createSegment(file);
    this.switchActive(next, file, FILE_HEADER_BYTES);
  }

  /**
   * Seals the active segment at `end` in the manifest `next` and makes `file`
   * (already on disk, whole up to `end`) the active segment, for appends.
   */
  private switchActive(next: Manifest, file: number, end: number): void {
    next.segments[next.segments.length - 1].size = this.end;
    next.segments.push({ file, size: null });
    next.active = { file, indexedTo: end };
    const old = this.fd;
    this.fd = -1;
    closeQuietly(this.fs, old); // closing a file we only appended to cannot lose data that was fsynced
    this.fd = this.fs.openReadWrite(`${this.dir}/${segmentName(file)}`);
    this.end = end;
  }

  /**
   * Commits a spilled batch: the staging file gets its segment header and a
   * COMMIT record, is fsynced and renamed to a new segment, indexed by one new
   * run, and becomes the active segment in one manifest replacement. A crash
   * before that replacement leaves an unlisted segment the next writer removes.
   */
  commitStage(stage: StageFile, batch: { entries: BatchEntries; puts: number; deletes: number; count: number }): void {
    if (this.end > this.manifest.active.indexedTo) this.maybeFlush(true);
    const next = successor(this.manifest);
    const file = next.nextFile++;
    const path = `${this.dir}/${segmentName(file)}`;
    const commit = encodeCommit(batch.count);
    const segmentEnd = FILE_HEADER_BYTES + stage.bytes + commit.length;
    try {
      const header = encodeFileHeader(MAGIC_SEGMENT, file);
      this.fs.write(stage.fd, header, 0, header.length, 0);
      this.fs.write(stage.fd, commit, 0, commit.length, FILE_HEADER_BYTES + stage.bytes);
      this.fs.fsync(stage.fd);
      this.fs.rename(stage.path, path);
    } catch (err) {
      throw ioError(err, 'cannot commit batch as', path);
    }
    const runFile = next.nextFile++;
    const w = new RunWriter(this.fs, this.dir, runFile, batch.entries.keys.length);
    try {
      next.counters.deadBytes += this.writeTailRun(w, [], { base: FILE_HEADER_BYTES, entries: batch.entries, segment: file }, next.census);
      next.runs = [w.finish(), ...next.runs];
    } catch (err) {
      w.abort();
      throw err;
    }
    this.fs.fsyncDir(this.dir);
    next.counters.puts += batch.puts;
    next.counters.deletes += batch.deletes;
    this.switchActive(next, file, segmentEnd);
    if (this.end >= this.options.segmentBytes) this.roll(next);
    this.writeManifest(next);
    this.mergeRuns();
  }

  /** Starts a new segment now (before a batch that would overflow the active one). */
  rollNow(): void {
    if (this.end === FILE_HEADER_BYTES) return;
    this.maybeFlush(true);
    if (this.end === FILE_HEADER_BYTES) return;
    const next = successor(this.manifest);
    this.roll(next);
    this.writeManifest(next);
  }

  /** Merges index runs as the policy asks, so a lookup touches few files. */
  private mergeRuns(): void {
    for (;;) {
      const m = this.manifest;
      // A running compaction's snapshot runs stay as they are: its switch replaces them.
      const plan = planMerge(m.runs.slice(0, mergeableRuns(m, this.options.processes)));
      if (!plan) return;
      const [from, to] = plan;
      const group = m.runs.slice(from, to);
      const bottom = to === m.runs.length;
      const next = successor(m);
      const file = next.nextFile++;
      const readers: RunReader[] = [];
      try {
        for (const r of group) readers.push(RunReader.open(this.fs, this.dir, r.file));
      } catch (err) {
        for (const r of readers) r.close();
        throw err;
      }
      let w: RunWriter;
      try {
        w = new RunWriter(this.fs, this.dir, file, group.reduce((s, r) => s + r.entries, 0));
      } catch (err) {
        for (const r of readers) r.close();
        throw err;
      }
      try {
        // The census's removes move to the merged run, less those the merge resolved inside the group.
        let census = next.census ? groupRemoves(readers, w.ttlRemoves) : false;
        const shadowed = new TtlList();
        next.counters.deadBytes += mergeInto(w, readers, bottom, shadowed);
        if (census && w.ttlRemoves.sort().subtractSorted(shadowed.sort()) > 0) census = false;
        if (!census) next.census = null;
        const info = w.finish();
        next.runs.splice(from, to - from, ...(info.entries > 0 || !bottom ? [info] : []));
      } catch (err) {
        w.abort();
        throw err;
      } finally {
        for (const r of readers) r.close();
      }
      this.fs.fsyncDir(this.dir);
      this.writeManifest(next);
      for (const r of group) this.unlinkQuietly(runName(r.file));
    }
  }

  /**
   * Compaction's snapshot (docs/design.md "Compaction"): indexes the tail,
   * seals the active segment, reserves file numbers for the output and
   * records the marker, in one manifest replacement. Throws LOCKED when
   * another compaction is running. REQUIRES: the lock, prepare().
   */
  beginCompaction(now: number): CompactionMarker {
    const running = liveCompaction(this.manifest, this.options.processes);
    if (running) {
      throw new TzkvError(
        'LOCKED',
        `store ${this.dir} is being compacted by pid ${running.pid}${markerState(running, this.options.processes) === 'foreign' ? ` on ${running.host}` : ''} (since ${running.started}); one compaction runs at a time${
          markerState(running, this.options.processes) === 'foreign' ? '. It runs on another host, which tzkv cannot check: if that process is gone, `tzkv unlock --force` ends it' : ''
        }`,
        { path: this.dir, info: { compacting: true, pid: running.pid, host: running.host, since: running.started } },
      );
    }
    const missing = missingFiles(this.manifest, this.fs.readdir(this.dir));
    if (missing.length > 0) throw missingFileError(this.dir, missing[0], 'a compaction reads every segment (run `tzkv verify`)');
    if (this.end > this.manifest.active.indexedTo) this.maybeFlush(true, undefined, false);
    const next = successor(this.manifest);
    let bytes = 0;
    for (const s of next.segments) bytes += s.size ?? this.end;
    // Any two consecutive output segments hold more than segmentBytes: this many numbers always suffice.
    const files = { first: next.nextFile, count: 2 + 2 * Math.ceil(bytes / this.options.segmentBytes) };
    next.nextFile += files.count;
    // The active segment is sealed into the snapshot; new writes go to a segment numbered after the output's.
    this.roll(next);
    const segments = next.segments.slice(0, -1).map((s) => s.file);
    const marker = newMarker({ generation: next.generation, segments, runs: next.runs.map((r) => r.file), files }, now, this.options.processes);
    next.compaction = marker;
    try {
      this.writeManifest(next);
    } catch (err) {
      endMarker(marker); // the manifest may have landed: its marker is stale from now on
      throw err;
    }
    return marker;
  }

  /**
   * Compaction's switch: checks the snapshot is still in place, renames the
   * output in, and replaces the manifest: the output as the oldest data,
   * everything written since the snapshot on top. Returns the names of the
   * snapshot's files, now unlisted, for the caller to delete after releasing
   * the lock (deleting large files takes a while; should it not happen, the
   * next writer deletes them). Throws PRECONDITION when the snapshot changed
   * (nothing is lost: the caller deletes the output). REQUIRES: the lock, prepare().
   */
  finishCompaction(marker: CompactionMarker, out: RewriteOutput, now: number, summary: (lockHeldMs: number) => CompactionSummary, heldBefore: number): string[] {
    const m = this.manifest;
    if (!snapshotIntact(m, marker)) {
      throw new TzkvError(
        'PRECONDITION',
        `store ${this.dir} changed under the compaction (another compaction, or a writer that does not know compaction markers, replaced its snapshot); nothing was changed, run it again`,
        { path: this.dir },
      );
    }
    const newerRuns = m.runs.slice(0, m.runs.length - marker.runs.length);
    const newerSegments = m.segments.slice(marker.segments.length);
    // Everything that reads or can fail comes before the renames: after them, a failure would leave numbered files unlisted.
    const census = this.censusAfter(m, out, newerRuns, now);
    const renames: Array<[string, string]> = out.segments.map((s) => [s.tmp, `${this.dir}/${segmentName(s.file)}`]);
    if (out.run) renames.push([out.run.tmp, `${this.dir}/${runName(out.run.info.file)}`]);
    try {
      for (const [from, to] of renames) this.fs.rename(from, to);
      this.fs.fsyncDir(this.dir);
    } catch (err) {
      throw ioError(err, 'cannot rename compacted files into', this.dir);
    }
    const next = successor(m);
    next.census = census;
    next.runs = [...newerRuns, ...(out.run ? [out.run.info] : [])];
    const gone = [...marker.segments.map(segmentName), ...marker.runs.map(runName)];
    const active = newerSegments[newerSegments.length - 1];
    if (newerSegments.length === 1 && this.end === FILE_HEADER_BYTES && out.segments.length > 0) {
      // Nothing was written since the snapshot: the last output segment becomes the active one again.
      const last = out.segments[out.segments.length - 1];
      next.segments = out.segments.map((s, i) => ({ file: s.file, size: i === out.segments.length - 1 ? null : s.size }));
      next.active = { file: last.file, indexedTo: last.size };
      gone.push(segmentName(active.file));
      this.closeActive();
    } else {
      next.segments = [...out.segments.map((s) => ({ file: s.file, size: s.size })), ...newerSegments.map((s) => ({ ...s }))];
    }
    next.compaction = null;
    next.counters.expiredDropped += out.expiredDropped;
    next.counters.compactedRecords += out.dropped;
    next.lastCompaction = new Date(now).toISOString();
    next.lastCompactionReport = summary(heldBefore + (monotonicMs() - this.lockedAt));
    this.writeManifest(next);
    return gone;
  }

  /**
   * The census after a switch (docs/design.md "Census"). Keys shadowed by runs
   * written since the snapshot were accounted when those runs were written; the
   * rest of the dropped expired PUTs leave the census now. Removes those runs
   * hold for dropped expired PUTs would now dangle: counted as `phantom`.
   */
  private censusAfter(m: Manifest, out: RewriteOutput, newerRuns: RunInfo[], now: number): Census | null {
    if (newerRuns.length === 0) return { generation: 0, keys: out.kept, bytes: out.keptBytes };
    if (!censusValid(m)) return null;
    const phantom = phantomOf(this.view, newerRuns.length, now);
    const census: Census = {
      generation: 0,
      keys: m.census.keys - (out.expiredDropped - phantom.keys),
      bytes: m.census.bytes - (out.expiredDroppedBytes - phantom.bytes),
    };
    if (phantom.keys > 0) census.phantom = phantom;
    return census;
  }

  /**
   * Ends a compaction that failed: removes its marker and records the failure,
   * when the marker is still its own. When nothing was written since the
   * snapshot, the empty segment the snapshot started goes too and the one it
   * sealed is the active segment again: the store is as before the
   * compaction. REQUIRES: the lock, prepare(); the compaction's temporary
   * files already removed.
   */
  abandonCompaction(marker: CompactionMarker, summary: CompactionSummary): void {
    const m = this.manifest;
    if (m.compaction?.token !== marker.token) return;
    const next = successor(m);
    next.compaction = null;
    next.lastCompactionReport = summary;
    const started = m.segments[m.segments.length - 1];
    const untouched =
      snapshotIntact(m, marker) && m.segments.length === marker.segments.length + 1 && m.runs.length === marker.runs.length && this.end === FILE_HEADER_BYTES;
    if (untouched) {
      next.segments.pop();
      const sealed = next.segments[next.segments.length - 1];
      // The snapshot indexed the sealed segment whole.
      next.active = { file: sealed.file, indexedTo: sealed.size! };
      sealed.size = null;
      this.closeActive();
    }
    this.writeManifest(next);
    if (untouched) this.unlinkQuietly(segmentName(started.file));
  }

  /**
   * Ends the compaction marker of a process on another host (`tzkv unlock
   * --force`), recording the compaction as failed. Returns the marker, or null
   * when there is none or its process runs on this host. REQUIRES: the lock, prepare().
   */
  forceEndCompaction(): CompactionMarker | null {
    const c = this.manifest.compaction;
    if (!c || markerState(c, this.options.processes) !== 'foreign') return null;
    const next = successor(this.manifest);
    next.compaction = null;
    next.lastCompactionReport = failedSummary(
      new Date(this.options.now()).toISOString(),
      `failed: ended by \`tzkv unlock --force\` (pid ${c.pid} on ${c.host} never switched it in)`,
    );
    this.writeManifest(next);
    return c;
  }

  /** Removes a stale compaction marker (its process died): merges may touch its runs again. */
  private clearStaleCompaction(): void {
    const c = this.manifest.compaction;
    if (!c || markerLive(c, this.options.processes)) return;
    const next = successor(this.manifest);
    next.compaction = null;
    next.lastCompactionReport = failedSummary(new Date(this.options.now()).toISOString(), `failed: the compacting process (pid ${c.pid}) ended before its switch`);
    this.writeManifest(next);
  }

  private closeActive(): void {
    const fd = this.fd;
    this.fd = -1;
    closeQuietly(this.fs, fd); // an empty segment about to be deleted
  }

  /** Removes a file of the store; one that stays (a failure) is an unlisted leftover a later writer removes. */
  private unlinkQuietly(name: string): void {
    removeQuietly(this.fs, `${this.dir}/${name}`);
  }

  /**
   * Refuses to write, before touching anything, when an index run the manifest
   * lists is not on disk: writes read the runs (a flush, a merge, a lookup).
   * `verify --repair` rebuilds the index. (The active segment is opened by the view.)
   */
  private refuseMissingRuns(m: Manifest, names: string[]): void {
    const missing = missingFiles(m, names).filter((n) => n.endsWith(RUN_EXT));
    if (missing.length > 0) throw missingFileError(this.dir, missing[0], 'refusing to write to a damaged store (run `tzkv verify --repair`, which rebuilds the index)');
  }

  close(): void {
    if (this.fd >= 0) {
      closeQuietly(this.fs, this.fd); // nothing to lose: every acknowledged byte was fsynced
      this.fd = -1;
    }
    this.view.close();
  }
}
