// A ServedStore straight over a Store, and a CommandContext made of it, for
// tests of what the Redis commands answer: get is Store.getEntry, write is
// Store.transact, with no read cache and no group commit (those are the real
// ServedStore's, src/serve/core). `call` runs a command as a connection
// would once it has read a frame: found by name in any case, its arity
// checked, then run.
import type { Entry, KeyInfo, ListOptions, Store, StoreStats, Transaction } from '../../src/api.js';
import type { ServedStore, ServedStoreCounters } from '../../src/serve/core/served-store.js';
import type { CommandContext, RedisCommand } from '../../src/serve/redis/command.js';
import { ErrorReply, type Reply } from '../../src/serve/resp/reply.js';

export class DirectServedStore implements ServedStore {
  readonly counters: ServedStoreCounters = { cacheHits: 0, cacheMisses: 0, cacheBytes: 0, cacheEntries: 0, commits: 0, writes: 0 };

  constructor(readonly store: Store) {}

  get(key: Buffer): Promise<Entry | undefined> {
    return this.store.getEntry(key);
  }

  getMany(keys: readonly Buffer[]): Promise<Array<Entry | undefined>> {
    return Promise.all(keys.map((key) => this.store.getEntry(key)));
  }

  async write<T>(fn: (tx: Transaction) => T | Promise<T>): Promise<T> {
    const result = await this.store.transact(fn);
    this.counters.commits++;
    this.counters.writes++;
    return result;
  }

  keys(options?: ListOptions): AsyncIterableIterator<KeyInfo> {
    return this.store.keys(options);
  }

  stats(): Promise<StoreStats> {
    return this.store.stats();
  }

  close(): Promise<void> {
    return this.store.close();
  }
}

/** A context for commands on `served` at the data clock `now`, on a connection in database `db`. */
export function directContext(served: DirectServedStore, commands: readonly RedisCommand[], options: { now?: () => number; db?: number } = {}): CommandContext {
  const now = options.now ?? Date.now;
  return {
    keys: { get: (key) => served.get(key), getMany: (keys) => served.getMany(keys), write: (fn) => served.write(fn) },
    store: served,
    conn: { id: 1, protocol: 2, name: null, db: options.db ?? 0, authenticated: true, closing: false, remoteAddress: '127.0.0.1:1', connectedAt: now() },
    server: {
      startedAt: now(),
      password: null,
      port: null,
      location: served.store.location,
      connectedClients: () => 1,
      totalCommands: () => 0,
      commands: new Map(commands.map((command) => [command.name, command])),
    },
    now,
  };
}

/** Runs the command `words[0]` with the rest as its arguments (strings as UTF-8), as a connection would. */
export async function call(ctx: CommandContext, ...words: Array<string | Buffer>): Promise<Reply> {
  const [name, ...args] = words.map((word) => (typeof word === 'string' ? Buffer.from(word) : word));
  const command = ctx.server.commands.get(name.toString().toLowerCase());
  if (!command) return new ErrorReply(`ERR unknown command '${name.toString()}'`);
  const given = args.length + 1;
  if (command.arity >= 0 ? given !== command.arity : given < -command.arity) {
    return new ErrorReply(`ERR wrong number of arguments for '${command.name}' command`);
  }
  return command.run(ctx, args);
}
