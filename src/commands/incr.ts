import * as Args from '@oclif/core/args';
import * as Flags from '@oclif/core/flags';
import { TzkvCommand } from '../cli/base.js';
import { DURATION_HELP } from '../text/duration.js';
import { bucketFlag, keyArg, lockFlag, modeFlag } from '../cli/flags.js';
import { incrementKey } from '../cli/key-actions.js';

export default class Incr extends TzkvCommand {
  static override summary = 'Add to an integer value, atomically.';
  static override description = `Reads the key, adds BY (default 1; may be negative) and writes the sum, all under the writer lock: concurrent increments never lose an update. A missing or expired key counts as 0. The value must be a base-10 integer (optional sign, digits only, at most ${Number.MAX_SAFE_INTEGER} in size); anything else is refused with exit 1 and left as it was. The key keeps its expiry; --ttl gives a key this incr creates one. Prints the new value; with --json {"key", "value"}.`;
  static override examples = [
    '<%= config.bin %> <%= command.id %> visits',
    '<%= config.bin %> <%= command.id %> stock:widget -- -3',
    '<%= config.bin %> <%= command.id %> -b counters jobs:done 10 --json',
    '<%= config.bin %> <%= command.id %> hits:203.0.113.7 --ttl 1m   # a count that resets a minute after the first hit',
  ];
  static override args = {
    key: keyArg,
    by: Args.string({ description: 'How much to add (an integer, default 1); after "--" when negative.', ignoreStdin: true }),
  };
  static override flags = {
    ...bucketFlag,
    ...lockFlag,
    ...modeFlag,
    ttl: Flags.string({
      summary: 'Expire a key this incr creates after this long (an existing key keeps its expiry).',
      description: `A duration: ${DURATION_HELP}.`,
      helpValue: 'DURATION',
    }),
  };

  async run(): Promise<void> {
    const { args, flags } = await this.parse(Incr);
    await incrementKey({ ...flags, key: args.key, ...(args.by === undefined ? {} : { by: args.by }) });
  }
}
