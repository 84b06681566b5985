// Byte sizes on the command line: `1048576`, `512K`, `64M`, `2G` (powers of 1024).

import { TzkvError } from '../errors.js';

const UNIT: Record<string, number> = { '': 1, b: 1, k: 1024, kb: 1024, kib: 1024, m: 1024 ** 2, mb: 1024 ** 2, mib: 1024 ** 2, g: 1024 ** 3, gb: 1024 ** 3, gib: 1024 ** 3 };

export function parseSize(text: string, what: string): number {
  const match = /^(\d+)\s*([a-z]*)$/i.exec(text.trim());
  const unit = match ? UNIT[match[2].toLowerCase()] : undefined;
  const bytes = match && unit !== undefined ? Number(match[1]) * unit : Number.NaN;
  if (!Number.isSafeInteger(bytes)) {
    throw new TzkvError('INVALID_ARGUMENT', `invalid ${what} "${text}": expected bytes, or a number with K, M or G`);
  }
  return bytes;
}

/** A ratio from 0 to 1: `0.5` or `50%`. */
export function parseRatio(text: string, what: string): number {
  const match = /^(\d+(?:\.\d+)?)(%?)$/.exec(text.trim());
  const ratio = match ? Number(match[1]) / (match[2] ? 100 : 1) : Number.NaN;
  if (!(ratio >= 0 && ratio <= 1)) {
    throw new TzkvError('INVALID_ARGUMENT', `invalid ${what} "${text}": expected a ratio from 0 to 1 (0.5) or a percentage (50%)`);
  }
  return ratio;
}
