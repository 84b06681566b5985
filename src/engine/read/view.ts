// A read view of the store: one manifest, the tail of the active segment
// scanned into memory, and the index runs opened on demand. Every read goes
// through a view; a writer's is loaded under the lock, or is the one its
// process's last write session left, caught up (docs/design.md "Write path").
import { REPAIR_HINT, TzkvError, isTzkvError } from '../../errors.js';
import { FILE_HEADER_BYTES, KIND_PUT, MAGIC_SEGMENT } from '../../format/constants.js';
import { type FileVersion, V1_FILE, checkFileHeader, fileVersion } from '../../format/file-header.js';
import type { Manifest } from '../../format/manifest.js';
import { RECORD_OK, RecordInfo, decodeRecord } from '../../format/record.js';
import type { StoreCodec } from '../../format/store-codec.js';
import type { FileSystem } from '../../io/fs.js';
import { type OnDamage, stepOver } from '../damage.js';
import { runName, segmentName } from '../files/layout.js';
import { loadManifest, readManifest } from '../files/store-manifest.js';
import { missingFileError } from '../files/manifest-files.js';
import { scanLog } from '../log/log-scan.js';
import type { LogEntry, ScanEnd, SkippedDamage } from '../log/log-scan.js';
import type { ReadWindow } from '../log/read-window.js';
import { mayHold } from '../runs/run-range.js';
import { type SegmentFormat, V1_SEGMENT, segmentFormat } from '../log/segment-format.js';
import { RunReader } from '../runs/run-reader.js';
import { type OpenedGroup, OpenedGroups, openedGroup } from './opened-groups.js';
import { SEAL_RECORD_BYTES } from '../../format/seal.js';
import { storedValue } from './stored-value.js';

/** Where a key's newest record lives, from the tail or a run. */
export interface Located {
  kind: number;
  segment: number;
  offset: number;
  length: number;
  expiresAt: number;
  /** Absolute offset of the record's SEAL record in its segment; 0: in no group (a segment that is not encrypted). */
  group: number;
  /** The SEAL record plus its group's bytes; 0: in no group. */
  groupLength: number;
}

export interface TailCounts {
  puts: number;
  deletes: number;
  /** Bytes of tail records shadowed by later tail records, plus commit markers. */
  deadBytes: number;
}

export class View {
  /** Latest committed tail record per key (latin1 key). */
  readonly tail = new Map<string, LogEntry>();
  readonly tailCounts: TailCounts = { puts: 0, deletes: 0, deadBytes: 0 };
  /** End of the committed tail (absolute offset in the active segment). */
  tailEnd = 0;
  /** How the tail ends; `corrupt` at the first damaged stretch when there is one (a writer never appends behind damage). */
  tailState: ScanEnd = { kind: 'clean' };
  /**
   * Damaged stretches of the tail, in log order: those the scan stepped over
   * and a damaged end (docs/format.md "Reading past damage"). Any of them may
   * hold a newer record of any key.
   */
  tailDamage: SkippedDamage[] = [];
  /** Size of the active segment file when it was scanned. */
  activeSize = 0;
  /** Sealed groups in the tail: what a scan of it opens (an encrypted store's writer flushes the tail by them). */
  tailGroups = 0;
  private runs: Array<RunReader | undefined> = [];
  private segmentFds = new Map<number, number>();
  private sortedTail: LogEntry[] | undefined;
  /** Set for listings: readValue reads through it (point lookups read each record alone). */
  window: ReadWindow | undefined;
  /** What the active segment's header says (version, data key id). */
  activeHeader: FileVersion = V1_FILE;
  /** The active segment's format, from its header: what its tail is scanned with (its key taken when there is a tail to scan). */
  private tailFormat: SegmentFormat | undefined;
  /** Each encrypted store's segment's format (key included), read from its header when a value is first read from it. */
  private readonly formats = new Map<number, SegmentFormat>();
  /** The group a listing last opened, for the next records in it. */
  private readonly opened = new OpenedGroups();

