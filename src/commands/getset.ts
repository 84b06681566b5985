import { TzkvCommand } from '../cli/base.js';
import { putKey } from '../cli/key-actions.js';
import Put from './put.js';

/** put's flags but --get, which getset always is. */
const { get: _get, ...flags } = Put.flags;

export default class Getset extends TzkvCommand {
  static override summary = 'Store a value and print the one it replaced, in one step (put --get).';
  static override description =
    'The same as `tzkv put --get KEY VALUE`, with the same flags: the old value is read and the new one written under one lock (one etcd transaction), and the old value is printed as `get` prints it. A key that was missing or expired is written too, and the exit code is 0 with nothing printed; --json tells it from an empty value ("previous": null). With --if-value or --if-version, a condition that fails writes and prints nothing and exits 1.';
  static override examples = [
    '<%= config.bin %> <%= command.id %> counter 0   # prints the old count and resets it; nothing if there was none',
    '<%= config.bin %> <%= command.id %> deploy/active v2 --json   # {"key": …, "previous": {"value": "v1", …} | null}',
    '<%= config.bin %> <%= command.id %> note -- "-a value starting with a dash"',
  ];
  static override args = Put.args;
  static override flags = flags;

  async run(): Promise<void> {
    const { args, flags: given } = await this.parse(Getset);
    await putKey({ ...given, key: args.key, value: args.value, get: true });
  }
}
