// The errors of the connection layer, in Redis 7's exact words (clients and
// their users match on them): a command it does not know, a subcommand a
// container command (CLIENT, COMMAND) does not know, AUTH missing. The
// errors about a command's words are in redis-args.ts.
import { ErrorReply } from '../resp/reply.js';

export const NOAUTH = new ErrorReply('NOAUTH Authentication required.');

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
