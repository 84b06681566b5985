// Commands out of the bytes a client sends, in the chunks a socket delivers
// them: multibulk frames (`*2\r\n$3\r\nGET\r\n$1\r\nk\r\n`) and inline
// commands (`GET k\r\n`, split by inline-args.ts), as Redis 7's
// processMultibulkBuffer and processInlineBuffer read them, with their limits
// and their error texts. Like Redis, the two bytes after a bulk string are
// skipped unread, and a frame of zero or a negative count is no command.
//
// A whole frame inside one chunk costs no copy: its arguments are views of
// the chunk. A chunk is copied only when a frame continues in the next one
// (once, when the frame's bytes have all arrived). Chunks are never written
// to, so an argument stays valid as long as it is held; it pins its chunk,
// so code that keeps an argument long after the reply (a cache) copies it.

import { splitInlineArgs } from './inline-args.js';
import { parseRedisInteger } from './redis-integer.js';

/** Most arguments a multibulk frame may announce. */
export const MAX_MULTIBULK_LENGTH = 1024 * 1024;
/** Most bytes an unfinished inline command, or count line, may take (Redis's PROTO_INLINE_MAX_SIZE). */
export const MAX_INLINE_BYTES = 64 * 1024;
/** Before AUTH, when a password is set, Redis allows no more than these (CVE-2021-32675). */
const UNAUTHENTICATED_MULTIBULK_LENGTH = 10;
const UNAUTHENTICATED_BULK_BYTES = 16 * 1024;

const LF = 0x0a;
const CR = 0x0d;
const STAR = 0x2a;
const DOLLAR = 0x24;
const EMPTY = Buffer.alloc(0);

/** A frame Redis would refuse; `message` is the error reply, after which the connection closes. */
export class RespProtocolError extends Error {
  constructor(problem: string) {
    super(`ERR Protocol error: ${problem}`);
    this.name = 'RespProtocolError';
  }
}

export interface RespParserOptions {
  /** Longest bulk string accepted; over it: "invalid bulk length". */
  maxBulkBytes: number;
}

export class RespParser {
  /** Set by the connection while a password is required and not given: the smaller limits apply. */
  authRequired = false;

  private buf: Buffer = EMPTY;
  private pos = 0;
  /** Chunks fed but not yet joined to `buf`: joined only once they let parsing go on. */
  private pending: Buffer[] = [];
  private pendingBytes = 0;
  /** Pending chunks already searched for `needLine`. */
  private scanned = 0;
  /** What parsing waits for: a line ending in this byte (-1: none), or `needBytes` bytes from `pos`. */
  private needLine = -1;
  private needBytes = 0;
  /** The multibulk frame being read: its arguments so far, how many are missing, the next one's length (-1: unread). */
  private argv: Buffer[] | null = null;
  private missing = 0;
  private bulkLength = -1;
  private failure: RespProtocolError | null = null;

  constructor(private readonly options: RespParserOptions) {}

  /** Bytes fed and not yet returned as commands. */
  get bufferedBytes(): number {
    return this.buf.length - this.pos + this.pendingBytes;
  }

  /** Takes a chunk; the parser keeps it (unchanged) until its commands are returned. */
  feed(chunk: Buffer): void {
    if (chunk.length === 0 || this.failure) return;
    this.pending.push(chunk);
    this.pendingBytes += chunk.length;
  }

  /**
   * The next whole command (its words, the name first), or null until more
   * bytes are fed. Throws RespProtocolError, then and ever after, once the
   * bytes are not a command.
   */
  next(): Buffer[] | null {
    if (this.failure) throw this.failure;
    try {
      for (;;) {
        const command = this.step();
        if (command) return command;
        if (!this.joinPending()) {
          this.checkUnfinishedLine();
          return null;
        }
      }
    } catch (error) {
      if (error instanceof RespProtocolError) this.fail(error);
      throw error;
    }
  }

  private fail(error: RespProtocolError): void {
    this.failure = error;
    this.buf = EMPTY;
    this.pos = 0;
    this.pending = [];
    this.pendingBytes = 0;
    this.argv = null;
  }

  /** Parses what `buf` holds; null (with the need set) when it ends inside a command. */
  private step(): Buffer[] | null {
    for (;;) {
      if (this.argv === null) {
        if (this.pos >= this.buf.length) return this.needs(1);
        if (this.buf[this.pos] === STAR) {
          if (!this.readCount()) return null;
          if (this.argv === null) continue;
        } else {
          const words = this.readInline();
          if (words === null) return null;
          if (words.length > 0) return words;
          continue;
        }
      }
      while (this.missing > 0) {
        if (this.bulkLength < 0 && !this.readBulkHeader()) return null;
        if (!this.readBulk()) return null;
      }
      const argv: Buffer[] = this.argv!;
      this.argv = null;
      return argv;
    }
  }

