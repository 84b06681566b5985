// GET /v1/keys?prefix=&limit=&after=: live keys in byte order, a page at a
// time. {"keys": [{"key", "keyEncoding"?, "expiresAt"}], "next"}: a key
// that is not UTF-8 is base64 with "keyEncoding": "base64" (as the CLI's
// JSON); "next" is the page's last key, percent-encoded, to pass as after=,
// or null on the last page. Each page starts after the key `after` names, so
// keys written or deleted between pages never make a key that stayed appear
// twice or go missing.
import { isoTime, toRecord } from '../../text/records.js';
import { badRequest } from './http-error.js';
import { sendJson } from './respond.js';
import type { Route } from './route.js';
import { percentEncode, queryParameters } from './url-bytes.js';

const DEFAULT_LIMIT = 1000;
/** The most keys a page holds: a directory store lists a page on the event loop, in one block. */
const MAX_LIMIT = 10_000;

function pageLimit(text: string | undefined): number {
  if (text === undefined) return DEFAULT_LIMIT;
  const n = /^\d{1,6}$/.test(text) ? Number(text) : Number.NaN;
  if (!(n >= 1 && n <= MAX_LIMIT)) throw badRequest(`limit must be a whole number from 1 to ${MAX_LIMIT}, got ${JSON.stringify(text)}`);
  return n;
}

export const listKeys: Route = async ({ served }, { res, query }) => {
  const params = queryParameters(query, ['prefix', 'limit', 'after']);
  const limit = pageLimit(params.get('limit')?.toString('utf8'));
  const after = params.get('after');
  const keys: Array<{ key: string; keyEncoding?: 'base64'; expiresAt: string | null }> = [];
  let last: Buffer | undefined;
  let next: string | null = null;
  // One more than the page: whether there is a next page.
  for await (const info of served.keys({ prefix: params.get('prefix') ?? '', limit: limit + 1, ...(after === undefined ? {} : { after }) })) {
    if (keys.length === limit) {
      next = percentEncode(last!);
      break;
    }
    const { key, keyEncoding } = toRecord(info.key, Buffer.alloc(0), null);
    keys.push({ key, ...(keyEncoding === undefined ? {} : { keyEncoding }), expiresAt: isoTime(info.expiresAt) });
    last = info.key;
  }
  sendJson(res, 200, { keys, next });
};
