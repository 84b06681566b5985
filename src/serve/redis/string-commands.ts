// Redis 7.0's string commands over the store: each answers what Redis
// answers (t_string.c), reply type and error text alike. tzkv's own checks
// come first: a key must be 1 to 1024 bytes, a value at most 256 MiB, an
// expiry at most 9999-12-31 (redis-args.ts). Every read-modify-write is one
// KeySpace.write, so it is atomic; plain reads use KeySpace.get/getMany.
// What a command does to a key's expiry is Redis's: SET, GETSET, MSET and
// SETEX replace it, INCR, APPEND, SETRANGE and INCRBYFLOAT keep it.
import type { Transaction } from '../../api.js';
import { ErrorReply, OK, type Reply } from '../resp/reply.js';
import type { CommandContext, RedisCommand } from './command.js';
import { defineCommand } from './define-command.js';
import { incrByFloat } from './redis-float.js';
import { INT64_MAX, INT64_MIN, NOT_AN_INTEGER, arityError, keyError, keysError, parseInteger, valueLengthError } from './redis-args.js';
import { expiryOf, parseStringOptions } from './string-options.js';

const OVERFLOW = new ErrorReply('ERR increment or decrement would overflow');
const EMPTY = Buffer.alloc(0);

/**
 * Queues `value` for `key` with an expiry (ms, null for none), or a delete
 * when that expiry is not after `now`: Redis keeps no key that has expired.
 */
function writeString(tx: Transaction, key: Buffer, value: Buffer, expiresAt: number | null, now: number): void {
  if (expiresAt !== null && expiresAt <= now) tx.del(key);
  else tx.put(key, value, { expiresAt });
}

async function get(ctx: CommandContext, [key]: Buffer[]): Promise<Reply> {
  const error = keyError(key);
  if (error) return error;
  return (await ctx.keys.get(key))?.value ?? null;
}

/** SET key value [NX | XX] [GET] [EX s | PX ms | EXAT s | PXAT ms | KEEPTTL] */
async function set(ctx: CommandContext, [key, value, ...words]: Buffer[]): Promise<Reply> {
  const error = keyError(key) ?? valueLengthError(value.length);
  if (error) return error;
  const o = parseStringOptions(words, 'set');
  if (o instanceof ErrorReply) return o;
  const now = ctx.now();
  const expiresAt = o.expire ? expiryOf(o.expire, now, 'set') : null;
  if (expiresAt instanceof ErrorReply) return expiresAt;
  return ctx.keys.write(async (tx) => {
    const found = o.nx || o.xx || o.get || o.keepTtl ? await tx.getEntry(key) : undefined;
    // With GET the reply is the old value (nil for none), whether SET wrote or not.
    const old = found?.value ?? null;
    if ((o.nx && found) || (o.xx && !found)) return o.get ? old : null;
    writeString(tx, key, value, o.keepTtl ? (found?.expiresAt ?? null) : expiresAt, now);
    return o.get ? old : OK;
  });
}

/** SETEX key seconds value, PSETEX key milliseconds value: SET key value EX|PX n. */
function setWithExpiry(command: 'setex' | 'psetex') {
  return async (ctx: CommandContext, [key, time, value]: Buffer[]): Promise<Reply> => {
    const error = keyError(key) ?? valueLengthError(value.length);
    if (error) return error;
    const now = ctx.now();
    const expiresAt = expiryOf({ unit: command === 'setex' ? 'ex' : 'px', word: time }, now, command);
    if (expiresAt instanceof ErrorReply) return expiresAt;
    return ctx.keys.write((tx) => {
      tx.put(key, value, { expiresAt });
      return OK;
    });
  };
}

async function setnx(ctx: CommandContext, [key, value]: Buffer[]): Promise<Reply> {
  const error = keyError(key) ?? valueLengthError(value.length);
  if (error) return error;
  return ctx.keys.write(async (tx) => {
    if (await tx.getEntry(key)) return 0;
    tx.put(key, value);
    return 1;
  });
}

async function getset(ctx: CommandContext, [key, value]: Buffer[]): Promise<Reply> {
  const error = keyError(key) ?? valueLengthError(value.length);
  if (error) return error;
  return ctx.keys.write(async (tx) => {
    const found = await tx.getEntry(key);
    tx.put(key, value);
    return found?.value ?? null;
  });
}

