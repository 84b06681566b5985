// A FileSystem for fault-injection tests (after LevelDB's db/fault_injection_test.cc),
// over a real directory through realFs. It can
//  * fail the nth call of an operation with an errno error (EIO, ENOSPC...),
//    optionally after writing part of the buffer, as a full disk does;
//  * "kill the process" before the nth mutating call: that call and every later
//    one throws SimulatedCrash and does nothing;
//  * crash(): simulate power loss. Every file goes back to the bytes it held at
//    its last fsync; the directory goes back to the entries it held at its last
//    fsyncDir (files created since then vanish, renames and unlinks since then
//    are undone, each name getting the durable bytes of the file it named).
//
// Model: a name in the directory points at an inode; an inode keeps a copy of
// its bytes as of its last fsync. Real fsyncs are skipped: durability is what
// this layer tracks, and the tests are faster without them.
import * as nodeFs from 'node:fs';
import { basename, dirname, join } from 'node:path';
import type { FileSystem } from '../../src/io/fs.js';
import { realFs } from '../../src/io/fs.js';

export type FsOp = keyof FileSystem;

/** The calls that change what is on disk; crashBefore() counts these. */
export const MUTATING_OPS: readonly FsOp[] = ['createExclusive', 'createTruncate', 'write', 'fsync', 'truncate', 'rename', 'link', 'unlink', 'fsyncDir'];

const ERRNO: Record<string, number> = { EIO: -5, ENOSPC: -28, EACCES: -13, EROFS: -30, EDQUOT: -122 };

export interface FaultSpec {
  code?: 'EIO' | 'ENOSPC' | 'EACCES' | 'EROFS' | 'EDQUOT';
  /** For write: put the first half of the buffer on disk before failing (a short write). */
  partial?: boolean;
  /** How many consecutive calls fail, starting with the nth (default 1; Infinity: a disk that stays full). */
  times?: number;
  /** Only calls on files whose name matches count (and fail); default: every call of the operation. */
  match?: RegExp;
}

/** Thrown by every call once the simulated process has died. */
export class SimulatedCrash extends Error {
  readonly code = 'ESIMCRASH';
  constructor(what: string) {
    super(`simulated crash: the process died before ${what}`);
  }
}

interface Inode {
  /** The file's bytes as of its last fsync (empty for a new file). */
  durable: Buffer;
}

function errnoError(code: string, op: string, path: string): NodeJS.ErrnoException {
  const err = new Error(`${code}: injected fault, ${op} '${path}'`) as NodeJS.ErrnoException;
  err.code = code;
  err.errno = ERRNO[code] ?? -5;
  err.syscall = op;
  err.path = path;
  return err;
}

function readAll(fd: number): Buffer {
  const size = nodeFs.fstatSync(fd).size;
  const buf = Buffer.alloc(size);
  realFs.read(fd, buf, 0, size, 0);
  return buf;
}

export class FaultFs implements FileSystem {
  /** Calls made so far, per operation. */
  readonly calls: Record<string, number> = {};
  /** Mutating calls so far, as "op name" (for messages when a test fails). */
  readonly trace: string[] = [];
  private readonly live = new Map<string, Inode>(); // name in dir -> inode
  private durableDir = new Map<string, Inode>();
  private readonly fds = new Map<number, { inode: Inode; path: string }>();
  private faults: Array<{ op: FsOp; from: number; to: number; spec: FaultSpec; seen: number }> = [];
  private crashAt = Infinity;
  private tornCrash = false;
  private dead = false;
  /** Called before every mutating call is carried out (the last moment a crash could leave things as they are). */
  beforeMutation?: (op: FsOp, path: string) => void;

  /** `dir` is the one directory whose durability is modelled; files in it now count as durable. */
  constructor(readonly dir: string) {
    for (const name of nodeFs.readdirSync(dir)) {
      const inode = { durable: nodeFs.readFileSync(join(dir, name)) };
      this.live.set(name, inode);
      this.durableDir.set(name, inode);
    }
  }

  /** Makes the nth call of `op` from now on (1-based; only calls on names matching spec.match count) fail. */
  failAt(op: FsOp, nth: number, spec: FaultSpec = {}): this {
    this.faults.push({ op, from: nth, to: nth + (spec.times ?? 1), spec, seen: 0 });
    return this;
  }

