// What is in a store directory: is it a store, and the names of its files
// (docs/format.md "The store directory"). What a name is, file-kinds.ts decides.
import { TzkvError, ioError } from '../../errors.js';
import { fileName } from '../../format/bytes.js';
import { FILE_HEADER_BYTES, MANIFEST_NAME, REPLICATING_NAME, RUN_EXT, SEGMENT_EXT, TMP_SUFFIX } from '../../format/constants.js';
import type { FileSystem } from '../../io/fs.js';
import { fileKind, isTzkvFile } from './file-kinds.js';

export const segmentName = (n: number) => fileName(n, SEGMENT_EXT);
export const runName = (n: number) => fileName(n, RUN_EXT);

/** A large batch's staging file, named after its process so other writers leave it alone while it lives. */
export const stageFileName = (pid: number, nonce: string) => `stage-${pid}-${nonce}${TMP_SUFFIX}`;

/** A compaction's output file (or its TTL scratch file, or a repair's), written under a name no other writer takes for its own. */
export const compactFileName = (pid: number, file: number, ext: string) => `compact-${pid}-${fileName(file, ext)}${TMP_SUFFIX}`;

/**
 * Whether a tzkv file left without a MANIFEST beside it shows that a store
 * lived here: every one does but a temporary file, the lock, and the header-only
 * first segment that a first write dying before its manifest leaves.
 */
function showsAStore(fs: FileSystem, dir: string, name: string): boolean {
  const f = fileKind(name);
  if (f.temp || f.kind === 'lock' || f.kind === 'lock-break') return false;
  if (name === segmentName(1)) return (fs.stat(`${dir}/${name}`)?.size ?? 0) > FILE_HEADER_BYTES;
  return isTzkvFile(f);
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
  const foreign = names.filter((n) => !isTzkvFile(fileKind(n)));
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
