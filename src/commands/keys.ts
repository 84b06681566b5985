import * as Args from '@oclif/core/args';
import * as Flags from '@oclif/core/flags';
import type { AlphabetLowercase } from '@oclif/core/interfaces';
import { TzkvCommand } from '../cli/base.js';
import { bucketFlag } from '../cli/flags.js';
import { listKeys } from '../cli/key-actions.js';

export default class Keys extends TzkvCommand {
  static override summary = 'List keys, sorted.';
  static override description =
    'Prints one key per line in ascending byte order, only live (unexpired) keys. With --json prints an array of strings. Past damaged data (see `tzkv verify`) it lists every readable key, warns on stderr for each damaged stretch (file, offset) and exits 4. With -b, lists the keys of that bucket, without the bucket prefix.\n\nTo a pipe or file each key is written as its exact bytes; -0 ends each with a NUL byte instead of a newline, for `xargs -0`. On a terminal a key holding control characters (or bytes that are not UTF-8, or a quote or backslash) is shown in double quotes with escapes, "a\\x1b[2J", so that it cannot act on the terminal.';
  static override examples = [
    '<%= config.bin %> <%= command.id %>',
    '<%= config.bin %> <%= command.id %> session: --limit 10',
    '<%= config.bin %> <%= command.id %> -b users --json',
    '<%= config.bin %> <%= command.id %> tmp: -0 | xargs -0 <%= config.bin %> del --',
  ];
  static override args = {
    prefix: Args.string({ description: 'Only keys that start with this.', ignoreStdin: true }),
  };
  static override flags = {
    ...bucketFlag,
    limit: Flags.integer({ char: 'n', summary: 'Stop after this many keys.', min: 1, helpValue: 'N' }),
    // oclif's type lists letters only; its parser finds any character (`tzkv keys -0` is tested).
    null: Flags.boolean({ char: '0' as AlphabetLowercase, summary: 'End each key with a NUL byte instead of a newline (for xargs -0).', default: false }),
  };

  async run(): Promise<void> {
    const { args, flags } = await this.parse(Keys);
    await listKeys({ ...flags, ...(args.prefix === undefined ? {} : { prefix: args.prefix }) });
  }
}
