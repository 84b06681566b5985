// What `tzkv get KEY`, `put`, `del KEY...`, `incr` and `ttl` do once their
// command line is parsed. Shared by the oclif commands (src/commands/) and the fast path that
// runs the plainest of these lines without loading oclif (src/cli/fast.ts),
// so the two cannot drift apart.

import { TzkvError } from '../errors.js';
import { bucketKey } from './bucket.js';
import { parseTimestamp, parseTtl, remainingSeconds } from './duration.js';
import { readStdin, readWhole } from './input.js';
import { printJson, writeOut } from './output.js';
import { givenPath } from './paths.js';
import { isoTime, toRecord } from './records.js';
import { type StoreFlags, withKeyStore, withStore } from './open-store.js';
import { terminalText } from './terminal-text.js';

export interface GetRequest extends StoreFlags {
  key: string;
  bucket?: string;
  json: boolean;
}

/** `tzkv get`: the stored bytes on stdout (on a terminal with control characters escaped, newlines and tabs kept), or NOT_FOUND. */
export async function getKey(request: GetRequest): Promise<void> {
  const key = bucketKey(request.bucket, request.key);
  const entry = await withKeyStore(request, 'read', 'tzkv get', (store) => store.getEntry(key));
  if (!entry) throw new TzkvError('NOT_FOUND', `key not found: ${JSON.stringify(request.key)}`);
  if (request.json) await printJson(toRecord(Buffer.from(request.key), entry.value, entry.expiresAt));
  else await writeOut(process.stdout.isTTY ? terminalText(entry.value, '\n\t') : entry.value);
}

export interface PutRequest extends StoreFlags {
  key: string;
  /** The VALUE argument: "-" reads stdin. */
  value?: string;
  file?: string;
  bucket?: string;
  json: boolean;
  ttl?: string;
  'expire-at'?: string;
  'if-absent': boolean;
}

/** `tzkv put`: stores the value; PRECONDITION when --if-absent finds the key. */
export async function putKey(request: PutRequest): Promise<void> {
  const key = bucketKey(request.bucket, request.key);
  const now = Date.now();
  const ttlMs = request.ttl === undefined ? undefined : parseTtl(request.ttl, '--ttl', now);
  const expiresAt = request['expire-at'] === undefined ? undefined : parseTimestamp(request['expire-at'], '--expire-at', now);
  const value = await valueOf(request.value, request.file);
  const options = { ifAbsent: request['if-absent'], ...(ttlMs === undefined ? {} : { ttlMs }), ...(expiresAt === undefined ? {} : { expiresAt }) };
  const result = await withStore(request, 'create', 'tzkv put', async (store) => {
    if (!(await store.put(key, value, options))) return undefined;
    // The expiry as stored (the store's clock set it) is read back only for --json, which prints it.
    return { key: request.key, bytes: value.length, expiresAt: request.json ? isoTime((await store.expiry(key)) ?? null) : null };
  });
  if (!result) throw new TzkvError('PRECONDITION', `key already exists: ${JSON.stringify(request.key)}`);
  if (request.json) await printJson(result);
}

export interface DelRequest extends StoreFlags {
  keys: string[];
  bucket?: string;
  json: boolean;
}

/** `tzkv del`: removes the keys; --json counts those that were there. */
export async function deleteKeys(request: DelRequest): Promise<void> {
  const keys = request.keys.map((key) => bucketKey(request.bucket, key));
  const deleted = await withKeyStore(request, 'write', 'tzkv del', (store) => store.del(...keys));
  if (request.json) await printJson({ deleted });
}

export interface IncrRequest extends StoreFlags {
  key: string;
  /** BY as given (default 1). */
  by?: string;
  bucket?: string;
  json: boolean;
}

const INTEGER = /^[+-]?[0-9]+$/;

