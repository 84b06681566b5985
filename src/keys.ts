// What the Store interface accepts, for every backend: keys, values and
// expiries as bytes and milliseconds, within the limits of docs/format.md
// "Limits and why". The checked base (checked-store.ts) applies these before
// a backend sees an argument; the engine and backends use isExpired.
import type { Entry, KeyInput, ValueInput, WatchOptions } from './api.js';
import { TzkvError } from './errors.js';
import { MAX_EXPIRY_MS, MAX_KEY_BYTES, MAX_VALUE_BYTES } from './format/constants.js';

function toBytes(input: KeyInput | ValueInput): Buffer {
  if (typeof input === 'string') return Buffer.from(input, 'utf8');
  if (Buffer.isBuffer(input)) return input;
  if (input instanceof Uint8Array) return Buffer.from(input.buffer, input.byteOffset, input.byteLength);
  throw new TzkvError('INVALID_ARGUMENT', `expected a string or bytes, got ${typeof input}`);
}

export function checkKey(input: KeyInput): Buffer {
  const key = toBytes(input);
  checkKeyLength(key.length);
  return key;
}

/** Checks a key's length in bytes: 1 to MAX_KEY_BYTES. */
export function checkKeyLength(length: number): void {
  if (length === 0) throw new TzkvError('INVALID_ARGUMENT', 'key must not be empty');
  if (length > MAX_KEY_BYTES) {
    throw new TzkvError('INVALID_ARGUMENT', `key is ${length} bytes, over the limit of ${MAX_KEY_BYTES} bytes`, {
      info: { limit: MAX_KEY_BYTES },
    });
  }
}

const ASCII = /^[\x01-\x7f]+$/;

/** A checked key: its bytes, or an ASCII string, whose chars are its bytes (its latin1 form equals its UTF-8). */
export type CheckedKey = Buffer | string;

/** Like checkKey, but an ASCII string key is returned as is, unconverted. */
export function checkKeyFast(input: KeyInput): CheckedKey {
  if (typeof input === 'string' && input.length <= MAX_KEY_BYTES && ASCII.test(input)) return input;
  return checkKey(input);
}

/** The bytes of a checked key. */
export function keyBytes(key: CheckedKey): Buffer {
  return typeof key === 'string' ? Buffer.from(key, 'latin1') : key;
}

export function checkValue(input: ValueInput): Buffer {
  const value = toBytes(input);
  checkValueLength(value.length);
  return value;
}

/** Checks a value's length in bytes: at most MAX_VALUE_BYTES. */
export function checkValueLength(length: number): void {
  if (length > MAX_VALUE_BYTES) {
    throw new TzkvError('INVALID_ARGUMENT', `value is ${length} bytes, over the limit of ${MAX_VALUE_BYTES} bytes (256 MiB)`, {
      info: { limit: MAX_VALUE_BYTES },
    });
  }
}

const LATEST_EXPIRY = new Date(MAX_EXPIRY_MS).toISOString();

/** Checks an absolute expiry (ms): at most MAX_EXPIRY_MS (docs/format.md "Limits and why"); returns 0 for "never". */
export function checkExpiry(expiresAt: number | null | undefined): number {
  if (expiresAt === null || expiresAt === undefined || expiresAt === 0) return 0;
  if (!Number.isSafeInteger(expiresAt) || expiresAt < 0) {
    throw new TzkvError('INVALID_ARGUMENT', `expiry must be a whole number of milliseconds since the epoch, got ${expiresAt}`);
  }
  if (expiresAt > MAX_EXPIRY_MS) {
    throw new TzkvError('INVALID_ARGUMENT', `expiry ${expiresAt} is after ${LATEST_EXPIRY}, the latest expiry tzkv stores`, { info: { limit: MAX_EXPIRY_MS } });
  }
  return expiresAt;
}

/** The expiry (ms, 0 for never) options give: ttlMs from `now`, or expiresAt checked; neither is never. */
export function expiryFrom(options: { ttlMs?: number; expiresAt?: number | null } | undefined, now: number): number {
  if (!options) return 0;
  if (options.ttlMs !== undefined) {
    if (options.expiresAt !== undefined && options.expiresAt !== null) {
      throw new TzkvError('INVALID_ARGUMENT', 'give either ttlMs or expiresAt, not both');
    }
    if (!Number.isSafeInteger(options.ttlMs) || options.ttlMs <= 0) {
      throw new TzkvError('INVALID_ARGUMENT', `ttl must be a positive whole number of milliseconds, got ${options.ttlMs}`);
    }
    if (now + options.ttlMs > MAX_EXPIRY_MS) {
      throw new TzkvError('INVALID_ARGUMENT', `ttl ${options.ttlMs} ms would expire after ${LATEST_EXPIRY}, the latest expiry tzkv stores`, { info: { limit: MAX_EXPIRY_MS } });
    }
    return now + options.ttlMs;
  }
  return checkExpiry(options.expiresAt);
}

/**
 * The expiry of a put: expiryFrom, refused when it is already past. One `now`
 * for both, so a 1 ms TTL can never be judged past by a clock that ticked
 * between reading it twice.
 */
