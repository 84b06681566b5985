// MULTI, EXEC, DISCARD, WATCH and UNWATCH. Between MULTI and EXEC a
// connection queues its commands (+QUEUED); EXEC runs them all inside one
// ServedStore.write, so they commit together or not at all, each reading
// what the ones before it wrote. As in Redis, a command refused while queued
// (unknown, wrong arity, NOAUTH) makes EXEC refuse the whole transaction
// (EXECABORT); an error while running is that command's reply, and the
// others still run. WATCHed keys are compared, by their version, inside the
// EXEC's unit: when one was changed (or deleted, or expired) EXEC runs
// nothing and answers the null array.
//
// ServedStore.write may run the EXEC's function more than once (an etcd
// retry; a unit moved to the next commit): each run starts from the
// connection as it was at EXEC, and only the last run's effects outlive it.
// Connection commands queued in MULTI (HELLO, CLIENT SETNAME, SELECT, AUTH:
// Redis 7 runs them in EXEC too) change a copy of the connection's state,
// copied back after the last run; what a command leaves for after the EXEC
// (the connection counting it) is done for the last run's commands only.
import type { Entry, Transaction } from '../../api.js';
import type { ServedStore } from '../core/served-store.js';
import { ErrorReply, NullArray, OK, SimpleString } from '../resp/reply.js';
import type { Reply } from '../resp/reply.js';
import type { CommandContext, ConnectionState, KeySpace, RedisCommand } from './command.js';
import { defineCommand } from './define-command.js';
import { shareScanCursors } from './scan-cursors.js';

/** Commands the connection answers itself (it compares them by identity): their run() is not called. */
function connectionOnly(name: string, arity: number, flags: string, keys: readonly [number, number, number] = [0, 0, 0]): RedisCommand {
  return defineCommand(name, arity, flags, keys, () => new ErrorReply(`ERR ${name} is answered by the connection`));
}

const CONTROL_FLAGS = 'noscript loading stale fast allow_busy';
export const multiCommand = connectionOnly('multi', 1, CONTROL_FLAGS);
export const execCommand = connectionOnly('exec', 1, 'noscript loading stale skip_slowlog');
export const discardCommand = connectionOnly('discard', 1, CONTROL_FLAGS);
export const watchCommand = connectionOnly('watch', -2, CONTROL_FLAGS, [1, -1, 1]);
/** Outside MULTI the connection answers UNWATCH; queued, it runs inside EXEC, whose start already forgot the WATCHed keys. */
export const unwatchCommand = defineCommand('unwatch', 1, CONTROL_FLAGS, [0, 0, 0], () => OK);
export const transactionCommands = [multiCommand, execCommand, discardCommand, watchCommand, unwatchCommand];

/**
 * Runs one command for EXEC, its errors turned into its reply. What is to
 * happen only once the EXEC is over goes into `afterwards`: it is called if
 * this run is the EXEC's last.
 */
export type RunCommand = (ctx: CommandContext, command: RedisCommand, args: Buffer[], afterwards: Array<() => void>) => Promise<Reply>;

const QUEUED = new SimpleString('QUEUED');
const EXECABORT = new ErrorReply('EXECABORT Transaction discarded because of previous errors.');

interface Watched {
  key: Buffer;
  entry: Entry | undefined;
}

/** One connection's transaction: what MULTI queued, whether a queued command was refused, what it WATCHes. */
export class MultiState {
  private queue: Array<{ command: RedisCommand; args: Buffer[] }> | null = null;
  private aborted = false;
  private watched = new Map<string, Watched>();

  /** Between MULTI and EXEC/DISCARD: commands are queued, except these five and QUIT. */
  get active(): boolean {
    return this.queue !== null;
  }

  get length(): number {
    return this.queue?.length ?? -1;
  }

  begin(): Reply {
    if (this.queue !== null) return new ErrorReply('ERR MULTI calls can not be nested');
    this.queue = [];
    return OK;
  }

