// A RedisCommand from the row COMMAND INFO shows for it in Redis 7.0: name,
// arity, flags and key positions, with the function that answers it.
import type { Reply } from '../resp/reply.js';
import type { CommandContext, RedisCommand } from './command.js';

/** `flags` space-separated, as COMMAND lists them ('' for none); `keys` is [firstKey, lastKey, step]. */
export function defineCommand(
  name: string,
  arity: number,
  flags: string,
  keys: readonly [number, number, number],
  run: (ctx: CommandContext, args: Buffer[]) => Reply | Promise<Reply>,
): RedisCommand {
  return { name, arity, flags: flags === '' ? [] : flags.split(' '), firstKey: keys[0], lastKey: keys[1], step: keys[2], run };
}
