// The commands about the connection rather than the keys: PING ECHO HELLO
// AUTH SELECT QUIT here, CLIENT, COMMAND, INFO and DBSIZE, MULTI and its
// kin in their own files; `connectionCommands` lists them all for the
// command table. Replies and errors are Redis 7's, word for word.
import { createHash, timingSafeEqual } from 'node:crypto';
import { ErrorReply, MapReply, OK, SimpleString } from '../resp/reply.js';
import type { Reply } from '../resp/reply.js';
import { clientCommand, clientNameError } from './client-command.js';
import type { CommandContext, RedisCommand } from './command.js';
import { defineCommand } from './define-command.js';
import { commandCommand } from './command-command.js';
import { dbsizeCommand, infoCommand, REDIS_VERSION } from './info-command.js';
import { arityError, NOT_AN_INTEGER, parseInteger, SYNTAX_ERROR } from './redis-args.js';
import { transactionCommands } from './transaction.js';

const PONG = new SimpleString('PONG');
const WRONGPASS = new ErrorReply('WRONGPASS invalid username-password pair or user is disabled.');
const DEFAULT_USER = Buffer.from('default');

const NO_KEYS = [0, 0, 0] as const;

const ping = defineCommand('ping', -1, 'fast', NO_KEYS, (_ctx, args) => {
  if (args.length > 1) return arityError('ping');
  return args.length === 0 ? PONG : args[0]!;
});

const echo = defineCommand('echo', 2, 'loading stale fast', NO_KEYS, (_ctx, args) => args[0]!);

const NO_AUTH_FLAGS = 'noscript loading stale fast no_auth allow_busy';

/** HELLO [protover [AUTH username password] [SETNAME clientname]] */
const hello = defineCommand('hello', -1, NO_AUTH_FLAGS, NO_KEYS, (ctx, args) => {
  let protocol: 2 | 3 | null = null;
  if (args.length > 0) {
    const version = parseInteger(args[0]!);
    if (version === undefined) return new ErrorReply('ERR Protocol version is not an integer or out of range');
    if (version !== 2n && version !== 3n) return new ErrorReply('NOPROTO unsupported protocol version');
    protocol = version === 2n ? 2 : 3;
  }
  let credentials: [Buffer, Buffer] | null = null;
  let name: Buffer | null = null;
  for (let i = 1; i < args.length; i++) {
    const more = args.length - 1 - i;
    const option = args[i]!.toString('utf8');
    if (option.toLowerCase() === 'auth' && more >= 2) {
      credentials = [args[i + 1]!, args[i + 2]!];
      i += 2;
    } else if (option.toLowerCase() === 'setname' && more >= 1) {
      name = args[++i]!;
      const invalid = clientNameError(name);
      if (invalid) return invalid;
    } else {
      return new ErrorReply(`ERR Syntax error in HELLO option '${option}'`);
    }
  }
  if (credentials && !authenticate(ctx, credentials[0], credentials[1])) return WRONGPASS;
  if (!ctx.conn.authenticated) {
    return new ErrorReply(
      'NOAUTH HELLO must be called with the client already authenticated, otherwise the HELLO AUTH <user> <pass> option can be used to authenticate the client and select the RESP protocol version at the same time',
    );
  }
  if (name) ctx.conn.name = name.length === 0 ? null : name.toString('utf8');
  if (protocol) ctx.conn.protocol = protocol;
  return helloReply(ctx);
});

function helloReply(ctx: CommandContext): Reply {
  const field = (key: string, value: Reply): [Reply, Reply] => [Buffer.from(key), value];
  return new MapReply([
    field('server', Buffer.from('redis')),
    field('version', Buffer.from(REDIS_VERSION)),
    field('proto', ctx.conn.protocol),
    field('id', ctx.conn.id),
    field('mode', Buffer.from('standalone')),
    field('role', Buffer.from('master')),
    field('modules', []),
  ]);
}

/** AUTH [username] password: the one user is "default"; without a password set, any password is its. */
const auth = defineCommand('auth', -2, NO_AUTH_FLAGS, NO_KEYS, (ctx, args) => {
  if (args.length > 2) return SYNTAX_ERROR;
  if (args.length === 1 && ctx.server.password === null) {
    return new ErrorReply(
      'ERR AUTH <password> called without any password configured for the default user. Are you sure your configuration is correct?',
    );
  }
  const [user, password] = args.length === 1 ? [DEFAULT_USER, args[0]!] : [args[0]!, args[1]!];
  return authenticate(ctx, user, password) ? OK : WRONGPASS;
});

/** Checks the credentials (the password in constant time) and, when they hold, marks the connection authenticated. */
function authenticate(ctx: CommandContext, user: Buffer, password: Buffer): boolean {
  const expected = ctx.server.password;
  const passwordHolds = expected === null || timingSafeEqual(sha256(password), sha256(Buffer.from(expected, 'utf8')));
  if (!user.equals(DEFAULT_USER) || !passwordHolds) return false;
  ctx.conn.authenticated = true;
  return true;
}

function sha256(bytes: Buffer): Buffer {
  return createHash('sha256').update(bytes).digest();
}

/** SELECT's index is a C int. */
const INT_MIN = -(2n ** 31n);
const INT_MAX = 2n ** 31n - 1n;

/** tzkv has one database, 0: buckets are key prefixes (`bucket:key`), not databases. */
const select = defineCommand('select', 2, 'loading stale fast', NO_KEYS, (ctx, args) => {
  const index = parseInteger(args[0]!);
  if (index === undefined || index < INT_MIN || index > INT_MAX) return NOT_AN_INTEGER;
  if (index !== 0n) return new ErrorReply('ERR DB index is out of range');
  ctx.conn.db = 0;
  return OK;
});

const quit = defineCommand('quit', -1, NO_AUTH_FLAGS, NO_KEYS, (ctx) => {
  ctx.conn.closing = true;
  return OK;
});

/** Every command of this layer, for commandTable(). */
export const connectionCommands: readonly RedisCommand[] = [
  ping,
  echo,
  hello,
  auth,
  select,
  quit,
  clientCommand,
  commandCommand,
  infoCommand,
  dbsizeCommand,
  ...transactionCommands,
];
