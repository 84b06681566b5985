// Pure parsers for the time values a user types: on the command line
// (src/cli) and in the server's requests (src/serve). They throw
// TzkvError('INVALID_ARGUMENT') (exit 2; HTTP 400) with a message naming the bad text.

import { TzkvError } from '../errors.js';
import { MAX_EXPIRY_MS } from '../format/constants.js';

const UNIT_MS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 };

/** Latest time a Date can hold: no duration is longer. */
const MAX_TIME_MS = 8.64e15;

/** Words for MAX_EXPIRY_MS in a message. */
export const LATEST_EXPIRY = `${new Date(MAX_EXPIRY_MS).toISOString()}, the latest expiry tzkv stores`;

export const DURATION_HELP = 'seconds (60) or a number with a unit: 500ms, 90s, 10m, 1h, 2d';

/**
 * Parses a duration: whole seconds (`60`) or a whole number with a unit
 * (`500ms`, `90s`, `10m`, `1h`, `2d`). Returns milliseconds.
 * `what` names the flag or argument in the error message.
 */
export function parseDuration(text: string, what: string, { allowZero = false } = {}): number {
  const match = /^(\d+)(ms|s|m|h|d)?$/.exec(text.trim());
  if (!match) {
    throw new TzkvError('INVALID_ARGUMENT', `invalid ${what} "${text}": expected ${DURATION_HELP}`);
  }
  const ms = Number(match[1]) * UNIT_MS[match[2] ?? 's'];
  if (!Number.isSafeInteger(ms) || ms > MAX_TIME_MS) {
    throw new TzkvError('INVALID_ARGUMENT', `invalid ${what} "${text}": too long`);
  }
  if (ms === 0 && !allowZero) {
    throw new TzkvError('INVALID_ARGUMENT', `invalid ${what} "${text}": must be greater than zero`);
  }
  return ms;
}

/**
 * Parses a time to live (`--ttl`, `ttl KEY DURATION`): a duration whose
 * expiry, counted from `now`, is at most MAX_EXPIRY_MS. Returns milliseconds.
 */
export function parseTtl(text: string, what: string, now: number): number {
  const ms = parseDuration(text, what);
  if (now + ms > MAX_EXPIRY_MS) throw new TzkvError('INVALID_ARGUMENT', `invalid ${what} "${text}": it would expire after ${LATEST_EXPIRY}`);
  return ms;
}

/**
 * Parses an absolute time: an ISO 8601 date-time (`2030-01-31T12:00:00Z`) or
 * whole epoch seconds (`1900000000`). Returns ms since the epoch; rejects
 * times that are not after `now`, and expiries past MAX_EXPIRY_MS.
 */
export function parseTimestamp(text: string, what: string, now: number): number {
  const trimmed = text.trim();
  let ms: number;
  if (/^\d+$/.test(trimmed)) {
    ms = Number(trimmed) * 1000;
  } else if (/^\d{4}-\d{2}-\d{2}([T ]\d{2}:\d{2}(:\d{2}(\.\d+)?)?)?(Z|[+-]\d{2}:?\d{2})?$/i.test(trimmed)) {
    ms = Date.parse(trimmed);
  } else {
    ms = Number.NaN;
  }
  if (!Number.isSafeInteger(ms)) {
    throw new TzkvError(
      'INVALID_ARGUMENT',
      `invalid ${what} "${text}": expected an ISO 8601 time (2030-01-31T12:00:00Z) or epoch seconds`,
    );
  }
  if (ms > MAX_EXPIRY_MS) throw new TzkvError('INVALID_ARGUMENT', `invalid ${what} "${text}": after ${LATEST_EXPIRY}`);
  if (ms <= now) {
    throw new TzkvError('INVALID_ARGUMENT', `invalid ${what} "${text}": the time has already passed`);
  }
  return ms;
}

/** Remaining whole seconds until `expiresAt`, rounded up so a live key never shows 0. */
export function remainingSeconds(expiresAt: number, now: number): number {
  return Math.max(1, Math.ceil((expiresAt - now) / 1000));
}