  add(command: RedisCommand, args: Buffer[]): Reply {
    this.queue!.push({ command, args });
    return QUEUED;
  }

  /** A command was refused: the EXEC to come will be too. */
  refused(): void {
    if (this.queue !== null) this.aborted = true;
  }

  discard(): Reply {
    if (this.queue === null) return new ErrorReply('ERR DISCARD without MULTI');
    this.reset();
    return OK;
  }

  async watch(keys: KeySpace, args: Buffer[]): Promise<Reply> {
    if (this.queue !== null) return new ErrorReply('ERR WATCH inside MULTI is not allowed');
    for (const key of args) {
      const id = key.toString('latin1');
      if (!this.watched.has(id)) this.watched.set(id, { key: Buffer.from(key), entry: await keys.get(key) });
    }
    return OK;
  }

  unwatch(): Reply {
    this.watched.clear();
    return OK;
  }

  /** Runs the queued commands as one unit of `ctx.store`'s group commit; its reply is the array of theirs. */
  async exec(ctx: CommandContext, run: RunCommand): Promise<Reply> {
    const queue = this.queue;
    if (queue === null) return new ErrorReply('ERR EXEC without MULTI');
    const aborted = this.aborted;
    const watched = [...this.watched.values()];
    this.reset();
    if (aborted) return EXECABORT;
    let last: { conn: ConnectionState; afterwards: Array<() => void> } | undefined;
    const reply = await ctx.store.write(async (tx) => {
      const thisRun = (last = { conn: stateCopy(ctx.conn), afterwards: [] });
      for (const { key, entry } of watched) {
        if (!sameEntry(entry, await tx.getEntry(key))) return NullArray.instance;
      }
      const keys = transactionKeys(tx);
      const inner: CommandContext = { ...ctx, conn: thisRun.conn, keys, store: transactionStore(ctx.store, keys) };
      const replies: Reply[] = [];
      for (const { command, args } of queue) replies.push(await run(inner, command, args, thisRun.afterwards));
      return replies;
    });
    // The fields the last run set (the copy's own properties) become the connection's.
    Object.assign(ctx.conn, last!.conn);
    for (const done of last!.afterwards) done();
    return reply;
  }

  private reset(): void {
    this.queue = null;
    this.aborted = false;
    this.watched.clear();
  }
}

/**
 * A copy of a connection's state for one run of an EXEC: it reads through to
 * `conn` (it is a ClientState as `conn` is), and what a command sets is the
 * copy's own, until copied back.
 */
function stateCopy(conn: ConnectionState): ConnectionState {
  return Object.create(conn) as ConnectionState;
}

function sameEntry(before: Entry | undefined, now: Entry | undefined): boolean {
  if (before === undefined || now === undefined) return before === now;
  if (before.version !== undefined && now.version !== undefined) return before.version === now.version;
  return before.value.equals(now.value) && before.expiresAt === now.expiresAt;
}

/** The keys as one transaction sees them; a write(fn) inside it is fn(tx). */
function transactionKeys(tx: Transaction): KeySpace {
  return {
    get: (key) => tx.getEntry(key),
    async getMany(keys) {
      const entries: Array<Entry | undefined> = [];
      for (const key of keys) entries.push(await tx.getEntry(key));
      return entries;
    },
    write: async (fn) => fn(tx),
  };
}

/** The store as a command inside EXEC sees it: its keys through the transaction (so a write there cannot wait on the EXEC's own unit), the rest as it is. */
function transactionStore(store: ServedStore, keys: KeySpace): ServedStore {
  const view: ServedStore = {
    get: keys.get,
    getMany: keys.getMany,
    write: keys.write,
    keys: (options) => store.keys(options),
    stats: () => store.stats(),
    get counters() {
      return store.counters;
    },
    close: () => store.close(),
  };
  shareScanCursors(view, store);
  return view;
}
