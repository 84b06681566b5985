// COMMAND: what the server answers, as Redis 7 describes its commands to
// clients: COUNT, LIST, INFO [name ...], DOCS [name ...] (no documentation:
// an empty map per command) and, bare, the INFO of every command.
import { MapReply, SetReply, SimpleString } from '../resp/reply.js';
import type { Reply } from '../resp/reply.js';
import type { RedisCommand } from './command.js';
import { defineCommand } from './define-command.js';
import { arityError, SYNTAX_ERROR } from './redis-args.js';
import { unknownSubcommand } from './redis-errors.js';

/** Redis 7's ten fields: name, arity, flags, first key, last key, step, ACL categories, tips, key specs, subcommands. */
function describe(command: RedisCommand): Reply {
  const categories: string[] = [];
  if (command.flags.includes('write')) categories.push('@write');
  else if (command.flags.includes('readonly')) categories.push('@read');
  categories.push(command.flags.includes('fast') ? '@fast' : '@slow');
  return [
    Buffer.from(command.name),
    command.arity,
    new SetReply(command.flags.map((flag) => new SimpleString(flag))),
    command.firstKey,
    command.lastKey,
    command.step,
    new SetReply(categories.map((category) => new SimpleString(category))),
    new SetReply([]),
    new SetReply([]),
    new SetReply([]),
  ];
}

const HELP = [
  'COMMAND <subcommand> [<arg> [value] [opt] ...]. Subcommands are:',
  '(no subcommand)',
  '    Return details about all commands.',
  'COUNT',
  '    Return the total number of commands in this server.',
  'LIST',
  '    Return a list of all commands in this server.',
  'INFO [<command-name> ...]',
  '    Return details about the given commands, or all of them.',
  'DOCS [<command-name> ...]',
  '    Return documentation about the given commands, or all of them (empty here).',
  'HELP',
  '    Prints this help.',
];

export const commandCommand = defineCommand('command', -1, 'loading stale', [0, 0, 0], (ctx, args) => {
  const table = ctx.server.commands;
  const named = (names: Buffer[]): Array<RedisCommand | undefined> =>
    names.length === 0 ? [...table.values()] : names.map((name) => table.get(name.toString('utf8').toLowerCase()));
  if (args.length === 0) return [...table.values()].map(describe);
  const subcommand = args[0]!.toString('utf8').toLowerCase();
  const rest = args.slice(1);
  switch (subcommand) {
    case 'count':
      return rest.length === 0 ? table.size : arityError('command|count');
    case 'list':
      return rest.length === 0 ? [...table.keys()].map((name) => Buffer.from(name)) : SYNTAX_ERROR;
    case 'info':
      return named(rest).map((command) => (command === undefined ? null : describe(command)));
    case 'docs':
      return new MapReply(
        named(rest)
          .filter((command) => command !== undefined)
          .map((command) => [Buffer.from(command.name), new MapReply([])]),
      );
    case 'help':
      return rest.length === 0 ? HELP.map((line) => new SimpleString(line)) : arityError('command|help');
    default:
      return unknownSubcommand('command', args[0]!);
  }
});
