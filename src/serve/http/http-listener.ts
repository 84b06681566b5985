// The HTTP API's listener: node:http, or node:https with a certificate and
// key, with the limits a server facing unknown clients needs (slow headers,
// slow bodies, idle keep-alive connections, too many connections), a request
// the parser refuses answered with a JSON error and a closed connection, and
// a graceful close. bench/http-serve.mjs measured node:http against fastify
// for this API (docs/serve.md "HTTP API").
import { createServer as createHttpServer, type Server } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import type { AddressInfo, Socket } from 'node:net';
import type { HttpHandler } from './http-handler.js';

export interface HttpLimits {
  /** Most connections at once: one more is closed as it is accepted (default: no limit). */
  maxClients?: number;
  /** Time to send a request's headers, in ms (default 10,000); then 408 and the connection closes. */
  headersTimeoutMs?: number;
  /** Time to send a whole request, body included, in ms (default 300,000; 0: none); then 408. */
  requestTimeoutMs?: number;
  /** A keep-alive connection idle this long between requests is closed, in ms (default 5,000). */
  idleTimeoutMs?: number;
}

export interface HttpListenOptions {
  /** An IP address or host name (127.0.0.1, ::1, 0.0.0.0). */
  host: string;
  /** 0: any free port (address tells which). */
  port: number;
  /** PEM certificate (chain) and key: HTTPS. */
  tls?: { cert: Buffer | string; key: Buffer | string } | null;
  handler: HttpHandler;
  limits?: HttpLimits;
}

export interface HttpListener {
  /** host:port listened on (an IPv6 host in brackets), the port chosen when 0 was asked. */
  readonly address: string;
  /**
   * Stops accepting connections. Graceful: requests in flight finish and
   * their answers go out, idle connections close; resolves when the last
   * connection has. Otherwise every connection is cut at once.
   */
  close(graceful: boolean): Promise<void>;
}

/** How often a closing listener closes connections that have turned idle. */
const IDLE_SWEEP_MS = 50;

/** The status of a request Node's parser refused, by its error code. */
function refusedStatus(code: string | undefined): [number, string] {
  if (code === 'HPE_HEADER_OVERFLOW') return [431, 'Request Header Fields Too Large'];
  if (code === 'ERR_HTTP_REQUEST_TIMEOUT') return [408, 'Request Timeout'];
  return [400, 'Bad Request'];
}

/** Answers a request the parser refused, unless an answer is under way on that connection; then closes it. */
function refuse(err: NodeJS.ErrnoException, socket: Socket): void {
  const answering = (socket as Socket & { _httpMessage?: { headersSent: boolean } })._httpMessage?.headersSent === true;
  if (err.code === 'ECONNRESET' || !socket.writable || answering) {
    socket.destroy();
    return;
  }
  const [status, reason] = refusedStatus(err.code);
  const body = JSON.stringify({ error: status === 400 ? 'INVALID_ARGUMENT' : status === 408 ? 'TIMEOUT' : 'TOO_LARGE', message: `malformed or incomplete HTTP request: ${reason.toLowerCase()} (${err.code ?? err.message})` });
  socket.end(`HTTP/1.1 ${status} ${reason}\r\nContent-Type: application/json\r\nContent-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`);
  socket.destroySoon();
}

export async function listenHttp(options: HttpListenOptions): Promise<HttpListener> {
  const { handler, limits = {} } = options;
  const headersTimeout = limits.headersTimeoutMs ?? 10_000;
  const requestTimeout = limits.requestTimeoutMs ?? 300_000;
  // How often Node checks those two timeouts (its default, 30 s, would let a slow client stay that much longer).
  const connectionsCheckingInterval = Math.max(10, Math.min(1000, headersTimeout / 4, requestTimeout === 0 ? Infinity : requestTimeout / 4));
  const server: Server = options.tls
    ? createHttpsServer({ cert: options.tls.cert, key: options.tls.key, headersTimeout, requestTimeout, connectionsCheckingInterval })
    : createHttpServer({ headersTimeout, requestTimeout, connectionsCheckingInterval });
  server.keepAliveTimeout = limits.idleTimeoutMs ?? 5_000;
  if (limits.maxClients !== undefined) server.maxConnections = limits.maxClients;
  server.on('request', handler);
  server.on('checkContinue', handler.checkContinue);
  server.on('connection', handler.connection);
  server.on('clientError', refuse);
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port, options.host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const bound = server.address() as AddressInfo;
  const address = bound.family === 'IPv6' ? `[${bound.address}]:${bound.port}` : `${bound.address}:${bound.port}`;
  let closing: Promise<void> | undefined;
  return {
    address,
    close(graceful) {
      closing ??= new Promise<void>((resolve) => {
        const sweep = setInterval(() => server.closeIdleConnections(), IDLE_SWEEP_MS);
        server.close(() => {
          clearInterval(sweep);
          resolve();
        });
        server.closeIdleConnections();
      });
      if (!graceful) server.closeAllConnections();
      return closing;
    },
  };
}