  /**
   * The process dies just before the nth mutating call (1-based). `tornWrite`:
   * when that call is a write, the first half of its bytes land first (a process
   * killed in the middle of a large write).
   */
  crashBefore(nth: number, { tornWrite = false }: { tornWrite?: boolean } = {}): this {
    this.crashAt = nth;
    this.tornCrash = tornWrite;
    return this;
  }

  get crashed(): boolean {
    return this.dead;
  }

  get mutations(): number {
    return this.trace.length;
  }

  /** File descriptors opened through this layer and not closed yet. */
  openFds(): string[] {
    return [...this.fds.values()].map((f) => basename(f.path));
  }

  /** Names of files whose bytes on disk differ from their bytes at their last fsync. */
  unsynced(): string[] {
    const out: string[] = [];
    for (const [name, inode] of this.live) {
      if (!nodeFs.readFileSync(join(this.dir, name)).equals(inode.durable)) out.push(name);
    }
    return out.sort();
  }

  private begin(op: FsOp, path: string): NodeJS.ErrnoException | undefined {
    if (this.dead) throw new SimulatedCrash(`${op} ${basename(path)}`);
    this.calls[op] = (this.calls[op] ?? 0) + 1;
    if (MUTATING_OPS.includes(op)) {
      if (this.trace.length + 1 >= this.crashAt) {
        this.dead = true;
        throw new SimulatedCrash(`${op} ${basename(path)} (mutation #${this.trace.length + 1})`);
      }
      this.beforeMutation?.(op, path);
      this.trace.push(`${op} ${basename(path)}`);
    }
    let f: (typeof this.faults)[number] | undefined;
    for (const x of this.faults) {
      if (x.op !== op || (x.spec.match && !x.spec.match.test(basename(path)))) continue;
      x.seen++;
      if (x.seen >= x.from && x.seen < x.to) f = x;
    }
    if (!f) return undefined;
    const err = errnoError(f.spec.code ?? 'EIO', op, path);
    if (op === 'write' && f.spec.partial) return err; // the caller writes half, then throws
    throw err;
  }

  private pathOf(fd: number): string {
    return this.fds.get(fd)?.path ?? `fd ${fd}`;
  }

  private inDir(path: string): boolean {
    return dirname(path) === this.dir;
  }

  private track(fd: number, path: string, fresh: boolean): number {
    const name = basename(path);
    let inode = this.inDir(path) ? this.live.get(name) : undefined;
    if (!inode || fresh) {
      inode = { durable: Buffer.alloc(0) };
      if (this.inDir(path)) this.live.set(name, inode);
    }
    this.fds.set(fd, { inode, path });
    return fd;
  }

  openRead(path: string): number {
    this.begin('openRead', path);
    return this.track(realFs.openRead(path), path, false);
  }

  openReadWrite(path: string): number {
    this.begin('openReadWrite', path);
    return this.track(realFs.openReadWrite(path), path, false);
  }

  createExclusive(path: string): number {
    this.begin('createExclusive', path);
    return this.track(realFs.createExclusive(path), path, true);
  }

  createTruncate(path: string): number {
    this.begin('createTruncate', path);
    // A new inode under the name (realFs removes what was there first).
    return this.track(realFs.createTruncate(path), path, true);
  }

  read(fd: number, buf: Buffer, offset: number, length: number, position: number): number {
    this.begin('read', this.pathOf(fd));
    return realFs.read(fd, buf, offset, length, position);
  }

  write(fd: number, buf: Uint8Array, offset: number, length: number, position: number): void {
    if (this.tornCrash && !this.dead && this.trace.length + 1 >= this.crashAt) realFs.write(fd, buf, offset, Math.floor(length / 2), position);
    const partial = this.begin('write', this.pathOf(fd));
    if (partial) {
      realFs.write(fd, buf, offset, Math.floor(length / 2), position);
      throw partial;
    }
    realFs.write(fd, buf, offset, length, position);
  }

  fsync(fd: number): void {
    this.begin('fsync', this.pathOf(fd));
    const f = this.fds.get(fd);
    if (f) f.inode.durable = readAll(fd);
  }

  truncate(fd: number, length: number): void {
    this.begin('truncate', this.pathOf(fd));
    realFs.truncate(fd, length);
  }

  size(fd: number): number {
    this.begin('size', this.pathOf(fd));
    return realFs.size(fd);
  }

  close(fd: number): void {
    this.begin('close', this.pathOf(fd));
    this.fds.delete(fd);
    realFs.close(fd);
  }

  stat(path: string) {
    this.begin('stat', path);
    return realFs.stat(path);
  }