  private constructor(
    readonly fs: FileSystem,
    readonly dir: string,
    readonly manifest: Manifest | null,
    /** The store's: its tail scan and run readers open records, blocks, pages and the manifest's run keys with it. */
    readonly codec: StoreCodec,
    /**
     * False: a view for what needs no key (stats, replicate): an encrypted
     * tail is scanned by framing, CRCs and tiling, its records counted, not
     * kept (their keys are sealed), so the view knows the tail's end and
     * state but none of its keys.
     */
    readonly withKey = true,
  ) {}

  /**
   * Loads a view. Throws ENOENT-coded fs errors when a file vanished under it
   * (the caller retries); CORRUPT when the directory holds a store that lost its manifest.
   */
  static load(fs: FileSystem, dir: string, codec: StoreCodec, withKey = true): View {
    const manifest = loadManifest(fs, dir);
    const view = new View(fs, dir, manifest, codec, withKey);
    try {
      if (manifest) view.scanTail();
    } catch (err) {
      view.close();
      throw err;
    }
    return view;
  }

  /** True when nothing changed since this view was loaded (the same manifest, the same active size). */
  stillCurrent(): boolean {
    return this.activeSizeNow() === this.activeSize;
  }

  /**
   * The active segment's size now, when the manifest on disk is still this
   * view's; undefined when another replaced it (a flush, merge, roll,
   * compaction, repair or replicate).
   */
  activeSizeNow(): number | undefined {
    const m = readManifest(this.fs, this.dir);
    if (!m || !this.manifest || !sameManifest(m, this.manifest)) return undefined;
    return this.fs.size(this.segmentFd(m.active.file));
  }

  /**
   * Extends the tail with the committed records of the active segment from
   * tailEnd up to `end`, as a scan of the whole tail would find them; a torn
   * or uncommitted end after them is left for the writer to cut, as load()
   * leaves it. False, the view unchanged, when those bytes hold damage or the
   * store is a follower (load a new view: it says what is wrong).
   * REQUIRES: the manifest on disk is still this view's, and no byte before
   * tailEnd changed since it was scanned: the caller knows, because its own
   * write session committed them under the writer lock (nobody cuts a
   * segment back below committed records).
   */
  catchUp(end: number): boolean {
    const m = this.manifest;
    if (!m || followerCut(m) !== undefined || this.tailDamage.length > 0 || end < this.tailEnd) return false;
    if (end === this.tailEnd && end === this.activeSize) return true;
    const from = this.tailEnd;
    const buf = Buffer.allocUnsafe(end - from);
    const n = this.fs.read(this.segmentFd(m.active.file), buf, 0, end - from, from);
    const scan = scanLog(buf, from, this.codec, n, this.tailFormatOf(m.active.file));
    if (scan.damage.length > 0 || scan.end.kind === 'corrupt') return false;
    this.addEntries(scan.entries);
    this.tailGroups += scan.groups;
    this.tailEnd = scan.validEnd;
    this.tailState = scan.end;
    this.activeSize = from + n;
    return true;
  }

  get activeFile(): number {
    return this.manifest ? this.manifest.active.file : 0;
  }

  private scanTail(): void {
    const m = this.manifest!;
    const file = m.active.file;
    const fd = this.segmentFd(file);
    const size = this.fs.size(fd);
    this.activeSize = size;
    const header = Buffer.allocUnsafe(FILE_HEADER_BYTES);
    const hn = this.fs.read(fd, header, 0, FILE_HEADER_BYTES, 0);
    const problem = checkFileHeader(header.subarray(0, hn), MAGIC_SEGMENT, file);
    if (problem) {
      const path = `${this.dir}/${segmentName(file)}`;
      if (problem.kind === 'newer-version') throw new TzkvError('VERSION', `${path}: ${problem.message}`, { path });
      throw new TzkvError('CORRUPT', `${segmentName(file)} offset 0: ${problem.message}; ${REPAIR_HINT}`, { path, offset: 0 });
    }
    this.activeHeader = fileVersion(header);
    const from = m.active.indexedTo;
    if (size < from) {
      throw new TzkvError('CORRUPT', `${segmentName(file)}: file is ${size} bytes, shorter than its indexed length ${from}`, {
        path: `${this.dir}/${segmentName(file)}`,
        offset: size,
      });
    }
    const cut = followerCut(m);
    const end = cut !== undefined && cut >= from && cut <= size ? cut : size;
    const buf = Buffer.allocUnsafe(end - from);
    const n = this.fs.read(fd, buf, 0, end - from, from);
    // An empty tail needs no key: stats of an encrypted store whose tail was just flushed reads none.
    const scan = scanLog(buf, from, this.codec, n, n > 0 ? this.tailFormatOf(file) : V1_SEGMENT);
    this.tailEnd = scan.validEnd;
    this.tailGroups = scan.groups;
    this.tailDamage = scan.damage;
    if (scan.end.kind === 'corrupt') {
      const { offset, reason } = scan.end;
      this.tailDamage.push({ offset, message: `${reason} (${from + n - offset} bytes unreadable up to the end)`, from: scan.validEnd, to: from + n });
    }
    const first = this.tailDamage[0];
    this.tailState = first ? { kind: 'corrupt', offset: first.offset, reason: first.message } : scan.end;
    this.addEntries(scan.entries);
  }

