// /v1/kv/{key}: one key's raw bytes. GET and HEAD read it (X-Expires-At when
// it expires), PUT writes the body (?ttl=10m; If-None-Match: * only when
// absent), DELETE removes it. The key is everything after /v1/kv/,
// percent-decoded to bytes (docs/serve.md "HTTP API").
import type { IncomingMessage } from 'node:http';
import { checkKey } from '../../keys.js';
import { parseTtl } from '../../text/duration.js';
import { badRequest, HttpError } from './http-error.js';
import { readBody } from './request-body.js';
import { sendBytes, sendEmpty, type Headers } from './respond.js';
import type { Route, RouteRequest } from './route.js';
import { percentDecode, queryParameters } from './url-bytes.js';

/** The key a /v1/kv/ path names: 400 when its encoding is malformed, it is empty or over MAX_KEY_BYTES. */
function keyOf(request: RouteRequest): Buffer {
  return checkKey(percentDecode(request.rest, 'key'));
}

function notFound(request: RouteRequest): HttpError {
  return new HttpError(404, 'NOT_FOUND', `key not found: ${JSON.stringify(percentDecode(request.rest, 'key').toString('utf8'))}`);
}

/** The X-Expires-At header of an expiry: an ISO 8601 time in UTC with milliseconds; none for a key that never expires. */
function expiryHeader(expiresAt: number | null): Headers {
  return expiresAt === null ? {} : { 'X-Expires-At': new Date(expiresAt).toISOString() };
}

/** GET and HEAD (Node sends a HEAD's headers only). */
export const getKey: Route = async ({ served }, request) => {
  queryParameters(request.query, []);
  const entry = await served.get(keyOf(request));
  if (entry === undefined) throw notFound(request);
  sendBytes(request.res, 200, entry.value, expiryHeader(entry.expiresAt));
};

/** Whether the PUT is put-if-absent: If-None-Match: * (any other entity tag is refused: there are none to match). */
function ifAbsent(req: IncomingMessage): boolean {
  if (req.headers['if-match'] !== undefined) throw badRequest('If-Match is not supported: a PUT is conditional only on If-None-Match: *');
  const header = req.headers['if-none-match'];
  if (header === undefined) return false;
  if (header.trim() !== '*') throw badRequest(`If-None-Match must be "*" (write only when the key is absent), got ${JSON.stringify(header)}`);
  return true;
}

/** 201 when the key was created, 204 when it replaced a live value (value and expiry: a PUT without ?ttl leaves none). */
export const putKey: Route = async ({ served, now, maxBodyBytes }, request) => {
  const ttl = queryParameters(request.query, ['ttl']).get('ttl');
  const key = keyOf(request);
  const onlyIfAbsent = ifAbsent(request.req);
  const ttlMs = ttl === undefined ? undefined : parseTtl(ttl.toString('utf8'), 'ttl', now());
  const value = await readBody(request.req, request.res, maxBodyBytes);
  const expiresAt = ttlMs === undefined ? null : now() + ttlMs;
  const outcome = await served.write(async (tx) => {
    const previous = await tx.getEntry(key);
    if (previous !== undefined && onlyIfAbsent) return 'exists';
    tx.put(key, value, { expiresAt });
    return previous === undefined ? 'created' : 'replaced';
  });
  if (outcome === 'exists') throw new HttpError(412, 'PRECONDITION', `key /v1/kv/${request.rest} exists (If-None-Match: *): left as it was`);
  sendEmpty(request.res, outcome === 'created' ? 201 : 204, expiryHeader(expiresAt));
};

/** 204 when the key was deleted, 404 when there was none. */
export const deleteKey: Route = async ({ served }, request) => {
  queryParameters(request.query, []);
  const key = keyOf(request);
  const deleted = await served.write(async (tx) => {
    if ((await tx.getEntry(key)) === undefined) return false;
    tx.del(key);
    return true;
  });
  if (!deleted) throw notFound(request);
  sendEmpty(request.res, 204);
};
