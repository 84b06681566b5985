// An in-process Redis listener over a MemoryServedStore, with the
// connection's commands and a few test commands (GET, SET, INCR, and some
// that fail or wait on purpose), for tests of the protocol layer; and the
// reading of replies those tests compare as text. Every listener a test
// starts is closed after it.
import { afterEach } from 'vitest';
import { TzkvError } from '../../src/errors.js';
import { commandTable } from '../../src/serve/redis/command-table.js';
import { connectionCommands } from '../../src/serve/redis/connection-commands.js';
import { defineCommand } from '../../src/serve/redis/define-command.js';
import { listenRedis } from '../../src/serve/redis/redis-listener.js';
import type { RedisListener, RedisListenerOptions } from '../../src/serve/redis/redis-listener.js';
import { ErrorReply, OK } from '../../src/serve/resp/reply.js';
import { MemoryServedStore } from './memory-served-store.js';
import { RawConnection, readReply } from './raw-resp.js';

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));
const KEY = [1, 1, 1] as const;

const testCommands = [
  defineCommand('get', 2, 'readonly fast', KEY, async (ctx, [key]) => (await ctx.keys.get(key!))?.value ?? null),
  defineCommand('set', 3, 'write denyoom', KEY, async (ctx, [key, value]) => {
    await ctx.keys.write((tx) => tx.put(Buffer.from(key!), Buffer.from(value!)));
    return OK;
  }),
  defineCommand('incr', 2, 'write denyoom fast', KEY, (ctx, [key]) =>
    ctx.keys.write(async (tx) => {
      const entry = await tx.getEntry(key!);
      const value = entry === undefined ? 0 : Number(entry.value.toString());
      if (!Number.isInteger(value)) return new ErrorReply('ERR value is not an integer or out of range');
      tx.put(Buffer.from(key!), String(value + 1));
      return value + 1;
    }),
  ),
  /** SLOW ms: answers OK after `ms` milliseconds. */
  defineCommand('slow', 2, '', [0, 0, 0], async (_ctx, [ms]) => {
    await sleep(Number(ms!.toString()));
    return OK;
  }),
  defineCommand('boom', 1, '', [0, 0, 0], () => {
    throw new Error('boom');
  }),
  defineCommand('tzkvfail', 1, '', [0, 0, 0], () => {
    throw new TzkvError('INVALID_ARGUMENT', 'key must not be empty');
  }),
  defineCommand('badreply', 1, '', [0, 0, 0], () => 1.5),
];

export interface TestServer {
  listener: RedisListener;
  store: MemoryServedStore;
  /** What onError was told. */
  errors: unknown[];
  /** What onCommand was told: name, microseconds, ok. */
  calls: Array<[string, number, boolean]>;
  connect(): Promise<RawConnection>;
}

const open: Array<{ listener: RedisListener; connections: RawConnection[] }> = [];

afterEach(async () => {
  for (const { listener, connections } of open.splice(0)) {
    for (const connection of connections) connection.close();
    await listener.close(false);
  }
});

export async function startTestServer(options: Partial<RedisListenerOptions> = {}): Promise<TestServer> {
  const store = new MemoryServedStore();
  const errors: unknown[] = [];
  const calls: Array<[string, number, boolean]> = [];
  const listener = await listenRedis({
    store,
    commands: commandTable(connectionCommands, testCommands),
    location: 'memory',
    port: 0,
    onError: (error) => errors.push(error),
    onCommand: (name, micros, ok) => calls.push([name, micros, ok]),
    ...options,
  });
  const connections: RawConnection[] = [];
  open.push({ listener, connections });
  return {
    listener,
    store,
    errors,
    calls,
    async connect() {
      const connection = await RawConnection.open(listener.port ?? listener.path!);
      connections.push(connection);
      return connection;
    },
  };
}

/** Bytes as a string of the same chars (latin1), to compare with a reply written out. */
export const text = (bytes: Buffer): string => bytes.toString('latin1');

/** Writes `request`, a string's chars as bytes (latin1), without waiting. */
export function write(connection: RawConnection, request: string | Buffer): void {
  connection.write(typeof request === 'string' ? Buffer.from(request, 'latin1') : request);
}

/** The next `count` replies, each as its text. */
export async function replies(connection: RawConnection, count: number, timeoutMs?: number): Promise<string[]> {
  const bytes = await connection.read(count, timeoutMs);
  const out: string[] = [];
  for (let at = 0; at < bytes.length; ) {
    const { end } = readReply(bytes, at)!;
    out.push(text(bytes.subarray(at, end)));
    at = end;
  }
  return out;
}

/** Everything the server sends until it closes the connection, or `ms` pass; and whether it closed. */
export async function rest(connection: RawConnection, ms = 2000): Promise<{ data: string; closed: boolean }> {
  let closed = true;
  await connection.closedByServer(ms).catch(() => {
    closed = false;
  });
  return { data: text(connection.unread()), closed };
}
