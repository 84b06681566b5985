// Where replicated bytes go and how they are switched in. The directory target
// is the first; an etcd target is planned behind the same interface.
import { ioError } from '../errors.js';
import { REPLICATING_NAME } from '../format/constants.js';
import type { Manifest } from '../format/manifest.js';
import type { FileSystem } from '../io/fs.js';
import { writeFileAside } from '../io/fs.js';
import type { Processes } from '../io/processes.js';
import { inspectDir, segmentName } from '../engine/files/layout.js';
import { beingWritten, cutBack, removeOwnLeftovers } from '../engine/files/leftovers.js';
import { fileKind } from '../engine/files/file-kinds.js';
import { DEFAULT_STORE_MODE } from '../engine/files/permissions.js';
import { followerCut } from '../engine/read/view.js';
import { findManifest, installManifest } from '../engine/files/store-manifest.js';

export interface FollowerState {
  /** The follower's manifest; null when the target is empty or its manifest is damaged. */
  manifest: Manifest | null;
  /** The manifest is damaged, or missing beside a store's files: everything is shipped again (to a known follower only). */
  damaged: boolean;
  /** Names a replicate that was killed had announced it would change (REPLICATING), or null. */
  interrupted: string[] | null;
}

export interface ReplicationTarget {
  readonly location: string;
  /** Readies the target and says what it holds. */
  open(): FollowerState;
  /** Size of a file the target holds, or undefined. */
  size(name: string): number | undefined;
  /**
   * What identifies the file's current contents without reading them (size,
   * inode, change time), recorded after shipping so that a file changed on the
   * follower since is caught; undefined when the file is missing.
   */
  fingerprint(name: string): string | undefined;
  /** Reads up to `length` bytes of a file at `offset` (for a full check). */
  read(name: string, offset: number, length: number): Buffer;
  /** Writes a whole new file, invisibly until its rename; durable after syncNames(). */
  writeFile(name: string, chunks: Iterable<Buffer>): void;
  /**
   * Writes chunks at `offset` of an existing file (the growing active segment),
   * cutting what was after them, durably. Never shortens the file below what
   * it held before the chunks' end: bytes at and after `offset` are overwritten, not removed first.
   */
  appendFile(name: string, offset: number, chunks: Iterable<Buffer>): void;
  /** Makes the names written so far durable. */
  syncNames(): void;
  /** Atomically makes `manifest` the follower's state; `onSwitched` runs once it is in place (even should its fsync then fail). */
  switchManifest(manifest: Manifest, onSwitched?: () => void): void;
  /**
   * Takes back what a failed replicate wrote (docs/design.md "Failures"): the
   * active segment cut back to the cut `listed` (the follower's manifest in
   * place) names, every file it does not list removed. Returns what could not
   * be undone, in words.
   */
  undo(listed: Manifest | null): string[];
  /** Names of the segment and index files the target holds. */
  list(): string[];
  /** Whether a running process still writes `name` there (a verify's note, a waiting writer's lock file): not a leftover to remove. */
  inUse(name: string): boolean;
  remove(name: string): void;
}

export class DirectoryTarget implements ReplicationTarget {
  constructor(
    private readonly fs: FileSystem,
    readonly location: string,
    /** Judges whether the process a leftover staging or compaction file names still runs. */
    private readonly processes: Processes,
    /** Permission bits of the follower directory when open() creates it. */
    private readonly mode = DEFAULT_STORE_MODE,
  ) {}

  open(): FollowerState {
    const state = inspectDir(this.fs, this.location);
    const empty: FollowerState = { manifest: null, damaged: false, interrupted: null };
    if (state === 'missing') {
      try {
        this.fs.mkdirp(this.location, this.mode);
      } catch (err) {
        throw ioError(err, 'cannot create follower directory', this.location);
      }
      return empty;
    }
    try {
      this.fs.checkWritable(this.location);
    } catch (err) {
      throw ioError(err, 'cannot write to follower directory', this.location);
    }
    if (state === 'empty') return empty;
    let interrupted: string[] | null = null;
    try {
      const names: unknown = JSON.parse(this.read(REPLICATING_NAME, 0, 1 << 20).toString('utf8'));
      if (Array.isArray(names)) interrupted = names.filter((n): n is string => typeof n === 'string');
    } catch {
      // no interrupted replicate (or its note is unreadable: then every changed file counts as changed)
    }
    const found = findManifest(this.fs, this.location);
    if (found.kind === 'manifest') return { manifest: found.manifest, damaged: false, interrupted };
    // A damaged or missing manifest beside a store's files: resynchronised whole.
    return { manifest: null, damaged: found.kind === 'damaged' || found.kind === 'missing', interrupted };
  }

  size(name: string): number | undefined {
    const st = this.fs.stat(`${this.location}/${name}`);
    return st?.isFile ? st.size : undefined;
  }

  fingerprint(name: string): string | undefined {
    const st = this.fs.stat(`${this.location}/${name}`);
    return st?.isFile ? `${st.size}:${st.ino}:${st.ctimeMs}` : undefined;
  }

  read(name: string, offset: number, length: number): Buffer {
    const path = `${this.location}/${name}`;
    try {
      const fd = this.fs.openRead(path);
      try {
        const buf = Buffer.allocUnsafe(length);
        return buf.subarray(0, this.fs.read(fd, buf, 0, length, offset));
      } finally {
        this.fs.close(fd);
      }
    } catch (err) {
      throw ioError(err, 'cannot read', path);
    }
  }

  writeFile(name: string, chunks: Iterable<Buffer>): void {
    try {
      writeFileAside(this.fs, this.location, name, chunks);
    } catch (err) {
      throw ioError(err, 'cannot write', `${this.location}/${name}`);
    }
  }

  appendFile(name: string, offset: number, chunks: Iterable<Buffer>): void {
    const path = `${this.location}/${name}`;
    try {
      const fd = this.fs.openReadWrite(path);
      try {
        // Written over what is there, then cut: the file never gets shorter than the
        // follower's current cut, whose bytes (the leader's, append-only) are rewritten
        // as they were. Cutting first would leave a follower killed here without them.
        let pos = offset;
        for (const c of chunks) {
          this.fs.write(fd, c, 0, c.length, pos);
          pos += c.length;
        }
        this.fs.truncate(fd, pos);
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

  switchManifest(manifest: Manifest, onSwitched?: () => void): void {
    installManifest(this.fs, this.location, manifest, onSwitched);
  }

  undo(listed: Manifest | null): string[] {
    const left: string[] = [];
    const cut = listed ? followerCut(listed) : undefined;
    if (listed && cut !== undefined) cutBack(this.fs, this.location, segmentName(listed.active.file), cut, left);
    removeOwnLeftovers(this.fs, this.location, listed, this.processes, left);
    return left;
  }

  list(): string[] {
    return this.fs.readdir(this.location);
  }

  inUse(name: string): boolean {
    return beingWritten(this.fs, this.location, name, fileKind(name), undefined, this.processes);
  }

  remove(name: string): void {
    try {
      this.fs.unlink(`${this.location}/${name}`);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw ioError(err, 'cannot remove', `${this.location}/${name}`);
    }
  }
}