/** A base-10 integer within JavaScript's exact range, or undefined. */
function parseInteger(text: string): number | undefined {
  if (!INTEGER.test(text)) return undefined;
  const n = Number(text);
  return Number.isSafeInteger(n) ? n : undefined;
}

/** `tzkv incr`: adds BY to an integer value under the writer lock; a missing key counts as 0. */
export async function incrementKey(request: IncrRequest): Promise<void> {
  const by = request.by === undefined ? 1 : parseInteger(request.by);
  if (by === undefined) throw new TzkvError('INVALID_ARGUMENT', `BY must be a whole number, got ${JSON.stringify(request.by)}`);
  const key = bucketKey(request.bucket, request.key);
  const entry = await withStore(request, 'create', 'tzkv incr', (store) =>
    store.update(key, (current) => {
      const text = current === undefined ? '0' : current.value.toString('utf8');
      const value = parseInteger(text);
      if (value === undefined || (current !== undefined && !Buffer.from(text, 'utf8').equals(current.value))) {
        throw new TzkvError('PRECONDITION', `value of ${JSON.stringify(request.key)} is not an integer: left as it was`);
      }
      const sum = value + by;
      if (!Number.isSafeInteger(sum)) {
        throw new TzkvError('PRECONDITION', `${value} + ${by} is beyond the exact integer range: ${JSON.stringify(request.key)} left as it was`);
      }
      return { value: String(sum) };
    }),
  );
  const result = Number(entry!.value.toString('utf8'));
  if (request.json) await printJson({ key: request.key, value: result });
  else await writeOut(`${result}\n`);
}

export interface TtlRequest extends StoreFlags {
  key: string;
  /** A new time to live. */
  duration?: string;
  persist: boolean;
  'expire-at'?: string;
  bucket?: string;
  json: boolean;
}

/** `tzkv ttl`: shows the seconds left (-1: never expires), or sets or removes the expiry first. */
export async function keyTtl(request: TtlRequest): Promise<void> {
  const key = bucketKey(request.bucket, request.key);
  const now = Date.now();
  if (request.duration !== undefined && (request.persist || request['expire-at'] !== undefined)) {
    throw new TzkvError('INVALID_ARGUMENT', 'give a new time to live as DURATION, --expire-at or --persist: only one');
  }
  const target =
    request.duration !== undefined
      ? now + parseTtl(request.duration, 'DURATION', now)
      : request['expire-at'] !== undefined
        ? parseTimestamp(request['expire-at'], '--expire-at', now)
        : request.persist
          ? null
          : undefined;
  const expiresAt =
    target === undefined
      ? await withKeyStore(request, 'read', 'tzkv ttl', (store) => store.expiry(key))
      : await withStore(request, 'create', 'tzkv ttl', async (store) => ((await store.setExpiry(key, target)) ? target : undefined));
  if (expiresAt === undefined) throw new TzkvError('NOT_FOUND', `key not found: ${JSON.stringify(request.key)}`);
  const ttl = expiresAt === null ? -1 : remainingSeconds(expiresAt, Date.now());
  if (request.json) await printJson({ key: request.key, ttl, expiresAt: isoTime(expiresAt) });
  else await writeOut(`${ttl}\n`);
}

/** The value from VALUE, or --file; stdin only when asked for (VALUE or --file "-"): a loop's input is not a value. */
function valueOf(arg: string | undefined, file: string | undefined): Promise<Buffer> {
  if (file !== undefined) {
    if (arg !== undefined) throw new TzkvError('INVALID_ARGUMENT', 'give the value as VALUE or with --file, not both');
    return readWhole(givenPath(file, '--file', 'a file name cannot be empty ("-" is stdin)'));
  }
  if (arg === '-') return readStdin();
  if (arg !== undefined) return Promise.resolve(Buffer.from(arg, 'utf8'));
  throw new TzkvError('INVALID_ARGUMENT', 'missing VALUE: give it as an argument, "-" to read stdin, or --file PATH');
}
