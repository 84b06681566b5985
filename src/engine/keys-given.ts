// Whether an encrypted store was opened with its secret, asked without
// failing: for the paths that must work without the key (verify, replicate,
// stats) and say what they could not check, and for the paths that rewrite
// data (compaction, repair), which refuse before they change anything.
import { isTzkvError } from '../errors.js';
import type { DataKeys, StoreCodec } from '../format/store-codec.js';

/**
 * The store's data keys; undefined for a store that is not encrypted, null for
 * an encrypted one opened without its secret (keys() threw KEY_REQUIRED).
 * Other errors of keys() are thrown.
 */
export function keysGiven(codec: StoreCodec): DataKeys | null | undefined {
  if (codec.encryption === undefined) return undefined;
  try {
    return codec.encryption.keys();
  } catch (err) {
    if (isTzkvError(err, 'KEY_REQUIRED')) return null;
    throw err;
  }
}

/**
 * Throws the codec's KEY_REQUIRED when the store is encrypted and was opened
 * without its secret: called by what rewrites records before it writes or
 * locks anything, so a refusal leaves the store as it was.
 */
export function requireKeys(codec: StoreCodec): void {
  codec.encryption?.keys();
}
