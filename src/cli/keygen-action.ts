// What `tzkv keygen` does (docs/cli.md "keygen"): 32 random bytes as base64 on
// stdout, for `tzkv keygen > FILE`. A key is a secret: never printed on a
// terminal, and a regular file it goes to is made private (0600) first.
import { randomBytes } from 'node:crypto';
import { fchmodSync, fstatSync } from 'node:fs';
import { TzkvError } from '../errors.js';
import { keyFileText } from '../format/key-file.js';

/** The mode a key file gets: the owner reads and writes it, nobody else. */
const KEY_FILE_MODE = 0o600;

/**
 * Where stdout goes, as far as a key is concerned. `fd` is stdout's
 * descriptor; `terminal`, whether it is a terminal (process.stdout.isTTY).
 */
export function prepareKeyOutput(fd: number, terminal: boolean): void {
  if (terminal) {
    throw new TzkvError('INVALID_ARGUMENT', 'keygen does not print a key on a terminal: redirect it to a file (tzkv keygen > store.key), which it makes private (0600)');
  }
  let regular = false;
  let size = 0;
  try {
    const st = fstatSync(fd);
    regular = st.isFile();
    size = st.size;
  } catch {
    // not a file we can look at (a closed descriptor): nothing to protect
  }
  if (!regular) return;
  // `tzkv keygen >> file` onto something already there would leave a file that is no key file (and may have been one).
  if (size > 0) {
    throw new TzkvError('INVALID_ARGUMENT', `keygen writes a key file whole: stdout is a file that already holds ${size} bytes (was it \`>>\`?); write to a new or empty file (tzkv keygen > store.key); nothing was written`);
  }
  try {
    fchmodSync(fd, KEY_FILE_MODE);
  } catch (err) {
    throw new TzkvError('IO', `cannot make the key file private (chmod 0600): ${(err as Error).message}; nothing was written`, { cause: err });
  }
}

/** A new key, as a key file holds it (base64 and a newline). */
export function newKeyText(): string {
  return keyFileText(randomBytes(32));
}
