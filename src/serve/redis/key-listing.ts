// KEYS pattern and SCAN cursor [MATCH pattern] [COUNT n] [TYPE type]: the
// store's live keys in key order, those a pattern matches (redis-glob.ts),
// listing only the keys under the pattern's literal prefix. KEYS lists all
// of them in one reply; SCAN a page at a time (scan-cursors.ts), examining at
// most ten times COUNT keys a call, as Redis's scan visits at most ten times
// COUNT buckets. Both give the event loop a turn every 1000 keys.
import { ErrorReply, type Reply } from '../resp/reply.js';
import type { CommandContext } from './command.js';
import { NOT_AN_INTEGER, SYNTAX_ERROR, isOption, parseInteger } from './redis-args.js';
import { globMatches, globPrefix } from './redis-glob.js';
import { MAX_POSITIONS, scanCursorsOf } from './scan-cursors.js';

const INVALID_CURSOR = new ErrorReply('ERR invalid cursor');
const KEYS_PER_TURN = 1000;

/** The keys `pattern` matches ("*" every key). */
const matcher = (pattern: Buffer) => (pattern.length === 1 && pattern[0] === 0x2a ? () => true : (key: Buffer) => globMatches(pattern, key));

export async function keys(ctx: CommandContext, [pattern]: Buffer[]): Promise<Reply> {
  const matches = matcher(pattern);
  const now = ctx.now();
  const found: Buffer[] = [];
  let listed = 0;
  for await (const { key, expiresAt } of ctx.store.keys({ prefix: globPrefix(pattern) })) {
    if (++listed % KEYS_PER_TURN === 0) await new Promise((resolve) => setImmediate(resolve));
    if ((expiresAt === null || expiresAt > now) && matches(key)) found.push(key);
  }
  return found;
}

/**
 * A SCAN cursor as Redis reads one (strtoul: digits after an optional sign,
 * up to a NUL; no leading space; an empty word is 0), as an unsigned 64-bit
 * number; undefined for none.
 */
function parseCursor(word: Buffer): bigint | undefined {
  const nul = word.indexOf(0);
  const parts = /^([+-]?)(\d*)$/.exec((nul === -1 ? word : word.subarray(0, nul)).toString('latin1'));
  if (!parts || (parts[1] !== '' && parts[2] === '')) return undefined;
  const value = BigInt(`0${parts[2]}`);
  if (value >= 2n ** 64n) return undefined;
  return parts[1] === '-' ? (2n ** 64n - value) % 2n ** 64n : value;
}

export async function scan(ctx: CommandContext, [cursorWord, ...words]: Buffer[]): Promise<Reply> {
  const cursor = parseCursor(cursorWord);
  if (cursor === undefined) return INVALID_CURSOR;
  let count = 10;
  let pattern: Buffer | undefined;
  let typeName: Buffer | undefined;
  for (let i = 0; i < words.length; i++) {
    const word = words[i];
    const hasValue = i + 1 < words.length;
    if (hasValue && isOption(word, 'count')) {
      const n = parseInteger(words[++i]);
      if (n === undefined) return NOT_AN_INTEGER;
      if (n < 1n) return SYNTAX_ERROR;
      count = n > 1_000_000_000n ? 1_000_000_000 : Number(n);
    } else if (hasValue && isOption(word, 'match')) {
      pattern = words[++i];
    } else if (hasValue && isOption(word, 'type')) {
      typeName = words[++i];
    } else {
      return SYNTAX_ERROR;
    }
  }
  const cursors = scanCursorsOf(ctx.store);
  const position = cursor < 2n ** 53n ? Number(cursor) : -1;
  if (!cursors.knows(position)) {
    return new ErrorReply(`ERR invalid cursor: tzkv does not know cursor ${cursor} (a server keeps the last ${MAX_POSITIONS} cursors of its SCANs, until it restarts); start again from 0`);
  }
  // Every key is a string: a SCAN for any other type is over at once.
  if (typeName && !isOption(typeName, 'string')) return [Buffer.from('0'), []];
  const page = await cursors.scan({
    cursor: position,
    prefix: pattern ? globPrefix(pattern) : Buffer.alloc(0),
    accept: pattern ? matcher(pattern) : () => true,
    count,
    now: ctx.now(),
  });
  return [Buffer.from(String(page.cursor)), page.keys];
}
