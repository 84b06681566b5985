// POST /v1/batch: a JSON array of operations applied as one atomic unit (one
// ServedStore.write: one transaction, one commit), results in order.
//   {"op": "put", "key", "value", "ttl"?, "encoding"?, "keyEncoding"?}
//   {"op": "del", "key", "keyEncoding"?}    {"op": "get", "key", "keyEncoding"?}
// the fields of `tzkv batch`'s JSON lines (docs/cli.md "batch"): "encoding" /
// "keyEncoding" "base64" for bytes that are not UTF-8, "ttl" a duration
// ("10m") or whole seconds. Every operation is read and checked before any
// is applied: one that is not right is a 400 naming it, and nothing is written.
import type { Transaction } from '../../api.js';
import { TzkvError } from '../../errors.js';
import { checkKey, checkValue } from '../../keys.js';
import { parseTtl } from '../../text/duration.js';
import { decodeBytes, isoTime, toRecord } from '../../text/records.js';
import { badRequest } from './http-error.js';
import { readBody } from './request-body.js';
import { sendJson } from './respond.js';
import type { Route } from './route.js';
import { queryParameters } from './url-bytes.js';

type BatchOp = { op: 'put'; key: Buffer; value: Buffer; expiresAt: number | null } | { op: 'del' | 'get'; key: Buffer };

/** The fields each operation takes besides "op" and "key". */
const FIELDS = { put: ['value', 'encoding', 'ttl', 'keyEncoding'], del: ['keyEncoding'], get: ['keyEncoding'] } as const;

function isOp(op: unknown): op is keyof typeof FIELDS {
  return typeof op === 'string' && Object.hasOwn(FIELDS, op);
}

/** The operations of a batch body; 400 naming the first that is not right (its index, from 0). */
function parseBatch(body: Buffer, now: number): BatchOp[] {
  let parsed: unknown;
  try {
    parsed = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(body));
  } catch (err) {
    throw badRequest(err instanceof TypeError ? 'the batch is not valid UTF-8' : `the batch is not valid JSON (${(err as Error).message})`);
  }
  if (!Array.isArray(parsed)) throw badRequest('the batch must be a JSON array of operations: [{"op": "put", "key": ..., "value": ...}, ...]');
  return parsed.map((item: unknown, i) => {
    try {
      return parseOp(item, now);
    } catch (err) {
      if (err instanceof TzkvError) throw badRequest(`operation ${i}: ${err.message} (nothing was applied)`);
      throw err;
    }
  });
}

function parseOp(item: unknown, now: number): BatchOp {
  const fail = (message: string): never => {
    throw new TzkvError('INVALID_ARGUMENT', message);
  };
  if (typeof item !== 'object' || item === null || Array.isArray(item)) return fail('expected a JSON object');
  const record = item as Record<string, unknown>;
  const op = record.op;
  if (!isOp(op)) return fail('"op" must be one of put, del, get');
  const fields: readonly string[] = FIELDS[op];
  const unknown = Object.keys(record).find((f) => f !== 'op' && f !== 'key' && !fields.includes(f));
  if (unknown !== undefined) fail(`"${unknown}" is not a field of ${op} (it takes "key"${fields.map((f) => `, "${f}"`).join('')})`);
  const key = checkKey(decodeBytes(record.key, record.keyEncoding, 'key', 'keyEncoding'));
  if (op !== 'put') return { op, key };
  const value = checkValue(decodeBytes(record.value, record.encoding, 'value', 'encoding'));
  const ttl = record.ttl;
  if (ttl === undefined) return { op, key, value, expiresAt: null };
  if (!(typeof ttl === 'string' || (typeof ttl === 'number' && Number.isSafeInteger(ttl)))) fail('"ttl" must be a duration: seconds (60) or a string such as "10m"');
  return { op, key, value, expiresAt: now + parseTtl(String(ttl), '"ttl"', now) };
}

/** One operation applied in the batch's transaction, and its result. */
async function apply(tx: Transaction, op: BatchOp): Promise<Record<string, unknown>> {
  const { key, keyEncoding } = toRecord(op.key, Buffer.alloc(0), null);
  const head = { op: op.op, key, ...(keyEncoding === undefined ? {} : { keyEncoding }) };
  switch (op.op) {
    case 'put':
      tx.put(op.key, op.value, { expiresAt: op.expiresAt });
      return { ...head, expiresAt: isoTime(op.expiresAt) };
    case 'del': {
      const deleted = (await tx.getEntry(op.key)) !== undefined;
      if (deleted) tx.del(op.key);
      return { ...head, deleted };
    }
    case 'get': {
      const entry = await tx.getEntry(op.key);
      if (entry === undefined) return { ...head, found: false, value: null, expiresAt: null };
      const { value, encoding, expiresAt } = toRecord(entry.key, entry.value, entry.expiresAt);
      return { ...head, found: true, value, ...(encoding === undefined ? {} : { encoding }), expiresAt };
    }
  }
}

/** 200 {"results": [...]}, one per operation in order; reads see the batch's earlier writes. */
export const runBatch: Route = async ({ served, now, maxBodyBytes }, { req, res, query }) => {
  queryParameters(query, []);
  const ops = parseBatch(await readBody(req, res, maxBodyBytes), now());
  const results =
    ops.length === 0
      ? []
      : await served.write(async (tx) => {
          const out: Array<Record<string, unknown>> = [];
          for (const op of ops) out.push(await apply(tx, op));
          return out;
        });
  sendJson(res, 200, { results });
};
