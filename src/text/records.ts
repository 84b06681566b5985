// The JSON shape of one entry, shared by `get --json`, `export`, `import` and
// the server's HTTP API (src/serve/http):
// {"key", "value", "encoding"?, "expiresAt"}. Values (and, rarely, keys) that
// are not valid UTF-8 travel base64-encoded, flagged by "encoding" (and
// "keyEncoding"), so an export reproduces every byte.

import { isUtf8 } from 'node:buffer';
import { TzkvError } from '../errors.js';
import { MAX_EXPIRY_MS } from '../format/constants.js';
import { LATEST_EXPIRY } from './duration.js';

export interface EntryRecord {
  key: string;
  keyEncoding?: 'base64';
  value: string;
  encoding?: 'base64';
  /** ISO 8601 time, or null when the key never expires. */
  expiresAt: string | null;
}

export interface DecodedEntry {
  key: Buffer;
  value: Buffer;
  expiresAt: number | null;
}

export function toRecord(key: Buffer, value: Buffer, expiresAt: number | null): EntryRecord {
  const keyIsText = isUtf8(key);
  const valueIsText = isUtf8(value);
  return {
    key: key.toString(keyIsText ? 'utf8' : 'base64'),
    ...(keyIsText ? {} : { keyEncoding: 'base64' as const }),
    value: value.toString(valueIsText ? 'utf8' : 'base64'),
    ...(valueIsText ? {} : { encoding: 'base64' as const }),
    expiresAt: isoTime(expiresAt),
  };
}

export function isoTime(ms: number | null): string | null {
  return ms === null ? null : new Date(ms).toISOString();
}

const BASE64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;

/** Decodes one record; throws INVALID_ARGUMENT saying what is wrong (the caller adds the line). */
export function fromRecord(input: unknown): DecodedEntry {
  if (typeof input !== 'object' || input === null || Array.isArray(input)) fail('expected a JSON object');
  const record = input as Record<string, unknown>;
  const key = decodeBytes(record.key, record.keyEncoding, 'key', 'keyEncoding');
  if (key.length === 0) fail('"key" is empty');
  const value = decodeBytes(record.value, record.encoding, 'value', 'encoding');
  let expiresAt: number | null = null;
  if (record.expiresAt !== undefined && record.expiresAt !== null) {
    const ms = typeof record.expiresAt === 'string' ? Date.parse(record.expiresAt) : Number.NaN;
    if (!Number.isFinite(ms)) fail('"expiresAt" must be an ISO 8601 time or null');
    if (ms > MAX_EXPIRY_MS) fail(`"expiresAt" is after ${LATEST_EXPIRY}`);
    expiresAt = ms;
  }
  return { key, value, expiresAt };
}

/** The bytes of a JSON string field: UTF-8, or base64 when its encoding field says so; INVALID_ARGUMENT naming the field. */
export function decodeBytes(text: unknown, encoding: unknown, field: string, encodingField: string): Buffer {
  if (typeof text !== 'string') fail(`"${field}" must be a string`);
  if (encoding === undefined || encoding === null || encoding === 'utf8') return Buffer.from(text, 'utf8');
  if (encoding !== 'base64') fail(`"${encodingField}" must be "base64" or absent`);
  if (!BASE64.test(text)) fail(`"${field}" is not valid base64`);
  return Buffer.from(text, 'base64');
}

function fail(message: string): never {
  throw new TzkvError('INVALID_ARGUMENT', message);
}
