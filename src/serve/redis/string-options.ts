// The options of SET (NX XX GET KEEPTTL EX PX EXAT PXAT) and GETEX (PERSIST
// EX PX EXAT PXAT), read as Redis 7.0's parseExtendedStringArgumentsOrReply
// reads them: in any order and case, repeated at will, an option that
// conflicts with one before it (NX after XX, PX after EX, KEEPTTL after EX,
// ...) or lacks its number is a syntax error; the number itself is read
// afterwards (getExpireMillisecondsOrReply).
import type { ErrorReply } from '../resp/reply.js';
import { INT64_MAX, NOT_AN_INTEGER, SYNTAX_ERROR, expireTimeError, isOption, parseInteger, storableExpiry } from './redis-args.js';

type ExpireUnit = 'ex' | 'px' | 'exat' | 'pxat';

export interface StringOptions {
  nx: boolean;
  xx: boolean;
  get: boolean;
  keepTtl: boolean;
  persist: boolean;
  /** The expiry option given last, with its number (not yet read). */
  expire?: { unit: ExpireUnit; word: Buffer };
}

const UNITS: readonly ExpireUnit[] = ['ex', 'px', 'exat', 'pxat'];

/** Reads `words` (those after SET's key and value, or GETEX's key) for `command`. */
export function parseStringOptions(words: readonly Buffer[], command: 'set' | 'getex'): StringOptions | ErrorReply {
  const set = command === 'set';
  const o: StringOptions = { nx: false, xx: false, get: false, keepTtl: false, persist: false };
  /** Whether an expiry option other than `unit` was given. */
  const otherExpiry = (unit?: ExpireUnit) => o.expire !== undefined && o.expire.unit !== unit;
  for (let i = 0; i < words.length; i++) {
    const word = words[i];
    const next = words[i + 1];
    const unit = UNITS.find((u) => isOption(word, u));
    if (set && isOption(word, 'nx') && !o.xx) o.nx = true;
    else if (set && isOption(word, 'xx') && !o.nx) o.xx = true;
    else if (set && isOption(word, 'get')) o.get = true;
    else if (set && isOption(word, 'keepttl') && !o.persist && !otherExpiry()) o.keepTtl = true;
    else if (!set && isOption(word, 'persist') && !otherExpiry() && !o.keepTtl) o.persist = true;
    else if (unit && !o.keepTtl && !o.persist && !otherExpiry(unit) && next !== undefined) {
      o.expire = { unit, word: next };
      i++;
    } else return SYNTAX_ERROR;
  }
  return o;
}

/**
 * The absolute expiry (ms) an EX, PX, EXAT or PXAT option gives at `now`, or
 * the error Redis answers: not an integer; not positive, or overflowing as
 * milliseconds, "invalid expire time in 'COMMAND' command"; after tzkv's
 * latest expiry, that error with the reason. An EXAT or PXAT may be past.
 */
export function expiryOf(expire: NonNullable<StringOptions['expire']>, now: number, command: string): number | ErrorReply {
  const given = parseInteger(expire.word);
  if (given === undefined) return NOT_AN_INTEGER;
  const seconds = expire.unit === 'ex' || expire.unit === 'exat';
  if (given <= 0n || (seconds && given > INT64_MAX / 1000n)) return expireTimeError(command);
  let when = seconds ? given * 1000n : given;
  if (expire.unit === 'ex' || expire.unit === 'px') when += BigInt(now);
  if (when > INT64_MAX) return expireTimeError(command);
  return storableExpiry(when, command);
}