  readdir(path: string): string[] {
    this.begin('readdir', path);
    return realFs.readdir(path);
  }

  rename(from: string, to: string): void {
    this.begin('rename', from);
    realFs.rename(from, to);
    const inode = this.live.get(basename(from));
    if (this.inDir(from)) this.live.delete(basename(from));
    if (this.inDir(to) && inode) this.live.set(basename(to), inode);
  }

  link(from: string, to: string): void {
    this.begin('link', to);
    realFs.link(from, to);
    const inode = this.live.get(basename(from));
    if (this.inDir(to) && inode) this.live.set(basename(to), inode);
  }

  unlink(path: string): void {
    this.begin('unlink', path);
    realFs.unlink(path);
    if (this.inDir(path)) this.live.delete(basename(path));
  }

  mkdirp(path: string, mode: number): void {
    this.begin('mkdirp', path);
    realFs.mkdirp(path, mode);
  }

  fsyncDir(path: string): void {
    this.begin('fsyncDir', path);
    if (path === this.dir) this.durableDir = new Map(this.live);
  }

  checkWritable(path: string): void {
    this.begin('checkWritable', path);
    realFs.checkWritable(path);
  }

  /**
   * What the directory would hold after a power loss now: its durable entries,
   * each with the bytes of its file's last fsync. `keepUnsynced`, when given,
   * decides how many bytes of a file's unsynced appended data survive anyway
   * (the page cache may have written some back): it gets the name, durable and
   * current lengths and returns a length between the two.
   */
  image(keepUnsynced?: (name: string, durable: number, current: number) => number): Map<string, Buffer> {
    const current = new Map<Inode, Buffer>();
    if (keepUnsynced) {
      for (const [fd, f] of this.fds) if (!current.has(f.inode)) current.set(f.inode, readAll(fd));
      for (const [name, inode] of this.live) if (!current.has(inode)) current.set(inode, nodeFs.readFileSync(join(this.dir, name)));
    }
    const out = new Map<string, Buffer>();
    for (const [name, inode] of this.durableDir) {
      let data = inode.durable;
      const now = current.get(inode);
      if (keepUnsynced && now && now.length > data.length && now.subarray(0, data.length).equals(data)) {
        const keep = keepUnsynced(name, data.length, now.length);
        data = now.subarray(0, Math.max(data.length, Math.min(now.length, keep)));
      }
      out.set(name, Buffer.from(data));
    }
    return out;
  }

  /**
   * Power loss: closes every descriptor and rewrites the real directory to
   * image(keepUnsynced). This layer is dead afterwards (open a new one).
   */
  crash(keepUnsynced?: (name: string, durable: number, current: number) => number): void {
    const img = this.image(keepUnsynced);
    for (const fd of this.fds.keys()) nodeFs.closeSync(fd);
    this.fds.clear();
    this.dead = true;
    writeImage(this.dir, img);
  }
}

/** Replaces everything in `dir` with the files of `img`. */
export function writeImage(dir: string, img: Map<string, Buffer>): void {
  for (const name of nodeFs.readdirSync(dir)) nodeFs.rmSync(join(dir, name), { recursive: true, force: true });
  for (const [name, data] of img) nodeFs.writeFileSync(join(dir, name), data);
}

/** Cuts a file to `length` bytes (a torn tail). */
export function cutFile(path: string, length: number): void {
  nodeFs.truncateSync(path, length);
}

/** Xors one byte of a file with `mask` (default 0xff). */
export function flipByte(path: string, offset: number, mask = 0xff): void {
  const fd = nodeFs.openSync(path, 'r+');
  try {
    const b = Buffer.alloc(1);
    nodeFs.readSync(fd, b, 0, 1, offset);
    b[0] ^= mask;
    nodeFs.writeSync(fd, b, 0, 1, offset);
  } finally {
    nodeFs.closeSync(fd);
  }
}

/** Appends `count` zero bytes (a crash that extended the file but lost the data blocks). */
export function appendZeros(path: string, count: number): void {
  nodeFs.appendFileSync(path, Buffer.alloc(count));
}

/** Cuts a file at a random length in [min, size]; returns the length chosen. */
export function cutAtRandom(path: string, rng: () => number, min = 0): number {
  const size = nodeFs.statSync(path).size;
  const length = min + Math.floor(rng() * (size - min + 1));
  cutFile(path, length);
  return length;
}

/** A small seeded PRNG (mulberry32): tests must replay the same faults. */
export function seededRandom(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
