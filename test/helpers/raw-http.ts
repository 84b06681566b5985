// Bytes to a server over a plain TCP connection, and everything it answers:
// for requests no HTTP client would send (truncated, malformed, slow).
import { connect, type Socket } from 'node:net';

export interface RawOptions {
  /** Half-close after writing (default true): the server sees the end of the request stream. */
  end?: boolean;
  /** Give up (destroying the socket) after this many ms (default 5000). */
  timeoutMs?: number;
  /** Called with the socket once connected, before the bytes are written, and with each chunk that arrives. */
  onData?: (chunk: Buffer, socket: Socket) => void;
}

/** What the server wrote until it closed the connection (or the timeout), and whether it closed it. */
export function rawExchange(port: number, bytes: Buffer | string, options: RawOptions = {}): Promise<{ text: string; closed: boolean }> {
  return new Promise((resolve) => {
    const socket = connect(port, '127.0.0.1');
    const chunks: Buffer[] = [];
    let closed = false;
    const timer = setTimeout(() => socket.destroy(), options.timeoutMs ?? 5000);
    socket.on('data', (chunk: Buffer) => {
      chunks.push(chunk);
      options.onData?.(chunk, socket);
    });
    socket.on('end', () => {
      closed = true;
    });
    socket.on('error', () => {
      closed = true;
    });
    socket.on('close', () => {
      clearTimeout(timer);
      resolve({ text: Buffer.concat(chunks).toString('latin1'), closed });
    });
    socket.on('connect', () => {
      socket.write(bytes);
      if (options.end ?? true) socket.end();
    });
  });
}

/** The status codes of every HTTP response in `text` (interim 100 Continue included). */
export function statuses(text: string): number[] {
  return [...text.matchAll(/HTTP\/1\.1 (\d{3}) /g)].map((m) => Number(m[1]));
}
