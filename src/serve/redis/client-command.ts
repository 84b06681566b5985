// CLIENT and the subcommands Redis clients send as they connect: ID,
// SETNAME, GETNAME, INFO, LIST, SETINFO (node-redis, redis-py), NO-EVICT, HELP.
import { ErrorReply, OK, SimpleString, VerbatimReply } from '../resp/reply.js';
import type { Reply } from '../resp/reply.js';
import { ClientState } from './client-state.js';
import type { CommandContext, ConnectionState } from './command.js';
import { defineCommand } from './define-command.js';
import { arityAccepts } from './command-table.js';
import { arityError, SYNTAX_ERROR } from './redis-args.js';
import { unknownSubcommand } from './redis-errors.js';

interface Subcommand {
  /** Words of the call, CLIENT and the subcommand's name included: N exactly, -N at least. */
  arity: number;
  run(ctx: CommandContext, args: Buffer[]): Reply;
}

/** A client name may only hold the printable ASCII characters from '!' to '~' (Redis's validateClientName). */
export function clientNameError(name: Buffer): ErrorReply | null {
  for (const byte of name) {
    if (byte < 0x21 || byte > 0x7e) return new ErrorReply('ERR Client names cannot contain spaces, newlines or special characters.');
  }
  return null;
}

/** One line of CLIENT LIST, in Redis 7's fields (the ones tzkv does not track are 0). */
function describe(state: ConnectionState, now: number): string {
  const details = state instanceof ClientState ? state : null;
  const seconds = (ms: number): number => Math.max(0, Math.floor(ms / 1000));
  const fields: Array<[string, string | number]> = [
    ['id', state.id],
    ['addr', state.remoteAddress],
    ['laddr', details?.localAddress ?? ''],
    ['fd', -1],
    ['name', state.name ?? ''],
    ['age', seconds(now - state.connectedAt)],
    ['idle', seconds(now - (details?.lastActiveAt ?? now))],
    ['flags', (details?.queued ?? -1) >= 0 ? 'x' : 'N'],
    ['db', state.db],
    ['sub', 0],
    ['psub', 0],
    ['ssub', 0],
    ['multi', details?.queued ?? -1],
    ['qbuf', 0],
    ['qbuf-free', 0],
    ['argv-mem', 0],
    ['multi-mem', 0],
    ['rbs', 0],
    ['rbp', 0],
    ['obl', 0],
    ['oll', 0],
    ['omem', 0],
    ['tot-mem', 0],
    ['events', 'r'],
    ['cmd', details?.lastCommand ?? 'NULL'],
    ['user', 'default'],
    ['redir', -1],
    ['resp', state.protocol],
  ];
  return `${fields.map(([key, value]) => `${key}=${value}`).join(' ')}\n`;
}

const SUBCOMMANDS: Record<string, Subcommand> = {
  id: { arity: 2, run: (ctx) => ctx.conn.id },
  getname: { arity: 2, run: (ctx) => (ctx.conn.name === null ? null : Buffer.from(ctx.conn.name)) },
  setname: {
    arity: 3,
    run(ctx, args) {
      const name = args[1]!;
      const invalid = clientNameError(name);
      if (invalid) return invalid;
      ctx.conn.name = name.length === 0 ? null : name.toString('utf8');
      return OK;
    },
  },
  info: { arity: 2, run: (ctx) => new VerbatimReply(describe(ctx.conn, ctx.now())) },
  list: {
    arity: -2,
    run(ctx, args) {
      const options = args.slice(1).map((arg) => arg.toString('utf8').toLowerCase());
      let ids: Set<number> | null = null;
      if (options.length === 2 && options[0] === 'type' && options[1] === 'normal') ids = null;
      else if (options.length >= 2 && options[0] === 'id') ids = new Set(options.slice(1).map(Number));
      else if (options.length > 0) return SYNTAX_ERROR;
      const clients = ctx.server.clients ? [...ctx.server.clients()] : [ctx.conn];
      const now = ctx.now();
      return new VerbatimReply(clients.filter((client) => ids === null || ids.has(client.id)).map((client) => describe(client, now)).join(''));
    },
  },
  setinfo: {
    arity: 4,
    run(_ctx, args) {
      const attribute = args[1]!.toString('utf8');
      if (!['lib-name', 'lib-ver'].includes(attribute.toLowerCase())) return new ErrorReply(`ERR Unrecognized option '${attribute}'`);
      return OK;
    },
  },
  'no-evict': { arity: 3, run: () => OK },
  help: {
    arity: 2,
    run: () =>
      [
        'CLIENT <subcommand> [<arg> [value] [opt] ...]. Subcommands are:',
        'GETNAME',
        '    Return the name of the current connection.',
        'ID',
        '    Return the ID of the current connection.',
        'INFO',
        '    Return information about the current client connection.',
        'LIST [options ...]',
        '    Return information about client connections. Options:',
        '    * TYPE (NORMAL)',
        '    * ID id [id ...]',
        'SETNAME <name>',
        '    Assign the name <name> to the current connection.',
        'SETINFO <LIB-NAME|LIB-VER> <value>',
        '    Accepted and ignored.',
        'HELP',
        '    Prints this help.',
      ].map((line) => new SimpleString(line)),
  },
};

export const clientCommand = defineCommand('client', -2, '', [0, 0, 0], (ctx, args) => {
  const name = args[0]!.toString('utf8').toLowerCase();
  const subcommand = Object.hasOwn(SUBCOMMANDS, name) ? SUBCOMMANDS[name]! : undefined;
  if (subcommand === undefined) return unknownSubcommand('client', args[0]!);
  if (!arityAccepts(subcommand.arity, args.length + 1)) return arityError(`client|${name}`);
  return subcommand.run(ctx, args);
});