export function putExpiry(options: { ttlMs?: number; expiresAt?: number | null } | undefined, now: number): number {
  const expiresAt = expiryFrom(options, now);
  if (isExpired(expiresAt, now)) {
    throw new TzkvError('INVALID_ARGUMENT', `expiry ${new Date(expiresAt).toISOString()} is already in the past`);
  }
  return expiresAt;
}

/** Whether an expiry (ms, 0 for never) has passed at `now`: a key expires at its expiry, not after it. */
export function isExpired(expiresAt: number, now: number): boolean {
  return expiresAt !== 0 && expiresAt <= now;
}

/**
 * A listing's checked options: the prefix as bytes (empty for every key), the
 * limit (Infinity for none), and `start`, the least key it may yield: the
 * prefix, or the key right after `after` (the same bytes and a 0 byte) when
 * that comes later.
 */
export function checkListing(options: { prefix?: KeyInput; limit?: number; after?: KeyInput } | undefined): { prefix: Buffer; limit: number; start: Buffer } {
  const prefix = options?.prefix === undefined ? Buffer.alloc(0) : toBytes(options.prefix);
  const limit = options?.limit ?? Infinity;
  if (limit !== Infinity && (!Number.isSafeInteger(limit) || limit < 0)) {
    throw new TzkvError('INVALID_ARGUMENT', `limit must be a whole number ≥ 0, got ${options?.limit}`);
  }
  if (options?.after === undefined) return { prefix, limit, start: prefix };
  const next = Buffer.concat([toBytes(options.after), Buffer.from([0])]);
  return { prefix, limit, start: Buffer.compare(next, prefix) > 0 ? next : prefix };
}

/** A watch's checked options: `match` is the key (`exact`) or the prefix (empty: every key). */
export function checkWatch(options: WatchOptions | undefined): { match: Buffer; exact: boolean; existing: boolean } {
  const key = options?.key;
  const prefix = options?.prefix;
  if ((key === undefined) === (prefix === undefined)) throw new TzkvError('INVALID_ARGUMENT', 'a watch takes a key or a prefix, not both or neither');
  const signal = options?.signal;
  if (signal !== undefined && !(signal instanceof AbortSignal)) throw new TzkvError('INVALID_ARGUMENT', 'signal must be an AbortSignal');
  const existing = options?.existing ?? false;
  if (typeof existing !== 'boolean') throw new TzkvError('INVALID_ARGUMENT', `existing must be true or false, got ${typeof existing}`);
  return key !== undefined ? { match: checkKey(key), exact: true, existing } : { match: toBytes(prefix!), exact: false, existing };
}

/** A conditional write's checked condition on the key's live entry: absent, these exact bytes, or this version. */
export type Condition = { absent: true } | { value: Buffer } | { version: string };

/** At most one of ifAbsent, ifValue and ifVersion, checked; undefined when none is given. */
export function checkCondition(options: { ifAbsent?: boolean; ifValue?: ValueInput; ifVersion?: string } | undefined): Condition | undefined {
  const given = [options?.ifAbsent === true, options?.ifValue !== undefined, options?.ifVersion !== undefined].filter(Boolean).length;
  if (given > 1) throw new TzkvError('INVALID_ARGUMENT', 'give one condition: ifAbsent, ifValue or ifVersion');
  if (options?.ifAbsent === true) return { absent: true };
  if (options?.ifValue !== undefined) return { value: checkValue(options.ifValue) };
  if (options?.ifVersion !== undefined) return { version: checkVersion(options.ifVersion) };
  return undefined;
}

/**
 * A key's version (Entry.version) on a directory store: where the key's newest
 * record is and that record's CRC, "SEGMENT:OFFSET:CRC" (CRC as 8 hex digits).
 * File numbers are never reused, so the position alone names one record for
 * as long as nothing is undone; the CRC keeps a version from naming another
 * record that lands where one was undone (a write whose fsync failed, writes
 * lost with `sync: false`, a follower promoted behind its leader): a stale
 * version then matches only a record of the very same bytes.
 */
export function recordVersion(segment: number, offset: number, crc: number): string {
  return `${segment}:${offset}:${crc.toString(16).padStart(8, '0')}`;
}

/** A version as a directory store (recordVersion) or etcd (a mod_revision, never 0: 0 is etcd's "no such key") writes it. */
const VERSION = /^(?:[1-9][0-9]{0,18}|[0-9]{1,10}:[0-9]{1,16}:[0-9a-f]{8})$/;

function checkVersion(version: unknown): string {
  if (typeof version !== 'string' || !VERSION.test(version)) {
    const given = typeof version === 'string' ? JSON.stringify(version) : typeof version;
    throw new TzkvError('INVALID_ARGUMENT', `${given} is not a version: give the "version" a read returned ("3:81920:0a1b2c3d" on a directory, "42" on etcd)`);
  }
  return version;
}

/** Whether a condition holds for the key's live entry (undefined: the key is missing or expired). REQUIRES: current.version is set when the condition is a version. */
export function conditionHolds(condition: Condition | undefined, current: Entry | undefined): boolean {
  if (condition === undefined) return true;
  if ('absent' in condition) return current === undefined;
  if ('value' in condition) return current !== undefined && current.value.equals(condition.value);
  return current !== undefined && current.version === condition.version;
}
