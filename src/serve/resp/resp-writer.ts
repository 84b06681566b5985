// Replies (reply.ts) as the bytes of RESP2, or of RESP3 after HELLO 3, as
// Redis 7 writes them. The replies to one chunk of pipelined commands are
// appended one after the other and taken as a few large Buffers, for one
// socket write: small parts are copied into a shared slab, a large bulk
// string is passed on as it is (not copied).
import { BoolReply, DoubleReply, ErrorReply, MapReply, NullArray, SetReply, SimpleString, VerbatimReply } from './reply.js';
import type { Reply } from './reply.js';

export type Protocol = 2 | 3;

const SLAB_BYTES = 64 * 1024;
/** A bulk string this long is handed to the socket as its own Buffer rather than copied. */
const DIRECT_BYTES = 16 * 1024;

export class RespWriter {
  private slab = Buffer.allocUnsafe(SLAB_BYTES);
  /** slab[start, pos) is written and not yet taken. */
  private start = 0;
  private pos = 0;
  /** Written parts before slab[start], in order. */
  private parts: Buffer[] = [];
  private partsBytes = 0;

  /** Bytes appended and not yet taken. */
  get pendingBytes(): number {
    return this.partsBytes + this.pos - this.start;
  }

  /**
   * Appends one reply. A reply that is no Reply (a number that is no safe
   * integer, an unknown object) throws TypeError and appends nothing.
   */
  write(reply: Reply, protocol: Protocol): void {
    const { slab, start, pos } = this;
    const partCount = this.parts.length;
    const partsBytes = this.partsBytes;
    try {
      this.encode(reply, protocol);
    } catch (error) {
      this.slab = slab;
      this.start = start;
      this.pos = pos;
      this.parts.length = partCount;
      this.partsBytes = partsBytes;
      throw error;
    }
  }

  /** Everything appended since the last take, in order; the caller owns the Buffers. */
  take(): Buffer[] {
    this.cut();
    const parts = this.parts;
    this.parts = [];
    this.partsBytes = 0;
    return parts;
  }

  private encode(reply: Reply, protocol: Protocol): void {
    if (reply === null) return this.ascii(protocol === 3 ? '_\r\n' : '$-1\r\n');
    if (Buffer.isBuffer(reply)) return this.bulk(reply);
    if (typeof reply === 'number') {
      if (!Number.isSafeInteger(reply)) throw new TypeError(`an integer reply must be a safe integer, got ${reply}`);
      return this.ascii(`:${reply}\r\n`);
    }
    if (typeof reply === 'bigint') return this.ascii(`:${reply}\r\n`);
    if (Array.isArray(reply)) return this.aggregate('*', reply, protocol);
    if (reply instanceof SimpleString) return this.text('+', reply.text);
    if (reply instanceof ErrorReply) return this.text('-', reply.message);
    if (reply instanceof NullArray) return this.ascii(protocol === 3 ? '_\r\n' : '*-1\r\n');
    if (reply instanceof MapReply) return this.map(reply, protocol);
    if (reply instanceof SetReply) return this.aggregate(protocol === 3 ? '~' : '*', reply.items, protocol);
    if (reply instanceof DoubleReply) {
      const text = formatDouble(reply.value);
      return protocol === 3 ? this.ascii(`,${text}\r\n`) : this.bulk(Buffer.from(text, 'latin1'));
    }
    if (reply instanceof BoolReply) return this.ascii(protocol === 3 ? (reply.value ? '#t\r\n' : '#f\r\n') : reply.value ? ':1\r\n' : ':0\r\n');
    if (reply instanceof VerbatimReply) return this.verbatim(reply.text, protocol);
    throw new TypeError(`not a reply: ${Object.prototype.toString.call(reply)}`);
  }

  private aggregate(type: string, items: readonly Reply[], protocol: Protocol): void {
    this.ascii(`${type}${items.length}\r\n`);
    for (const item of items) this.encode(item, protocol);
  }

  /** RESP3's %; in RESP2 an array of the keys and values in turn, as Redis writes it. */
  private map(reply: MapReply, protocol: Protocol): void {
    const count = reply.entries.length;
    this.ascii(protocol === 3 ? `%${count}\r\n` : `*${count * 2}\r\n`);
    for (const [key, value] of reply.entries) {
      this.encode(key, protocol);
      this.encode(value, protocol);
    }
  }

  private verbatim(text: string, protocol: Protocol): void {
    const bytes = Buffer.from(text, 'utf8');
    if (protocol === 2) return this.bulk(bytes);
    this.ascii(`=${bytes.length + 4}\r\ntxt:`);
    this.bytes(bytes);
    this.ascii('\r\n');
  }

  private bulk(value: Buffer): void {
    this.ascii(`$${value.length}\r\n`);
    this.bytes(value);
    this.ascii('\r\n');
  }

  /** A simple string or an error: one line, so \r and \n become spaces (as Redis's addReplyErrorFormat does). */
  private text(type: string, text: string): void {
    const line = text.includes('\r') || text.includes('\n') ? text.replace(/[\r\n]/g, ' ') : text;
    const length = Buffer.byteLength(line, 'utf8');
    this.room(length + 3);
    this.slab[this.pos++] = type.charCodeAt(0);
    this.pos += this.slab.write(line, this.pos, 'utf8');
    this.slab[this.pos++] = 0x0d;
    this.slab[this.pos++] = 0x0a;
  }

  private ascii(text: string): void {
    this.room(text.length);
    this.pos += this.slab.write(text, this.pos, 'latin1');
  }

  private bytes(value: Buffer): void {
    if (value.length >= DIRECT_BYTES) {
      this.cut();
      this.parts.push(value);
      this.partsBytes += value.length;
      return;
    }
    this.room(value.length);
    this.pos += value.copy(this.slab, this.pos);
  }

  /** Moves the written part of the slab to `parts`. */
  private cut(): void {
    if (this.pos === this.start) return;
    this.parts.push(this.slab.subarray(this.start, this.pos));
    this.partsBytes += this.pos - this.start;
    this.start = this.pos;
  }

  private room(bytes: number): void {
    if (this.pos + bytes <= this.slab.length) return;
    this.cut();
    this.slab = Buffer.allocUnsafe(Math.max(SLAB_BYTES, bytes));
    this.start = 0;
    this.pos = 0;
  }
}

/** A double as Redis 7.2 writes it: the shortest text that reads back the same, or inf, -inf, nan. */
function formatDouble(value: number): string {
  if (Number.isNaN(value)) return 'nan';
  if (value === Infinity) return 'inf';
  if (value === -Infinity) return '-inf';
  return Object.is(value, -0) ? '-0' : String(value);
}
