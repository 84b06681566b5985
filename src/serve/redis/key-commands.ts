// Redis 7.0's generic (keyspace) commands over the store, answering what
// Redis answers (db.c, expire.c): deleting, counting, expiring, renaming and
// copying keys, and listing them (KEYS, SCAN). Every key is a string, so
// TYPE says "string" or "none". tzkv's checks of keys and expiries come first
// (redis-args.ts); every read-modify-write is one KeySpace.write.
import { ErrorReply, OK, SimpleString, type Reply } from '../resp/reply.js';
import type { CommandContext, RedisCommand } from './command.js';
import { defineCommand } from './define-command.js';
import { INT64_MAX, INT64_MIN, NOT_AN_INTEGER, SYNTAX_ERROR, expireTimeError, isOption, keyError, keysError, parseInteger, quoted, storableExpiry } from './redis-args.js';
import { keys, scan } from './key-listing.js';

const NO_SUCH_KEY = new ErrorReply('ERR no such key');
const SAME_OBJECT = new ErrorReply('ERR source and destination objects are the same');

/** DEL and UNLINK: how many of the keys existed (a key named twice counts once). */
async function del(ctx: CommandContext, names: Buffer[]): Promise<Reply> {
  const error = keysError(names);
  if (error) return error;
  return ctx.keys.write(async (tx) => {
    let deleted = 0;
    for (const key of names) {
      if (!(await tx.getEntry(key))) continue;
      tx.del(key);
      deleted++;
    }
    return deleted;
  });
}

/** EXISTS and TOUCH: how many of the keys exist (a key named twice counts twice). */
async function exists(ctx: CommandContext, names: Buffer[]): Promise<Reply> {
  const error = keysError(names);
  if (error) return error;
  return (await ctx.keys.getMany(names)).filter((entry) => entry !== undefined).length;
}

interface ExpireConditions {
  nx: boolean;
  xx: boolean;
  gt: boolean;
  lt: boolean;
}

function parseExpireConditions(words: Buffer[]): ExpireConditions | ErrorReply {
  const c: ExpireConditions = { nx: false, xx: false, gt: false, lt: false };
  for (const word of words) {
    const name = (['nx', 'xx', 'gt', 'lt'] as const).find((option) => isOption(word, option));
    if (!name) return new ErrorReply(`ERR Unsupported option ${quoted(word)}`);
    c[name] = true;
  }
  if (c.nx && (c.xx || c.gt || c.lt)) return new ErrorReply('ERR NX and XX, GT or LT options at the same time are not compatible');
  if (c.gt && c.lt) return new ErrorReply('ERR GT and LT options at the same time are not compatible');
  return c;
}

/**
 * EXPIRE, PEXPIRE, EXPIREAT, PEXPIREAT key time [NX | XX | GT | LT]: 1 when
 * the expiry was set (a time not after now deletes the key), 0 when the key
 * is missing or a condition failed. No expiry counts as infinite for GT and LT.
 */
function expire(command: string, unit: 's' | 'ms', relative: boolean) {
  return async (ctx: CommandContext, [key, time, ...words]: Buffer[]): Promise<Reply> => {
    const error = keyError(key);
    if (error) return error;
    const conditions = parseExpireConditions(words);
    if (conditions instanceof ErrorReply) return conditions;
    let when = parseInteger(time);
    if (when === undefined) return NOT_AN_INTEGER;
    if (unit === 's') {
      if (when > INT64_MAX / 1000n || when < INT64_MIN / 1000n) return expireTimeError(command);
      when *= 1000n;
    }
    const now = ctx.now();
    const base = relative ? BigInt(now) : 0n;
    if (when > INT64_MAX - base) return expireTimeError(command);
    const expiresAt = storableExpiry(when + base, command);
    if (expiresAt instanceof ErrorReply) return expiresAt;
    const { nx, xx, gt, lt } = conditions;
    return ctx.keys.write(async (tx) => {
      const found = await tx.getEntry(key);
      if (!found) return 0;
      const current = found.expiresAt;
      if (nx && current !== null) return 0;
      if (xx && current === null) return 0;
      if (gt && (current === null || expiresAt <= current)) return 0;
      if (lt && current !== null && expiresAt >= current) return 0;
      if (expiresAt <= now) tx.del(key);
      else tx.put(key, found.value, { expiresAt });
      return 1;
    });
  };
}

/**
 * TTL, PTTL, EXPIRETIME, PEXPIRETIME: -2 for a missing key, -1 for no
 * expiry; seconds are rounded to the nearest. The time left is counted from
 * when the command began, as Redis counts it from its command's time: on
 * etcd an expiry read from a lease is the middle of a whole second, which a
 * clock read after the read would round one way or the other depending on
 * whether a millisecond had passed.
 */
