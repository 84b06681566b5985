// verify's check of an encrypted store's KEYRING (docs/format.md "KEYRING"),
// made without the secret: it is there (it cannot be rebuilt: without it the
// data cannot be read), its header, length and CRC hold, and its body is a
// keyring. The ids it lists are what every file header may name.
import { KEYRING_NAME } from '../../format/constants.js';
import { KeyringError, decodeKeyring } from '../../format/keyring.js';
import type { Manifest } from '../../format/manifest.js';
import type { FileSystem } from '../../io/fs.js';
import { readWholeFile } from '../../io/fs.js';
import type { VerifyLog } from './verify-log.js';

/** The data key ids the KEYRING of an encrypted store lists; null for a store that is not encrypted, or one whose KEYRING cannot be read (reported). */
export function checkKeyring(fs: FileSystem, dir: string, m: Manifest, log: VerifyLog): ReadonlySet<number> | null {
  if (m.encryption === null) return null;
  let bytes: Buffer;
  try {
    bytes = readWholeFile(fs, `${dir}/${KEYRING_NAME}`);
  } catch (err) {
    const missing = (err as NodeJS.ErrnoException).code === 'ENOENT';
    log.problem(KEYRING_NAME, null, missing ? 'missing-file' : 'unreadable', missing ? `${KEYRING_NAME} is missing from an encrypted store: without it the data cannot be read, and it cannot be rebuilt` : log.describe(err));
    return null;
  }
  log.files++;
  log.progress(bytes.length);
  try {
    return new Set(decodeKeyring(bytes, KEYRING_NAME).keys.map((k) => k.id));
  } catch (err) {
    if (!(err instanceof KeyringError)) throw err;
    log.problem(KEYRING_NAME, 0, 'bad-keyring', err.message.replace(`${KEYRING_NAME}: `, ''));
    return null;
  }
}
