// Where replicated bytes go and how they are switched in. The directory target
// is the first; an etcd target is planned behind the same interface.
import { TzkvError, ioError } from '../errors.js';
import { MANIFEST_NAME } from '../format/constants.js';
import type { Manifest } from '../format/manifest.js';
import type { FileSystem } from '../io/fs.js';
import { replaceFile } from '../io/fs.js';
import { inspectDir } from '../engine/layout.js';
import { readManifest } from '../engine/view.js';

export interface ReplicationTarget {
  readonly location: string;
  /** Readies the target; returns the follower's current manifest, or null when it is empty. */
  open(): Manifest | null;
  /** Size of a file the target holds, or undefined. */
  size(name: string): number | undefined;
  /** Writes a whole new file, invisibly until its rename; durable after syncNames(). */
  writeFile(name: string, chunks: Iterable<Buffer>): void;
  /** Appends bytes at `offset` of an existing file (the growing active segment), durably. */
  appendFile(name: string, offset: number, data: Buffer): void;
  /** Makes the names written so far durable. */
  syncNames(): void;
  /** Atomically makes `manifest` the follower's state. */
  switchManifest(manifest: Buffer): void;
  /** Names of the segment and index files the target holds. */
  list(): string[];
  remove(name: string): void;
}

export class DirectoryTarget implements ReplicationTarget {
  constructor(
    private readonly fs: FileSystem,
    readonly location: string,
  ) {}

  open(): Manifest | null {
    const state = inspectDir(this.fs, this.location);
    if (state === 'missing') {
      try {
        this.fs.mkdirp(this.location);
      } catch (err) {
        throw ioError(err, 'cannot create follower directory', this.location);
      }
      return null;
    }
    try {
      this.fs.checkWritable(this.location);
    } catch (err) {
      throw ioError(err, 'cannot write to follower directory', this.location);
    }
    if (state === 'empty') return null;
    try {
      return readManifest(this.fs, this.location);
    } catch (err) {
      if (err instanceof TzkvError && err.code === 'CORRUPT') return null; // a damaged follower is resynchronised whole
      throw err;
    }
  }

  size(name: string): number | undefined {
    const st = this.fs.stat(`${this.location}/${name}`);
    return st?.isFile ? st.size : undefined;
  }

  writeFile(name: string, chunks: Iterable<Buffer>): void {
    const tmp = `${this.location}/${name}.tmp`;
    try {
      const fd = this.fs.createTruncate(tmp);
      try {
        let pos = 0;
        for (const c of chunks) {
          this.fs.write(fd, c, 0, c.length, pos);
          pos += c.length;
        }
        this.fs.fsync(fd);
      } finally {
        this.fs.close(fd);
      }
      this.fs.rename(tmp, `${this.location}/${name}`);
    } catch (err) {
      throw ioError(err, 'cannot write', `${this.location}/${name}`);
    }
  }

  appendFile(name: string, offset: number, data: Buffer): void {
    const path = `${this.location}/${name}`;
    try {
      const fd = this.fs.openReadWrite(path);
      try {
        this.fs.truncate(fd, offset);
        this.fs.write(fd, data, 0, data.length, offset);
        this.fs.fsync(fd);
      } finally {
        this.fs.close(fd);
      }
    } catch (err) {
      throw ioError(err, 'cannot append to', path);
    }
  }

  syncNames(): void {
    try {
      this.fs.fsyncDir(this.location);
    } catch (err) {
      throw ioError(err, 'cannot fsync', this.location);
    }
  }

  switchManifest(manifest: Buffer): void {
    try {
      replaceFile(this.fs, this.location, MANIFEST_NAME, manifest);
    } catch (err) {
      throw ioError(err, 'cannot write', `${this.location}/${MANIFEST_NAME}`);
    }
  }

  list(): string[] {
    return this.fs.readdir(this.location);
  }

  remove(name: string): void {
    try {
      this.fs.unlink(`${this.location}/${name}`);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw ioError(err, 'cannot remove', `${this.location}/${name}`);
    }
  }
}
