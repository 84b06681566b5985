// What each `tzkv batch` operation does, through a Transaction (or, for a
// read on its own, the store), and how its result is printed: one line of
// text, or one JSON object (docs/cli.md "batch", "Results").

import type { Entry, Transaction } from '../api.js';
import { type ErrorCode, TzkvError } from '../errors.js';
import { type BatchOp, keyOf, valueOf } from './batch-line.js';
import { wordText } from './batch-words.js';
import { incremented } from './counter.js';
import { remainingSeconds } from '../text/duration.js';
import { isoTime, toRecord } from '../text/records.js';

/** What an operation did. expiresAt: ms, or null for never. */
export type BatchResult =
  | { op: 'put'; expiresAt: number | null }
  | { op: 'get'; entry: Entry | undefined }
  | { op: 'ttl' | 'expire'; expiresAt: number | null | undefined }
  | { op: 'del'; deleted: boolean }
  | { op: 'incr'; value: number };

/** Reads a get or ttl line: what `reader` (a transaction, or the store itself) holds for the stored key. */
export async function readOp(reader: Pick<Transaction, 'getEntry'>, op: BatchOp & { op: 'get' | 'ttl' }, stored: Buffer): Promise<BatchResult> {
  const entry = await reader.getEntry(stored);
  return op.op === 'get' ? { op: 'get', entry } : { op: 'ttl', expiresAt: entry?.expiresAt };
}

const PUT_FOREVER: BatchResult = { op: 'put', expiresAt: null };

/**
 * Applies one operation in `tx`; `stored` is its key with the bucket's
 * prefix. A put is done at once (no promise: a batch is mostly puts, and
 * each await costs); the rest resolve when their read has.
 */
export function applyOp(tx: Transaction, op: BatchOp, stored: Buffer): BatchResult | Promise<BatchResult> {
  if (op.op !== 'put') return applyRead(tx, op, stored);
  if (op.ttlMs === undefined) {
    tx.put(stored, valueOf(op));
    return PUT_FOREVER;
  }
  const expiresAt = Date.now() + op.ttlMs;
  tx.put(stored, valueOf(op), { expiresAt });
  return { op: 'put', expiresAt };
}

/** The operations that read the key first. */
async function applyRead(tx: Transaction, op: BatchOp, stored: Buffer): Promise<BatchResult> {
  switch (op.op) {
    case 'get':
    case 'ttl':
      return readOp(tx, op as BatchOp & { op: 'get' | 'ttl' }, stored);
    case 'put':
      throw new TzkvError('INTERNAL', 'a put does not read');
    case 'del': {
      const deleted = (await tx.getEntry(stored)) !== undefined;
      if (deleted) tx.del(stored);
      return { op: 'del', deleted };
    }
    case 'incr': {
      const current = await tx.getEntry(stored);
      const value = incremented(current, op.by!, keyOf(op).toString('utf8'));
      tx.put(stored, String(value), { expiresAt: current?.expiresAt ?? null });
      return { op: 'incr', value };
    }
    case 'expire': {
      const current = await tx.getEntry(stored);
      if (current === undefined) return { op: 'expire', expiresAt: undefined };
      const expiresAt = Date.now() + op.ttlMs!;
      tx.put(stored, current.value, { expiresAt });
      return { op: 'expire', expiresAt };
    }
  }
}

/**
 * A result as one line of text, without its newline: put `OK`; get the value
 * as a word (batch-words.ts); ttl and expire the whole seconds left (-1:
 * never); del `1` or `0`; incr the new value. A key that is not there (get,
 * ttl, expire): an empty line.
 */
export function resultText(result: BatchResult, now: number): string {
  switch (result.op) {
    case 'put':
      return 'OK';
    case 'get':
      return result.entry === undefined ? '' : wordText(result.entry.value);
    case 'ttl':
    case 'expire':
      return result.expiresAt === undefined ? '' : result.expiresAt === null ? '-1' : String(remainingSeconds(result.expiresAt, now));
    case 'del':
      return result.deleted ? '1' : '0';
    case 'incr':
      return String(result.value);
  }
}

/** A failed line as text: `ERR` and the error's code (the message goes to stderr). */
export const failureText = (code: ErrorCode) => `ERR ${code}`;

/** The fields every result object starts with: the line, the operation, the key as given (null when the line could not be read). */
function heading(line: number, op: BatchOp | undefined): Record<string, unknown> {
  if (op === undefined) return { line, op: null, key: null };
  const { key: shown, keyEncoding } = toRecord(keyOf(op), Buffer.alloc(0), null);
  return { line, op: op.op, key: shown, ...(keyEncoding === undefined ? {} : { keyEncoding }) };
}

/** A result as a JSON object (docs/cli.md "batch" shows each shape). */
export function resultJson(op: BatchOp, result: BatchResult, now: number): Record<string, unknown> {
  const head = { ...heading(op.line, op), ok: true };
  switch (result.op) {
    case 'put':
      return { ...head, expiresAt: isoTime(result.expiresAt) };
    case 'get': {
      if (result.entry === undefined) return { ...head, found: false, value: null, expiresAt: null };
      const { value, encoding, expiresAt } = toRecord(keyOf(op), result.entry.value, result.entry.expiresAt);
      return { ...head, found: true, value, ...(encoding === undefined ? {} : { encoding }), expiresAt };
    }
    case 'ttl':
    case 'expire': {
      const { expiresAt } = result;
      if (expiresAt === undefined) return { ...head, found: false, ttl: null, expiresAt: null };
      return { ...head, found: true, ttl: expiresAt === null ? -1 : remainingSeconds(expiresAt, now), expiresAt: isoTime(expiresAt) };
    }
    case 'del':
      return { ...head, deleted: result.deleted };
    case 'incr':
      return { ...head, value: result.value };
  }
}

/** A failed line as a JSON object; `op` is undefined when the line could not be read. */
export function failureJson(line: number, op: BatchOp | undefined, err: TzkvError): Record<string, unknown> {
  return { ...heading(line, op), ok: false, error: { code: err.code, message: err.message, exitCode: err.exitCode } };
}
