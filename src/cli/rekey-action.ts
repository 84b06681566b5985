// What `tzkv rekey` does (docs/cli.md "rekey"): opens the store with its
// current secret (--key-file, $TZKV_KEY_FILE, $TZKV_PASSPHRASE) and wraps its
// data keys under the new one (--new-key-file, $TZKV_NEW_KEY_FILE,
// $TZKV_NEW_PASSPHRASE), replacing KEYRING under the writer lock.
import { resolve } from 'node:path';
import type { Secret } from '../api.js';
import { TzkvError } from '../errors.js';
import { type StoreFlags, storeDirectory, withStore } from './open-store.js';
import { adminOf } from './store-admin.js';

export interface RekeyRequest extends StoreFlags {
  'new-key-file'?: string;
}

/** The new secret: --new-key-file, else $TZKV_NEW_KEY_FILE (oclif fills the flag), else $TZKV_NEW_PASSPHRASE. */
function newSecretOf(request: RekeyRequest, env: NodeJS.ProcessEnv): Secret {
  const keyFile = request['new-key-file'];
  if (keyFile) {
    const path = resolve(keyFile);
    return { keyFile: path, given: `the new key file ${path}` };
  }
  if (env.TZKV_NEW_PASSPHRASE) return { passphrase: env.TZKV_NEW_PASSPHRASE, given: 'the new passphrase in $TZKV_NEW_PASSPHRASE' };
  throw new TzkvError('KEY_REQUIRED', `rekey needs the new secret for ${storeDirectory(request.dir)}: give it with --new-key-file PATH, TZKV_NEW_KEY_FILE or TZKV_NEW_PASSPHRASE`);
}

/** Rekeys the store; resolves to its location. */
export async function rekeyStore(request: RekeyRequest, env: NodeJS.ProcessEnv = process.env): Promise<string> {
  const secret = newSecretOf(request, env);
  return withStore(request, 'write', 'tzkv rekey', async (store) => {
    await adminOf(store, (at) => `${at} is an etcd cluster: its keys are etcd's (encryption at rest is a directory store's)`).rekey(secret);
    return store.location;
  });
}
