// Who may touch a store (docs/design.md "Permissions"): a store directory tzkv
// creates is private (0700) unless a mode is given for a team to share it;
// files take their directory's mode less the execute bits (src/io/fs.ts); a
// directory that group or others may write to is warned about, since anyone
// who can write there can change or destroy the data.
import { TzkvError, ioError } from '../../errors.js';
import type { FileSystem } from '../../io/fs.js';

/** The mode of a store directory tzkv creates when none is given. */
export const DEFAULT_STORE_MODE = 0o700;

/** Bits a store directory's mode may have: rwx for all three, and setgid (new files then take the directory's group). */
const ALLOWED_BITS = 0o2777;

/** Checks a store directory mode: the owner must read, write and enter it. Throws INVALID_ARGUMENT. */
export function checkMode(mode: number | undefined): number {
  if (mode === undefined) return DEFAULT_STORE_MODE;
  if (!Number.isInteger(mode) || (mode & ~ALLOWED_BITS) !== 0 || (mode & 0o700) !== 0o700) {
    const shown = Number.isInteger(mode) && mode >= 0 ? `0${mode.toString(8)}` : String(mode);
    throw new TzkvError(
      'INVALID_ARGUMENT',
      `mode ${shown} cannot be a store's: the owner needs rwx (7) and only rwx bits and setgid (2000) are allowed, for example 0700 (private) or 0750 (a group may read)`,
    );
  }
  return mode;
}

/** Parses a mode written in octal (`0750`, `750`, `2770`); throws INVALID_ARGUMENT naming `what`. */
export function parseMode(text: string, what: string): number {
  if (!/^0?[0-7]{3,4}$/.test(text)) {
    throw new TzkvError('INVALID_ARGUMENT', `${what} must be an octal mode such as 0700 or 0750, got ${JSON.stringify(text)}`);
  }
  return checkMode(Number.parseInt(text, 8));
}

/** A warning when group or others may write to the store directory, else undefined. */
export function openToOthers(fs: FileSystem, dir: string): string | undefined {
  const mode = fs.stat(dir)?.mode;
  if (mode === undefined || (mode & 0o022) === 0) return undefined;
  const who = (mode & 0o020 ? ['group'] : []).concat(mode & 0o002 ? ['others'] : []).join(' and ');
  return `store directory ${dir} is writable by ${who} (mode 0${mode.toString(8)}): anyone who can write there can change or destroy the data; \`chmod 700 ${dir}\` makes it private (750 lets a group read it)`;
}

/**
 * Makes a store directory that is `missing` with `mode` (docs/design.md
 * "Permissions"), or warns through `onWarning` when an existing one is
 * writable by others. Throws IO naming the directory when it cannot be made.
 */
export function makeOrWarn(fs: FileSystem, dir: string, missing: boolean, mode: number, onWarning: ((message: string) => void) | undefined): void {
  if (!missing) {
    const exposed = openToOthers(fs, dir);
    if (exposed) onWarning?.(exposed);
    return;
  }
  try {
    fs.mkdirp(dir, mode);
  } catch (err) {
    throw ioError(err, 'cannot create store directory', dir);
  }
}
