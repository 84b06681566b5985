// The store's codec as verify's worker thread is sent it (worker-ring.ts
// WorkerSetup): a KeyObject cannot cross a worker boundary, so the data keys
// travel as their exported bytes and are made KeyObjects again on the other
// side. An encrypted store verified without its key posts why there is none:
// the worker's keys() throws that KEY_REQUIRED, as the main thread's would.
import { createSecretKey } from 'node:crypto';
import type { KeyObject } from 'node:crypto';
import { TzkvError, isTzkvError } from '../../errors.js';
import { DataKeys } from '../../format/store-codec.js';
import type { CompressionSetting, StoreCodec } from '../../format/store-codec.js';

export interface PostedCodec {
  /**
   * Undefined: the store is not encrypted. Otherwise its data keys (id and
   * the key's 32 bytes) and the current id, or the message of the
   * KEY_REQUIRED its codec throws when no secret was given.
   */
  encryption: { current: number; keys: Array<[number, Uint8Array]> } | { keyRequired: string } | undefined;
  compression: CompressionSetting | undefined;
}

/** What to post for `codec`. Other errors of its keys() than KEY_REQUIRED are thrown. */
export function postCodec(codec: StoreCodec): PostedCodec {
  const { encryption, compression } = codec;
  if (encryption === undefined) return { encryption: undefined, compression };
  let keys: DataKeys;
  try {
    keys = encryption.keys();
  } catch (err) {
    if (isTzkvError(err, 'KEY_REQUIRED')) return { encryption: { keyRequired: err.message }, compression };
    throw err;
  }
  const posted: Array<[number, Uint8Array]> = keys.ids.map((id) => [id, keys.key(id)!.export()]);
  return { encryption: { current: keys.current, keys: posted }, compression };
}

/** The codec `posted` stands for, on the worker's side. */
export function receivedCodec(posted: PostedCodec): StoreCodec {
  const { encryption, compression } = posted;
  if (encryption === undefined) return { encryption: undefined, compression };
  if ('keyRequired' in encryption) {
    const message = encryption.keyRequired;
    return {
      encryption: {
        keys() {
          throw new TzkvError('KEY_REQUIRED', message);
        },
      },
      compression,
    };
  }
  const keys = new DataKeys(new Map<number, KeyObject>(encryption.keys.map(([id, bytes]) => [id, createSecretKey(bytes)])), encryption.current);
  return { encryption: { keys: () => keys }, compression };
}
