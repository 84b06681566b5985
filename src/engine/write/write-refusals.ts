// Why a store refuses a write, decided before the write touches anything
// (docs/design.md "Write path" step 2, "Recovery"): a follower holds its
// leader's cut; data behind damage would hide every later write; a missing
// index run would be read by the write (a flush, a merge, a lookup).
import { TzkvError } from '../../errors.js';
import { RUN_EXT } from '../../format/constants.js';
import type { Manifest } from '../../format/manifest.js';
import type { StoreCodec } from '../../format/store-codec.js';
import { segmentName } from '../files/layout.js';
import { missingFileError, missingFiles } from '../files/manifest-files.js';
import type { View } from '../read/view.js';

/** READ_ONLY when `m` is a follower's: writes wait for `tzkv promote`. */
export function refuseFollower(dir: string, m: Manifest | null): void {
  if (!m?.follower) return;
  throw new TzkvError(
    'READ_ONLY',
    `store ${dir} is a follower of ${m.follower.leader || 'another store'}: writes are refused (run \`tzkv promote\` to make it an independent store)`,
    { path: dir },
  );
}

/** CORRUPT when the view's tail holds damage followed by more data: cutting it would lose acknowledged records. */
export function refuseDamagedTail(dir: string, view: View): void {
  if (view.tailState.kind !== 'corrupt') return;
  const active = segmentName(view.activeFile);
  throw new TzkvError(
    'CORRUPT',
    `${active} offset ${view.tailState.offset}: ${view.tailState.reason}; refusing to write behind damaged data (run \`tzkv verify --repair\`)`,
    { path: `${dir}/${active}`, offset: view.tailState.offset },
  );
}

/**
 * CORRUPT when an index run `m` lists is not among `names` (the directory's):
 * `verify --repair` rebuilds the index. (A missing active segment fails the view's load.)
 */
export function refuseMissingRuns(dir: string, m: Manifest, names: string[]): void {
  const missing = missingFiles(m, names).filter((n) => n.endsWith(RUN_EXT));
  if (missing.length > 0) throw missingFileError(dir, missing[0], 'refusing to write to a damaged store (run `tzkv verify --repair`, which rebuilds the index)');
}

/**
 * PRECONDITION when the store `m` describes is not what `codec` was made for:
 * this process opened the directory before a store was started there by
 * another (`tzkv init --encrypt` or `--compress`), and would write plain
 * records into an encrypted or compressed store.
 */
export function refuseOtherSettings(dir: string, m: Manifest, codec: StoreCodec): void {
  const encrypted = m.encryption !== null;
  if (encrypted === (codec.encryption !== undefined) && m.compression?.algorithm === codec.compression?.algorithm) return;
  const made = [...(encrypted ? ['encrypted'] : []), ...(m.compression ? [`compressed (${m.compression.algorithm})`] : [])].join(' and ') || 'plain';
  throw new TzkvError('PRECONDITION', `store ${dir} was made ${made} after this process opened it (by \`tzkv init\`): open it again to write to it`, { path: dir });
}
