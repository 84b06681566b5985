// What `tzkv get KEY`, `put` (and `getset`), `del KEY...`, `incr` and `ttl` do once their
// command line is parsed. Shared by the oclif commands (src/commands/) and the fast path that
// runs the plainest of these lines without loading oclif (src/cli/fast.ts),
// so the two cannot drift apart.

import type { Entry, Store } from '../api.js';
import { TzkvError } from '../errors.js';
import { bucketKey } from './bucket.js';
import { incremented, parseInteger } from './counter.js';
import { parseTimestamp, parseTtl, remainingSeconds } from '../text/duration.js';
import { readStdin, readWhole } from './input.js';
import { printJson, writeOut } from './output.js';
import { givenPath } from './paths.js';
import { isoTime, toRecord } from '../text/records.js';
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
  if (request.json) await printJson({ ...toRecord(Buffer.from(request.key), entry.value, entry.expiresAt), version: entry.version ?? null });
  else await writeOut(printedValue(entry.value));
}

/**
 * A value as get and put --get print it: to a pipe or a file its exact bytes; on a
 * terminal shown (control characters escaped, newlines and tabs kept) and ended by a
 * newline when it has none, so the shell's prompt starts on a line of its own.
 */
function printedValue(value: Buffer): Buffer | string {
  if (!process.stdout.isTTY) return value;
  const shown = terminalText(value, '\n\t');
  return shown.endsWith('\n') ? shown : `${shown}\n`;
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
  /** Write only over exactly these bytes. */
  'if-value'?: string;
  /** Write only over this version (get --json's "version"). */
  'if-version'?: string;
  /** Print the value the key had before. */
  get?: boolean;
}

/**
 * `tzkv put`: stores the value; PRECONDITION when its condition (--if-absent,
 * --if-value, --if-version: one at most) fails. --get prints the value it
 * replaced, as `get` would (nothing for none).
 */
export async function putKey(request: PutRequest): Promise<void> {
  const key = bucketKey(request.bucket, request.key);
  const now = Date.now();
  const given = [request['if-absent'], request['if-value'] !== undefined, request['if-version'] !== undefined].filter(Boolean).length;
  if (given > 1) throw new TzkvError('INVALID_ARGUMENT', 'give one of --if-absent, --if-value and --if-version');
  const ttlMs = request.ttl === undefined ? undefined : parseTtl(request.ttl, '--ttl', now);
  const expiresAt = request['expire-at'] === undefined ? undefined : parseTimestamp(request['expire-at'], '--expire-at', now);
  const value = await valueOf(request.value, request.file);
  const options = {
    ifAbsent: request['if-absent'],
    ...(request['if-value'] === undefined ? {} : { ifValue: request['if-value'] }),
    ...(request['if-version'] === undefined ? {} : { ifVersion: request['if-version'] }),
    ...(ttlMs === undefined ? {} : { ttlMs }),
    ...(expiresAt === undefined ? {} : { expiresAt }),
  };
  /** swap(): for --get (the entry replaced), --json (the version written) and a condition on the value or version. */
  const swap = async (store: Pick<Store, 'swap' | 'expiry'>) => {
    const swapped = await store.swap(key, value, options);
    // The expiry as stored (the store's clock set it) is read back only for --json, which prints it.
    return { ...swapped, expiresAt: swapped.written && request.json ? isoTime((await store.expiry(key)) ?? null) : null };
  };
  const conditional = options.ifValue !== undefined || options.ifVersion !== undefined;
  const result = conditional
    ? // A condition on a key holds only where a store is: like del, these never start one.
      await withKeyStore(request, 'write', 'tzkv put', swap)
    : request.get || request.json
      ? await withStore(request, 'create', 'tzkv put', swap)
      : { written: await withStore(request, 'create', 'tzkv put', (store) => store.put(key, value, options)), previous: undefined, expiresAt: null };
  if (!result.written) throw new TzkvError('PRECONDITION', refusal(request.key, request, result));
  const { previous } = result;
  if (request.json) {
    const written = { key: request.key, bytes: value.length, expiresAt: result.expiresAt, version: result.version ?? null };
    await printJson(request.get ? { ...written, previous: previous ? withoutKey(previous) : null } : written);
  } else if (request.get && previous) {
    await writeOut(printedValue(previous.value));
  }
}

