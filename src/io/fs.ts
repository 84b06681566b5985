// The small, synchronous file-system interface the engine uses. The engine
// never imports node:fs itself: tests pass a FileSystem that fails the nth
// write, drops bytes that were never fsynced, or cuts files (test/fault).
//
// Synchronous on purpose: a one-shot CLI process does a handful of small
// reads, and sync calls avoid the thread-pool round trip of fs/promises.
import * as nodeFs from 'node:fs';
import { dirname, resolve } from 'node:path';

interface FileStat {
  isFile: boolean;
  isDirectory: boolean;
  size: number;
  mtimeMs: number;
  /** Changes with every write, rename or attribute change of the file: no one can set it back. */
  ctimeMs: number;
  ino: number;
  /** Permission bits (with setuid, setgid and sticky): `mode & 0o7777`. */
  mode: number;
}

export interface FileSystem {
  /** Opens an existing file for reading. */
  openRead(path: string): number;
  /** Opens an existing file for reading and writing at explicit positions. */
  openReadWrite(path: string): number;
  /**
   * Creates a new file; fails with EEXIST when anything, a symlink included,
   * is at path (O_CREAT|O_EXCL never follows one). Its mode is its
   * directory's less the execute bits (docs/design.md "Permissions").
   */
  createExclusive(path: string): number;
  /**
   * Creates a new, empty file at path (temporary files only), removing first
   * whatever name is there: a symlink or a hard link planted at path is
   * replaced, never written through. Mode as createExclusive.
   */
  createTruncate(path: string): number;
  /** Reads up to `length` bytes at `position`; returns the count read. */
  read(fd: number, buf: Buffer, offset: number, length: number, position: number): number;
  /** Writes all of buf[offset, offset+length) at `position`. */
  write(fd: number, buf: Uint8Array, offset: number, length: number, position: number): void;
  fsync(fd: number): void;
  /**
   * Starts an fsync of fd on another thread and returns at once, so the disk
   * takes what was written so far while the caller goes on. Its outcome is not
   * reported: a later fsync waits for the bytes and reports. Optional: without
   * it that fsync does it all.
   */
  syncAhead?(fd: number): void;
  truncate(fd: number, length: number): void;
  size(fd: number): number;
  close(fd: number): void;
  /** undefined when nothing exists at path (also when the path runs through a file). */
  stat(path: string): FileStat | undefined;
  readdir(path: string): string[];
  rename(from: string, to: string): void;
  /** Makes `to` a second name of `from`; fails with EEXIST when `to` exists (atomic, never replaces). */
  link(from: string, to: string): void;
  unlink(path: string): void;
  /** Creates a directory (and missing parents, one level at a time: makeDirectories) with exactly `mode` (umask aside); one that exists is left as it is. */
  mkdirp(path: string, mode: number): void;
  /** Makes creations, renames and removals in a directory durable. */
  fsyncDir(path: string): void;
  /** Checks that the process may create files in a directory (throws EACCES/EROFS otherwise). */
  checkWritable(path: string): void;
}

/** The mode of a file tzkv creates in `dir`: the directory's, less the execute bits (0700 gives 0600, 0750 gives 0640). */
function fileModeIn(dirMode: number): number {
  return dirMode & 0o666;
}

/** O_CREAT|O_EXCL with the mode its directory gives, set exactly when it grants more than the owner's (the umask would take group bits). */
function createNew(path: string): number {
  const mode = fileModeIn(nodeFs.statSync(dirname(path)).mode);
  const fd = nodeFs.openSync(path, nodeFs.constants.O_CREAT | nodeFs.constants.O_EXCL | nodeFs.constants.O_RDWR, mode);
  if ((mode & 0o077) !== 0) nodeFs.fchmodSync(fd, mode);
  return fd;
}