async function getdel(ctx: CommandContext, [key]: Buffer[]): Promise<Reply> {
  const error = keyError(key);
  if (error) return error;
  return ctx.keys.write(async (tx) => {
    const found = await tx.getEntry(key);
    if (found) tx.del(key);
    return found?.value ?? null;
  });
}

/**
 * GETEX key [EX s | PX ms | EXAT s | PXAT ms | PERSIST]: a missing key is nil
 * before the expiry is read. Without an option it writes nothing, but reads
 * through KeySpace.write all the same: as a write command it starts together
 * with the writes pipelined before it, and must see them.
 */
async function getex(ctx: CommandContext, [key, ...words]: Buffer[]): Promise<Reply> {
  const error = keyError(key);
  if (error) return error;
  const o = parseStringOptions(words, 'getex');
  if (o instanceof ErrorReply) return o;
  const { expire, persist } = o;
  const now = ctx.now();
  return ctx.keys.write(async (tx) => {
    const found = await tx.getEntry(key);
    if (!found) return null;
    if (expire) {
      const expiresAt = expiryOf(expire, now, 'getex');
      if (expiresAt instanceof ErrorReply) return expiresAt;
      writeString(tx, key, found.value, expiresAt, now);
    } else if (persist && found.expiresAt !== null) {
      tx.put(key, found.value, { expiresAt: null });
    }
    return found.value;
  });
}

async function mget(ctx: CommandContext, keys: Buffer[]): Promise<Reply> {
  const error = keysError(keys);
  if (error) return error;
  return (await ctx.keys.getMany(keys)).map((entry) => entry?.value ?? null);
}

/** MSET and MSETNX: keys and values in pairs, written in one write; MSETNX writes none when any key exists. */
function mset(command: 'mset' | 'msetnx') {
  return async (ctx: CommandContext, words: Buffer[]): Promise<Reply> => {
    if (words.length % 2 !== 0) return arityError(command);
    const pairs: Array<[Buffer, Buffer]> = [];
    for (let i = 0; i < words.length; i += 2) pairs.push([words[i], words[i + 1]]);
    for (const [key, value] of pairs) {
      const error = keyError(key) ?? valueLengthError(value.length);
      if (error) return error;
    }
    return ctx.keys.write(async (tx) => {
      if (command === 'msetnx') {
        for (const [key] of pairs) if (await tx.getEntry(key)) return 0;
      }
      for (const [key, value] of pairs) tx.put(key, value);
      return command === 'msetnx' ? 1 : OK;
    });
  };
}

/** INCR, DECR, INCRBY, DECRBY: the value as a signed 64-bit integer (missing: 0), its expiry kept. */
function incrBy(ctx: CommandContext, key: Buffer, increment: bigint): Reply | Promise<Reply> {
  const error = keyError(key);
  if (error) return error;
  return ctx.keys.write(async (tx) => {
    const found = await tx.getEntry(key);
    const current = found ? parseInteger(found.value) : 0n;
    if (current === undefined) return NOT_AN_INTEGER;
    const result = current + increment;
    if (result < INT64_MIN || result > INT64_MAX) return OVERFLOW;
    tx.put(key, Buffer.from(result.toString(), 'latin1'), { expiresAt: found?.expiresAt ?? null });
    return result;
  });
}

function incrByWord(ctx: CommandContext, [key, word]: Buffer[], sign: 1n | -1n): Reply | Promise<Reply> {
  const error = keyError(key);
  if (error) return error;
  const increment = parseInteger(word);
  if (increment === undefined) return NOT_AN_INTEGER;
  if (sign < 0n && increment === INT64_MIN) return new ErrorReply('ERR decrement would overflow');
  return incrBy(ctx, key, sign * increment);
}

async function append(ctx: CommandContext, [key, value]: Buffer[]): Promise<Reply> {
  const error = keyError(key) ?? valueLengthError(value.length);
  if (error) return error;
  return ctx.keys.write(async (tx) => {
    const found = await tx.getEntry(key);
    if (!found) {
      tx.put(key, value);
      return value.length;
    }
    const length = found.value.length + value.length;
    const tooLong = valueLengthError(length);
    if (tooLong) return tooLong;
    tx.put(key, Buffer.concat([found.value, value], length), { expiresAt: found.expiresAt });
    return length;
  });
}

async function strlen(ctx: CommandContext, [key]: Buffer[]): Promise<Reply> {
  const error = keyError(key);
  if (error) return error;
  return (await ctx.keys.get(key))?.value.length ?? 0;
}

