import * as Args from '@oclif/core/args';
import * as Flags from '@oclif/core/flags';
import { TzkvCommand } from '../cli/base.js';
import { DURATION_HELP } from '../text/duration.js';
import { bucketFlag, keyArg, lockFlag, modeFlag } from '../cli/flags.js';
import { keyTtl } from '../cli/key-actions.js';

export default class Ttl extends TzkvCommand {
  static override summary = "Show or change a key's time to live.";
  static override description =
    'Prints the whole seconds left before the key expires, or -1 when it never expires; exits 1 when the key is missing. With DURATION (or --expire-at) sets a new expiry, with --persist removes it; either then prints the new time to live. With --json prints {"key", "ttl", "expiresAt"}.';
  static override examples = [
    '<%= config.bin %> <%= command.id %> session:42',
    '<%= config.bin %> <%= command.id %> session:42 30m',
    '<%= config.bin %> <%= command.id %> session:42 --persist',
    '<%= config.bin %> <%= command.id %> report --expire-at 2030-01-01T00:00:00Z --json',
  ];
  static override args = {
    key: keyArg,
    duration: Args.string({ description: `New time to live: ${DURATION_HELP}.`, ignoreStdin: true }),
  };
  static override flags = {
    ...bucketFlag,
    ...lockFlag,
    ...modeFlag,
    persist: Flags.boolean({ summary: 'Remove the expiry: the key never expires.', default: false, exclusive: ['expire-at'] }),
    'expire-at': Flags.string({ summary: 'Expire the key at this time: ISO 8601 or epoch seconds.', helpValue: 'TIME', exclusive: ['persist'] }),
  };

  async run(): Promise<void> {
    const { args, flags } = await this.parse(Ttl);
    await keyTtl({ ...flags, key: args.key, ...(args.duration === undefined ? {} : { duration: args.duration }) });
  }
}