  private needs(bytes: number): null {
    this.needLine = -1;
    this.needBytes = bytes;
    return null;
  }

  /** The end of the \r-terminated line at `pos` (Redis reads one more byte, its \n, unchecked), or -1 (need set). */
  private lineEnd(): number {
    const cr = this.buf.indexOf(CR, this.pos);
    if (cr === -1) {
      this.needLine = CR;
      return -1;
    }
    if (cr + 1 >= this.buf.length) {
      this.needs(cr + 2 - this.pos);
      return -1;
    }
    return cr;
  }

  private readCount(): boolean {
    const cr = this.lineEnd();
    if (cr < 0) return false;
    const count = parseRedisInteger(this.buf, this.pos + 1, cr);
    if (Number.isNaN(count) || count > MAX_MULTIBULK_LENGTH) throw new RespProtocolError('invalid multibulk length');
    if (count > UNAUTHENTICATED_MULTIBULK_LENGTH && this.authRequired) {
      throw new RespProtocolError('unauthenticated multibulk length');
    }
    this.pos = cr + 2;
    if (count > 0) {
      this.argv = [];
      this.missing = count;
      this.bulkLength = -1;
    }
    return true;
  }

  private readBulkHeader(): boolean {
    const cr = this.lineEnd();
    if (cr < 0) return false;
    const first = this.buf[this.pos]!;
    if (first !== DOLLAR) throw new RespProtocolError(`expected '$', got '${String.fromCharCode(first)}'`);
    const length = parseRedisInteger(this.buf, this.pos + 1, cr);
    if (Number.isNaN(length) || length < 0 || length > this.options.maxBulkBytes) {
      throw new RespProtocolError('invalid bulk length');
    }
    if (length > UNAUTHENTICATED_BULK_BYTES && this.authRequired) throw new RespProtocolError('unauthenticated bulk length');
    this.pos = cr + 2;
    this.bulkLength = length;
    return true;
  }

  private readBulk(): boolean {
    const length = this.bulkLength;
    if (this.buf.length - this.pos < length + 2) {
      this.needs(length + 2);
      return false;
    }
    this.argv!.push(this.buf.subarray(this.pos, this.pos + length));
    this.pos += length + 2;
    this.bulkLength = -1;
    this.missing--;
    return true;
  }

  /** An inline command's words (none for a blank line), or null (need set) before its \n. */
  private readInline(): Buffer[] | null {
    const lf = this.buf.indexOf(LF, this.pos);
    if (lf === -1) {
      this.needLine = LF;
      return null;
    }
    const end = lf > this.pos && this.buf[lf - 1] === CR ? lf - 1 : lf;
    const words = splitInlineArgs(this.buf, this.pos, end);
    if (words === null) throw new RespProtocolError('unbalanced quotes in request');
    this.pos = lf + 1;
    return words;
  }

  /** Joins the pending chunks to `buf` once they hold what parsing needs; false when they do not yet. */
  private joinPending(): boolean {
    if (this.pendingBytes === 0) return false;
    if (this.needLine >= 0) {
      while (this.scanned < this.pending.length && this.pending[this.scanned]!.indexOf(this.needLine) === -1) this.scanned++;
      if (this.scanned === this.pending.length) return false;
    } else if (this.bufferedBytes < this.needBytes) {
      return false;
    }
    const rest = this.buf.subarray(this.pos);
    this.buf =
      rest.length === 0 && this.pending.length === 1
        ? this.pending[0]!
        : Buffer.concat([rest, ...this.pending], rest.length + this.pendingBytes);
    this.pos = 0;
    this.pending = [];
    this.pendingBytes = 0;
    this.scanned = 0;
    this.needLine = -1;
    return true;
  }

  /** Redis refuses a line it cannot find the end of in 64 KiB. */
  private checkUnfinishedLine(): void {
    if (this.needLine < 0 || this.bufferedBytes <= MAX_INLINE_BYTES) return;
    if (this.argv !== null) throw new RespProtocolError('too big bulk count string');
    if (this.buf[this.pos] === STAR) throw new RespProtocolError('too big mbulk count string');
    throw new RespProtocolError('too big inline request');
  }
}
