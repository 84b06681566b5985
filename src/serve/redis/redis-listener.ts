// The Redis protocol's listening sockets: TCP on host:port (TLS when given a
// certificate), a unix socket, or both, each accepted client served by a
// RedisConnection. Past `maxClients` a client is told so and closed, as
// Redis does. close() stops accepting, lets each connection finish the
// command it is running and send its replies, then ends them.
import { lstatSync, unlinkSync } from 'node:fs';
import net from 'node:net';
import type { Server, Socket } from 'node:net';
import tls from 'node:tls';
import { TzkvError } from '../../errors.js';
import type { ServedStore } from '../core/served-store.js';
import type { Metrics } from '../metrics.js';
import type { RedisCommand, ServerState } from './command.js';
import { RedisConnection } from './connection.js';
import type { ConnectionLimits, ConnectionOptions } from './connection.js';

export interface RedisListenerOptions {
  store: ServedStore;
  commands: ReadonlyMap<string, RedisCommand>;
  /** Where the store lives, for INFO. */
  location: string;
  /** TCP: the address to bind (default 127.0.0.1) and port (0: any free one); port null: no TCP. */
  host?: string;
  port?: number | null;
  /** A unix socket to listen on as well (a stale socket file there is replaced, anything else is refused). */
  path?: string | null;
  /** TLS on the TCP port: PEM certificate and key. */
  tls?: { cert: string | Buffer; key: string | Buffer };
  /** null or absent: no AUTH needed. */
  password?: string | null;
  /** Most clients at once (default 10000). */
  maxClients?: number;
  limits?: ConnectionLimits;
  /** tzkv's version, for INFO. */
  version?: string;
  now?: () => number;
  onCommand?: ConnectionOptions['onCommand'];
  onError?: ConnectionOptions['onError'];
  /** Counts the commands (by name and outcome, with their latencies), the connections and the bytes, as the 'redis' protocol. */
  metrics?: Metrics;
}

export interface RedisListener {
  /** "127.0.0.1:6380" ("[::1]:6380"), or null without TCP. */
  readonly address: string | null;
  readonly port: number | null;
  readonly path: string | null;
  readonly state: ServerState;
  /** Stops accepting; graceful: each connection ends after its running command's reply; not graceful: at once. A second call may hurry the first. */
  close(graceful?: boolean): Promise<void>;
}

const DEFAULT_MAX_CLIENTS = 10_000;
const MAX_CLIENTS_REACHED = '-ERR max number of clients reached\r\n';

export async function listenRedis(options: RedisListenerOptions): Promise<RedisListener> {
  const now = options.now ?? Date.now;
  const maxClients = options.maxClients ?? DEFAULT_MAX_CLIENTS;
  const connections = new Set<RedisConnection>();
  let nextId = 1;
  let commandsRun = 0;
  const servers: Server[] = [];
  let port: number | null = null;
  const state: ServerState = {
    startedAt: now(),
    password: options.password ?? null,
    get port() {
      return port;
    },
    location: options.location,
    connectedClients: () => connections.size,
    totalCommands: () => commandsRun,
    commands: options.commands,
    clients: () => [...connections].map((connection) => connection.state),
    version: options.version,
    maxClients,
  };
  const { metrics } = options;
  const onCommand = (name: string, micros: number, ok: boolean): void => {
    commandsRun++;
    metrics?.command('redis', name, micros, ok);
    options.onCommand?.(name, micros, ok);
  };

  let closing: Promise<void> | null = null;
  const accept = (socket: Socket): void => {
    socket.on('error', () => socket.destroy());
    if (closing) {
      socket.destroy();
      return;
    }
    if (connections.size >= maxClients) {
      socket.once('finish', () => socket.destroy());
      socket.end(MAX_CLIENTS_REACHED);
      return;
    }
    const connection = new RedisConnection(socket, {
      id: nextId++,
      commands: options.commands,
      store: options.store,
      server: state,
      limits: options.limits,
      now,
      onCommand,
      onError: options.onError,
      metrics,
    });
    connections.add(connection);
    metrics?.connected('redis');
    void connection.closed.then(() => {
      connections.delete(connection);
      metrics?.disconnected('redis');
    });
  };

  let address: string | null = null;
  try {
    if (options.port !== null) {
      const host = options.host ?? '127.0.0.1';
      const server = options.tls
        ? tls.createServer({ cert: options.tls.cert, key: options.tls.key, allowHalfOpen: true }, accept)
        : net.createServer({ allowHalfOpen: true }, accept);
      if (options.tls) server.on('tlsClientError', (_error, socket) => socket.destroy());
      servers.push(server);
      await listen(server, { host, port: options.port ?? 6380 }, `${host}:${options.port ?? 6380}`);
      port = (server.address() as net.AddressInfo).port;
      address = host.includes(':') ? `[${host}]:${port}` : `${host}:${port}`;
    }
    if (options.path) {
      await removeStaleSocket(options.path);
      const server = net.createServer({ allowHalfOpen: true }, accept);
      servers.push(server);
      await listen(server, { path: options.path }, options.path);
    }
  } catch (error) {
    await Promise.all(servers.map((server) => new Promise((resolve) => server.close(resolve))));
    throw error;
  }

  return {
    address,
    port,
    path: options.path ?? null,
    state,
    close(graceful = true) {
      if (!graceful) for (const connection of connections) connection.destroy();
      closing ??= (async () => {
        const stopped = Promise.all(servers.map((server) => new Promise((resolve) => server.close(resolve))));
        await Promise.all([...connections].map((connection) => connection.close()));
        await stopped;
      })();
      return closing;
    },
  };
}

function listen(server: Server, where: net.ListenOptions, what: string): Promise<void> {
  return new Promise((resolve, reject) => {
    const failed = (error: NodeJS.ErrnoException): void => {
      const reason = error.code === 'EADDRINUSE' ? 'the address is in use' : error.code === 'EACCES' ? 'permission denied' : error.message;
      reject(new TzkvError('IO', `cannot listen on ${what}: ${reason}`, { path: what, cause: error }));
    };
    server.once('error', failed);
    server.listen(where, () => {
      server.off('error', failed);
      resolve();
    });
  });
}

/** A socket file no server answers on (left by one that died) is removed; one that answers, or any other file, is refused. */
async function removeStaleSocket(path: string): Promise<void> {
  let isSocket: boolean;
  try {
    isSocket = lstatSync(path).isSocket();
  } catch {
    return;
  }
  if (!isSocket) throw new TzkvError('IO', `cannot listen on ${path}: a file that is not a socket is there`, { path });
  const answers = await new Promise<boolean>((resolve) => {
    const probe = net.connect(path);
    probe.once('connect', () => {
      probe.destroy();
      resolve(true);
    });
    probe.once('error', () => resolve(false));
  });
  if (answers) throw new TzkvError('IO', `cannot listen on ${path}: the address is in use`, { path });
  unlinkSync(path);
}
