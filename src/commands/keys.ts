import * as Args from '@oclif/core/args';
import * as Flags from '@oclif/core/flags';
import type { AlphabetLowercase } from '@oclif/core/interfaces';
import { TzkvCommand } from '../cli/base.js';
import { bucketFlag } from '../cli/flags.js';
import { listKeys } from '../cli/key-listing.js';

export default class Keys extends TzkvCommand {
  static override summary = 'List keys, sorted.';
  static override description =
    'Prints one key per line in ascending byte order, only live (unexpired) keys. With --json prints an array of strings. Past damaged data (see `tzkv verify`) it lists every readable key, warns on stderr for each damaged stretch (file, offset) and exits 4. With -b, lists the keys of that bucket, without the bucket prefix.\n\nTo a pipe or file each key is written as its exact bytes; -0 ends each with a NUL byte instead of a newline, for `xargs -0`. On a terminal a key holding control characters (or bytes that are not UTF-8, or a quote or backslash) is shown in double quotes with escapes, "a\\x1b[2J", so that it cannot act on the terminal.\n\nPREFIX is a prefix, not a pattern: a PREFIX holding * ? or [ that no key starts with is said so on stderr (exit 0, as for any empty listing). --match GLOB keeps the keys whose whole key (without the bucket) matches: * any characters (: and / included), ? one character, [abc] [a-z] one of a set, [!a-z] one not in it, \\ before a character to take it literally; an unclosed [ is a usage error (exit 2). Only keys under the glob\'s literal start (and PREFIX) are scanned; --limit counts matching keys.\n\n--long (-l) adds each value\'s size in bytes and its expiry, reading every value it lists: SIZE<TAB>EXPIRES<TAB>KEY lines into a pipe (EXPIRES an ISO time or -, the key last so that it may hold tabs; -0 ends each with a NUL), a table on a terminal, {"key", "size", "expiresAt"} objects under --json.';
  static override aliases = ['ls', 'list'];
  static override examples = [
    '<%= config.bin %> <%= command.id %>',
    '<%= config.bin %> <%= command.id %> session: --limit 10',
    '<%= config.bin %> <%= command.id %> -b users --json',
    '<%= config.bin %> <%= command.id %> tmp: -0 | xargs -0 <%= config.bin %> del --',
    "<%= config.bin %> <%= command.id %> --match 'user:*:email'",
    '<%= config.bin %> <%= command.id %> session: --long   # SIZE<TAB>EXPIRES<TAB>KEY into a pipe, a table on a terminal',
  ];
  static override args = {
    prefix: Args.string({ description: 'Only keys that start with this.', ignoreStdin: true }),
  };
  static override flags = {
    ...bucketFlag,
    limit: Flags.integer({ char: 'n', summary: 'Stop after this many keys.', min: 1, helpValue: 'N' }),
    // oclif's type lists letters only; its parser finds any character (`tzkv keys -0` is tested).
    null: Flags.boolean({ char: '0' as AlphabetLowercase, summary: 'End each key with a NUL byte instead of a newline (for xargs -0).', default: false }),
    match: Flags.string({ summary: 'Only keys matching this glob (* ? [a-z] [!a-z], \\ escapes), on the whole key.', helpValue: 'GLOB' }),
    long: Flags.boolean({ char: 'l', summary: "Show each key's value size in bytes and expiry.", default: false }),
  };

  async run(): Promise<void> {
    const { args, flags } = await this.parse(Keys);
    await listKeys({ ...flags, ...(args.prefix === undefined ? {} : { prefix: args.prefix }) });
  }
}
