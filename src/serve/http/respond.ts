// Writing an answer: raw bytes, JSON, nothing, or an error. Every answer
// carries its Content-Length (a HEAD's is the GET's; Node sends no body for
// HEAD), so a keep-alive connection needs no chunked framing.
import type { ServerResponse } from 'node:http';
import { httpErrorOf } from './http-error.js';

export type Headers = Record<string, string | number>;

export function sendBytes(res: ServerResponse, status: number, body: Buffer, headers: Headers = {}): void {
  res.writeHead(status, { 'Content-Type': 'application/octet-stream', 'Content-Length': body.length, ...headers });
  res.end(body);
}

export function sendText(res: ServerResponse, status: number, text: string, contentType: string): void {
  const body = Buffer.from(text, 'utf8');
  res.writeHead(status, { 'Content-Type': contentType, 'Content-Length': body.length });
  res.end(body);
}

export function sendJson(res: ServerResponse, status: number, value: unknown, headers: Headers = {}): void {
  const body = Buffer.from(JSON.stringify(value), 'utf8');
  res.writeHead(status, { 'Content-Type': 'application/json', 'Content-Length': body.length, ...headers });
  res.end(body);
}

/** No body: 204 has no framing at all, any other status Content-Length 0. */
export function sendEmpty(res: ServerResponse, status: number, headers: Headers = {}): void {
  res.writeHead(status, status === 204 ? headers : { 'Content-Length': 0, ...headers });
  res.end();
}

/**
 * Answers `err` as {"error", "message"}, unless an answer has begun (then the
 * connection is cut: a client must not take half an answer for a whole one).
 */
export function sendError(res: ServerResponse, err: unknown): void {
  if (res.headersSent) {
    res.destroy();
    return;
  }
  const e = httpErrorOf(err);
  sendJson(res, e.status, { error: e.code, message: e.message }, e.headers);
}
