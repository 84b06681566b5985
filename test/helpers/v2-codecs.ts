// Store codecs of version 2 for tests that drive the engine directly
// (docs/format.md "Format version 2"): an encrypted store's with a data key
// made here, the same with another key, one without the secret, a
// compressed-only store's.
import { createSecretKey, randomBytes } from 'node:crypto';
import { TzkvError } from '../../src/errors.js';
import { DataKeys, type StoreCodec } from '../../src/format/store-codec.js';

const dataKeys = (id: number) => new DataKeys(new Map([[id, createSecretKey(randomBytes(32))]]), id);

/** An encrypted store's codec: data key 1, made for this test run. */
export const ENCRYPTED: StoreCodec = { encryption: { keys: () => keys1 }, compression: undefined };
const keys1 = dataKeys(1);

/** Encrypted too, but its data key 1 is another key than ENCRYPTED's. */
export const OTHER_KEY: StoreCodec = { encryption: { keys: () => otherKeys1 }, compression: undefined };
const otherKeys1 = dataKeys(1);

/** An encrypted store opened without its secret: asking for a key is KEY_REQUIRED. */
export const KEYLESS: StoreCodec = {
  encryption: {
    keys: () => {
      throw new TzkvError('KEY_REQUIRED', 'the store is encrypted: give its key');
    },
  },
  compression: undefined,
};

/** A compressed-only store's codec. */
export const COMPRESSED: StoreCodec = { encryption: undefined, compression: { algorithm: 'deflate', minBytes: 256 } };
