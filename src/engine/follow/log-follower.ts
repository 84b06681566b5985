// Following the log (docs/design.md "Watch"): the committed records written
// after a position, in log order, as they arrive — across segment rolls,
// batches committed as segments of their own, compactions and repairs. A
// reader like any other: no lock, nothing written. Its position is how far it
// has read each segment it knows. It keeps every segment it has not read to
// the end open, so that a compaction deleting one cannot take that segment's
// last records with it, and it never takes a compaction's or a repair's
// copies (a segment's `copied` bytes, docs/format.md "MANIFEST") for writes.
// Should a segment be written and compacted away between two of its reads (a
// follower stopped for that long), its changes are gone: the copies name the
// newest segment they came from, so the follower knows, and says so.
import { REPAIR_HINT, TzkvError } from '../../errors.js';
import { FILE_HEADER_BYTES, KIND_DEL, MAGIC_SEGMENT, RECORD_HEADER_BYTES } from '../../format/constants.js';
import { checkFileHeader, fileVersion } from '../../format/file-header.js';
import type { Manifest, SegmentInfo } from '../../format/manifest.js';
import { RECORD_OK, RecordInfo, decodeRecord } from '../../format/record.js';
import type { StoreCodec } from '../../format/store-codec.js';
import { closeQuietly, type FileSystem } from '../../io/fs.js';
import { type OnDamage, stepOver } from '../damage.js';
import { segmentName } from '../files/layout.js';
import { missingFileError } from '../files/manifest-files.js';
import { loadManifest } from '../files/store-manifest.js';
import { committedOnly } from '../log/record-scan.js';
import { scanSegment } from '../log/resync.js';
import { type SegmentFormat, segmentFormat } from '../log/segment-format.js';
import { storedValue } from '../read/stored-value.js';
import { followerCut, type View } from '../read/view.js';

/** One committed PUT or DEL the follower read. */
export interface FollowedRecord {
  /** KIND_PUT or KIND_DEL. */
  kind: number;
  key: Buffer;
  /** A put's value; empty for a del. */
  value: Buffer;
  /** ms since the epoch; 0 for never (and for a del). */
  expiresAt: number;
}

/** Whether a record's key, buf[start, end), is one the follower reports. */
export type KeyFilter = (buf: Buffer, start: number, end: number) => boolean;

/** How far a segment has been read; `fd` null once a sealed segment was read to its end. */
interface Place {
  fd: number | null;
  offset: number;
  /** The segment's format, from its header once read (an encrypted one's with the key: the follower reports plain records). */
  format?: SegmentFormat;
}

/** Bytes read from a segment at a time. */
const CHUNK_BYTES = 1024 * 1024;
/** A listed segment that cannot be opened: a newer manifest removed it, or the store lost it (after this many reads of the manifest). */
const OPEN_RETRIES = 8;

export class LogFollower {
  private readonly places = new Map<number, Place>();
  /** Damage already told (by file and offset): each check reads the active segment's damaged end again. */
  private readonly told = new Set<string>();
  private readonly chunk = Buffer.allocUnsafe(CHUNK_BYTES);
  /** The highest segment number the follower has known: any later one it has not read. */
  private newest = 0;

  private constructor(
    private readonly fs: FileSystem,
    private readonly dir: string,
    /** The store's (the view's): an encrypted segment's records are opened with it. */
    readonly codec: StoreCodec,
    private readonly wanted: KeyFilter,
  ) {}

  /**
   * A follower at the end of the log as `view` holds it: every record it
   * reports was committed after that cut. Throws an ENOENT-coded error when
   * the view's active segment is already gone (the caller loads a new view).
   */
  static at(fs: FileSystem, dir: string, view: View, wanted: KeyFilter): LogFollower {
    const follower = new LogFollower(fs, dir, view.codec, wanted);
    for (const s of view.manifest?.segments ?? []) {
      follower.newest = s.file;
      if (s.size !== null) follower.places.set(s.file, { fd: null, offset: s.size });
      else follower.places.set(s.file, { fd: fs.openRead(`${dir}/${segmentName(s.file)}`), offset: view.tailEnd });
    }
    return follower;
  }

