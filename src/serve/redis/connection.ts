// One client's connection: the bytes it sends are parsed into commands, each
// command is checked (known, arity, AUTH: in Redis's order) and run, and the
// replies go back in the order the commands came. A command starts once the
// one before it has answered, except that reads in a row start together, and
// so do writes in a row (their units queue in order and share a commit); so
// each sees every write of the commands before it. The replies to one
// chunk of pipelined commands leave in one socket write. Reading stops while
// a command runs or the socket's send buffer is full. Nothing a client sends
// ends the server: a protocol error is answered, then the connection closes;
// a command's error is its reply.
import type { Socket } from 'node:net';
import { performance } from 'node:perf_hooks';
import { TzkvError } from '../../errors.js';
import { MAX_VALUE_BYTES } from '../../format/constants.js';
import type { ServedStore } from '../core/served-store.js';
import type { Metrics } from '../metrics.js';
import { ErrorReply } from '../resp/reply.js';
import type { Reply } from '../resp/reply.js';
import { RespParser, RespProtocolError } from '../resp/resp-parser.js';
import { RespWriter } from '../resp/resp-writer.js';
import { ClientState } from './client-state.js';
import type { CommandContext, RedisCommand, ServerState } from './command.js';
import { arityAccepts } from './command-table.js';
import { arityError } from './redis-args.js';
import { NOAUTH, unknownCommand } from './redis-errors.js';
import { discardCommand, execCommand, MultiState, multiCommand, unwatchCommand, watchCommand } from './transaction.js';

export interface ConnectionLimits {
  /** Longest bulk string a client may send (default MAX_VALUE_BYTES); over it the connection closes. */
  maxBulkBytes?: number;
  /** Close a connection that sent nothing and had nothing running for this long (ms); 0 or absent: never. */
  idleTimeoutMs?: number;
}

export interface ConnectionOptions {
  id: number;
  commands: ReadonlyMap<string, RedisCommand>;
  store: ServedStore;
  server: ServerState;
  limits?: ConnectionLimits;
  /** The data's clock (ms since the epoch): TTLs, and the connection's age in CLIENT INFO. Default Date.now. */
  now?: () => number;
  /** Told of every command of the table that was called (not of unknown names): how long it took, whether it answered without error. */
  onCommand?: (name: string, micros: number, ok: boolean) => void;
  /** Told of an exception that was no TzkvError (a bug): the client got "ERR internal error". */
  onError?: (error: unknown, command: string) => void;
  /** Told the bytes the socket read and wrote, after each write of replies and when it closes. */
  metrics?: Metrics;
}

/** Replies waiting to be sent past this many bytes: stop running commands until the socket drains. */
const OUTPUT_HIGH_WATER = 1024 * 1024;
const INTERNAL_ERROR = new ErrorReply('ERR internal error');
/** No command's name is longer: a longer first word is not looked up (nor made a string). */
const LONGEST_NAME = 64;
/** Most reads, or writes, of a pipeline started together. */
const READ_BATCH = 64;

export class RedisConnection {
  readonly state: ClientState;
  /** Settles once the socket has closed. */
  readonly closed: Promise<void>;
  private readonly parser: RespParser;
  private readonly writer = new RespWriter();
  private readonly multi = new MultiState();
  private readonly context: CommandContext;
  /** For a read that follows writes of a pipeline: its reads are units of the group commit, after those writes' units. */
  private readonly afterWrites: CommandContext;
  private readonly now: () => number;
  /** A command is being run (the pump is going). */
  private busy = false;
  /** The pump waits for the client to read its replies. */
  private draining = false;
  /** No more commands will be run: the connection ends once the pump stops. */
  private stopping = false;
  private inputEnded = false;
  private paused = false;

  constructor(
    private readonly socket: Socket,
    private readonly options: ConnectionOptions,
  ) {
    this.now = options.now ?? Date.now;
    const local = socket.localAddress === undefined ? '' : `${socket.localAddress}:${socket.localPort}`;
    const remote = socket.remoteAddress === undefined ? '' : `${socket.remoteAddress}:${socket.remotePort}`;
    this.state = new ClientState(options.id, options.server.password === null, remote, local, this.now());
    this.parser = new RespParser({ maxBulkBytes: options.limits?.maxBulkBytes ?? MAX_VALUE_BYTES });
    this.parser.authRequired = !this.state.authenticated;
    this.context = { keys: options.store, store: options.store, conn: this.state, server: options.server, now: this.now };
    const store = options.store;
    this.afterWrites = {
      ...this.context,
      keys: {
        get: (key) => store.write((tx) => tx.getEntry(key)),
        getMany: (keys) => store.write(async (tx) => { const found = []; for (const key of keys) found.push(await tx.getEntry(key)); return found; }),
        write: (fn) => store.write(fn),
      },
    };
    this.closed = new Promise((resolve) =>
      socket.once('close', () => {
        options.metrics?.transferred('redis', socket);
        resolve();
      }),
    );
    socket.setNoDelay(true);
    socket.on('data', (chunk: Buffer) => this.received(chunk));
    socket.on('end', () => {
      this.inputEnded = true;
      if (!this.busy) this.end();
    });
    socket.on('error', () => socket.destroy());
    socket.on('close', () => {
      this.stopping = true;
    });
    const idle = options.limits?.idleTimeoutMs ?? 0;
    if (idle > 0) {
      // A command that runs long is not idleness; a client that reads none of its replies is (as in Redis).
      socket.setTimeout(idle, () => {
        if (!this.busy || this.draining) socket.destroy();
      });
    }
  }