  /** The active segment's format, its data key with it (KEY_REQUIRED without the secret). */
  private tailFormatOf(file: number): SegmentFormat {
    return (this.tailFormat ??= segmentFormat(this.activeHeader, this.codec, `${this.dir}/${segmentName(file)}`, this.withKey));
  }

  /** Adds tail entries, in log order, after those the tail holds. */
  private addEntries(entries: LogEntry[]): void {
    if (entries.length === 0) return;
    const counts = this.tailCounts;
    for (const e of entries) {
      if (e.kind === KIND_PUT) counts.puts++;
      else counts.deletes++;
      if (!this.withKey && this.tailFormat?.encrypted) continue; // a sealed key: counted, never kept
      const prev = this.tail.get(e.key);
      if (prev) counts.deadBytes += prev.length;
      this.tail.set(e.key, e);
    }
    this.sortedTail = undefined;
  }

  segmentFd(file: number): number {
    let fd = this.segmentFds.get(file);
    if (fd === undefined) {
      const name = segmentName(file);
      try {
        fd = this.fs.openRead(`${this.dir}/${name}`);
      } catch (err) {
        throw this.missing(name, err);
      }
      this.segmentFds.set(file, fd);
    }
    return fd;
  }

  run(i: number): RunReader {
    let r = this.runs[i];
    if (!r) {
      const file = this.manifest!.runs[i].file;
      try {
        r = RunReader.open(this.fs, this.dir, file, this.codec);
      } catch (err) {
        throw this.missing(runName(file), err);
      }
      this.runs[i] = r;
    }
    return r;
  }

  /**
   * A file of this view that could not be opened: when it is not there and the
   * manifest is still the one this view read, the store lost it (CORRUPT, naming
   * it); otherwise `err` as it is (an index merge or compaction replaced the
   * manifest and removed the file: the caller retries on the new one).
   */
  private missing(name: string, err: unknown): unknown {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') return err;
    let now: Manifest | null;
    try {
      now = readManifest(this.fs, this.dir);
    } catch {
      return err;
    }
    if (now === null || now.generation !== this.manifest?.generation) return err;
    return missingFileError(this.dir, name, 'what it holds cannot be read (run `tzkv verify`)');
  }

  /**
   * Opens every run and segment of this view now. Open files stay readable
   * when a compaction or index merge deletes them, so a long listing keeps
   * reading the one consistent cut it started on.
   */
  openAll(): void {
    const m = this.manifest;
    if (!m) return;
    // A damaged or missing file is left to the read that needs it: merged() and readValue() say so, or throw.
    const open = (fn: () => unknown) => {
      try {
        fn();
      } catch (err) {
        if (!isTzkvError(err, 'CORRUPT')) throw err;
      }
    };
    for (let i = 0; i < m.runs.length; i++) open(() => this.run(i));
    for (const seg of m.segments) open(() => this.segmentFd(seg.file));
  }

  /** Tail entries sorted by key. */
  tailSorted(): LogEntry[] {
    if (!this.sortedTail) {
      this.sortedTail = Array.from(this.tail.values()).sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
    }
    return this.sortedTail;
  }

