// One line of `tzkv batch` input read as an operation (docs/cli.md "batch"):
//   put KEY VALUE [TTL] | del KEY | incr KEY [BY] | expire KEY TTL | get KEY | ttl KEY
// (or, as on the command line, set for put and rm or delete for del)
// in words (src/cli/batch-words.ts), or as one JSON object, a line whose
// first character other than a space or tab is `{`:
//   {"op": "put", "key", "value", "ttl"?, "encoding"?, "keyEncoding"?}, {"op": "incr", "key", "by"?}, ...
// Blank lines and lines starting with `#` hold no operation. A line that is
// not an operation throws INVALID_ARGUMENT saying why; the caller names the line.

import { TzkvError } from '../errors.js';
import { MAX_KEY_BYTES, MAX_VALUE_BYTES } from '../format/constants.js';
import { checkKey, checkValue } from '../keys.js';
import { LineWords, WordError } from './batch-words.js';
import { parseInteger } from './counter.js';
import { parseTtl } from '../text/duration.js';
import { decodeBytes } from '../text/records.js';
import { COMMAND_ALIASES } from './declared-flags.js';
import { closest } from './suggest.js';

const OPERATIONS = ['put', 'del', 'incr', 'expire', 'get', 'ttl'] as const;
export type Operation = (typeof OPERATIONS)[number];

/** Each operation's words, as messages show them, and how many words it takes after its name. */
const USAGE: Record<Operation, { usage: string; least: number; most: number }> = {
  put: { usage: 'put KEY VALUE [TTL]', least: 2, most: 3 },
  del: { usage: 'del KEY', least: 1, most: 1 },
  incr: { usage: 'incr KEY [BY]', least: 1, most: 2 },
  expire: { usage: 'expire KEY TTL', least: 2, most: 2 },
  get: { usage: 'get KEY', least: 1, most: 1 },
  ttl: { usage: 'ttl KEY', least: 1, most: 1 },
};

/** A name of up to six bytes as one number (-1 for a longer one): a line's first word is looked up without a string made of it. */
function nameCode(bytes: Buffer, start: number, end: number): number {
  if (end - start > 6) return -1;
  let code = end - start; // the length first, so that "\0put" is not "put"
  for (let i = start; i < end; i++) code = code * 256 + bytes[i];
  return code;
}

/** The command line's aliases of these operations (`set`, `rm`, `delete`) name them in a batch too. */
const ALIASES = Object.entries(COMMAND_ALIASES).filter((entry): entry is [string, Operation] => isOperation(entry[1]));

const BY_CODE = new Map<number, Operation>([...OPERATIONS.map((name): [string, Operation] => [name, name]), ...ALIASES].map(([name, op]) => [nameCode(Buffer.from(name), 0, name.length), op]));

/** Operations that only read. */
export const isRead = (op: Operation) => op === 'get' || op === 'ttl';

/**
 * An operation as read: its key is keyBytes[keyStart, keyEnd) and its value
 * valueBytes[valueStart, valueEnd), often the input's own bytes (no Buffer
 * per line: keyOf and valueOf make the views when the operation is applied).
 * Every field is always there (one object shape), undefined where the
 * operation has none.
 */
export interface BatchOp {
  /** Line number in the input, from 1. */
  line: number;
  op: Operation;
  keyBytes: Buffer;
  keyStart: number;
  keyEnd: number;
  /** put: the value's bytes. */
  valueBytes: Buffer | undefined;
  valueStart: number;
  valueEnd: number;
  /** put (when given), expire: the time to live. */
  ttlMs: number | undefined;
  /** incr: what to add. */
  by: number | undefined;
}

/** The key as given (the bucket's prefix not added). */
export const keyOf = (op: BatchOp): Buffer => op.keyBytes.subarray(op.keyStart, op.keyEnd);
/** put's value. */
export const valueOf = (op: BatchOp): Buffer => op.valueBytes!.subarray(op.valueStart, op.valueEnd);

/** Reads lines into operations; one reader serves a whole input (it reuses its word buffer). */
export class LineReader {
  private readonly words = new LineWords();

  constructor(
    /** The bucket's prefix the keys will get: a key's length is checked with it. */
    private readonly prefixLength: number,
    /** What TTLs are checked against. */
    private readonly now: number,
  ) {}

  /** The operation on input[start, end), line `number`, or undefined for a blank line or a comment. */
  read(input: Buffer, start: number, end: number, number: number): BatchOp | undefined {
    let i = start;
    while (i < end && (input[i] === 0x20 || input[i] === 0x09)) i++;
    if (i === end || input[i] === 0x23) return undefined;
    const op = input[i] === 0x7b ? fromJson(input.subarray(start, end), number, this.now) : this.fromWords(input, start, end, number);
    const keyLength = op.keyEnd - op.keyStart;
    if (keyLength === 0) fail('the key is empty');
    if (keyLength + this.prefixLength > MAX_KEY_BYTES) checkKey(Buffer.alloc(keyLength + this.prefixLength));
    if (op.valueEnd - op.valueStart > MAX_VALUE_BYTES) checkValue(Buffer.alloc(op.valueEnd - op.valueStart));
    return op;
  }

