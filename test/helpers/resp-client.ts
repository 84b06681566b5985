// A raw Redis protocol client for tests: sends bytes as they are and reads
// replies back as the exact bytes the server wrote (latin1 strings), one
// reply at a time, so a test can compare them with what Redis writes.
import net from 'node:net';

/** Where the reply starting at `pos` ends, or -1 when `buf` holds only part of it. RESP2 and RESP3. */
function replyEnd(buf: Buffer, pos: number): number {
  if (pos >= buf.length) return -1;
  const cr = buf.indexOf('\r\n', pos);
  if (cr === -1) return -1;
  const type = String.fromCharCode(buf[pos]!);
  const line = buf.toString('latin1', pos + 1, cr);
  let next = cr + 2;
  if ('$=!'.includes(type)) {
    const length = Number(line);
    if (length < 0) return next;
    return buf.length >= next + length + 2 ? next + length + 2 : -1;
  }
  if ('*~>%|'.includes(type)) {
    const count = Number(line);
    const elements = count < 0 ? 0 : '%|'.includes(type) ? count * 2 : count;
    for (let i = 0; i < elements; i++) {
      next = replyEnd(buf, next);
      if (next === -1) return -1;
    }
    return next;
  }
  return next;
}

export class RespClient {
  /** Settles when the server closed the connection. */
  readonly closed: Promise<void>;
  private buf = Buffer.alloc(0);
  private wake: (() => void) | null = null;
  private ended = false;

  private constructor(readonly socket: net.Socket) {
    socket.on('data', (chunk: Buffer) => {
      this.buf = Buffer.concat([this.buf, chunk]);
      this.wake?.();
    });
    socket.on('error', () => undefined);
    this.closed = new Promise((resolve) =>
      socket.once('close', () => {
        this.ended = true;
        this.wake?.();
        resolve();
      }),
    );
  }

  static connect(where: number | string): Promise<RespClient> {
    return new Promise((resolve, reject) => {
      const socket = typeof where === 'number' ? net.connect(where, '127.0.0.1') : net.connect(where);
      socket.once('connect', () => resolve(new RespClient(socket)));
      socket.once('error', reject);
    });
  }

  /** Writes `data` (a string's chars as bytes, latin1). */
  send(data: string | Buffer): void {
    this.socket.write(typeof data === 'string' ? Buffer.from(data, 'latin1') : data);
  }

  /** Sends one multibulk command and reads its reply. */
  async call(...words: Array<string | Buffer>): Promise<string> {
    this.send(encodeCommand(words));
    return (await this.replies(1))[0]!;
  }

  /** The next `count` replies, each as the bytes the server wrote; rejects if the connection closes first. */
  async replies(count: number, timeoutMs = 10_000): Promise<string[]> {
    const out: string[] = [];
    const deadline = Date.now() + timeoutMs;
    while (out.length < count) {
      const end = replyEnd(this.buf, 0);
      if (end !== -1) {
        out.push(this.buf.toString('latin1', 0, end));
        this.buf = this.buf.subarray(end);
        continue;
      }
      if (this.ended) throw new Error(`connection closed after ${out.length} of ${count} replies; left: ${JSON.stringify(this.buf.toString('latin1'))}`);
      if (Date.now() > deadline) throw new Error(`no reply after ${out.length} of ${count}; left: ${JSON.stringify(this.buf.toString('latin1'))}`);
      await new Promise<void>((resolve) => {
        this.wake = resolve;
        setTimeout(resolve, 50);
      });
    }
    return out;
  }

  /** Everything the server sends until it closes the connection, or `ms` pass; and whether it closed. */
  async rest(ms = 2000): Promise<{ data: string; closed: boolean }> {
    await Promise.race([this.closed, new Promise((resolve) => setTimeout(resolve, ms))]);
    const data = this.buf.toString('latin1');
    this.buf = Buffer.alloc(0);
    return { data, closed: this.ended };
  }

  close(): void {
    this.socket.destroy();
  }
}

export function encodeCommand(words: Array<string | Buffer>): Buffer {
  const parts: Buffer[] = [Buffer.from(`*${words.length}\r\n`)];
  for (const word of words) {
    const bytes = typeof word === 'string' ? Buffer.from(word) : word;
    parts.push(Buffer.from(`$${bytes.length}\r\n`), bytes, Buffer.from('\r\n'));
  }
  return Buffer.concat(parts);
}
