// What `tzkv watch` does once its command line is parsed (docs/cli.md
// "watch"): it follows the store's changes (Store.watch) and prints a line
// per change as it comes, until --once has one, --timeout passes, or it is
// stopped (a signal, or its reader gone: OutputClosed ends it quietly).

import type { WatchEvent } from '../api.js';
import { TzkvError, isTzkvError } from '../errors.js';
import { bucketKey, keyInBucket } from './bucket.js';
import { DamageWarnings } from './damage.js';
import { parseDuration } from '../text/duration.js';
import { writeOut } from './output.js';
import { type StoreFlags, withStore } from './open-store.js';
import { toRecord } from '../text/records.js';
import { lineField, terminalJson } from './terminal-text.js';

export interface WatchRequest extends StoreFlags {
  key?: string;
  prefix?: string;
  bucket?: string;
  timeout?: string;
  once: boolean;
  existing: boolean;
  json: boolean;
}

/** `tzkv watch`: the changes to KEY or under --prefix, one line each (text or JSON); TIMEOUT when --timeout passed before any. */
export async function watchKeys(request: WatchRequest): Promise<void> {
  if ((request.key === undefined) === (request.prefix === undefined)) {
    throw new TzkvError('INVALID_ARGUMENT', request.key === undefined ? 'missing KEY: give a key to watch, or --prefix P for every key under P' : 'give KEY or --prefix, not both');
  }
  const timeoutMs = request.timeout === undefined ? undefined : parseDuration(request.timeout, '--timeout');
  const watched = request.key === undefined ? { prefix: bucketKey(request.bucket, request.prefix!) } : { key: bucketKey(request.bucket, request.key) };
  const warnings = new DamageWarnings();
  const stop = new AbortController();
  let timedOut = false;
  const timer = timeoutMs === undefined ? undefined : setTimeout(() => ((timedOut = true), stop.abort()), timeoutMs);
  let printed = 0;
  try {
    await withStore(request, 'read', 'tzkv watch', async (store) => {
      for await (const event of store.watch({ ...watched, existing: request.existing, signal: stop.signal, onDamage: warnings.onDamage })) {
        await writeOut(eventLine(event, keyInBucket(request.bucket, event.key), request.json));
        printed++;
        if (request.once) break;
      }
    });
  } catch (err) {
    if (!isTzkvError(err, 'NO_STORE')) throw err;
    throw new TzkvError('NO_STORE', `${err.message} (watch follows a store that is there: an empty directory is an empty store, watched until its first write)`, { path: err.path });
  } finally {
    clearTimeout(timer);
  }
  warnings.finish('the watch', 'changes the damage held were not reported');
  if (timedOut && printed === 0) {
    const what = request.key === undefined ? `under prefix ${JSON.stringify(request.prefix)}` : `to ${JSON.stringify(request.key)}`;
    throw new TzkvError('TIMEOUT', `no change ${what} within ${/^\d+$/.test(request.timeout!) ? `${request.timeout}s` : request.timeout}`);
  }
}

/**
 * One change as a line. Text: `put KEY VALUE`, `del KEY`, `expire KEY`, each
 * field as lineField writes it. JSON: {"type", "key", "value", "expiresAt"}
 * (value null for del and expire), with get --json's "encoding"/"keyEncoding",
 * on one line also on a terminal (escaped for it, as every JSON document).
 */
function eventLine(event: WatchEvent, key: Buffer, json: boolean): string {
  if (json) {
    const record = toRecord(key, event.value ?? Buffer.alloc(0), event.expiresAt);
    const line = JSON.stringify({ type: event.type, ...record, value: event.value === null ? null : record.value });
    return `${process.stdout.isTTY ? terminalJson(line) : line}\n`;
  }
  return event.value === null ? `${event.type} ${lineField(key)}\n` : `${event.type} ${lineField(key)} ${lineField(event.value)}\n`;
}
