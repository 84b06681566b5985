// The data key a file of an encrypted store was written with (docs/format.md
// "Common file header, version 2"): the one way the engine asks the codec for
// a key, so every path fails the same way without the secret or with a file
// naming a key KEYRING does not hold.
import type { KeyObject } from 'node:crypto';
import { TzkvError } from '../errors.js';
import type { StoreCodec } from '../format/store-codec.js';

/**
 * The data key `keyId` that `file` (a path, for the message) names in its
 * header. Throws KEY_REQUIRED when the store was opened without its secret,
 * CORRUPT when the store's KEYRING holds no key with that id.
 * REQUIRES: keyId ≥ 1 (an encrypted file).
 */
export function dataKey(codec: StoreCodec, keyId: number, file: string): KeyObject {
  if (codec.encryption === undefined) {
    throw new TzkvError('CORRUPT', `${file} is encrypted (data key ${keyId}), but the store's MANIFEST says it is not`, { path: file });
  }
  const key = codec.encryption.keys().key(keyId);
  if (key === undefined) throw new TzkvError('CORRUPT', `${file} is encrypted with data key ${keyId}, which KEYRING does not hold`, { path: file });
  return key;
}