function ttl(unit: 's' | 'ms', absolute: boolean) {
  return async (ctx: CommandContext, [key]: Buffer[]): Promise<Reply> => {
    const error = keyError(key);
    if (error) return error;
    const now = ctx.now();
    const found = await ctx.keys.get(key);
    if (!found) return -2;
    if (found.expiresAt === null) return -1;
    const left = Math.max(0, absolute ? found.expiresAt : found.expiresAt - now);
    return unit === 'ms' ? left : Math.floor((left + 500) / 1000);
  };
}

async function persist(ctx: CommandContext, [key]: Buffer[]): Promise<Reply> {
  const error = keyError(key);
  if (error) return error;
  return ctx.keys.write(async (tx) => {
    const found = await tx.getEntry(key);
    if (!found || found.expiresAt === null) return 0;
    tx.put(key, found.value, { expiresAt: null });
    return 1;
  });
}

async function type(ctx: CommandContext, [key]: Buffer[]): Promise<Reply> {
  const error = keyError(key);
  if (error) return error;
  return new SimpleString((await ctx.keys.get(key)) ? 'string' : 'none');
}

/** RENAME and RENAMENX: the value and its expiry move to the new key in one write. */
function rename(command: 'rename' | 'renamenx') {
  const nx = command === 'renamenx';
  return async (ctx: CommandContext, [from, to]: Buffer[]): Promise<Reply> => {
    const error = keysError([from, to]);
    if (error) return error;
    return ctx.keys.write(async (tx) => {
      const found = await tx.getEntry(from);
      if (!found) return NO_SUCH_KEY;
      if (from.equals(to)) return nx ? 0 : OK;
      if (nx && (await tx.getEntry(to))) return 0;
      tx.put(to, found.value, { expiresAt: found.expiresAt });
      tx.del(from);
      return nx ? 1 : OK;
    });
  };
}

/** COPY source destination [DB n] [REPLACE]: tzkv serves one database, the connection's. */
async function copy(ctx: CommandContext, [from, to, ...words]: Buffer[]): Promise<Reply> {
  const error = keysError([from, to]);
  if (error) return error;
  let replace = false;
  for (let i = 0; i < words.length; i++) {
    if (isOption(words[i], 'replace')) {
      replace = true;
    } else if (isOption(words[i], 'db') && i + 1 < words.length) {
      const db = parseInteger(words[++i]);
      if (db === undefined) return NOT_AN_INTEGER;
      if (db < -(2n ** 31n) || db >= 2n ** 31n) return new ErrorReply('ERR value is out of range, value must between -2147483648 and 2147483647');
      if (db !== BigInt(ctx.conn.db)) return new ErrorReply('ERR DB index is out of range');
    } else {
      return SYNTAX_ERROR;
    }
  }
  if (from.equals(to)) return SAME_OBJECT;
  return ctx.keys.write(async (tx) => {
    const found = await tx.getEntry(from);
    if (!found) return 0;
    if (!replace && (await tx.getEntry(to))) return 0;
    tx.put(to, found.value, { expiresAt: found.expiresAt });
    return 1;
  });
}

export const keyCommands: readonly RedisCommand[] = [
  defineCommand('del', -2, 'write', [1, -1, 1], del),
  defineCommand('unlink', -2, 'write fast', [1, -1, 1], del),
  defineCommand('exists', -2, 'readonly fast', [1, -1, 1], exists),
  defineCommand('touch', -2, 'readonly fast', [1, -1, 1], exists),
  defineCommand('expire', -3, 'write fast', [1, 1, 1], expire('expire', 's', true)),
  defineCommand('pexpire', -3, 'write fast', [1, 1, 1], expire('pexpire', 'ms', true)),
  defineCommand('expireat', -3, 'write fast', [1, 1, 1], expire('expireat', 's', false)),
  defineCommand('pexpireat', -3, 'write fast', [1, 1, 1], expire('pexpireat', 'ms', false)),
  defineCommand('ttl', 2, 'readonly fast', [1, 1, 1], ttl('s', false)),
  defineCommand('pttl', 2, 'readonly fast', [1, 1, 1], ttl('ms', false)),
  defineCommand('expiretime', 2, 'readonly fast', [1, 1, 1], ttl('s', true)),
  defineCommand('pexpiretime', 2, 'readonly fast', [1, 1, 1], ttl('ms', true)),
  defineCommand('persist', 2, 'write fast', [1, 1, 1], persist),
  defineCommand('type', 2, 'readonly fast', [1, 1, 1], type),
  defineCommand('rename', 3, 'write', [1, 2, 1], rename('rename')),
  defineCommand('renamenx', 3, 'write fast', [1, 2, 1], rename('renamenx')),
  defineCommand('copy', -3, 'write denyoom', [1, 2, 1], copy),
  defineCommand('keys', 2, 'readonly', [0, 0, 0], keys),
  defineCommand('scan', -2, 'readonly', [0, 0, 0], scan),
];