  /** Stops reading, lets the command running finish and the replies be sent, then ends the connection. */
  close(): Promise<void> {
    this.stopping = true;
    if (!this.busy) this.end();
    return this.closed;
  }

  /** Closes at once, replies unsent. */
  destroy(): void {
    this.stopping = true;
    this.socket.destroy();
  }

  private received(chunk: Buffer): void {
    if (this.stopping) return;
    this.state.lastActiveAt = this.now();
    this.parser.feed(chunk);
    if (!this.busy) {
      void this.pump();
    } else if (!this.paused) {
      this.paused = true;
      this.socket.pause();
    }
  }

  /**
   * Runs the commands parsed so far, in order, and sends their replies. A
   * command starts once the one before it has answered, except that reads
   * which follow one another start together (READ_BATCH at most): none of
   * them writes, and their reads of the store then share one look at what
   * changed (ServedStore.get). Writes which follow one another start
   * together too: each queues its unit (KeySpace.write) before its first
   * await, so the units queue in the commands' order and one commit (one
   * fsync) carries them all, rather than one commit per pipelined SET. A
   * read of keys (GET, MGET, TTL...: not SCAN or KEYS) after such writes
   * joins them: its reads are units of the same commit, queued after theirs.
   */
  private async pump(): Promise<void> {
    this.busy = true;
    try {
      let held: Buffer[] | RespProtocolError | null = null;
      while (!this.stopping) {
        const words = held ?? this.nextFrame();
        held = null;
        if (words === null) break;
        if (words instanceof RespProtocolError) {
          this.send(new ErrorReply(words.message));
          this.stopping = true;
          break;
        }
        const command = this.lookup(words[0]!);
        const replies = [this.execute(words, command)];
        const kind = this.together(command, words);
        if (kind !== null) {
          while (replies.length < READ_BATCH) {
            const next = this.nextFrame();
            if (next === null) break;
            const nextCommand = next instanceof RespProtocolError ? undefined : this.lookup(next[0]!);
            const nextKind = next instanceof RespProtocolError ? null : this.together(nextCommand, next);
            // A read of keys after writes joins them, its reads queued behind their units (it sees them; its reply waits for their commit).
            const joinsWrites = kind === 'write' && nextKind === 'read' && nextCommand!.firstKey > 0;
            if (nextKind !== kind && !joinsWrites) {
              held = next;
              break;
            }
            replies.push(this.execute(next as Buffer[], nextCommand, joinsWrites ? this.afterWrites : this.context));
          }
        }
        for (const reply of replies) {
          this.send(reply instanceof Promise ? await reply : reply);
          this.parser.authRequired = !this.state.authenticated;
          this.state.queued = this.multi.length;
          if (this.state.closing) this.stopping = true;
          else if (this.writer.pendingBytes + this.socket.writableLength >= OUTPUT_HIGH_WATER) await this.drained();
        }
      }
      this.flush();
    } catch (error) {
      this.options.onError?.(error, 'connection');
      this.stopping = true;
      this.socket.destroy();
    } finally {
      this.busy = false;
      if (this.stopping || this.inputEnded) this.end();
      else if (this.paused) {
        this.paused = false;
        this.socket.resume();
      }
    }
  }

  /** The next command parsed, null until more bytes come, or the protocol error the bytes are. */
  private nextFrame(): Buffer[] | RespProtocolError | null {
    try {
      return this.parser.next();
    } catch (error) {
      if (error instanceof RespProtocolError) return error;
      throw error;
    }
  }

  private lookup(name: Buffer): RedisCommand | undefined {
    return name.length <= LONGEST_NAME ? this.options.commands.get(name.toString('latin1').toLowerCase()) : undefined;
  }

