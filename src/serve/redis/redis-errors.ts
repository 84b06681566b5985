// The error replies the connection layer shares with the commands, in Redis
// 7's exact words: clients and their users match on them.
import { ErrorReply } from '../resp/reply.js';

export const NOAUTH = new ErrorReply('NOAUTH Authentication required.');
export const SYNTAX_ERROR = new ErrorReply('ERR syntax error');
export const NOT_AN_INTEGER = new ErrorReply('ERR value is not an integer or out of range');

/** `name` as COMMAND reports it: "get", or "client|setname" for a subcommand. */
export function wrongArity(name: string): ErrorReply {
  return new ErrorReply(`ERR wrong number of arguments for '${name}' command`);
}

/** Redis's text for a command not in the table: its name and the start of its arguments (%.128s each, 128 bytes in all). */
export function unknownCommand(words: readonly Buffer[]): ErrorReply {
  let args = '';
  let argsBytes = 0;
  for (let i = 1; i < words.length && argsBytes < 128; i++) {
    const end = cStringEnd(words[i]!, 128 - argsBytes);
    args += `'${words[i]!.toString('utf8', 0, end)}' `;
    argsBytes += end + 3;
  }
  const name = words[0]!;
  return new ErrorReply(`ERR unknown command '${name.toString('utf8', 0, cStringEnd(name, 128))}', with args beginning with: ${args}`);
}

/** "ERR unknown subcommand 'FOO'. Try CLIENT HELP." */
export function unknownSubcommand(command: string, subcommand: Buffer): ErrorReply {
  const sub = subcommand.toString('utf8', 0, cStringEnd(subcommand, 128));
  return new ErrorReply(`ERR unknown subcommand '${sub}'. Try ${command.toUpperCase()} HELP.`);
}

/** Where C's "%.Ns" stops printing `bytes`: at a NUL, or after `max` bytes. */
function cStringEnd(bytes: Buffer, max: number): number {
  const nul = bytes.indexOf(0);
  return Math.min(nul === -1 ? bytes.length : nul, max);
}
