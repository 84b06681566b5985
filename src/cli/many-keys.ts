// Many keys in one command (docs/cli.md "get", "del"): `get K1 K2 ...` and
// `get --prefix P` print KEY<TAB>VALUE lines or one JSON object by key;
// `del --prefix P` (or --all) deletes every key under P at once, or with
// --dry-run lists them. One KEY without --with-keys, and `del KEY...`, are
// the single-key commands of src/cli/key-actions.ts. Both start paths call here.

import type { Entry } from '../api.js';
import { isTzkvError, TzkvError } from '../errors.js';
import { checkKey } from '../keys.js';
import { bucketKey, bucketPrefix, keyInBucket } from './bucket.js';
import { DamageWarnings } from './damage.js';
import { tsvLine, tsvProblem } from './export-formats.js';
import { type DelRequest, deleteKeys, getKey } from './key-actions.js';
import { hintAtPattern, keyOutput } from './key-listing.js';
import { type StoreFlags, withKeyStore } from './open-store.js';
import { note, printJson, writeOut } from './output.js';
import { toRecord } from '../text/records.js';
import { quotedKey, terminalJson } from './terminal-text.js';

export interface GetManyRequest extends StoreFlags {
  keys: string[];
  /** --prefix: every key that starts with this, instead of KEYs. */
  prefix?: string;
  bucket?: string;
  json: boolean;
  /** A missing key is left out (JSON: null) instead of failing with exit 1. */
  'missing-ok'?: boolean;
  /** The form of several keys even for one KEY. */
  'with-keys'?: boolean;
}

const usage = (message: string) => new TzkvError('INVALID_ARGUMENT', message);

/** A shown key (without the bucket) and its entry; no entry: missing. */
type Found = [key: Buffer, entry: Entry | undefined];

/**
 * `tzkv get`: one KEY prints its value (key-actions.ts); several, --prefix or
 * --with-keys print `KEY<TAB>VALUE` lines (each key once, in argument or key
 * order), or with --json one object of key → {value, encoding?, expiresAt}
 * (null for a missing key under --missing-ok). Nothing is printed unless
 * everything can be: a missing key (exit 1), a value a line cannot carry (exit 2).
 */
export async function getMany(request: GetManyRequest): Promise<void> {
  if (request.prefix !== undefined && request.keys.length > 0) throw usage('give KEYs or --prefix, not both');
  if (request.prefix === undefined && request.keys.length === 0) throw usage('missing KEY: give one or more keys, or --prefix PREFIX');
  if (request.prefix === undefined && request.keys.length === 1 && !request['with-keys']) {
    try {
      await getKey({ ...request, key: request.keys[0] });
    } catch (err) {
      if (!request['missing-ok'] || !isTzkvError(err, 'NOT_FOUND')) throw err;
      if (request.json) await printJson(null);
    }
    return;
  }
  const found = request.prefix === undefined ? await namedEntries(request) : await entriesUnder(request, request.prefix);
  const missing = found.filter(([, entry]) => entry === undefined).map(([key]) => quotedKey(key));
  if (missing.length > 0 && !request['missing-ok']) {
    const shown = missing.length > 10 ? `${missing.slice(0, 10).join(', ')} and ${missing.length - 10} more` : missing.join(', ');
    throw new TzkvError('NOT_FOUND', `${missing.length === 1 ? 'key' : 'keys'} not found: ${shown} (--missing-ok prints the others)`);
  }
  if (request.json) return writeOut(objectText(found.map(([key, entry]) => [key.toString('utf8'), entry === undefined ? null : valueRecord(key, entry)])));
  const terminal = process.stdout.isTTY === true;
  const lines: Buffer[] = [];
  for (const [key, entry] of found) {
    if (entry === undefined) continue;
    const problem = tsvProblem(key, entry.value);
    if (problem !== undefined) {
      throw usage(`cannot print ${quotedKey(key)} as a KEY<TAB>VALUE line: ${problem}; nothing was printed (--json carries any value; tzkv get KEY prints one value alone)`);
    }
    lines.push(tsvLine(key, entry.value, terminal));
  }
  if (request.prefix !== undefined && found.length === 0) hintAtPattern(request.prefix, '--prefix takes a prefix, not a pattern; for the keys matching it: tzkv keys --match PATTERN');
  await writeOut(Buffer.concat(lines));
}

/** The KEYs, each once in argument order, checked before the store is read (a bad one is named), with their entries. */
async function namedEntries(request: GetManyRequest): Promise<Found[]> {
  const keys = [...new Set(request.keys)];
  keys.forEach((key, i) => {
    try {
      checkKey(bucketKey(request.bucket, key));
    } catch (err) {
      const shown = key.length > 40 ? `${JSON.stringify(key.slice(0, 40))}...` : JSON.stringify(key);
      if (isTzkvError(err)) throw new TzkvError(err.code, `KEY ${i + 1} of ${keys.length}, ${shown}: ${err.message}`);
      throw err;
    }
  });
  return withKeyStore(request, 'read', 'tzkv get', async (store) => {
    const found: Found[] = [];
    for (const key of keys) found.push([Buffer.from(key), await store.getEntry(bucketKey(request.bucket, key))]);
    return found;
  });
}

/**
 * Every live key under `prefix`, in key order, with its value. As `get` has
 * it, a value is printed only when it is certainly the newest: damage
 * stepped over fails the whole answer (CORRUPT) after its warnings.
 */
