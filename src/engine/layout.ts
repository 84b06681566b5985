// What is in a store directory: is it a store, which files belong to it, and
// the paths of its files (docs/format.md "The store directory").
import { TzkvError, ioError } from '../errors.js';
import { fileName, parseFileName } from '../format/bytes.js';
import { LOCK_NAME, MANIFEST_NAME, REPLICATING_NAME, RUN_EXT, SEGMENT_EXT, TMP_SUFFIX } from '../format/constants.js';
import type { FileSystem } from '../io/fs.js';

export const segmentName = (n: number) => fileName(n, SEGMENT_EXT);
export const runName = (n: number) => fileName(n, RUN_EXT);

/** A large batch's staging file, named after its process so other writers leave it alone while it lives. */
export const stageFileName = (pid: number, nonce: string) => `stage-${pid}-${nonce}${TMP_SUFFIX}`;

/** The pid in a staging file's name, or -1 when the name is not one. */
export function stageFilePid(name: string): number {
  const m = /^stage-([0-9]+)-[0-9a-f]+\.tmp$/.exec(name);
  return m ? Number(m[1]) : -1;
}

/** A compaction's output file (or its TTL scratch file), written outside the lock under a name no other writer takes for its own. */
export const compactFileName = (pid: number, file: number, ext: string) => `compact-${pid}-${fileName(file, ext)}${TMP_SUFFIX}`;
/** The scratch file of a compaction's TTL list (docs/format.md "The store directory"). */
export const TTL_SCRATCH_EXT = '.ttl';

/** The pid in a compaction output file's name, or -1 when the name is not one. */
export function compactFilePid(name: string): number {
  const m = /^compact-([0-9]+)-[0-9]{8,}\.(tzds|tzix|ttl)\.tmp$/.exec(name);
  return m ? Number(m[1]) : -1;
}

/** Names tzkv itself writes into a store directory. */
export function isStoreFileName(name: string): boolean {
  if (stageFilePid(name) > 0 || compactFilePid(name) > 0) return true;
  if (/^LOCK\.[0-9a-f]+\.tmp$/.test(name)) return true; // a lock being written aside (src/lock/lockfile.ts)
  if (name === MANIFEST_NAME || name === LOCK_NAME || name === `${LOCK_NAME}.break`) return true;
  const base = name.endsWith(TMP_SUFFIX) ? name.slice(0, -TMP_SUFFIX.length) : name;
  if (base === MANIFEST_NAME || base === REPLICATING_NAME) return true; // REPLICATING: a follower's note (src/replication)
  if (base === 'VERIFIED' || /^VERIFIED\.[0-9]+$/.test(base) || /^QUARANTINE-.*\.tzq$/.test(base)) return true; // verify's note and repair's quarantine
  return parseFileName(base, SEGMENT_EXT) > 0 || parseFileName(base, RUN_EXT) > 0;
}

export type DirState = 'missing' | 'store' | 'empty';

/**
 * Checks that `dir` can be a store. 'empty' covers a directory with no
 * MANIFEST holding nothing or only tzkv's own leftovers. Throws NOT_A_STORE
 * for a regular file or a directory of other files.
 */
export function inspectDir(fs: FileSystem, dir: string): DirState {
  let st;
  try {
    st = fs.stat(dir);
  } catch (err) {
    throw ioError(err, 'cannot read store directory', dir);
  }
  if (st === undefined) return 'missing';
  if (!st.isDirectory) {
    throw new TzkvError('NOT_A_STORE', `${dir} is not a directory (a store is a directory)`, { path: dir });
  }
  let names: string[];
  try {
    names = fs.readdir(dir);
  } catch (err) {
    throw ioError(err, 'cannot read store directory', dir);
  }
  if (names.includes(MANIFEST_NAME)) return 'store';
  const foreign = names.filter((n) => !isStoreFileName(n));
  if (foreign.length > 0) {
    const sample = foreign.slice(0, 3).join(', ') + (foreign.length > 3 ? ', ...' : '');
    throw new TzkvError('NOT_A_STORE', `${dir} is not a tzkv store: it holds other files (${sample}) and no MANIFEST`, {
      path: dir,
    });
  }
  return 'empty';
}
