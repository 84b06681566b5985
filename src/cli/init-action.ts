// What `tzkv init` does once its command line is parsed (docs/cli.md "init"):
// makes a store, plain, encrypted (the secret from --key-file, $TZKV_KEY_FILE
// or $TZKV_PASSPHRASE) and/or compressed.
import type { InitReport } from '../api.js';
import { DEFAULT_COMPRESSION } from '../format/store-codec.js';
import { init } from '../index.js';
import { parseDuration } from '../text/duration.js';
import { modeOf, secretOf, storeDirectory } from './open-store.js';
import type { StoreFlags } from './open-store.js';
import { printMessage } from './output.js';

export interface InitRequest extends StoreFlags {
  encrypt: boolean;
  compress: boolean;
  compression?: string;
}

export function initStore(request: InitRequest, env: NodeJS.ProcessEnv = process.env): Promise<InitReport> {
  // A key given on init's own command line for a store that will not be encrypted: said, so nobody takes the store for
  // encrypted; not refused, since a script may give one key file to every init. $TZKV_KEY_FILE alone is ignored, as everywhere.
  const keyFile = request['key-file'];
  if (!request.encrypt && keyFile !== undefined && keyFile !== env.TZKV_KEY_FILE) {
    printMessage(`warning: --key-file was given without --encrypt: this store is not encrypted (\`tzkv init --encrypt\` makes one that is)`);
  }
  const compression = request.compression ?? (request.compress ? DEFAULT_COMPRESSION : undefined);
  const lockTimeout = request['lock-timeout'];
  return init(storeDirectory(request.dir), {
    encrypt: request.encrypt,
    ...(compression === undefined ? {} : { compression }),
    secret: secretOf(request),
    mode: modeOf(request),
    command: 'tzkv init',
    onWarning: (message) => printMessage(`warning: ${message}`),
    ...(lockTimeout === undefined ? {} : { lockTimeoutMs: parseDuration(lockTimeout, '--lock-timeout', { allowZero: true }) }),
  });
}

/** The store in words: `encrypted, compressed (brotli) store` or `store`. */
export function describeStore(r: InitReport): string {
  const kinds = [...(r.encrypted ? ['encrypted'] : []), ...(r.compression === null ? [] : [`compressed (${r.compression})`])];
  return `${kinds.length > 0 ? `${kinds.join(', ')} ` : ''}store`;
}
