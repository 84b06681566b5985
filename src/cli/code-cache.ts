// Where the V8 code cache of the CLI bundle lives, and the checks that make
// it safe to load. Loading cached data runs its bytecode without V8 checking
// it against the source, so a cache file someone else could have written is
// code execution: the directory must be the user's own, private, and not a
// link; the file likewise. Anything that fails a check is ignored (never
// fatal: the CLI then simply starts without a cache).
//
// Loaded by bin/run.js before the bundle: only Node built-ins here, and
// src/io/fs.ts's makeDirectories (itself only Node built-ins).

import { closeSync, fstatSync, lstatSync, openSync, readdirSync, readSync, renameSync, unlinkSync, writeFileSync, constants } from 'node:fs';
import { homedir } from 'node:os';
import { isAbsolute, join } from 'node:path';
import { makeDirectories } from '../io/fs.js';

/** Cached data larger than this is not ours. */
const MAX_CACHE_BYTES = 64 * 1024 * 1024;
const PREFIX = 'bundle-';
const SUFFIX = '.v8cache';

/**
 * `$XDG_CACHE_HOME/tzkv` (else `~/.cache/tzkv`), created with mode 0700 if
 * missing; undefined when it cannot be made or fails the ownership checks.
 */
export function cacheDirectory(env: NodeJS.ProcessEnv = process.env): string | undefined {
  if (typeof process.getuid !== 'function') return undefined;
  const xdg = env.XDG_CACHE_HOME;
  let base: string;
  try {
    base = xdg && isAbsolute(xdg) ? xdg : join(env.HOME || homedir(), '.cache');
  } catch {
    return undefined;
  }
  const dir = join(base, 'tzkv');
  try {
    makeDirectories(dir, 0o700);
    const st = lstatSync(dir);
    return st.isDirectory() && isPrivate(st) ? dir : undefined;
  } catch {
    return undefined;
  }
}

/** Owned by this user and writable by no one else. */
function isPrivate(st: { uid: number; mode: number }): boolean {
  return st.uid === process.getuid!() && (st.mode & 0o022) === 0;
}

/** Caches for this Node start with this; other Node versions keep their own. */
function nodePrefix(): string {
  return `${PREFIX}${process.version}-${process.arch}-`.replace(/[^A-Za-z0-9._-]/g, '_');
}

/** Name of the cache file for one build of the bundle on this Node. */
export function cacheFileName(buildId: string): string {
  return `${nodePrefix()}${buildId.replace(/[^A-Za-z0-9._-]/g, '_')}${SUFFIX}`;
}

/** The cached data, or undefined when missing or not trustworthy. */
export function readCache(dir: string, name: string): Buffer | undefined {
  let fd: number | undefined;
  try {
    fd = openSync(join(dir, name), constants.O_RDONLY | constants.O_NOFOLLOW);
    const st = fstatSync(fd);
    if (!st.isFile() || !isPrivate(st) || st.size === 0 || st.size > MAX_CACHE_BYTES) return undefined;
    const data = Buffer.allocUnsafe(st.size);
    let done = 0;
    while (done < st.size) {
      const n = readSync(fd, data, done, st.size - done, done);
      if (n === 0) return undefined;
      done += n;
    }
    return data;
  } catch {
    return undefined;
  } finally {
    if (fd !== undefined) closeSync(fd);
  }
}

/** Caches of other builds are removed once this old, and beyond this many of the same bundle. */
const STALE_MS = 30 * 24 * 3600 * 1000;
const MAX_OTHER_CACHES = 8;

/** Which bundle a cache is of: the build id starts with the bundle's name (`fast-…`, `tzkv-…`). */
function bundleOf(name: string): string {
  const rest = name.slice(nodePrefix().length);
  return rest.slice(0, Math.max(0, rest.indexOf('-')));
}

/**
 * Replaces the cache file atomically (private temp file + rename) and prunes
 * this Node's caches of other builds: those not rewritten for 30 days, and,
 * of the same bundle, the oldest beyond eight. Two installs of tzkv used in
 * turn keep a cache each instead of evicting each other. Failures are
 * ignored: a cache is an optimisation.
 */
export function writeCache(dir: string, name: string, data: Buffer): void {
  const tmp = join(dir, `.${name}.${process.pid}.tmp`);
  try {
    writeFileSync(tmp, data, { mode: 0o600, flag: 'wx' });
    renameSync(tmp, join(dir, name));
  } catch {
    try {
      unlinkSync(tmp);
    } catch {
      // nothing to clean up
    }
    return;
  }
  try {
    const others = readdirSync(dir)
      .filter((other) => other !== name && other.startsWith(nodePrefix()) && other.endsWith(SUFFIX))
      .map((other) => ({ other, path: join(dir, other), mtimeMs: lstatSync(join(dir, other)).mtimeMs }))
      .sort((a, b) => b.mtimeMs - a.mtimeMs);
    const now = Date.now();
    const bundle = bundleOf(name);
    let sameBundle = 0;
    for (const { path, mtimeMs, other } of others) {
      const beyond = bundleOf(other) === bundle && ++sameBundle > MAX_OTHER_CACHES;
      if (beyond || now - mtimeMs > STALE_MS) unlinkSync(path);
    }
  } catch {
    // another process is pruning too
  }
}