export const realFs: FileSystem = {
  openRead: (path) => nodeFs.openSync(path, 'r'),
  openReadWrite: (path) => nodeFs.openSync(path, 'r+'),
  createExclusive: createNew,
  createTruncate: (path) => {
    try {
      nodeFs.unlinkSync(path);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
    }
    return createNew(path);
  },
  read: (fd, buf, offset, length, position) => {
    let done = 0;
    while (done < length) {
      const n = nodeFs.readSync(fd, buf, offset + done, length - done, position + done);
      if (n === 0) break;
      done += n;
    }
    return done;
  },
  write: (fd, buf, offset, length, position) => {
    let done = 0;
    while (done < length) {
      done += nodeFs.writeSync(fd, buf, offset + done, length - done, position + done);
    }
  },
  fsync: (fd) => nodeFs.fsyncSync(fd),
  syncAhead: (fd) => nodeFs.fsync(fd, () => undefined),
  truncate: (fd, length) => nodeFs.ftruncateSync(fd, length),
  size: (fd) => nodeFs.fstatSync(fd).size,
  close: (fd) => nodeFs.closeSync(fd),
  stat: (path) => {
    const s = statIfAny(path);
    return s === undefined
      ? undefined
      : { isFile: s.isFile(), isDirectory: s.isDirectory(), size: s.size, mtimeMs: s.mtimeMs, ctimeMs: s.ctimeMs, ino: s.ino, mode: s.mode & 0o7777 };
  },
  readdir: (path) => nodeFs.readdirSync(path),
  rename: (from, to) => nodeFs.renameSync(from, to),
  link: (from, to) => nodeFs.linkSync(from, to),
  unlink: (path) => nodeFs.unlinkSync(path),
  mkdirp: (path, mode) => {
    if (makeDirectories(path, mode)) nodeFs.chmodSync(path, mode);
  },
  fsyncDir: (path) => {
    const fd = nodeFs.openSync(path, 'r');
    try {
      nodeFs.fsyncSync(fd);
    } finally {
      nodeFs.closeSync(fd);
    }
  },
  checkWritable: (path) => nodeFs.accessSync(path, nodeFs.constants.W_OK),
};

/**
 * Creates directory `path` and its missing parents, one level at a time, each
 * with `mode` (less the umask). It makes at most one mkdir call per missing
 * level, so it always ends: Node's recursive mkdirSync loops forever where
 * mkdir fails with ENOENT under a parent that exists (/proc/x). A directory
 * that appears meanwhile (another process made it) is fine. On failure throws
 * the fs error, with `reason` naming what stopped it when that is not `path`
 * itself (src/errors.ts fsReason words the message from it). Returns whether
 * it made `path` itself (false: it was there already).
 */
export function makeDirectories(path: string, mode = 0o777): boolean {
  const missing: string[] = [];
  let made = false;
  for (let dir = resolve(path); ; dir = dirname(dir)) {
    // A path through a file: the file is found, and named, a level up.
    const st = statIfAny(dir);
    if (st?.isDirectory()) break;
    if (st !== undefined) throw directoryError('ENOTDIR', dir, `${dir} is not a directory`);
    if (dirname(dir) === dir) throw directoryError('ENOENT', dir, `${dir} does not exist`);
    missing.unshift(dir);
  }
  for (const dir of missing) {
    made = false;
    try {
      nodeFs.mkdirSync(dir, { mode });
      made = true;
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      if (code === 'EEXIST') {
        if (statIfAny(dir)?.isDirectory()) continue;
        const link = nodeFs.lstatSync(dir, { throwIfNoEntry: false })?.isSymbolicLink() ? nodeFs.readlinkSync(dir) : undefined;
        throw directoryError('EEXIST', dir, link === undefined ? `${dir} is not a directory` : `${dir} is a symbolic link to ${link}, which does not exist`);
      }
      // The parent exists (checked above), yet refuses: a virtual file system such as /proc.
      if (code === 'ENOENT') throw directoryError('ENOENT', dir, `${dirname(dir)} does not take new directories (mkdir ${dir}: ENOENT)`);
      throw err;
    }
  }
  return made;
}