  /**
   * The records committed since the last call (since the start, the first
   * time), in log order. Each segment is scanned on the caller's thread up to
   * where it ends now; its records are read one by one as they are taken.
   * Damage is stepped over and told to `onDamage` once; without it, CORRUPT.
   */
  *changes(onDamage?: OnDamage): Generator<FollowedRecord> {
    for (let attempt = 0; ; attempt++) {
      const m = loadManifest(this.fs, this.dir);
      // Segments no longer listed (a compaction or repair replaced them, or the store is gone) precede every listed one we have not read.
      const listed = new Set(m?.segments.map((s) => s.file));
      for (const file of [...this.places.keys()].sort((a, b) => a - b)) {
        const place = this.places.get(file)!;
        if (listed.has(file)) continue;
        if (place.fd !== null) yield* this.read(file, place, this.fs.size(place.fd), true, onDamage);
        this.forget(file, place);
      }
      if (!m) return;
      let place: Place | undefined;
      for (const s of m.segments) {
        place = this.places.get(s.file) ?? this.open(s, attempt, onDamage);
        if (!place) break; // not on disk: a newer manifest replaced this one
        if (place.fd === null) continue;
        yield* this.read(s.file, place, s.size ?? activeEnd(m, this.fs.size(place.fd)), s.size !== null, onDamage);
        if (s.size !== null) this.release(place);
      }
      if (place) return;
    }
  }

  /** Closes every segment held. */
  close(): void {
    for (const [file, place] of this.places) this.forget(file, place);
  }

  /**
   * Starts reading a segment new to the follower: after what a compaction or
   * repair copied into it, else after its header. Undefined when it is not on
   * disk (the caller reads the manifest again); CORRUPT after OPEN_RETRIES.
   * IO when the copies came from segments the follower never read: their
   * changes are lost to it.
   */
  private open(s: SegmentInfo, attempt: number, onDamage: OnDamage | undefined): Place | undefined {
    const name = segmentName(s.file);
    if (s.copiedFrom !== undefined && s.copiedFrom > this.newest) {
      throw new TzkvError(
        'IO',
        `the watch of ${this.dir} fell behind: a compaction or repair removed ${segmentName(s.copiedFrom)}${this.newest > 0 ? `, written after ${segmentName(this.newest)},` : ''} before the watch read the changes in it; start it again (with --existing, to see the keys as they are now)`,
        { path: this.dir, info: { missed: true } },
      );
    }
    let fd: number;
    try {
      fd = this.fs.openRead(`${this.dir}/${name}`);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
      if (attempt < OPEN_RETRIES) return undefined;
      throw missingFileError(this.dir, name, 'the changes it holds cannot be read (run `tzkv verify`)');
    }
    const place: Place = { fd, offset: Math.max(FILE_HEADER_BYTES, s.copied ?? 0) };
    this.places.set(s.file, place);
    this.newest = Math.max(this.newest, s.file);
    const header = Buffer.alloc(FILE_HEADER_BYTES);
    const problem = checkFileHeader(header.subarray(0, this.fs.read(fd, header, 0, FILE_HEADER_BYTES, 0)), MAGIC_SEGMENT, s.file);
    if (problem?.kind === 'newer-version') throw new TzkvError('VERSION', `${this.dir}/${name}: ${problem.message}`, { path: `${this.dir}/${name}` });
    if (problem) {
      this.tell(onDamage, name, 0, 'bad-header', problem.message);
      this.release(place);
    }
    return place;
  }

