// A key file (docs/format.md "KEYRING", docs/cli.md "--key-file"): 32 raw
// bytes, or text holding their base64 with surrounding whitespace. Pure.
import { KeyringError } from './keyring.js';

const KEY_BYTES = 32;
const BASE64 = /^[A-Za-z0-9+/]{43}=$/;

/**
 * The 32-byte key a key file holds. Anything else is KEY_WRONG naming the
 * file and its size, never its contents (it may be a secret of another kind).
 */
export function parseKeyFile(bytes: Buffer, path: string): Buffer {
  if (bytes.length === KEY_BYTES) return Buffer.from(bytes);
  const text = bytes.toString('latin1').trim();
  if (BASE64.test(text)) return Buffer.from(text, 'base64');
  throw new KeyringError(
    'KEY_WRONG',
    `key file ${path} holds ${bytes.length} bytes, not a key: a key file holds 32 bytes, or their base64 (44 characters) as \`tzkv keygen\` writes it`,
    path,
  );
}

/** A key as `tzkv keygen` prints it: base64 and a newline. */
export function keyFileText(key: Buffer): string {
  return `${key.toString('base64')}\n`;
}
