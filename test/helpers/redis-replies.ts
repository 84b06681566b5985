// What a Redis reply must be, written once and checked three ways: as the
// exact bytes of RESP2, as the exact bytes of RESP3 (after HELLO 3), and as
// the value a client library (ioredis) hands its caller. Where Redis's reply
// is not fixed (a TTL counting down, KEYS in hash order, an error text that
// varies between versions past its prefix), the expectation says what may
// vary and the raw check compares the parts and their types instead of bytes.
import { expect } from 'vitest';
import { type RawReply, readReply } from './raw-resp.js';

export type Expected =
  | { kind: 'simple'; text: string }
  /** `prefixOnly`: the error's text starts with `text`. */
  | { kind: 'error'; text: string; prefixOnly: boolean }
  | { kind: 'int'; value: number }
  | { kind: 'intIn'; min: number; max: number }
  | { kind: 'bulk'; bytes: Buffer }
  | { kind: 'nil' }
  /** `unordered`: the same items in any order (KEYS, SCAN's keys). */
  | { kind: 'array'; items: Expected[]; unordered: boolean };

export const simple = (text: string): Expected => ({ kind: 'simple', text });
export const OK = simple('OK');
export const QUEUED = simple('QUEUED');
export const error = (text: string): Expected => ({ kind: 'error', text, prefixOnly: false });
export const errorStarting = (text: string): Expected => ({ kind: 'error', text, prefixOnly: true });
export const int = (value: number): Expected => ({ kind: 'int', value });
export const intIn = (min: number, max: number): Expected => ({ kind: 'intIn', min, max });
export const bulk = (value: string | Buffer): Expected => ({ kind: 'bulk', bytes: Buffer.from(value) });
export const nil: Expected = { kind: 'nil' };
export const array = (...items: Expected[]): Expected => ({ kind: 'array', items, unordered: false });
/** Bulk strings in any order. */
export const bulksInAnyOrder = (values: string[]): Expected => ({ kind: 'array', items: values.map((v) => bulk(v)), unordered: true });

/** The one encoding of `e` in RESP `protocol`, or undefined where the reply may vary. */
export function respBytes(e: Expected, protocol: 2 | 3): Buffer | undefined {
  switch (e.kind) {
    case 'simple':
      return Buffer.from(`+${e.text}\r\n`);
    case 'error':
      return e.prefixOnly ? undefined : Buffer.from(`-${e.text}\r\n`);
    case 'int':
      return Buffer.from(`:${e.value}\r\n`);
    case 'intIn':
      return undefined;
    case 'bulk':
      return Buffer.concat([Buffer.from(`$${e.bytes.length}\r\n`), e.bytes, Buffer.from('\r\n')]);
    case 'nil':
      return Buffer.from(protocol === 3 ? '_\r\n' : '$-1\r\n');
    case 'array': {
      if (e.unordered && e.items.length > 1) return undefined;
      const items = e.items.map((item) => respBytes(item, protocol));
      if (items.some((item) => item === undefined)) return undefined;
      return Buffer.concat([Buffer.from(`*${e.items.length}\r\n`), ...(items as Buffer[])]);
    }
  }
}

const startsWith = (text: string): unknown => expect.toSatisfy((t: unknown) => typeof t === 'string' && t.startsWith(text), `a text starting ${JSON.stringify(text)}`);
const inRange = (min: number, max: number): unknown => expect.toSatisfy((n: unknown) => (typeof n === 'number' || /^-?\d+$/.test(String(n))) && Number(n) >= min && Number(n) <= max, `an integer from ${min} to ${max}`);
const byEncoding = (a: unknown, b: unknown) => JSON.stringify(a).localeCompare(JSON.stringify(b));

/** A reply's parts in a form toEqual can compare: the wire's type byte, and its text, bytes or items. */
function shapeOfRaw(reply: RawReply): unknown {
  if ('text' in reply) return { type: reply.type, text: reply.text };
  if ('bytes' in reply) return { type: reply.type, bytes: reply.bytes?.toString('latin1') ?? null };
  return { type: reply.type, items: reply.items?.map(shapeOfRaw) ?? null };
}

function shapeExpected(e: Expected, protocol: 2 | 3): unknown {
  const exact = respBytes(e, protocol);
  if (exact !== undefined) return shapeOfRaw(readReply(exact)!.reply);
  switch (e.kind) {
    case 'error':
      return { type: '-', text: startsWith(e.text) };
    case 'intIn':
      return { type: ':', text: inRange(e.min, e.max) };
    default: {
      if (e.kind !== 'array') throw new Error(`unreachable: ${e.kind}`);
      const items = e.items.map((item) => shapeExpected(item, protocol));
      // In any order: both sides sorted by their encoding (the items are exact: bulk strings).
      return { type: '*', items: e.unordered ? items.sort(byEncoding) : items };
    }
  }
}

/** Asserts the bytes of one reply read in RESP `protocol`: exactly, or part by part where the reply may vary. */
export function expectRawReply(bytes: Buffer, e: Expected, protocol: 2 | 3, what = ''): void {
  const exact = respBytes(e, protocol);
  if (exact !== undefined) {
    expect(bytes.toString('latin1'), what).toBe(exact.toString('latin1'));
    return;
  }
  const read = readReply(bytes);
  expect(read?.end, `${what}: one whole reply`).toBe(bytes.length);
  const actual = shapeOfRaw(read!.reply) as { items?: unknown[] | null };
  if (e.kind === 'array' && e.unordered && Array.isArray(actual.items)) actual.items.sort(byEncoding);
  expect(actual, what).toEqual(shapeExpected(e, protocol));
}

/**
 * What ioredis's call() resolves to (or rejects with) for `e`: simple and bulk
 * strings as text, integers as numbers, nil as null, an error inside an array
 * as an Error; a top-level error rejects (see expectClientReply).
 */
function clientValue(e: Expected): unknown {
  switch (e.kind) {
    case 'simple':
      return e.text;
    case 'bulk':
      return e.bytes.toString('utf8');
    case 'int':
      return e.value;
    case 'intIn':
      return inRange(e.min, e.max);
    case 'nil':
      return null;
    case 'error':
      return expect.objectContaining({ message: e.prefixOnly ? startsWith(e.text) : e.text });
    case 'array': {
      const items = e.items.map(clientValue);
      if (!e.unordered) return items;
      const sorted = JSON.stringify([...items].sort());
      return expect.toSatisfy((a: unknown) => Array.isArray(a) && JSON.stringify([...a].sort()) === sorted, `${sorted} in any order`);
    }
  }
}

/** Asserts what a client library's call settled with: `outcome` is its value, or the error it rejected with. */
export function expectClientReply(outcome: { value: unknown } | { error: Error }, e: Expected, what = ''): void {
  expect(outcome, what).toEqual(e.kind === 'error' ? { error: clientValue(e) } : { value: clientValue(e) });
}
