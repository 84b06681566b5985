// The log's growing end (docs/design.md "Write path"): the active segment a
// write session appends to, where its committed data ends, and new segments.
// Owns the segment's file descriptor; nothing else writes into a segment being
// appended to.
import type { KeyObject } from 'node:crypto';
import { ioError } from '../../errors.js';
import { MAGIC_SEGMENT } from '../../format/constants.js';
import { type FileVersion, V1_FILE, encodeFileHeader, fileVersionFor } from '../../format/file-header.js';
import type { StoreCodec } from '../../format/store-codec.js';
import type { FileSystem } from '../../io/fs.js';
import { closeQuietly } from '../../io/fs.js';
import { segmentName } from '../files/layout.js';
import { dataKey } from '../data-key.js';

/**
 * Creates segment `file`: its header (stamped as `codec` writes: version, data
 * key id), fsynced, and the directory fsynced.
 * Never over a file still on disk (removeLeftovers took numbers past them).
 */
export function createSegment(fs: FileSystem, dir: string, file: number, codec: StoreCodec): void {
  const path = `${dir}/${segmentName(file)}`;
  try {
    const fd = fs.createExclusive(path);
    try {
      const header = encodeFileHeader(MAGIC_SEGMENT, file, undefined, fileVersionFor(codec));
      fs.write(fd, header, 0, header.length, 0);
      fs.fsync(fd);
    } finally {
      fs.close(fd);
    }
    fs.fsyncDir(dir);
  } catch (err) {
    throw ioError(err, 'cannot create segment', path);
  }
}

export class ActiveSegment {
  private fd = -1;
  /** The segment appends go to (0 until open()). */
  file = 0;
  /** End of committed data: where the next append goes. */
  end = 0;
  /** What the open segment's header says: its version and data key id (checked by the view that found it). */
  header: FileVersion = V1_FILE;
  private sealKey: KeyObject | undefined;
  /**
   * Every byte of the open segment is known durable: this process fsynced it
   * since its last write to it. Not at open: another process may have
   * appended without fsync (sync off, as `tzkv serve --sync never` runs).
   */
  private synced = false;

  constructor(
    private readonly fs: FileSystem,
    private readonly dir: string,
    /** The store's: what an encrypted segment's groups are sealed with. */
    readonly codec: StoreCodec,
    /** fsync every append before it is acknowledged. */
    private readonly sync: boolean,
  ) {}

  get isOpen(): boolean {
    return this.fd >= 0;
  }

  /**
   * Opens segment `file` for appends at `validEnd`, the end of its committed
   * records; a torn record or an interrupted batch after it (never
   * acknowledged) is cut off, durably. `header`: what its header says (the view that scanned it read it).
   */
  open(file: number, validEnd: number, size: number, header: FileVersion): void {
    const path = `${this.dir}/${segmentName(file)}`;
    try {
      this.fd = this.fs.openReadWrite(path);
      this.synced = false;
      if (size !== validEnd) {
        this.fs.truncate(this.fd, validEnd);
        this.fs.fsync(this.fd);
        this.synced = true;
      }
    } catch (err) {
      throw ioError(err, 'cannot open for writing', path);
    }
    this.file = file;
    this.end = validEnd;
    this.header = header;
    this.sealKey = undefined;
  }

  /**
   * Whether this writer appends to the open segment as it is: its header says
   * what new files say (fileVersionFor). Else the session rolls it first: a
   * compaction rotated the data key, and a segment has one key from end to end.
   */
  get current(): boolean {
    const now = fileVersionFor(this.codec);
    return this.header.version === now.version && this.header.keyId === now.keyId;
  }

  /** The open segment is encrypted: appends go in sealed groups. */
  get encrypted(): boolean {
    return this.header.keyId !== 0;
  }

  /** The data key the open segment's header names. REQUIRES: encrypted. */
  get key(): KeyObject {
    return (this.sealKey ??= dataKey(this.codec, this.header.keyId, `${this.dir}/${segmentName(this.file)}`));
  }

  /** Appends committed record bytes at the end; fsyncs when sync is on. Returns where they start. */
  append(chunks: Buffer[]): number {
    const base = this.end;
    let pos = base;
    this.synced = false;
    try {
      for (const c of chunks) {
        this.fs.write(this.fd, c, 0, c.length, pos);
        pos += c.length;
      }
      if (this.sync) {
        this.fs.fsync(this.fd);
        this.synced = true;
      }
    } catch (err) {
      // Whatever reached the file is an unacknowledged tail: the session's undo cuts it off.
      throw ioError(err, 'cannot append to', `${this.dir}/${segmentName(this.file)}`);
    }
    this.end = pos;
    return base;
  }

  /**
   * fsyncs the segment unless this process already did since it last wrote
   * to it: before an index run points at its bytes, an index never points at
   * bytes that could vanish, whoever wrote them (this process with sync off,
   * or another one with sync off before this session began).
   */
  makeDurable(): void {
    if (this.synced) return;
    try {
      this.fs.fsync(this.fd);
    } catch (err) {
      throw ioError(err, 'cannot fsync', `${this.dir}/${segmentName(this.file)}`);
    }
    this.synced = true;
  }

  /** Makes segment `file` (on disk, whole up to `end`, created by this writer: its header is fileVersionFor's) the one appends go to. */
  switchTo(file: number, end: number): void {
    this.close(); // closing a file we only appended to cannot lose data that was fsynced
    this.fd = this.fs.openReadWrite(`${this.dir}/${segmentName(file)}`);
    this.synced = false;
    this.file = file;
    this.end = end;
    this.header = fileVersionFor(this.codec);
    this.sealKey = undefined;
  }

  /** Closes the file; nothing to lose: every acknowledged byte was fsynced. */
  close(): void {
    const fd = this.fd;
    this.fd = -1;
    if (fd >= 0) closeQuietly(this.fs, fd);
  }
}
