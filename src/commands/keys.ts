import * as Args from '@oclif/core/args';
import * as Flags from '@oclif/core/flags';
import { TzkvCommand } from '../cli/base.js';
import { bucketFlag } from '../cli/flags.js';
import { listKeys } from '../cli/key-actions.js';

export default class Keys extends TzkvCommand {
  static override summary = 'List keys, sorted.';
  static override description =
    'Prints one key per line in ascending byte order, only live (unexpired) keys. With --json prints an array of strings. With -b, lists the keys of that bucket, without the bucket prefix.';
  static override examples = [
    '<%= config.bin %> <%= command.id %>',
    '<%= config.bin %> <%= command.id %> session: --limit 10',
    '<%= config.bin %> <%= command.id %> -b users --json',
  ];
  static override args = {
    prefix: Args.string({ description: 'Only keys that start with this.', ignoreStdin: true }),
  };
  static override flags = {
    ...bucketFlag,
    limit: Flags.integer({ char: 'n', summary: 'Stop after this many keys.', min: 1, helpValue: 'N' }),
  };

  async run(): Promise<void> {
    const { args, flags } = await this.parse(Keys);
    await listKeys({ ...flags, ...(args.prefix === undefined ? {} : { prefix: args.prefix }) });
  }
}
