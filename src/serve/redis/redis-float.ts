// INCRBYFLOAT as Redis 7.0 on x86-64 computes it, in C's long double: the
// x87's 80-bit extended precision (a 64-bit significand; subnormals down to
// 2^-16445; finite below 2^16384). Both numbers are read as strtold reads
// them (decimal or 0x hexadecimal, "inf"; no spaces, nothing after), added
// with one rounding to nearest-even, and the sum printed as "%.17Lf" with its
// trailing zeros cut (ld2string's LD_STR_HUMAN). A double would not do: it
// prints 0.1 as 0.10000000000000001, where Redis prints 0.1. So the
// arithmetic is done exactly on BigInts and rounded as the x87 rounds.
import { ErrorReply, type Reply } from '../resp/reply.js';
import type { CommandContext } from './command.js';
import { keyError } from './redis-args.js';

/** ±m × 2^e, exactly; m = 0n is zero. */
interface Extended {
  negative: boolean;
  m: bigint;
  e: number;
}
type Infinite = 'inf';

const NOT_A_FLOAT = new ErrorReply('ERR value is not a valid float');
const NAN_OR_INFINITY = new ErrorReply('ERR increment would produce NaN or Infinity');

const SIGNIFICAND_BITS = 64;
/** The exponent of a subnormal's last bit: 2^-16445 is the smallest value above zero. */
const MIN_EXPONENT = -16445;
/** The largest finite value is (2^64 - 1) × 2^16320. */
const MAX_EXPONENT = 16320;
/** Redis's MAX_LONG_DOUBLE_CHARS: a longer word is no number. */
const MAX_CHARS = 5 * 1024;
const ZERO: Extended = { negative: false, m: 0n, e: 0 };

const bitLength = (n: bigint) => (n === 0n ? 0 : n.toString(2).length);
const pow2 = (n: number) => 1n << BigInt(n);

/** The long double nearest to num / den (num >= 0, den > 0), ties to even; undefined past the largest. */
function nearest(negative: boolean, num: bigint, den: bigint): Extended | undefined {
  if (num === 0n) return { negative, m: 0n, e: 0 };
  let e = Math.max(bitLength(num) - bitLength(den) - SIGNIFICAND_BITS, MIN_EXPONENT);
  for (;;) {
    const n = e >= 0 ? num : num << BigInt(-e);
    const d = e >= 0 ? den << BigInt(e) : den;
    let m = n / d;
    if (m >= pow2(SIGNIFICAND_BITS)) {
      e++;
      continue;
    }
    const twice = 2n * (n - m * d);
    if (twice > d || (twice === d && (m & 1n) === 1n)) m++;
    if (m === pow2(SIGNIFICAND_BITS)) {
      m = pow2(SIGNIFICAND_BITS - 1);
      e++;
    }
    return e > MAX_EXPONENT ? undefined : { negative, m, e };
  }
}

const NUMBER =
  /^([+-]?)(?:(inf(?:inity)?)|0x(?=\.?[0-9a-f])([0-9a-f]*)(?:\.([0-9a-f]*))?(?:p([+-]?\d+))?|(?=\.?\d)(\d*)(?:\.(\d*))?(?:e([+-]?\d+))?)$/i;

/**
 * The long double `word` spells, as Redis's string2ld reads it: undefined for
 * no number, NaN, or one strtold reports out of range (past the largest, or
 * not zero but rounded to zero).
 */
function parseLongDouble(word: Buffer): Extended | Infinite | undefined {
  if (word.length === 0 || word.length >= MAX_CHARS) return undefined;
  const parts = NUMBER.exec(word.toString('latin1'));
  if (!parts) return undefined;
  const [, sign, inf, hexInt, hexFrac = '', binExp = '0', decInt, decFrac = '', decExp = '0'] = parts;
  if (inf) return 'inf';
  const negative = sign === '-';
  let value: Extended | undefined;
  if (hexInt !== undefined) {
    const digits = BigInt(`0x0${hexInt}${hexFrac}`);
    if (digits === 0n) return { ...ZERO, negative };
    const shift = Number(binExp) - 4 * hexFrac.length;
    const magnitude = bitLength(digits) + shift;
    if (magnitude > 16400) return undefined;
    if (magnitude < -16500) return undefined;
    value = shift >= 0 ? nearest(negative, digits << BigInt(shift), 1n) : nearest(negative, digits, pow2(-shift));
  } else {
    const digits = BigInt(`0${decInt}${decFrac}`);
    if (digits === 0n) return { ...ZERO, negative };
    const shift = Number(decExp) - decFrac.length;
    const magnitude = digits.toString().length + shift;
    if (magnitude > 4940) return undefined;
    if (magnitude < -4960) return undefined;
    value = shift >= 0 ? nearest(negative, digits * 10n ** BigInt(shift), 1n) : nearest(negative, digits, 10n ** BigInt(-shift));
  }
  return value === undefined || value.m === 0n ? undefined : value;
}

/** a + b rounded once; undefined when it overflows. */
function add(a: Extended, b: Extended): Extended | undefined {
  const e = Math.min(a.e, b.e);
  const signed = (x: Extended) => (x.negative ? -x.m : x.m) << BigInt(x.e - e);
  const sum = signed(a) + signed(b);
  const negative = sum < 0n;
  const magnitude = negative ? -sum : sum;
  return e >= 0 ? nearest(negative, magnitude << BigInt(e), 1n) : nearest(negative, magnitude, pow2(-e));
}

/** "%.17Lf" (rounded to nearest-even, as glibc's printf rounds), trailing zeros and a bare "." cut, "-0" as "0". */
function format(x: Extended): string {
  const scaled = x.m * 10n ** 17n;
  let units: bigint;
  if (x.e >= 0) {
    units = scaled << BigInt(x.e);
  } else {
    const shift = BigInt(-x.e);
    units = scaled >> shift;
    const rest = scaled - (units << shift);
    const half = 1n << (shift - 1n);
    if (rest > half || (rest === half && (units & 1n) === 1n)) units++;
  }
  const digits = units.toString().padStart(18, '0');
  const text = `${x.negative ? '-' : ''}${digits.slice(0, -17)}.${digits.slice(-17)}`.replace(/0+$/, '').replace(/\.$/, '');
  return text === '-0' ? '0' : text;
}

/** INCRBYFLOAT key increment: the sum, as a bulk string; the key's expiry kept. */
export async function incrByFloat(ctx: CommandContext, [key, word]: Buffer[]): Promise<Reply> {
  const error = keyError(key);
  if (error) return error;
  const increment = parseLongDouble(word);
  return ctx.keys.write(async (tx) => {
    const found = await tx.getEntry(key);
    const current = found ? parseLongDouble(found.value) : ZERO;
    if (current === undefined || increment === undefined) return NOT_A_FLOAT;
    const sum = current === 'inf' || increment === 'inf' ? undefined : add(current, increment);
    if (sum === undefined) return NAN_OR_INFINITY;
    const text = Buffer.from(format(sum), 'latin1');
    tx.put(key, text, { expiresAt: found?.expiresAt ?? null });
    return text;
  });
}
