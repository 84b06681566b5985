// A Redis command as the server runs it: its name, arity and flags (what
// COMMAND reports, and what the connection checks before running it), and
// the function that answers it.
import type { Entry, Transaction } from '../../api.js';
import type { ServedStore } from '../core/served-store.js';
import type { Reply } from '../resp/reply.js';

/**
 * The keys a command reads and writes. Outside MULTI reads come from the
 * cache and each write() is its own unit of the group commit; inside EXEC
 * every queued command's reads and writes go through the one transaction
 * of the EXEC, so the whole EXEC is atomic.
 */
export interface KeySpace {
  get(key: Buffer): Promise<Entry | undefined>;
  getMany(keys: readonly Buffer[]): Promise<Array<Entry | undefined>>;
  /**
   * A read-modify-write: atomic, applied wholly or not at all. A command
   * flagged 'write' calls it before its first await, and reads the keys it
   * writes only through `tx`: pipelined writes start together
   * (connection.ts), and their units must queue in the commands' order.
   */
  write<T>(fn: (tx: Transaction) => T | Promise<T>): Promise<T>;
}

/** What a connection knows about itself (CLIENT, HELLO, SELECT, AUTH). */
export interface ConnectionState {
  readonly id: number;
  /** 2 until HELLO 3. */
  protocol: 2 | 3;
  name: string | null;
  db: number;
  authenticated: boolean;
  /** Set by QUIT: the connection closes after this reply is written. */
  closing: boolean;
  readonly remoteAddress: string;
  readonly connectedAt: number;
}

/** What INFO, COMMAND and AUTH need from the server. */
export interface ServerState {
  readonly startedAt: number;
  /** null: no password is required. */
  readonly password: string | null;
  readonly port: number | null;
  readonly location: string;
  connectedClients(): number;
  totalCommands(): number;
  readonly commands: ReadonlyMap<string, RedisCommand>;
  /** The connections open now, for CLIENT LIST (absent: CLIENT LIST shows the caller's only). */
  clients?(): Iterable<ConnectionState>;
  /** tzkv's version, for INFO. */
  readonly version?: string;
  /** The most clients served at once, for INFO. */
  readonly maxClients?: number;
}

export interface CommandContext {
  readonly keys: KeySpace;
  /** For listing (SCAN, KEYS), counting (DBSIZE) and INFO: not part of a MULTI's atomicity. */
  readonly store: ServedStore;
  readonly conn: ConnectionState;
  readonly server: ServerState;
  /** The data's clock (ms since the epoch), for TTLs. */
  now(): number;
}

export interface RedisCommand {
  /** Lower case, as COMMAND reports it. */
  readonly name: string;
  /** Redis's arity: N exactly N words with the name; -N at least N. */
  readonly arity: number;
  /** As COMMAND reports them: 'write', 'readonly', 'fast', 'denyoom', 'noscript', 'loading', 'stale', 'no_auth', 'allow_busy', ... */
  readonly flags: readonly string[];
  readonly firstKey: number;
  readonly lastKey: number;
  readonly step: number;
  /** `args` are the words after the name; the arity is checked before. */
  run(ctx: CommandContext, args: Buffer[]): Reply | Promise<Reply>;
}
