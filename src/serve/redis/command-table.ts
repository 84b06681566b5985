// The commands a server answers, by name. Each group of commands (the
// connection's own, the string commands, the key commands, ...) is a list;
// the table joins them and refuses a name given twice.
import type { RedisCommand } from './command.js';

/** The table of `groups`' commands, keyed by their lower-case names. Throws when a name is not lower case or is given twice. */
export function commandTable(...groups: Array<readonly RedisCommand[]>): Map<string, RedisCommand> {
  const table = new Map<string, RedisCommand>();
  for (const command of groups.flat()) {
    if (command.name !== command.name.toLowerCase()) throw new Error(`Redis command name '${command.name}' is not lower case`);
    if (table.has(command.name)) throw new Error(`Redis command '${command.name}' is in the table twice`);
    table.set(command.name, command);
  }
  return table;
}

/** Redis's arity rule over the words of a call, its name included: N exactly N, -N at least N. */
export function arityAccepts(arity: number, words: number): boolean {
  return arity >= 0 ? words === arity : words >= -arity;
}