/** GETRANGE key start end (and SUBSTR): bytes start..end inclusive, negative indexes counting from the end. */
async function getrange(ctx: CommandContext, [key, startWord, endWord]: Buffer[]): Promise<Reply> {
  const error = keyError(key);
  if (error) return error;
  let start = parseInteger(startWord);
  let end = parseInteger(endWord);
  if (start === undefined || end === undefined) return NOT_AN_INTEGER;
  const found = await ctx.keys.get(key);
  if (!found) return EMPTY;
  const length = BigInt(found.value.length);
  if (start < 0n && end < 0n && start > end) return EMPTY;
  if (start < 0n) start += length;
  if (end < 0n) end += length;
  if (start < 0n) start = 0n;
  if (end < 0n) end = 0n;
  if (end >= length) end = length - 1n;
  if (start > end || length === 0n) return EMPTY;
  return found.value.subarray(Number(start), Number(end) + 1);
}

/** SETRANGE key offset value: writes value at offset, zero bytes filling any gap; the expiry kept. */
async function setrange(ctx: CommandContext, [key, offsetWord, value]: Buffer[]): Promise<Reply> {
  const error = keyError(key);
  if (error) return error;
  const offset = parseInteger(offsetWord);
  if (offset === undefined) return NOT_AN_INTEGER;
  if (offset < 0n) return new ErrorReply('ERR offset is out of range');
  // Redis checks the length whenever the value is not empty, whatever the key holds.
  const tooLong = value.length > 0 ? valueLengthError(Number(offset + BigInt(value.length))) : undefined;
  if (tooLong) return tooLong;
  const at = Number(offset);
  return ctx.keys.write(async (tx) => {
    const found = await tx.getEntry(key);
    if (value.length === 0) return found?.value.length ?? 0;
    const old = found?.value ?? EMPTY;
    const result = Buffer.alloc(Math.max(old.length, at + value.length));
    old.copy(result);
    value.copy(result, at);
    tx.put(key, result, { expiresAt: found?.expiresAt ?? null });
    return result.length;
  });
}

export const stringCommands: readonly RedisCommand[] = [
  defineCommand('get', 2, 'readonly fast', [1, 1, 1], get),
  defineCommand('set', -3, 'write denyoom', [1, 1, 1], set),
  defineCommand('setnx', 3, 'write denyoom fast', [1, 1, 1], setnx),
  defineCommand('setex', 4, 'write denyoom', [1, 1, 1], setWithExpiry('setex')),
  defineCommand('psetex', 4, 'write denyoom', [1, 1, 1], setWithExpiry('psetex')),
  defineCommand('getset', 3, 'write denyoom fast', [1, 1, 1], getset),
  defineCommand('getdel', 2, 'write fast', [1, 1, 1], getdel),
  defineCommand('getex', -2, 'write fast', [1, 1, 1], getex),
  defineCommand('mget', -2, 'readonly fast', [1, -1, 1], mget),
  defineCommand('mset', -3, 'write denyoom', [1, -1, 2], mset('mset')),
  defineCommand('msetnx', -3, 'write denyoom', [1, -1, 2], mset('msetnx')),
  defineCommand('incr', 2, 'write denyoom fast', [1, 1, 1], (ctx, [key]) => incrBy(ctx, key, 1n)),
  defineCommand('decr', 2, 'write denyoom fast', [1, 1, 1], (ctx, [key]) => incrBy(ctx, key, -1n)),
  defineCommand('incrby', 3, 'write denyoom fast', [1, 1, 1], (ctx, args) => incrByWord(ctx, args, 1n)),
  defineCommand('decrby', 3, 'write denyoom fast', [1, 1, 1], (ctx, args) => incrByWord(ctx, args, -1n)),
  defineCommand('incrbyfloat', 3, 'write denyoom fast', [1, 1, 1], incrByFloat),
  defineCommand('append', 3, 'write denyoom fast', [1, 1, 1], append),
  defineCommand('strlen', 2, 'readonly fast', [1, 1, 1], strlen),
  defineCommand('getrange', 4, 'readonly', [1, 1, 1], getrange),
  defineCommand('substr', 4, 'readonly', [1, 1, 1], getrange),
  defineCommand('setrange', 4, 'write denyoom', [1, 1, 1], setrange),
];