  /**
   * Whether the call may start together with its neighbours of the same kind:
   * 'read' for a read-only command, 'write' for a data command that writes
   * (not EXEC, MULTI, WATCH...: those are not flagged 'write'), its arity
   * right, the connection authenticated and not in MULTI; null otherwise.
   */
  private together(command: RedisCommand | undefined, words: Buffer[]): 'read' | 'write' | null {
    if (command === undefined || !arityAccepts(command.arity, words.length) || !this.state.authenticated || this.multi.active) return null;
    if (command.flags.includes('readonly')) return 'read';
    if (command.flags.includes('write')) return 'write';
    return null;
  }

  /** Checks and runs one command (`words`: its name, then its arguments; `command`: what the name names); queues it inside MULTI. */
  private execute(words: Buffer[], command: RedisCommand | undefined, context: CommandContext = this.context): Reply | Promise<Reply> {
    if (command === undefined) return this.refuse(unknownCommand(words));
    if (!arityAccepts(command.arity, words.length)) return this.refuse(arityError(command.name), command);
    if (!this.state.authenticated && !command.flags.includes('no_auth')) return this.refuse(NOAUTH, command);
    this.state.lastCommand = command.name;
    const args = words.slice(1);
    const multi = this.multi;
    if (command === multiCommand) return this.run(command, () => multi.begin());
    if (command === discardCommand) return this.run(command, () => multi.discard());
    if (command === watchCommand) return this.run(command, () => multi.watch(this.context.keys, args));
    if (multi.active && command !== execCommand && command.name !== 'quit') return multi.add(command, args);
    // The replies before a command that may wait on a commit (an fsync) are sent first.
    if (command === execCommand || command.flags.includes('write')) this.flush();
    if (command === execCommand) {
      // A queued command is counted once the EXEC is over, and only from its last run (MultiState.exec).
      const runQueued = async (ctx: CommandContext, queued: RedisCommand, queuedArgs: Buffer[], afterwards: Array<() => void>): Promise<Reply> =>
        this.run(queued, () => queued.run(ctx, queuedArgs), (name, micros, ok) => afterwards.push(() => this.options.onCommand?.(name, micros, ok)));
      return this.run(command, () => multi.exec(this.context, runQueued));
    }
    if (command === unwatchCommand) return this.run(command, () => multi.unwatch());
    return this.run(command, () => command.run(context, args));
  }

  /** A command that is not run: inside MULTI, the EXEC to come is refused too. */
  private refuse(error: ErrorReply, command?: RedisCommand): Reply {
    this.multi.refused();
    if (command) this.options.onCommand?.(command.name, 0, false);
    return error;
  }

  /** Runs `fn` for `command`: times it (told to `report`), and turns what it throws into its reply. */
  private run(command: RedisCommand, fn: () => Reply | Promise<Reply>, report = this.options.onCommand): Reply | Promise<Reply> {
    const started = report ? performance.now() : 0;
    const ran = (reply: Reply): Reply => {
      report?.(command.name, Math.round((performance.now() - started) * 1000), !(reply instanceof ErrorReply));
      return reply;
    };
    let result: Reply | Promise<Reply>;
    try {
      result = fn();
    } catch (error) {
      return ran(this.errorReply(error, command));
    }
    if (result instanceof Promise) {
      return result.then(ran, (error: unknown) => ran(this.errorReply(error, command)));
    }
    return ran(result);
  }

  private errorReply(error: unknown, command: RedisCommand): ErrorReply {
    if (error instanceof TzkvError) return new ErrorReply(`ERR ${error.message}`);
    this.options.onError?.(error, command.name);
    return INTERNAL_ERROR;
  }

  private send(reply: Reply): void {
    try {
      this.writer.write(reply, this.state.protocol);
    } catch (error) {
      this.options.onError?.(error, this.state.lastCommand);
      this.writer.write(INTERNAL_ERROR, this.state.protocol);
    }
  }

  private flush(): void {
    if (this.writer.pendingBytes === 0) return;
    const parts = this.writer.take();
    if (!this.socket.writable) return;
    if (parts.length === 1) {
      this.socket.write(parts[0]!);
    } else {
      this.socket.cork();
      for (const part of parts) this.socket.write(part);
      this.socket.uncork();
    }
    this.options.metrics?.transferred('redis', this.socket);
  }

  private drained(): Promise<void> {
    this.flush();
    if (this.socket.writableLength === 0 || this.socket.destroyed) return Promise.resolve();
    this.draining = true;
    return new Promise((resolve) => {
      const done = (): void => {
        this.draining = false;
        this.socket.off('drain', done);
        this.socket.off('close', done);
        resolve();
      };
      this.socket.on('drain', done);
      this.socket.on('close', done);
    });
  }

  /** Sends what is left and closes: the socket is destroyed once everything was handed to the system. */
  private end(): void {
    this.stopping = true;
    this.flush();
    if (this.socket.destroyed || this.socket.writableEnded) return;
    this.socket.once('finish', () => this.socket.destroy());
    this.socket.end();
  }
}
