// serve(store, options): one process serving a store to many clients, over
// the Redis protocol (src/serve/redis) and an HTTP/JSON API (src/serve/http),
// both on one ServedStore (src/serve/core: the read cache and group commit).
// The embedded API (`import { serve } from 'tzkv'`); `tzkv serve` is a thin
// adapter over it (src/cli/serve-action.ts). docs/serve.md is the contract.

import type { Store } from '../api.js';
import { TzkvError, isTzkvError } from '../errors.js';
import { type SyncMode, openServedStore } from './core/served-store.js';
import { type HttpListener, listenHttp } from './http/http-listener.js';
import { createHttpHandler } from './http/http-handler.js';
import { Metrics } from './metrics.js';
import { commandTable } from './redis/command-table.js';
import { connectionCommands } from './redis/connection-commands.js';
import { keyCommands } from './redis/key-commands.js';
import { type RedisListener, listenRedis } from './redis/redis-listener.js';
import { stringCommands } from './redis/string-commands.js';
import type { ServeLog } from './serve-log.js';
import { checkTlsPair } from './tls-pair.js';

/** Where a listener listens. */
export interface ListenAddress {
  /** An IP address or host name: 127.0.0.1 (the default), ::1, 0.0.0.0 for every interface. */
  host: string;
  /** 0: any free port (Server tells which). */
  port: number;
}

export interface ServeOptions {
  /** The Redis protocol on TCP (default 127.0.0.1:6380); null: none. */
  redis?: ListenAddress | null;
  /** The HTTP API (default 127.0.0.1:8080); null: none. */
  http?: ListenAddress | null;
  /** The Redis protocol on a Unix socket too (created; removed on close). */
  unix?: string | null;
  /** Clients must authenticate with this (Redis AUTH, HTTP bearer token); null: no password. */
  password?: string | null;
  /** Both protocols over TLS. */
  tls?: { cert: Buffer | string; key: Buffer | string } | null;
  /**
   * When acknowledged writes are fsynced (default always). With batch or
   * never, open the store with `sync: false`: the server then syncs on its
   * own terms (ServedStore).
   */
  sync?: SyncMode;
  /** Read cache size in bytes (default 64 MiB; 0: none). */
  cacheBytes?: number;
  /** Most connections at once, both protocols together (default 10000). */
  maxClients?: number;
  /** A Redis connection idle this long is closed (ms; default 0: never). */
  idleTimeoutMs?: number;
  /** Told of each start, stop and error (default: nobody). */
  log?: ServeLog;
}

/** A running server. */
export interface Server {
  /** host:port of each listener, null where none. */
  readonly redis: string | null;
  readonly http: string | null;
  readonly unix: string | null;
  /**
   * Stops gracefully: stops accepting, lets requests in flight finish and
   * their replies go out, commits every acknowledged write durably. The
   * store stays open (the caller opened it; the caller closes it).
   */
  close(): Promise<void>;
}

const DEFAULT_REDIS_PORT = 6380;
const DEFAULT_HTTP_PORT = 8080;
const DEFAULT_CACHE_BYTES = 64 * 1024 * 1024;
const DEFAULT_MAX_CLIENTS = 10_000;

/** Every Redis command tzkv answers (docs/serve.md "Redis commands"). */
const COMMANDS = commandTable(connectionCommands, [...stringCommands], [...keyCommands]);

function isLoopback(host: string): boolean {
  return host === 'localhost' || host === '::1' || /^127\./.test(host);
}

