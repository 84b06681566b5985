// Redis's string2ll for the lengths in a frame: an optional '-', then
// decimal digits without a leading zero, nothing else. The parser reads two
// for every command, so this one reads a number in place, with no string and
// no BigInt; a command's integer words are read exactly by redis-args.ts.

/** The integer `bytes[start, end)` spells, or NaN. Beyond 2^53 the value is approximate (it only ever meets a limit). */
export function parseRedisInteger(bytes: Buffer, start = 0, end = bytes.length): number {
  const length = end - start;
  if (length <= 0 || length >= 21) return NaN;
  if (length === 1 && bytes[start] === 0x30) return 0;
  let p = start;
  const negative = bytes[p] === 0x2d;
  if (negative && ++p === end) return NaN;
  let digit = bytes[p]! - 0x30;
  if (digit < 1 || digit > 9) return NaN;
  let value = digit;
  for (p++; p < end; p++) {
    digit = bytes[p]! - 0x30;
    if (digit < 0 || digit > 9) return NaN;
    value = value * 10 + digit;
  }
  if (value > 2 ** 63) return NaN;
  return negative ? -value : value;
}
