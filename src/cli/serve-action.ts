// What `tzkv serve` does once its command line is parsed (docs/serve.md):
// every flag is checked before anything is opened, the store is opened as a
// writer that holds the lock only while it commits, serve() listens, and a
// signal stops it gracefully. Errors before listening are the command's
// (exit codes as any command's); once listening, the log (stderr) tells.

import { readFileSync } from 'node:fs';
import { TzkvError, ioError, isTzkvError } from '../errors.js';
import type { SyncMode } from '../serve/core/served-store.js';
import { type ServeOptions, serve } from '../serve/serve.js';
import { type ServeLogEntry, logLine } from '../serve/serve-log.js';
import { parseDuration } from '../text/duration.js';
import { type StoreFlags, modeOf, openStore, storeDirectory } from './open-store.js';
import { parseSize } from './size.js';

export interface ServeRequest extends StoreFlags {
  port: number;
  'http-port': number;
  redis: boolean;
  http: boolean;
  bind: string;
  unix?: string;
  requirepass?: string;
  'tls-cert'?: string;
  'tls-key'?: string;
  sync: string;
  cache: string;
  'max-clients': number;
  timeout?: string;
  json: boolean;
  create: boolean;
}

/** `tzkv serve`: serves the store until SIGINT, SIGTERM or SIGHUP, then stops gracefully (exit 0). */
export async function serveStore(request: ServeRequest): Promise<void> {
  const options = serveOptions(request);
  const log = (entry: ServeLogEntry) => process.stderr.write(logLine(entry, request.json));
  const location = storeDirectory(request.dir);
  let store;
  try {
    store = await openStore({
      dir: location,
      command: 'tzkv serve',
      access: request.create ? 'create' : 'write',
      lockTimeoutMs: request['lock-timeout'] === undefined ? undefined : parseDuration(request['lock-timeout'], '--lock-timeout', { allowZero: true }),
      etcd: request,
      mode: modeOf(request),
      sync: options.sync?.kind === 'always',
    });
  } catch (err) {
    if (!isTzkvError(err, 'NO_STORE')) throw err;
    throw new TzkvError('NO_STORE', `${err.message} (tzkv serve --create starts one)`, { path: err.path });
  }
  const stopped = stopSignal(log);
  let server;
  try {
    server = await serve(store, { ...options, log });
  } catch (err) {
    await store.close().catch(() => undefined);
    throw err;
  }
  const signal = await stopped;
  log({ level: 'info', event: 'stopping', message: `${signal}: stopping (finishing requests in flight; a second signal exits at once)`, fields: { signal } });
  await server.close();
  await store.close();
  log({ level: 'info', event: 'stopped', message: 'stopped: every acknowledged write is in the store', fields: {} });
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

/** The command line as serve()'s options; every bad value is INVALID_ARGUMENT (exit 2), a TLS file that cannot be read IO (exit 5). */
function serveOptions(request: ServeRequest): ServeOptions {
  if (!request.redis && !request.http) throw new TzkvError('INVALID_ARGUMENT', '--no-redis and --no-http together leave nothing to serve');
  if (!request.redis && request.unix !== undefined) throw new TzkvError('INVALID_ARGUMENT', '--unix serves the Redis protocol: it cannot go with --no-redis');
  const port = (value: number, flag: string) => {
    if (!Number.isInteger(value) || value < 0 || value > 65535) throw new TzkvError('INVALID_ARGUMENT', `invalid ${flag} ${value}: expected a port from 1 to 65535 (0: any free port)`);
    return value;
  };
  if (request.bind.trim() === '') throw new TzkvError('INVALID_ARGUMENT', 'invalid --bind "": expected an address such as 127.0.0.1, ::1 or 0.0.0.0');
  if (request.unix === '') throw new TzkvError('INVALID_ARGUMENT', 'invalid --unix "": expected the path of a socket to create');
  if (request.requirepass === '') throw new TzkvError('INVALID_ARGUMENT', 'invalid --requirepass "" (or TZKV_PASSWORD): a password cannot be empty');
  if ((request['tls-cert'] === undefined) !== (request['tls-key'] === undefined)) {
    throw new TzkvError('INVALID_ARGUMENT', 'TLS needs both --tls-cert and --tls-key');
  }
  if (!Number.isInteger(request['max-clients']) || request['max-clients'] < 1) {
    throw new TzkvError('INVALID_ARGUMENT', `invalid --max-clients ${request['max-clients']}: expected 1 or more`);
  }
  return {
    redis: request.redis ? { host: request.bind, port: port(request.port, '--port') } : null,
    http: request.http ? { host: request.bind, port: port(request['http-port'], '--http-port') } : null,
    unix: request.unix ?? null,
    password: request.requirepass ?? null,
    tls: request['tls-cert'] === undefined ? null : { cert: readTlsFile(request['tls-cert'], '--tls-cert'), key: readTlsFile(request['tls-key']!, '--tls-key') },
    sync: parseSync(request.sync),
    cacheBytes: parseSize(request.cache, '--cache'),
    maxClients: request['max-clients'],
    idleTimeoutMs: request.timeout === undefined ? 0 : parseDuration(request.timeout, '--timeout', { allowZero: true }),
  };
}

/** `always`, `never`, or `batch-ms=N` (fsync at most N ms after acknowledging; `batch-ms:N` and `batch-ms N` as one word too). */
function parseSync(text: string): SyncMode {
  const t = text.trim().toLowerCase();
  if (t === 'always') return { kind: 'always' };
  if (t === 'never') return { kind: 'never' };
  const match = /^batch-ms(?:[=:\s]\s*(\d+))?$/.exec(t);
  if (match && match[1] === undefined) {
    throw new TzkvError('INVALID_ARGUMENT', `invalid --sync "${text}": batch-ms needs its window in ms, as in --sync batch-ms=100`);
  }
  const ms = match ? Number(match[1]) : Number.NaN;
  if (!Number.isSafeInteger(ms) || ms < 1 || ms > 60_000) {
    throw new TzkvError('INVALID_ARGUMENT', `invalid --sync "${text}": expected always, never, or batch-ms=N (N from 1 to 60000 ms)`);
  }
  return { kind: 'batch', ms };
}

function readTlsFile(path: string, flag: string): Buffer {
  if (path === '') throw new TzkvError('INVALID_ARGUMENT', `invalid ${flag} "": expected a PEM file`);
  try {
    return readFileSync(path);
  } catch (err) {
    throw ioError(err, `cannot read ${flag}`, path);
  }
}
