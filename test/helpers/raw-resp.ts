// A Redis connection at the byte level, for tests that check what a server
// writes rather than what a client library makes of it: it sends frames (a
// RESP array of bulk strings, or any bytes at all) and hands back exactly the
// bytes of the next N replies. readReply() is the only decoding: enough to
// know where a RESP2 or RESP3 reply ends, and what its parts are.
import { connect, type Socket } from 'node:net';

/** A command as redis-cli sends it: an array of bulk strings. */
export function frame(...words: Array<string | Buffer>): Buffer {
  const parts: Buffer[] = [Buffer.from(`*${words.length}\r\n`)];
  for (const word of words) {
    const bytes = typeof word === 'string' ? Buffer.from(word) : word;
    parts.push(Buffer.from(`$${bytes.length}\r\n`), bytes, Buffer.from('\r\n'));
  }
  return Buffer.concat(parts);
}

/**
 * One reply as it came over the wire. `type` is its first byte:
 *   + - : _ # , (  a line (`text`)
 *   $ ! =          a length-prefixed string (`bytes`; null for $-1)
 *   * ~ > %        an aggregate (`items`, a map's keys and values in turn; null for *-1)
 */
export type RawReply =
  | { type: '+' | '-' | ':' | '_' | '#' | ',' | '('; text: string }
  | { type: '$' | '!' | '='; bytes: Buffer | null }
  | { type: '*' | '~' | '>' | '%'; items: RawReply[] | null };

/** The complete reply that starts at `offset`, and the offset after it; undefined while incomplete. */
export function readReply(buf: Buffer, offset = 0): { reply: RawReply; end: number } | undefined {
  const lineEnd = buf.indexOf('\r\n', offset);
  if (lineEnd < 0) return undefined;
  const type = String.fromCharCode(buf[offset]);
  const text = buf.toString('latin1', offset + 1, lineEnd);
  let end = lineEnd + 2;
  switch (type) {
    case '+': case '-': case ':': case '_': case '#': case ',': case '(':
      return { reply: { type, text }, end };
    case '$': case '!': case '=': {
      const length = Number(text);
      if (length < 0) return { reply: { type, bytes: null }, end };
      if (buf.length < end + length + 2) return undefined;
      return { reply: { type, bytes: buf.subarray(end, end + length) }, end: end + length + 2 };
    }
    case '*': case '~': case '>': case '%': {
      const count = Number(text);
      if (count < 0) return { reply: { type, items: null }, end };
      const items: RawReply[] = [];
      for (let i = 0; i < (type === '%' ? 2 * count : count); i++) {
        const item = readReply(buf, end);
        if (item === undefined) return undefined;
        items.push(item.reply);
        end = item.end;
      }
      return { reply: { type, items }, end };
    }
    default:
      throw new Error(`not a RESP reply at byte ${offset}: ${JSON.stringify(buf.toString('latin1', offset, offset + 40))}`);
  }
}

export class RawConnection {
  private received = Buffer.alloc(0);
  private wake: (() => void) | undefined;
  private ended = false;

  private constructor(private readonly socket: Socket) {
    socket.on('data', (chunk: Buffer) => {
      this.received = Buffer.concat([this.received, chunk]);
      this.wake?.();
    });
    socket.on('close', () => {
      this.ended = true;
      this.wake?.();
    });
    socket.on('error', () => {
      // a reset shows as 'close'; the read that waits for it fails there
    });
  }

  /** To 127.0.0.1:`where`, or to the unix socket at the path `where`. */
  static open(where: number | string): Promise<RawConnection> {
    return new Promise((resolve, reject) => {
      const socket = typeof where === 'number' ? connect(where, '127.0.0.1') : connect(where);
      socket.once('error', reject);
      socket.once('connect', () => {
        socket.off('error', reject);
        resolve(new RawConnection(socket));
      });
    });
  }

  /** Writes `bytes` (or a frame of `words`) and resolves with exactly the bytes of the next `replies` replies. */
  async send(bytes: Buffer | Array<string | Buffer>, replies = 1, timeoutMs = 10_000): Promise<Buffer> {
    this.socket.write(Array.isArray(bytes) ? frame(...bytes) : bytes);
    return this.read(replies, timeoutMs);
  }

  /** The bytes of the next `replies` replies, consumed. */
  async read(replies = 1, timeoutMs = 10_000): Promise<Buffer> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      let end = 0;
      let complete = 0;
      for (; complete < replies; complete++) {
        const next = readReply(this.received, end);
        if (next === undefined) break;
        end = next.end;
      }
      if (complete === replies) {
        const bytes = this.received.subarray(0, end);
        this.received = this.received.subarray(end);
        return bytes;
      }
      if (this.ended) throw new Error(`the server closed the connection after ${complete} of ${replies} replies: ${JSON.stringify(this.received.toString('latin1').slice(0, 200))}`);
      if (Date.now() > deadline) throw new Error(`no complete reply in ${timeoutMs} ms; received ${JSON.stringify(this.received.toString('latin1').slice(0, 200))}`);
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, 100);
        this.wake = () => {
          clearTimeout(timer);
          resolve();
        };
      });
      this.wake = undefined;
    }
  }

  /** Resolves once the server has closed the connection (rejects after `timeoutMs`); what it sent before is kept for read(). */
  async closedByServer(timeoutMs = 5_000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (!this.ended) {
      if (Date.now() > deadline) throw new Error(`the server kept the connection open for ${timeoutMs} ms`);
      await new Promise((r) => setTimeout(r, 20));
    }
  }

  /** Writes bytes without waiting for anything. */
  write(bytes: Buffer): void {
    this.socket.write(bytes);
  }

  /** The bytes received and not read yet, consumed (what a server sent before it closed, say). */
  unread(): Buffer {
    const bytes = this.received;
    this.received = Buffer.alloc(0);
    return bytes;
  }

  /** Stops reading from the socket, as a client that does not read its replies; resume() reads again. */
  pause(): void {
    this.socket.pause();
  }

  resume(): void {
    this.socket.resume();
  }

  /** Ends the sending side only: the server sees the end of its input and may still reply. */
  endInput(): void {
    this.socket.end();
  }

  close(): void {
    this.socket.destroy();
  }
}