export async function serve(store: Store, options: ServeOptions = {}): Promise<Server> {
  const log: ServeLog = options.log ?? (() => undefined);
  const redisAt = options.redis === undefined ? { host: '127.0.0.1', port: DEFAULT_REDIS_PORT } : options.redis;
  const httpAt = options.http === undefined ? { host: '127.0.0.1', port: DEFAULT_HTTP_PORT } : options.http;
  const unix = options.unix ?? null;
  if (redisAt === null && httpAt === null && unix === null) throw new TzkvError('INVALID_ARGUMENT', 'nothing to serve: no Redis port, no HTTP port, no Unix socket');
  const password = options.password ?? null;
  const tls = options.tls ?? undefined;
  if (tls !== undefined) checkTlsPair(tls.cert, tls.key, { cert: 'tls.cert', key: 'tls.key' });
  const maxClients = options.maxClients ?? DEFAULT_MAX_CLIENTS;
  const served = openServedStore(store, {
    sync: options.sync ?? { kind: 'always' },
    cacheBytes: options.cacheBytes ?? DEFAULT_CACHE_BYTES,
    onError: (error) => log({ level: 'error', event: 'sync-failed', message: error.message, fields: {} }),
  });
  const metrics = new Metrics();
  let redis: RedisListener | null = null;
  let http: HttpListener | null = null;
  let at = '';
  try {
    if (redisAt !== null || unix !== null) {
      at = redisAt === null ? '' : hostPort(redisAt.host, redisAt.port);
      redis = await listenRedis({
        store: served,
        commands: COMMANDS,
        location: store.location,
        host: redisAt?.host,
        port: redisAt === null ? null : redisAt.port,
        path: unix,
        tls,
        password,
        maxClients,
        limits: { idleTimeoutMs: options.idleTimeoutMs ?? 0 },
        onCommand: (name, micros, ok) => metrics.command('redis', name, micros, ok),
        onError: internalError(log, 'redis'),
      });
    }
    if (httpAt !== null) {
      at = hostPort(httpAt.host, httpAt.port);
      const handler = createHttpHandler(served, { password, metrics, onError: internalError(log, 'http') });
      http = await listenHttp({ host: httpAt.host, port: httpAt.port, tls, handler, limits: { maxClients } });
    }
  } catch (err) {
    await redis?.close(false);
    await served.close().catch(() => undefined);
    throw listenError(err, at, unix);
  }
  const server: Server = {
    redis: redis?.address ?? null,
    http: http?.address ?? null,
    unix,
    async close() {
      await Promise.all([redis?.close(true), http?.close(true)]);
      await served.close();
    },
  };
  const where = [server.redis && `redis ${server.redis}`, server.unix && `redis ${server.unix}`, server.http && `http ${server.http}`].filter(Boolean).join(', ');
  log({
    level: 'info',
    event: 'listening',
    message: `listening ${where} (store ${store.location})`,
    fields: { redis: server.redis, http: server.http, unix: server.unix, store: store.location, tls: tls !== undefined, sync: options.sync?.kind ?? 'always' },
  });
  const open = [redisAt, httpAt].filter((address): address is ListenAddress => address !== null && !isLoopback(address.host));
  if (open.length > 0 && password === null) {
    log({
      level: 'warn',
      event: 'no-password',
      message: `listening on ${open[0]!.host} with no password: anyone who can reach this machine can read and write every key (set --requirepass or TZKV_PASSWORD)`,
      fields: {},
    });
  }
  return server;
}

/** Logs a bug a client was answered for (Redis "ERR internal error", HTTP 500 INTERNAL), with its stack. */
function internalError(log: ServeLog, protocol: 'redis' | 'http') {
  return (error: unknown, command: string): void =>
    log({ level: 'error', event: 'internal-error', message: `${protocol} ${command}: ${String((error as Error)?.stack ?? error)}`, fields: { protocol, command } });
}

/** What a TCP listener's failure means, in words. */
const TCP_REASONS: Record<string, string> = {
  EADDRINUSE: 'the address is in use (another server on that port? choose another with --port / --http-port, or 0 for any free one)',
  EADDRNOTAVAIL: "that address is not one of this machine's",
  EACCES: 'permission denied (ports below 1024 need root)',
  ENOTFOUND: 'no such host',
};

function hostPort(host: string, port: number): string {
  return host.includes(':') ? `[${host}]:${port}` : `${host}:${port}`;
}

/**
 * A listener that could not start, as UNAVAILABLE naming the address asked
 * for (`at`) and why: the port in use, an address not on this machine, a port
 * it may not take. The Unix socket's errors (`unix`) stay as the Redis
 * listener words them.
 */
function listenError(err: unknown, at: string, unix: string | null): unknown {
  const cause = (isTzkvError(err) ? err.cause : err) as NodeJS.ErrnoException | undefined;
  const unixSocket = isTzkvError(err) && err.path !== undefined && err.path === unix;
  const reason = cause?.code === undefined || unixSocket ? undefined : TCP_REASONS[cause.code];
  if (reason !== undefined) return new TzkvError('UNAVAILABLE', `cannot listen on ${at}: ${reason}`, { cause: err });
  if (isTzkvError(err)) return err;
  return new TzkvError('UNAVAILABLE', `cannot listen on ${at}: ${err instanceof Error ? err.message : String(err)}`, { cause: err });
}
