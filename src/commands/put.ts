import * as Args from '@oclif/core/args';
import * as Flags from '@oclif/core/flags';
import { TzkvCommand } from '../cli/base.js';
import { DURATION_HELP } from '../text/duration.js';
import { bucketFlag, keyArg, lockFlag, modeFlag } from '../cli/flags.js';
import { putKey } from '../cli/key-actions.js';

export default class Put extends TzkvCommand {
  static override summary = 'Store a value under a key.';
  static override description =
    'The value comes from the VALUE argument, or from --file; from stdin only when VALUE or --file is "-" (left out, it is a usage error: a loop\'s input is never taken for a value). A VALUE that starts with "-" goes after "--", which ends the flags: tzkv put note -- "-bugfix release". Values are stored byte for byte. Prints nothing unless --json ({"key", "bytes", "expiresAt", "version"}) or --get. --if-absent, --if-value and --if-version exclude one another; each is checked and the value written in one step, and when it fails nothing is written and the exit code is 1.';
  static override aliases = ['set'];
  static override examples = [
    '<%= config.bin %> <%= command.id %> greeting hello',
    '<%= config.bin %> <%= command.id %> session:42 "$TOKEN" --ttl 10m',
    '<%= config.bin %> <%= command.id %> photo --file photo.jpg',
    '<%= config.bin %> <%= command.id %> notes - < notes.txt',
    '<%= config.bin %> <%= command.id %> note -- "-bugfix release"',
    '<%= config.bin %> <%= command.id %> -b jobs nightly started --if-absent || echo "already running"',
    '<%= config.bin %> <%= command.id %> config/active v2 --if-value v1 || echo "someone else switched it"',
    '<%= config.bin %> <%= command.id %> state "$NEW" --if-version "$(<%= config.bin %> get state --json | jq -r .version)"',
    '<%= config.bin %> <%= command.id %> --get counter 0   # print the old value and reset it, in one step',
    '<%= config.bin %> <%= command.id %> -d /srv/team-kv --mode 0750 greeting hello   # a new store a group may read',
  ];
  static override args = {
    key: keyArg,
    value: Args.string({ description: 'The value ("-": stdin); after "--" when it starts with "-".', ignoreStdin: true }),
  };
  static override flags = {
    ...bucketFlag,
    ...lockFlag,
    ...modeFlag,
    file: Flags.string({ char: 'f', summary: 'Read the value from this file ("-": stdin).', helpValue: 'PATH' }),
    ttl: Flags.string({ summary: 'Expire the key after this long.', description: `A duration: ${DURATION_HELP}.`, helpValue: 'DURATION', exclusive: ['expire-at'] }),
    'expire-at': Flags.string({ summary: 'Expire the key at this time: ISO 8601 or epoch seconds.', helpValue: 'TIME', exclusive: ['ttl'] }),
    // The three conditions exclude one another: key-actions.ts says so, the same on both start paths (not oclif's `exclusive`).
    'if-absent': Flags.boolean({ summary: 'Write only if the key does not exist (exit 1 if it does).', default: false }),
    'if-value': Flags.string({
      summary: 'Write only if the current value is exactly OLD (exit 1 if not).',
      description:
        'Checked and written in one step (compare-and-swap); a missing or expired key matches no OLD. OLD may start with "-" (--if-value=-OLD); a new VALUE that does goes after "--": put k --if-value old -- -new.',
      helpValue: 'OLD',
    }),
    'if-version': Flags.string({
      summary: 'Write only if the key\'s version is V, the "version" of get --json (exit 1 if not).',
      helpValue: 'V',
    }),
    get: Flags.boolean({ summary: 'Print the value the key had before (nothing if it had none).', default: false }),
  };

  async run(): Promise<void> {
    const { args, flags } = await this.parse(Put);
    await putKey({ ...flags, key: args.key, value: args.value });
  }
}
