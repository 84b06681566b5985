import * as Args from '@oclif/core/args';
import { TzkvCommand } from '../cli/base.js';
import { bucketFlag, lockFlag } from '../cli/flags.js';
import { deleteKeys } from '../cli/key-actions.js';

export default class Del extends TzkvCommand {
  static override summary = 'Delete keys.';
  static override description =
    'Exits 0 whether or not the keys existed; 5 when the directory holds no store (del never starts one; the default store before anything was written to it has no keys to delete). With --json prints {"deleted": N}, counting the keys that were actually removed.';
  static override examples = [
    '<%= config.bin %> <%= command.id %> greeting',
    '<%= config.bin %> <%= command.id %> -b users 41 42 43 --json',
    '<%= config.bin %> <%= command.id %> -- -key-starting-with-a-dash',
  ];
  static override strict = false;
  static override args = {
    key: Args.string({ description: 'Keys to delete (one or more).', required: true, ignoreStdin: true }),
  };
  static override flags = { ...bucketFlag, ...lockFlag };

  async run(): Promise<void> {
    const { argv, flags } = await this.parse(Del);
    await deleteKeys({ ...flags, keys: argv as string[] });
  }
}
