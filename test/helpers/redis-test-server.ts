// An in-process Redis listener over a MemoryServedStore, with the
// connection's commands and a few test commands (GET, SET, INCR, and some
// that fail or wait on purpose), for tests of the protocol layer. Every
// listener a test starts is closed after it.
import { afterEach } from 'vitest';
import { TzkvError } from '../../src/errors.js';
import type { RedisCommand } from '../../src/serve/redis/command.js';
import { commandTable } from '../../src/serve/redis/command-table.js';
import { connectionCommands } from '../../src/serve/redis/connection-commands.js';
import { listenRedis } from '../../src/serve/redis/redis-listener.js';
import type { RedisListener, RedisListenerOptions } from '../../src/serve/redis/redis-listener.js';
import { ErrorReply, OK } from '../../src/serve/resp/reply.js';
import { MemoryServedStore } from './memory-served-store.js';
import { RespClient } from './resp-client.js';

function command(name: string, arity: number, flags: string[], run: RedisCommand['run']): RedisCommand {
  return { name, arity, flags, firstKey: 1, lastKey: 1, step: 1, run };
}

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

export const testCommands: RedisCommand[] = [
  command('get', 2, ['readonly', 'fast'], async (ctx, [key]) => (await ctx.keys.get(key!))?.value ?? null),
  command('set', 3, ['write', 'denyoom'], async (ctx, [key, value]) => {
    await ctx.keys.write((tx) => tx.put(Buffer.from(key!), Buffer.from(value!)));
    return OK;
  }),
  command('incr', 2, ['write', 'denyoom', 'fast'], (ctx, [key]) =>
    ctx.keys.write(async (tx) => {
      const entry = await tx.getEntry(key!);
      const value = entry === undefined ? 0 : Number(entry.value.toString());
      if (!Number.isInteger(value)) return new ErrorReply('ERR value is not an integer or out of range');
      tx.put(Buffer.from(key!), String(value + 1));
      return value + 1;
    }),
  ),
  /** SLOW ms: answers OK after `ms` milliseconds. */
  command('slow', 2, [], async (_ctx, [ms]) => {
    await sleep(Number(ms!.toString()));
    return OK;
  }),
  command('boom', 1, [], () => {
    throw new Error('boom');
  }),
  command('tzkvfail', 1, [], () => {
    throw new TzkvError('INVALID_ARGUMENT', 'key must not be empty');
  }),
  command('badreply', 1, [], () => 1.5),
];

export interface TestServer {
  listener: RedisListener;
  store: MemoryServedStore;
  /** What onError was told. */
  errors: unknown[];
  /** What onCommand was told: name, microseconds, ok. */
  calls: Array<[string, number, boolean]>;
  connect(): Promise<RespClient>;
}

const open: Array<{ listener: RedisListener; clients: RespClient[] }> = [];

afterEach(async () => {
  for (const { listener, clients } of open.splice(0)) {
    for (const client of clients) client.close();
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
  const clients: RespClient[] = [];
  open.push({ listener, clients });
  return {
    listener,
    store,
    errors,
    calls,
    async connect() {
      const client = await RespClient.connect(listener.port ?? listener.path!);
      clients.push(client);
      return client;
    },
  };
}