/** A path's stat (links followed), or undefined when nothing is there: ENOENT, or ENOTDIR for a path through a file. */
function statIfAny(path: string): nodeFs.Stats | undefined {
  try {
    return nodeFs.statSync(path, { throwIfNoEntry: false });
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOTDIR') return undefined;
    throw err;
  }
}

function directoryError(code: string, path: string, reason: string): NodeJS.ErrnoException & { reason: string } {
  return Object.assign(new Error(reason), { code, path, reason });
}

/** Removes a file if it is there; a file already gone (or never made) is not an error. */
export function removeQuietly(fs: FileSystem, path: string): void {
  try {
    fs.unlink(path);
  } catch {
    // already gone, or never created
  }
}

/** Closes `fd`, ignoring a failure: for a file whose bytes are fsynced already, or scratch. */
export function closeQuietly(fs: FileSystem, fd: number): void {
  try {
    fs.close(fd);
  } catch {
    // nothing to lose
  }
}

/** Reads a whole small file. */
export function readWholeFile(fs: FileSystem, path: string): Buffer {
  const fd = fs.openRead(path);
  try {
    const size = fs.size(fd);
    const buf = Buffer.allocUnsafe(size);
    const n = fs.read(fd, buf, 0, size, 0);
    return n === size ? buf : buf.subarray(0, n);
  } finally {
    fs.close(fd);
  }
}

/**
 * Cuts the file at `path` back to `length` bytes, durably (truncate, then
 * fsync), when it is longer; returns whether it cut. For bytes nobody was
 * told of: a failed write's own, a torn end.
 */
export function cutFileBack(fs: FileSystem, path: string, length: number): boolean {
  const fd = fs.openReadWrite(path);
  try {
    if (fs.size(fd) <= length) return false;
    fs.truncate(fd, length);
    fs.fsync(fd);
    return true;
  } finally {
    closeQuietly(fs, fd);
  }
}

export interface AsideOptions {
  /** The temporary file's name in `dir` (default `name.tmp`); a writer without the lock names it after its process (`VERIFIED.PID.tmp`). */
  tmpName?: string;
  /** fsync the bytes before the rename (default true). false only for a file that is a record, not data: after a power loss it may be empty or gone. */
  fsync?: boolean;
}

/**
 * Writes `chunks` to `dir/name` by temp + fsync + rename: the bytes go to
 * the temporary file, are fsynced, and it is renamed over `name`, so `name`
 * holds either its old content or all of the new. A failure at any step
 * removes the temporary file and leaves `name` as it was. Returns the bytes
 * written. The rename is durable only once the caller fsyncs `dir`
 * (replaceFile does; a caller writing several files fsyncs the directory once
 * after them all).
 */
export function writeFileAside(fs: FileSystem, dir: string, name: string, chunks: Iterable<Uint8Array>, options: AsideOptions = {}): number {
  const tmp = `${dir}/${options.tmpName ?? `${name}.tmp`}`;
  try {
    const fd = fs.createTruncate(tmp);
    let pos = 0;
    try {
      for (const c of chunks) {
        fs.write(fd, c, 0, c.length, pos);
        pos += c.length;
      }
      if (options.fsync !== false) fs.fsync(fd);
    } finally {
      fs.close(fd);
    }
    fs.rename(tmp, `${dir}/${name}`);
    return pos;
  } catch (err) {
    removeQuietly(fs, tmp);
    throw err;
  }
}

/**
 * Replaces a file durably: writeFileAside, then a directory fsync
 * (docs/format.md "The store directory"). After it returns, `path` holds
 * `data` durably; a crash at any point leaves either the old or the new
 * content. A failure before the rename leaves the old content; `onReplaced`
 * runs right after the rename, so a caller knows the new content is in place
 * even when the directory fsync then fails.
 */
export function replaceFile(fs: FileSystem, dir: string, name: string, data: Uint8Array, onReplaced?: () => void): void {
  writeFileAside(fs, dir, name, [data]);
  onReplaced?.();
  fs.fsyncDir(dir);
}
