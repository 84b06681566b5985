// An encrypted store's KEYRING on disk (docs/format.md "KEYRING"), the secret
// a caller gives (OpenOptions.secret) read into bytes, and the StoreCodec an
// open store reads and writes through, made from its MANIFEST and KEYRING.
import type { Secret } from '../../api.js';
import { TzkvError, fsReason, ioError } from '../../errors.js';
import { KEYRING_NAME } from '../../format/constants.js';
import { parseKeyFile } from '../../format/key-file.js';
import { KeyringError, openKeyring, rewrapKeyring } from '../../format/keyring.js';
import type { SecretMaterial } from '../../format/keyring.js';
import type { Manifest } from '../../format/manifest.js';
import { PLAIN } from '../../format/store-codec.js';
import type { DataKeys, StoreCodec } from '../../format/store-codec.js';
import type { FileSystem } from '../../io/fs.js';
import { readWholeFile, replaceFile } from '../../io/fs.js';

/** How to give a key, for messages that ask for one. */
export const HOW_TO_GIVE_A_KEY = '--key-file PATH, TZKV_KEY_FILE or TZKV_PASSPHRASE';

/** Runs a KEYRING or key file codec call (src/format/keyring.ts), its KeyringError made the TzkvError of that code. */
export function keyringOp<T>(fn: () => T): T {
  try {
    return fn();
  } catch (err) {
    if (!(err instanceof KeyringError)) throw err;
    throw new TzkvError(err.code, err.message, { path: err.path, ...(err.code === 'CORRUPT' ? { offset: 0 } : {}) });
  }
}

/**
 * The secret's bytes: a key file read and parsed (through `fs`). A key file
 * that cannot be read or holds no key is KEY_WRONG naming it: every problem
 * with the secret given is exit 6 (docs/cli.md "--key-file").
 */
export function secretMaterial(fs: FileSystem, secret: Secret): SecretMaterial {
  if ('passphrase' in secret) {
    if (typeof secret.passphrase !== 'string' || secret.passphrase === '') throw new TzkvError('KEY_WRONG', `${secret.given ?? 'the passphrase given'} is empty`);
    return { kind: 'passphrase', passphrase: secret.passphrase, given: secret.given ?? 'the passphrase given' };
  }
  if ('key' in secret) {
    if (!(secret.key instanceof Uint8Array) || secret.key.length !== 32) throw new TzkvError('KEY_WRONG', 'the key given is not 32 bytes');
    return { kind: 'key', key: Buffer.from(secret.key), given: secret.given ?? 'the key given' };
  }
  const path = secret.keyFile;
  let bytes: Buffer;
  try {
    bytes = readWholeFile(fs, path);
  } catch (err) {
    throw new TzkvError('KEY_WRONG', `cannot read key file ${path}: ${fsReason(err)}`, { path, cause: err });
  }
  return { kind: 'key', key: keyringOp(() => parseKeyFile(bytes, path)), given: secret.given ?? `the key file ${path}` };
}

/** The KEYRING's bytes; null when the directory has none. */
function readKeyring(fs: FileSystem, dir: string): Buffer | null {
  try {
    return readWholeFile(fs, `${dir}/${KEYRING_NAME}`);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw ioError(err, 'cannot read', `${dir}/${KEYRING_NAME}`);
  }
}

/**
 * Makes `bytes` the store's KEYRING: temp + fsync + rename + directory fsync,
 * so a crash leaves the old KEYRING or the new one, whole. REQUIRES: the writer lock.
 */
export function installKeyring(fs: FileSystem, dir: string, bytes: Buffer): void {
  try {
    replaceFile(fs, dir, KEYRING_NAME, bytes);
  } catch (err) {
    throw ioError(err, 'cannot write', `${dir}/${KEYRING_NAME}`);
  }
}

/** The KEYRING of an encrypted store; CORRUPT when it is missing (it cannot be rebuilt). */
function requireKeyring(fs: FileSystem, dir: string): Buffer {
  const bytes = readKeyring(fs, dir);
  if (bytes === null) {
    const path = `${dir}/${KEYRING_NAME}`;
    throw new TzkvError('CORRUPT', `${KEYRING_NAME} is missing from ${dir}, an encrypted store: without it the data cannot be read`, { path, offset: 0 });
  }
  return bytes;
}

/** What an encrypted store's data asks for when no secret was given. */
export function keyRequired(dir: string): TzkvError {
  return new TzkvError('KEY_REQUIRED', `${dir} is an encrypted store: give its key with ${HOW_TO_GIVE_A_KEY}`, { path: dir });
}

/** The codec of a store whose keys are `keys` (undefined: not encrypted) and whose manifest is `m`. */
export function codecOf(m: Pick<Manifest, 'encryption' | 'compression'>, keys: DataKeys | undefined, dir: string): StoreCodec {
  if (m.encryption === null && m.compression === null) return PLAIN;
  const encryption =
    m.encryption === null
      ? undefined
      : {
          keys(): DataKeys {
            if (keys === undefined) throw keyRequired(dir);
            return keys;
          },
        };
  return Object.freeze({ encryption, compression: m.compression ?? undefined });
}

/**
 * The codec of the store whose manifest is `m` (null: no store yet, PLAIN;
 * a store that lost its manifest passes what its files say: made-as.ts).
 * An encrypted store's KEYRING is opened now with `secret`: KEY_WRONG when it
 * does not open it, before anything else is read; without a secret, its keys
 * are KEY_REQUIRED when asked for. A secret given to a store that is not
 * encrypted is never read.
 */
export function openCodec(fs: FileSystem, dir: string, m: Pick<Manifest, 'encryption' | 'compression'> | null, secret: Secret | undefined): StoreCodec {
  if (m === null || m.encryption === null) return m === null ? PLAIN : codecOf(m, undefined, dir);
  const keys = secret === undefined ? undefined : keyringOp(() => openKeyring(requireKeyring(fs, dir), secretMaterial(fs, secret), `${dir}/${KEYRING_NAME}`));
  return codecOf(m, keys, dir);
}

/**
 * `rekey`: KEYRING's data keys wrapped under `next` instead of `current`, and
 * installed (installKeyring: the old KEYRING or the new one, whole, at every
 * instant). The new secret is read first: a key file holding no key changes
 * nothing. REQUIRES: the writer lock.
 */
export function rekeyStore(fs: FileSystem, dir: string, current: Secret, next: Secret): void {
  const nextMaterial = secretMaterial(fs, next);
  const bytes = requireKeyring(fs, dir);
  const rewrapped = keyringOp(() => rewrapKeyring(bytes, secretMaterial(fs, current), nextMaterial, `${dir}/${KEYRING_NAME}`));
  installKeyring(fs, dir, rewrapped);
}
