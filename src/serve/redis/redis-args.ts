// A Redis command's words as Redis 7.0 reads them, and the errors it answers
// when they are wrong, word for word: integers as string2ll (util.c) reads
// them, options as strcasecmp compares them (up to a NUL byte, as C strings
// end), and tzkv's own limits on keys, values and expiries (docs/format.md
// "Limits and why") as errors that name the limit.
import { MAX_EXPIRY_MS, MAX_KEY_BYTES, MAX_VALUE_BYTES } from '../../format/constants.js';
import { ErrorReply } from '../resp/reply.js';

export const SYNTAX_ERROR = new ErrorReply('ERR syntax error');
export const NOT_AN_INTEGER = new ErrorReply('ERR value is not an integer or out of range');

export const INT64_MIN = -(2n ** 63n);
export const INT64_MAX = 2n ** 63n - 1n;

/** Redis's LONG_STR_SIZE: an integer of 21 bytes or more is no integer. */
const LONG_STR_SIZE = 21;
const ZERO = 0x30;
const NINE = 0x39;
const MINUS = 0x2d;

/**
 * The signed 64-bit integer `word` spells, or undefined: decimal digits with
 * an optional leading "-", no "+", no spaces, no leading zeros, no "-0", at
 * most 20 bytes, within [-2^63, 2^63-1].
 */
export function parseInteger(word: Buffer): bigint | undefined {
  const length = word.length;
  if (length === 0 || length >= LONG_STR_SIZE) return undefined;
  if (length === 1 && word[0] === ZERO) return 0n;
  const negative = word[0] === MINUS;
  const first = negative ? 1 : 0;
  if (first === length || word[first] <= ZERO || word[first] > NINE) return undefined;
  for (let i = first + 1; i < length; i++) if (word[i] < ZERO || word[i] > NINE) return undefined;
  const value = BigInt(word.toString('latin1'));
  return value < INT64_MIN || value > INT64_MAX ? undefined : value;
}

/** A word as a C string: the bytes before its first NUL, as Redis's strcasecmp and printf see it. */
function cString(word: Buffer): Buffer {
  const nul = word.indexOf(0);
  return nul === -1 ? word : word.subarray(0, nul);
}

/**
 * Whether `word` is the option `name` (lower-case letters), in any case, as
 * strcasecmp compares them. Only a letter's byte ORed with 0x20 is a
 * lower-case letter.
 */
export function isOption(word: Buffer, name: string): boolean {
  const text = cString(word);
  if (text.length !== name.length) return false;
  for (let i = 0; i < name.length; i++) if ((text[i] | 0x20) !== name.charCodeAt(i)) return false;
  return true;
}

/** An argument in an error message, as Redis's addReplyErrorFormat prints a %s: up to a NUL, with CR and LF made spaces. */
export function quoted(word: Buffer): string {
  return cString(word).toString('utf8').replace(/[\r\n]/g, ' ');
}

/** The wrong-arity error, which commands that take words in pairs answer themselves (MSET). */
export function arityError(command: string): ErrorReply {
  return new ErrorReply(`ERR wrong number of arguments for '${command}' command`);
}

/** Why `key` cannot be a tzkv key (1 to MAX_KEY_BYTES bytes), or undefined when it can. */
export function keyError(key: Buffer): ErrorReply | undefined {
  if (key.length === 0) return new ErrorReply(`ERR empty key: tzkv keys are 1 to ${MAX_KEY_BYTES} bytes`);
  if (key.length > MAX_KEY_BYTES) return new ErrorReply(`ERR key is ${key.length} bytes, over tzkv's key limit of ${MAX_KEY_BYTES} bytes`);
  return undefined;
}

/** The first of `keys` that cannot be a tzkv key, as keyError says. */
export function keysError(keys: readonly Buffer[]): ErrorReply | undefined {
  for (const key of keys) {
    const error = keyError(key);
    if (error) return error;
  }
  return undefined;
}

/** Why a value of `length` bytes cannot be stored (over MAX_VALUE_BYTES), or undefined; Redis's words for its own limit. */
export function valueLengthError(length: number): ErrorReply | undefined {
  if (length <= MAX_VALUE_BYTES) return undefined;
  return new ErrorReply(`ERR string exceeds maximum allowed size (tzkv's value limit of ${MAX_VALUE_BYTES} bytes)`);
}

const LATEST_EXPIRY = new Date(MAX_EXPIRY_MS).toISOString();

/** Redis's error for an expiry that is not positive or overflows, naming the command as Redis does ('set', 'getex', 'expire', ...). */
export function expireTimeError(command: string): ErrorReply {
  return new ErrorReply(`ERR invalid expire time in '${command}' command`);
}

/**
 * The absolute expiry `when` (ms) as a number, or Redis's expire-time error
 * with tzkv's reason when it is after MAX_EXPIRY_MS, the latest expiry tzkv stores.
 */
export function storableExpiry(when: bigint, command: string): number | ErrorReply {
  if (when <= BigInt(MAX_EXPIRY_MS)) return Number(when);
  return new ErrorReply(`${expireTimeError(command).message}: it would expire after ${LATEST_EXPIRY}, the latest expiry tzkv stores`);
}