async function entriesUnder(request: GetManyRequest, prefix: string): Promise<Found[]> {
  const warnings = new DamageWarnings();
  const found = await withKeyStore(request, 'read', 'tzkv get', async (store) => {
    const all: Found[] = [];
    for await (const entry of store.entries({ prefix: bucketPrefix(request.bucket) + prefix, onDamage: warnings.onDamage })) {
      all.push([keyInBucket(request.bucket, entry.key), entry]);
    }
    return all;
  });
  if (warnings.count > 0) throw new TzkvError('CORRUPT', warnings.summary('get --prefix', 'nothing was printed, as a value may not be the newest'));
  return found;
}

/** An entry's record without its key: {value, encoding?, expiresAt}. */
function valueRecord(key: Buffer, entry: Entry): Omit<ReturnType<typeof toRecord>, 'key' | 'keyEncoding'> {
  const { key: _key, keyEncoding: _keyEncoding, ...rest } = toRecord(key, entry.value, entry.expiresAt);
  return rest;
}

/**
 * One JSON object of `members` in their order (JSON.stringify of an object
 * would put integer-like keys first), as jsonText prints a document: one
 * line for a program, one member a line and escaped for a terminal.
 */
function objectText(members: Array<[string, unknown]>): string {
  if (!process.stdout.isTTY) return `{${members.map(([key, value]) => `${JSON.stringify(key)}:${JSON.stringify(value)}`).join(',')}}\n`;
  if (members.length === 0) return '{}\n';
  const lines = members.map(([key, value]) => `  ${JSON.stringify(key)}: ${JSON.stringify(value, null, 2).replace(/\n/g, '\n  ')}`);
  return `${terminalJson(`{\n${lines.join(',\n')}\n}`)}\n`;
}

export interface DelManyRequest extends DelRequest {
  /** --prefix: every key that starts with this, instead of KEYs. */
  prefix?: string;
  /** --all: every key of the store (of the bucket, with -b). */
  all?: boolean;
  /** With --prefix or --all: list what would be deleted, delete nothing. */
  'dry-run'?: boolean;
}

/**
 * `tzkv del`: KEYs (key-actions.ts), or every key under --prefix (--all:
 * every key) in one atomic delete (Store.delPrefix). An empty --prefix is
 * refused: it is an unset variable more often than a wish to empty the
 * store, which --all says. --dry-run lists the keys instead (as `keys` does).
 */
export async function deleteMany(request: DelManyRequest): Promise<void> {
  if (request.prefix === undefined && !request.all) {
    if (request['dry-run']) throw usage('--dry-run goes with --prefix or --all: it lists the keys they would delete');
    if (request.keys.length === 0) throw usage('missing KEY: give one or more keys to delete, or --prefix PREFIX');
    return deleteKeys(request);
  }
  if (request['if-value'] !== undefined || request['if-version'] !== undefined) throw usage('--if-value and --if-version delete one KEY, not --prefix or --all');
  if (request.keys.length > 0) throw usage(`give KEYs or ${request.all ? '--all' : '--prefix'}, not both`);
  if (request.all && request.prefix !== undefined) throw usage('give --prefix or --all, not both');
  const scope = request.bucket === undefined ? 'of the store' : `of bucket ${JSON.stringify(request.bucket)}`;
  if (request.prefix === '') throw usage(`--prefix "" would delete every key ${scope}; to mean that, write --all`);
  const prefix = bucketPrefix(request.bucket) + (request.prefix ?? '');
  if (request['dry-run']) return listDoomed(request, prefix);
  const deleted = await withKeyStore(request, 'write', 'tzkv del', (store) => store.delPrefix(prefix));
  if (deleted === 0) hintAtPattern(request.prefix, '--prefix takes a prefix, not a pattern; to delete the keys matching it: tzkv keys --match PATTERN -0 | xargs -0 tzkv del --');
  if (request.json) await printJson({ deleted });
  else note(`deleted ${deleted} ${deleted === 1 ? 'key' : 'keys'} ${request.all ? scope : `under ${JSON.stringify(request.prefix)}`}`);
}

/** del --dry-run: the keys under `prefix` as `keys` prints them, or {"deleted": 0, "dryRun": true, "keys"}. Opens the store as del does. */
async function listDoomed(request: DelManyRequest, prefix: string): Promise<void> {
  const warnings = new DamageWarnings();
  const output = keyOutput({ json: false }, process.stdout.isTTY === true);
  const keys: string[] = [];
  let count = 0;
  await withKeyStore(request, 'write', 'tzkv del', async (store) => {
    for await (const { key } of store.keys({ prefix, onDamage: warnings.onDamage })) {
      const shown = keyInBucket(request.bucket, key);
      count++;
      if (request.json) keys.push(shown.toString('utf8'));
      else await output.add({ key: shown, expiresAt: null });
    }
  });
  await (request.json ? printJson({ deleted: 0, dryRun: true, keys }) : output.finish());
  note(`would delete ${count} ${count === 1 ? 'key' : 'keys'} (a dry run: nothing was deleted)`);
  if (count === 0) hintAtPattern(request.prefix, '--prefix takes a prefix, not a pattern; for the keys matching it: tzkv keys --match PATTERN');
  warnings.finish('the listing');
}
