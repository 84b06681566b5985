// What is in a store directory: is it a store, which files belong to it, and
// the paths of its files (docs/format.md "The store directory").
import { TzkvError, ioError } from '../../errors.js';
import { fileName, parseFileName } from '../../format/bytes.js';
import { FILE_HEADER_BYTES, FOLLOWERS_DIR, LOCK_NAME, MANIFEST_NAME, REPLICATING_NAME, RUN_EXT, SEGMENT_EXT, TMP_SUFFIX } from '../../format/constants.js';
import type { FileSystem } from '../../io/fs.js';

export const segmentName = (n: number) => fileName(n, SEGMENT_EXT);
export const runName = (n: number) => fileName(n, RUN_EXT);

/** A large batch's staging file, named after its process so other writers leave it alone while it lives. */
export const stageFileName = (pid: number, nonce: string) => `stage-${pid}-${nonce}${TMP_SUFFIX}`;

/** The pid in a staging file's name, or -1 when the name is not one. */
export function stageFilePid(name: string): number {
  const m = /^stage-([0-9]+)-[0-9a-f]+\.tmp$/.exec(name);
  return m ? Number(m[1]) : -1;
}

/** A compaction's output file (or its TTL scratch file, or a repair's), written under a name no other writer takes for its own. */
export const compactFileName = (pid: number, file: number, ext: string) => `compact-${pid}-${fileName(file, ext)}${TMP_SUFFIX}`;
/** The scratch file of a compaction's TTL list (docs/format.md "The store directory"). */
export const TTL_SCRATCH_EXT = '.ttl';

/** The pid in a compaction output file's name, or -1 when the name is not one. */
export function compactFilePid(name: string): number {
  const m = /^compact-([0-9]+)-[0-9]{8,}\.(tzds|tzix|ttl)\.tmp$/.exec(name);
  return m ? Number(m[1]) : -1;
}

/** Names tzkv itself writes into a store directory (a followers/ folder included). */
export function isStoreFileName(name: string): boolean {
  if (stageFilePid(name) > 0 || compactFilePid(name) > 0) return true;
  if (/^LOCK\.[0-9a-f]+\.tmp$/.test(name)) return true; // a lock being written aside (src/lock/lockfile.ts)
  if (name === MANIFEST_NAME || name === LOCK_NAME || name === `${LOCK_NAME}.break` || name === FOLLOWERS_DIR) return true;
  const base = name.endsWith(TMP_SUFFIX) ? name.slice(0, -TMP_SUFFIX.length) : name;
  if (base === MANIFEST_NAME || base === REPLICATING_NAME) return true; // REPLICATING: a follower's note (src/replication)
  if (base === 'VERIFIED' || /^VERIFIED\.[0-9]+$/.test(base) || /^QUARANTINE-.*\.tzq$/.test(base)) return true; // verify's note and repair's quarantine
  return parseFileName(base, SEGMENT_EXT) > 0 || parseFileName(base, RUN_EXT) > 0;
}

/**
 * Whether a tzkv file left without a MANIFEST beside it shows that a store
 * lived here: every one does but a temporary file, the lock, and the header-only
 * first segment that a first write dying before its manifest leaves.
 */
function showsAStore(fs: FileSystem, dir: string, name: string): boolean {
  if (name.endsWith(TMP_SUFFIX) || name === LOCK_NAME || name === `${LOCK_NAME}.break`) return false;
  if (name === segmentName(1)) return (fs.stat(`${dir}/${name}`)?.size ?? 0) > FILE_HEADER_BYTES;
  return isStoreFileName(name);
}

/**
 * 'empty': no MANIFEST, and nothing or only leftovers a writer removes (a store
 * not written yet). 'lost-manifest': no MANIFEST, but files only a store holds
 * (docs/format.md "The store directory"): a damaged store. 'unfinished-follower':
 * no MANIFEST, and a REPLICATING note: a first replicate into it has not finished.
 */
export type DirState = 'missing' | 'store' | 'empty' | 'lost-manifest' | 'unfinished-follower';

interface Listing {
  state: DirState;
  /** For 'lost-manifest': the files that show a store lived here. */
  storeFiles: string[];
}

function listDir(fs: FileSystem, dir: string): Listing {
  let st;
  try {
    st = fs.stat(dir);
  } catch (err) {
    throw ioError(err, 'cannot read store directory', dir);
  }
  if (st === undefined) return { state: 'missing', storeFiles: [] };
  if (!st.isDirectory) {
    throw new TzkvError('NOT_A_STORE', `${dir} is not a directory (a store is a directory)`, { path: dir });
  }
  let names: string[];
  try {
    names = fs.readdir(dir);
  } catch (err) {
    throw ioError(err, 'cannot read store directory', dir);
  }
  if (names.includes(MANIFEST_NAME)) return { state: 'store', storeFiles: [] };
  if (names.includes(REPLICATING_NAME)) return { state: 'unfinished-follower', storeFiles: [] };
  const storeFiles = names.filter((n) => showsAStore(fs, dir, n)).sort();
  if (storeFiles.length > 0) return { state: 'lost-manifest', storeFiles };
  const foreign = names.filter((n) => !isStoreFileName(n));
  if (foreign.length > 0) {
    throw new TzkvError('NOT_A_STORE', `${dir} is not a tzkv store: it holds other files (${sample(foreign)}) and no MANIFEST`, {
      path: dir,
    });
  }
  return { state: 'empty', storeFiles: [] };
}

function sample(names: string[]): string {
  return names.slice(0, 3).join(', ') + (names.length > 3 ? ', ...' : '');
}

/**
 * Checks that `dir` can be a store and says what it holds. Throws NOT_A_STORE
 * for a regular file, or a directory of other files and no tzkv store's.
 */
export function inspectDir(fs: FileSystem, dir: string): DirState {
  return listDir(fs, dir).state;
}

/** A follower whose first replicate has not finished: not a store yet. */
export function unfinishedFollower(dir: string): TzkvError {
  return new TzkvError(
    'NOT_A_STORE',
    `${dir} is not a tzkv store yet: a replicate into it stopped before its first manifest (run \`tzkv replicate --to ${dir}\` again)`,
    { path: dir },
  );
}

/**
 * Why a directory whose MANIFEST could not be found cannot be used as it is:
 * CORRUPT when it holds a store's files (the store lost its manifest, and
 * `verify --repair` rebuilds it), NOT_A_STORE when a first replicate into it
 * has not finished; null when it is an empty store, or missing.
 */
export function withoutManifest(fs: FileSystem, dir: string): TzkvError | null {
  const { state, storeFiles } = listDir(fs, dir);
  if (state === 'unfinished-follower') return unfinishedFollower(dir);
  if (state !== 'lost-manifest') return null;
  return new TzkvError(
    'CORRUPT',
    `${MANIFEST_NAME} is missing from ${dir}, which holds a store's files (${sample(storeFiles)}): the store is damaged; \`tzkv verify --repair\` rebuilds its manifest from them`,
    { path: `${dir}/${MANIFEST_NAME}`, offset: 0 },
  );
}