  /**
   * The damaged tail stretches after `offset` (where the key's newest readable
   * tail record is; -1 when it has none) as an error: one of them may hold a
   * newer record of the key, so no value read for it can be vouched for.
   */
  private hiddenBy(key: Buffer, offset: number): TzkvError | undefined {
    if (this.tailDamage.length === 0) return undefined;
    const after = this.tailDamage.filter((d) => d.offset > offset);
    if (after.length === 0) return undefined;
    const d = after[0];
    const file = segmentName(this.activeFile);
    const more = after.length > 1 ? ` (and ${after.length - 1} more damaged stretches after it)` : '';
    return new TzkvError(
      'CORRUPT',
      `key ${JSON.stringify(key.toString('utf8'))} cannot be read: its newest version may be in damaged data at ${file} offset ${d.offset}: ${d.message}${more}; ${REPAIR_HINT}`,
      { path: `${this.dir}/${file}`, offset: d.offset },
    );
  }

  /** Each damaged tail stretch, to `onDamage`; without one, the first as CORRUPT. */
  reportTailDamage(onDamage: OnDamage | undefined): void {
    const file = segmentName(this.activeFile);
    for (const d of this.tailDamage) {
      stepOver(onDamage, { file, offset: d.offset, kind: 'corrupt-record', message: d.message }, () =>
        new TzkvError('CORRUPT', `${file} offset ${d.offset}: ${d.message}; ${REPAIR_HINT}`, { path: `${this.dir}/${file}`, offset: d.offset }),
      );
    }
  }

  /**
   * Where the newest record of key is, or undefined when no record of it
   * exists. CORRUPT when damage in the tail after its newest readable record
   * may hold a newer one.
   */
  locate(key: Buffer): Located | undefined {
    const m = this.manifest;
    if (!m) return undefined;
    const t = this.tail.get(key.toString('latin1'));
    const hidden = this.hiddenBy(key, t ? t.offset : -1);
    if (hidden) throw hidden;
    if (t) return { kind: t.kind, segment: m.active.file, offset: t.offset, length: t.length, expiresAt: t.expiresAt, group: t.group, groupLength: t.groupLength };
    return this.findIndexed(key);
  }

  /** The key's newest entry in the index runs, ignoring the tail. */
  findIndexed(key: Buffer): Located | undefined {
    const m = this.manifest;
    if (!m) return undefined;
    for (let i = 0; i < m.runs.length; i++) {
      if (!mayHold(m.runs[i], this.codec, this.dir, key)) continue;
      const e = this.run(i).find(key);
      if (e) return e;
    }
    return undefined;
  }

  /** Reads and checks the record at a location; returns its value. */
  readValue(key: Buffer, at: Located): Buffer {
    return this.readPut(key, at).value;
  }

  /** Reads and checks the PUT record of key at a location: its value, and its CRC (what a version is made of, keys.ts recordVersion). */
  readPut(key: Buffer, at: Located): { value: Buffer; crc: number } {
    const name = segmentName(at.segment);
    const path = `${this.dir}/${name}`;
    const damaged = (reason: string, offset = at.offset) =>
      new TzkvError('CORRUPT', `${name} offset ${offset}: ${reason}; ${REPAIR_HINT}`, { path, offset, info: { reason } });
    const info = new RecordInfo();
    let buf: Buffer;
    let pos = 0;
    let crc: number;
    if (this.codec.encryption === undefined && at.groupLength === 0) {
      buf = this.read(at.segment, at.offset, at.length);
      const status = buf.length === at.length ? decodeRecord(buf, 0, buf.length, info, true, this.codec.compression !== undefined) : -1;
      if (status !== RECORD_OK || info.length !== at.length) {
        const why = status === -1 ? 'record runs past end of file' : info.reason || 'record does not match its index entry';
        throw damaged(`${why} (key ${JSON.stringify(key.toString('utf8'))})`);
      }
      crc = buf.readUInt32LE(0);
    } else {
      // An encrypted store's record: read and open its whole group (docs/format.md "Records, version 2").
      const format = this.segmentFormatOf(at.segment);
      if (!format.encrypted || at.groupLength === 0) throw damaged('index entry and segment disagree on whether the record is encrypted');
      const group = this.opened.get(at.segment, at.group) ?? this.openGroup(at, format, info, damaged);
      pos = at.offset - at.group - SEAL_RECORD_BYTES;
      if (pos < 0 || pos + at.length > group.plain.length || decodeRecord(group.plain, pos, pos + at.length, info, false, true) !== RECORD_OK || info.length !== at.length) {
        throw damaged(`record does not match its index entry (key ${JSON.stringify(key.toString('utf8'))})`);
      }
      buf = group.plain;
      crc = group.stored.readUInt32LE(pos + SEAL_RECORD_BYTES);
    }
    if (info.kind !== KIND_PUT || !buf.subarray(pos + 20, pos + 20 + info.keyLength).equals(key)) {
      throw damaged('index entry points at a record of another key');
    }
    return { value: storedValue(info.flags, buf.subarray(pos + 20 + info.keyLength, pos + info.length), `${name} offset ${at.offset}`, damaged), crc };
  }

