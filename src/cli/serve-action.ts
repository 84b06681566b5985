// What `tzkv serve` does once its command line is parsed (docs/serve.md,
// docs/cli.md "serve"): every flag is checked before anything is opened
// (serve-options.ts), the store is opened as a writer that holds the lock only
// while it commits, serve() listens, and a signal stops it gracefully. Errors
// before listening are the command's (exit codes as any command's); once
// listening, the log (stderr) tells. Nothing is ever written to stdout.

import type { Store } from '../api.js';
import { isEtcdAddress } from '../etcd/url.js';
import { TzkvError, isTzkvError } from '../errors.js';
import { serve } from '../serve/serve.js';
import { type ServeLogEntry, logLine } from '../serve/serve-log.js';
import { parseDuration } from '../text/duration.js';
import { describeFailure, reportFailure } from './failure.js';
import { type StoreFlags, modeOf, secretOf, openStore, storeDirectory } from './open-store.js';
import { type ServeFlags, serveOptions } from './serve-options.js';

export interface ServeRequest extends StoreFlags, ServeFlags {
  json: boolean;
  create: boolean;
}

/** `tzkv serve`: serves the store until SIGINT, SIGTERM or SIGHUP, then stops gracefully (exit 0). */
export async function serveStore(request: ServeRequest): Promise<void> {
  const options = serveOptions(request);
  const log = (entry: ServeLogEntry) => process.stderr.write(logLine(entry, request.json));
  // Told while opening, logged after "listening" (the first line of the log, by contract).
  const warnings: string[] = [];
  const store = await openServedStore(request, options.sync?.kind === 'always', (message) => warnings.push(message));
  const stopped = stopSignal(log);
  let server;
  try {
    server = await serve(store, { ...options, log });
  } catch (err) {
    await store.close().catch(() => undefined);
    throw err;
  }
  for (const message of warnings) log({ level: 'warn', event: 'store-warning', message, fields: {} });
  const signal = await stopped;
  log({ level: 'info', event: 'stopping', message: `${signal}: stopping (finishing requests in flight; a second signal exits at once)`, fields: { signal } });
  await server.close();
  await store.close();
  log({ level: 'info', event: 'stopped', message: 'stopped: every acknowledged write is in the store', fields: {} });
}

/**
 * The store, open for writing; it must be there unless --create. An etcd
 * store opens without a round trip and an encrypted one without its key, so
 * one question is asked of it here: a cluster no member answers for is exit 5
 * now, a store whose key was not given exit 6, not an error on every request.
 */
async function openServedStore(request: ServeRequest, sync: boolean, onWarning: (message: string) => void): Promise<Store> {
  const location = storeDirectory(request.dir);
  let store: Store;
  try {
    store = await openStore({
      dir: location,
      command: 'tzkv serve',
      access: request.create ? 'create' : 'write',
      lockTimeoutMs: request['lock-timeout'] === undefined ? undefined : parseDuration(request['lock-timeout'], '--lock-timeout', { allowZero: true }),
      etcd: request,
      mode: modeOf(request),
      sync,
      onWarning,
      secret: secretOf(request),
    });
  } catch (err) {
    if (!isTzkvError(err, 'NO_STORE')) throw err;
    throw new TzkvError('NO_STORE', `${err.message} (tzkv serve --create starts one)`, { path: err.path });
  }
  // One question asked now rather than an error on every request: an etcd cluster no member answers for (exit 5),
  // an encrypted store given no key (exit 6: a server that can serve nothing should not start).
  try {
    for await (const _ of store.keys({ limit: 1 })) break;
  } catch (err) {
    if (isEtcdAddress(location) || isTzkvError(err, 'KEY_REQUIRED')) {
      await store.close().catch(() => undefined);
      throw err;
    }
    // Damage is for reads to report and verify to examine, as in every other command.
  }
  return store;
}

/** Resolves with the first of SIGINT, SIGTERM, SIGHUP; a second one exits at once (exit 1: the stop did not finish). */
function stopSignal(log: (entry: ServeLogEntry) => void): Promise<NodeJS.Signals> {
  return new Promise((resolve) => {
    let received = false;
    const on = (signal: NodeJS.Signals) => {
      if (!received) {
        received = true;
        resolve(signal);
        return;
      }
      log({ level: 'error', event: 'killed', message: `${signal} again: exiting before requests in flight finished`, fields: { signal } });
      process.exit(1);
    };
    for (const s of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) process.on(s, on);
  });
}

/**
 * How `tzkv serve` reports a failure: as any command does (`tzkv: MESSAGE` on
 * stderr, the exit code of the README's table), except that with --json it is
 * a log line, {"event":"failed","code","exitCode",...}, and stdout stays empty.
 */
export function reportServeFailure(err: unknown, { json, command }: { json: boolean; command: string }): void {
  if (!json) {
    reportFailure(err, { json: false, command });
    return;
  }
  const failure = describeFailure(err);
  const stack = failure.code === 'INTERNAL' ? { stack: err instanceof Error ? err.stack : String(err) } : {};
  process.stderr.write(logLine({ level: 'error', event: 'failed', message: failure.message, fields: { code: failure.code, exitCode: failure.exitCode, ...stack } }, true));
  process.exitCode = failure.exitCode;
}