/**
 * Why a conditional write or delete of KEY did nothing; `found` is what a put
 * found there (a delete does not say, so its message names both cases).
 */
function refusal(key: string, request: { 'if-value'?: string; 'if-version'?: string }, found?: { previous: Entry | undefined }): string {
  const name = JSON.stringify(key);
  const ifValue = request['if-value'];
  const ifVersion = request['if-version'];
  if (ifValue === undefined && ifVersion === undefined) return `key already exists: ${name}`;
  if (found !== undefined && found.previous === undefined) return `key not found: ${name} (${ifValue === undefined ? '--if-version' : '--if-value'} needs it): left as it was`;
  if (ifValue !== undefined) {
    // The commonest surprise: a value stored from a file or a pipe (`put k - < file`) keeps its last newline, "$(...)" drops it.
    const newline = found?.previous?.value.equals(Buffer.from(`${ifValue}\n`)) ? '; it ends with a newline, which OLD lacks' : '';
    return `value of ${name} is not the one given by --if-value${found === undefined ? ' (or the key is missing)' : ''}${newline}: left as it was`;
  }
  return `version of ${name} is not ${JSON.stringify(ifVersion)} (written since${found === undefined ? ', or missing' : ''}): left as it was`;
}

/** An entry as get --json prints it, without its key: put --get's "previous". */
function withoutKey(entry: Entry): Record<string, unknown> {
  const { key: _key, keyEncoding: _encoding, ...rest } = toRecord(entry.key, entry.value, entry.expiresAt);
  return { ...rest, version: entry.version ?? null };
}

export interface DelRequest extends StoreFlags {
  keys: string[];
  bucket?: string;
  json: boolean;
  /** Delete the one key only if its value is exactly these bytes. */
  'if-value'?: string;
  /** Delete the one key only if its version is this one. */
  'if-version'?: string;
}

/** `tzkv del`: removes the keys; --json counts those that were there. With a condition, one key, PRECONDITION when it fails. */
export async function deleteKeys(request: DelRequest): Promise<void> {
  const keys = request.keys.map((key) => bucketKey(request.bucket, key));
  const ifValue = request['if-value'];
  const ifVersion = request['if-version'];
  if (ifValue === undefined && ifVersion === undefined) {
    const deleted = await withKeyStore(request, 'write', 'tzkv del', (store) => store.del(...keys));
    if (request.json) await printJson({ deleted });
    return;
  }
  if (ifValue !== undefined && ifVersion !== undefined) throw new TzkvError('INVALID_ARGUMENT', 'give --if-value or --if-version, not both');
  if (keys.length !== 1) throw new TzkvError('INVALID_ARGUMENT', `--if-value and --if-version delete one KEY, got ${keys.length}`);
  const condition = ifValue !== undefined ? { ifValue } : { ifVersion: ifVersion! };
  const deleted = await withKeyStore(request, 'write', 'tzkv del', (store) => store.delIf(keys[0], condition));
  if (!deleted) throw new TzkvError('PRECONDITION', refusal(request.keys[0], request));
  if (request.json) await printJson({ deleted: 1 });
}

export interface IncrRequest extends StoreFlags {
  key: string;
  /** BY as given (default 1). */
  by?: string;
  bucket?: string;
  json: boolean;
  /** The expiry of a key this incr creates; an existing key keeps its own. */
  ttl?: string;
}

/** `tzkv incr`: adds BY to an integer value under the writer lock; a missing key counts as 0. */
export async function incrementKey(request: IncrRequest): Promise<void> {
  const by = request.by === undefined ? 1 : parseInteger(request.by);
  if (by === undefined) throw new TzkvError('INVALID_ARGUMENT', `BY must be a whole number, got ${JSON.stringify(request.by)}`);
  const key = bucketKey(request.bucket, request.key);
  const ttlMs = request.ttl === undefined ? undefined : parseTtl(request.ttl, '--ttl', Date.now());
  const entry = await withStore(request, 'create', 'tzkv incr', (store) =>
    store.update(key, (current) => ({
      value: String(incremented(current, by, request.key)),
      ...(current === undefined && ttlMs !== undefined ? { expiresAt: Date.now() + ttlMs } : {}),
    })),
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