  /** Bytes [offset, offset + length) of a segment (fewer where it ends): through the listing's window when there is one. */
  private read(segment: number, offset: number, length: number): Buffer {
    const fd = this.segmentFd(segment);
    if (this.window) return this.window.read(this.fs, fd, segment, offset, length);
    const buf = Buffer.allocUnsafe(length);
    return buf.subarray(0, this.fs.read(fd, buf, 0, length, offset));
  }

  /** Reads the group `at` names, checks it whole and its tag, and (for a listing) keeps it opened for the records after. */
  private openGroup(at: Located, format: SegmentFormat, info: RecordInfo, damaged: (reason: string, offset?: number) => TzkvError): OpenedGroup {
    const stored = this.read(at.segment, at.group, at.groupLength);
    const opened = openedGroup(stored, at.group, at.groupLength, format, info);
    if (typeof opened === 'string') throw damaged(opened, at.group);
    if (this.window) this.opened.keep(at.segment, at.group, opened);
    return opened;
  }

  /** The format of a segment of this view, from its header; the data key with it (KEY_REQUIRED without the secret). */
  private segmentFormatOf(segment: number): SegmentFormat {
    let format = this.formats.get(segment);
    if (format === undefined) {
      const header = Buffer.alloc(FILE_HEADER_BYTES);
      const n = this.fs.read(this.segmentFd(segment), header, 0, FILE_HEADER_BYTES, 0);
      const problem = checkFileHeader(header.subarray(0, n), MAGIC_SEGMENT, segment);
      const path = `${this.dir}/${segmentName(segment)}`;
      if (problem) throw new TzkvError('CORRUPT', `${segmentName(segment)} offset 0: ${problem.message}; ${REPAIR_HINT}`, { path, offset: 0 });
      format = segmentFormat(fileVersion(header), this.codec, path, true);
      this.formats.set(segment, format);
    }
    return format;
  }

  close(): void {
    this.opened.clear();
    for (const r of this.runs) r?.close();
    this.runs = [];
    for (const fd of this.segmentFds.values()) this.fs.close(fd);
    this.segmentFds.clear();
  }
}

/**
 * Whether two manifests list the same store state for a reader: the same
 * generation of the same store (a repair that rebuilt a lost manifest may
 * number it as the old one was), the same files, the active segment indexed
 * as far, the same follower cut.
 */
function sameManifest(a: Manifest, b: Manifest): boolean {
  return (
    a.generation === b.generation &&
    a.storeId === b.storeId &&
    a.created === b.created &&
    a.active.file === b.active.file &&
    a.active.indexedTo === b.active.indexedTo &&
    followerCut(a) === followerCut(b) &&
    sameFiles(a.segments, b.segments) &&
    sameFiles(a.runs, b.runs)
  );
}

function sameFiles(a: ReadonlyArray<{ file: number }>, b: ReadonlyArray<{ file: number }>): boolean {
  return a.length === b.length && a.every((f, i) => f.file === b[i].file);
}

/**
 * A follower holds its leader's cut: where that cut ends in the active segment.
 * Bytes after it are a replicate's that was killed before its switch (not there
 * yet for readers, and replaced by the next replicate). Undefined for a store
 * that is not a follower.
 */
export function followerCut(m: Manifest): number | undefined {
  return m.follower?.activeEnd;
}