  /**
   * Scans segment `file` from where the follower is to `end`, then yields the
   * wanted committed records it found. `sealed`: the segment ends at `end`
   * (a partial record there is damage, and the follower is done with it);
   * otherwise the follower stops at the last committed record and reads the
   * rest when more of it is there.
   */
  private *read(file: number, place: Place, end: number, sealed: boolean, onDamage: OnDamage | undefined): Generator<FollowedRecord> {
    if (place.offset >= end || place.fd === null) return;
    const fd = place.fd;
    const name = segmentName(file);
    const format = (place.format ??= this.formatOf(fd, file));
    // A plain segment's wanted records are read again one by one as they are taken; an
    // encrypted one's are copied from the opened groups now (reading one again means opening its group again).
    const found: Array<number | FollowedRecord> = []; // offset, length of each wanted record, or the record, in log order
    const chunk = this.chunk;
    const scan = scanSegment((at, n) => chunk.subarray(0, this.fs.read(fd, chunk, 0, Math.min(n, chunk.length), at)), place.offset, end, {
      visitor: committedOnly(
        (buf, pos, at, info) => {
          if (!this.wanted(buf, pos + RECORD_HEADER_BYTES, pos + RECORD_HEADER_BYTES + info.keyLength)) return undefined;
          return format.encrypted ? [this.followed(Buffer.from(buf.subarray(pos, pos + info.length)), info, name, at)] : [at, info.length];
        },
        (kept) => kept && found.push(...kept),
      ),
      codec: this.codec,
      format,
      sealed,
      chunkBytes: CHUNK_BYTES,
      onDamage: (d) => this.tell(onDamage, name, d.offset, 'corrupt-record', d.message),
    });
    place.offset = sealed ? end : scan.validEnd;
    if (scan.end.kind === 'corrupt') this.tell(onDamage, name, scan.end.offset, 'corrupt-record', scan.end.reason);
    const info = new RecordInfo();
    for (let i = 0; i < found.length; i++) {
      const f = found[i];
      if (typeof f !== 'number') {
        yield f;
        continue;
      }
      const record = Buffer.allocUnsafe(found[++i] as number);
      const n = this.fs.read(fd, record, 0, record.length, f);
      // Checked by the scan a moment ago; the log never changes below its committed end.
      if (decodeRecord(record, 0, n, info, false, format.version2) !== RECORD_OK) continue;
      yield this.followed(record, info, name, f);
    }
  }

  /** The record in `record` (its own bytes, plain) as reported; `at`: where it is in `file`, for a message. */
  private followed(record: Buffer, info: RecordInfo, file: string, at: number): FollowedRecord {
    const keyEnd = RECORD_HEADER_BYTES + info.keyLength;
    const damaged = (reason: string) => new TzkvError('CORRUPT', `${file} offset ${at}: ${reason}; ${REPAIR_HINT}`, { path: `${this.dir}/${file}`, offset: at });
    const value = info.kind === KIND_DEL ? Buffer.alloc(0) : storedValue(info.flags, record.subarray(keyEnd, info.length), `${file} offset ${at}`, damaged);
    return { kind: info.kind, key: record.subarray(RECORD_HEADER_BYTES, keyEnd), value, expiresAt: info.expiresAt };
  }

  /** The format segment `file` (open as `fd`) has, from its header; an encrypted one's key with it (KEY_REQUIRED without the secret). */
  private formatOf(fd: number, file: number): SegmentFormat {
    const header = Buffer.alloc(FILE_HEADER_BYTES);
    const n = this.fs.read(fd, header, 0, FILE_HEADER_BYTES, 0);
    const path = `${this.dir}/${segmentName(file)}`;
    if (checkFileHeader(header.subarray(0, n), MAGIC_SEGMENT, file) !== undefined) {
      throw new TzkvError('CORRUPT', `${segmentName(file)} offset 0: bad segment header; ${REPAIR_HINT}`, { path, offset: 0 });
    }
    return segmentFormat(fileVersion(header), this.codec, path, true);
  }

  /** Damage met, told once; without onDamage, CORRUPT. */
  private tell(onDamage: OnDamage | undefined, file: string, offset: number, kind: string, message: string): void {
    const id = `${file}:${offset}`;
    if (this.told.has(id)) return;
    this.told.add(id);
    stepOver(onDamage, { file, offset, kind, message: `${message}; changes it held cannot be reported` }, () =>
      new TzkvError('CORRUPT', `${file} offset ${offset}: ${message}; ${REPAIR_HINT}`, { path: `${this.dir}/${file}`, offset }),
    );
  }

  private release(place: Place): void {
    if (place.fd !== null) closeQuietly(this.fs, place.fd);
    place.fd = null;
  }

  private forget(file: number, place: Place): void {
    this.release(place);
    this.places.delete(file);
  }
}

/** Where the active segment's data ends for readers: its size, or a follower store's cut. */
function activeEnd(m: Manifest, size: number): number {
  const cut = followerCut(m);
  return cut !== undefined && cut >= m.active.indexedTo && cut <= size ? cut : size;
}