  private fromWords(input: Buffer, start: number, end: number, number: number): BatchOp {
    try {
      this.words.read(input, start, end);
    } catch (err) {
      if (err instanceof WordError) fail(err.message);
      throw err;
    }
    const words = this.words;
    const count = words.count;
    const op = BY_CODE.get(nameCode(words.bytes(0), words.start(0), words.end(0))) ?? operation(words.text(0));
    const { usage, least, most } = USAGE[op];
    const given = count - 1;
    if (given < least || given > most) fail(`expected ${usage}, got ${given} word${given === 1 ? '' : 's'} after ${op}${given > most ? QUOTE_HINT : ''}`);
    const hasValue = op === 'put';
    const ttlMs = op === 'put' ? (count > 3 ? putTtl(words.text(3), this.now) : undefined) : op === 'expire' ? ttl(words.text(2), this.now) : undefined;
    return {
      line: number,
      op,
      keyBytes: words.bytes(1),
      keyStart: words.start(1),
      keyEnd: words.end(1),
      valueBytes: hasValue ? words.bytes(2) : undefined,
      valueStart: hasValue ? words.start(2) : 0,
      valueEnd: hasValue ? words.end(2) : 0,
      ttlMs,
      by: op === 'incr' ? (count > 2 ? by(words.text(2)) : 1) : undefined,
    };
  }
}

/** A word of a JSON line: all of `bytes`. */
interface Bytes {
  bytes: Buffer;
}

function operationOf(line: number, op: Operation, key: Bytes, value?: Bytes, ttlMs?: number, by?: number): BatchOp {
  return {
    line,
    op,
    keyBytes: key.bytes,
    keyStart: 0,
    keyEnd: key.bytes.length,
    valueBytes: value?.bytes,
    valueStart: 0,
    valueEnd: value?.bytes.length ?? 0,
    ttlMs,
    by,
  };
}

/** The fields each operation's JSON object may have, besides "op" and "key". */
const FIELDS: Record<Operation, string[]> = {
  put: ['value', 'encoding', 'ttl', 'keyEncoding'],
  del: ['keyEncoding'],
  incr: ['by', 'keyEncoding'],
  expire: ['ttl', 'keyEncoding'],
  get: ['keyEncoding'],
  ttl: ['keyEncoding'],
};

const whole = (bytes: Buffer): Bytes => ({ bytes });

function fromJson(line: Buffer, number: number, now: number): BatchOp {
  let parsed: unknown;
  try {
    parsed = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(line));
  } catch (err) {
    fail(err instanceof TypeError ? 'not valid UTF-8' : `not valid JSON (${(err as Error).message})`);
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) fail('expected a JSON object');
  const record = parsed as Record<string, unknown>;
  if (typeof record.op !== 'string') fail('"op" must be one of put, del, incr, expire, get, ttl');
  const op = operation(record.op);
  const unknown = Object.keys(record).find((field) => field !== 'op' && field !== 'key' && !FIELDS[op].includes(field));
  if (unknown !== undefined) fail(`"${unknown}" is not a field of ${op} (it takes "key"${FIELDS[op].map((f) => `, "${f}"`).join('')})`);
  const key = whole(decodeBytes(record.key, record.keyEncoding, 'key', 'keyEncoding'));
  const jsonTtl = (field: unknown) => {
    if (typeof field === 'number' && Number.isSafeInteger(field)) return ttl(String(field), now);
    if (typeof field !== 'string') fail('"ttl" must be a duration: seconds (60) or a string such as "10m"');
    return ttl(field, now);
  };
  switch (op) {
    case 'put': {
      const value = whole(decodeBytes(record.value, record.encoding, 'value', 'encoding'));
      return operationOf(number, op, key, value, record.ttl === undefined ? undefined : jsonTtl(record.ttl));
    }
    case 'incr':
      if (record.by !== undefined && typeof record.by !== 'number' && typeof record.by !== 'string') fail('"by" must be a whole number');
      return operationOf(number, op, key, undefined, undefined, record.by === undefined ? 1 : by(String(record.by)));
    case 'expire':
      if (record.ttl === undefined) fail('expire needs "ttl"');
      return operationOf(number, op, key, undefined, jsonTtl(record.ttl));
    default:
      return operationOf(number, op, key);
  }
}

function isOperation(word: string): word is Operation {
  return (OPERATIONS as readonly string[]).includes(word);
}

function operation(word: string): Operation {
  if (isOperation(word)) return word;
  const alias = ALIASES.find(([name]) => name === word);
  if (alias !== undefined) return alias[1];
  const near = closest(word, OPERATIONS);
  const shown = word.length > 40 ? `${word.slice(0, 40)}…` : word;
  fail(`unknown operation ${JSON.stringify(shown)}${near === undefined ? '' : `; did you mean "${near}"?`} (operations: ${OPERATIONS.join(', ')})`);
}

const ttl = (text: string, now: number) => parseTtl(text, 'TTL', now);

/** What a line with a word too many most often lacks. */
const QUOTE_HINT = ' (a word with spaces goes in double quotes: put KEY "two words"; no flags: put KEY VALUE 10m)';

/** put's third word: a TTL, or, more likely when it is none, the rest of a value with spaces. */
function putTtl(text: string, now: number): number {
  try {
    return ttl(text, now);
  } catch (err) {
    if (err instanceof TzkvError) fail(`${err.message}${QUOTE_HINT}`);
    throw err;
  }
}

function by(text: string): number {
  const n = parseInteger(text);
  if (n === undefined) fail(`BY must be a whole number, got ${JSON.stringify(text)}`);
  return n;
}

function fail(message: string): never {
  throw new TzkvError('INVALID_ARGUMENT', message);
}
