// The four kinds of directory store (docs/format.md "Format version 2"):
// plain (version 1), compressed, encrypted, encrypted and compressed (version
// 2), made through the embedded API's init() with a key file of the test's
// own. Tests that hold for every store run over STORE_KINDS;
// test/e2e/store-kinds.ts makes the same kinds through `tzkv init`.
import { randomBytes } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { InitOptions, Secret } from '../../src/api.js';
import { init } from '../../src/index.js';

export interface StoreKind {
  /** plain, compressed, encrypted, encrypted+compressed: for test names. */
  name: string;
  encrypt: boolean;
  /** The algorithm, or undefined for none. */
  compression: 'deflate' | 'brotli' | undefined;
}

export const STORE_KINDS: readonly StoreKind[] = [
  { name: 'plain', encrypt: false, compression: undefined },
  { name: 'compressed', encrypt: false, compression: 'deflate' },
  { name: 'encrypted', encrypt: true, compression: undefined },
  { name: 'encrypted+compressed', encrypt: true, compression: 'brotli' },
];

/** The kinds whose keys and values are encrypted. */
export const ENCRYPTED_KINDS = STORE_KINDS.filter((k) => k.encrypt);

/** Writes a new key file (base64, as `tzkv keygen` writes it, mode 0600) at `path`; returns path. */
export function writeKeyFile(path: string): string {
  writeFileSync(path, `${randomBytes(32).toString('base64')}\n`, { mode: 0o600 });
  return path;
}

/** A new key file named `name` in `dir`, as a Secret. */
export function keyFileSecret(dir: string, name = 'store.key'): Secret & { keyFile: string } {
  return { keyFile: writeKeyFile(join(dir, name)) };
}

/** `tzkv init`'s flags for a kind (nothing for a plain store: init makes it plain). */
export function initFlags(kind: StoreKind): string[] {
  return [...(kind.encrypt ? ['--encrypt'] : []), ...(kind.compression ? ['--compression', kind.compression] : [])];
}

/** init()'s options for a kind, with `secret` (a plain or compressed-only store never reads it). */
export function initOptions(kind: StoreKind, secret: Secret): InitOptions {
  return { encrypt: kind.encrypt, compression: kind.compression, secret };
}

/** Makes a store of `kind` at `dir` through init(); the secret opens it (every kind accepts it). */
export async function initKind(dir: string, kind: StoreKind, secret: Secret): Promise<void> {
  await init(dir, initOptions(kind, secret));
}
