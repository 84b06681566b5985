import * as Args from '@oclif/core/args';
import { TzkvCommand } from '../cli/base.js';
import { lockNameArg } from '../cli/flags.js';
import { releaseLock } from '../cli/lock-action.js';
import { withStore } from '../cli/open-store.js';
import { printJson } from '../cli/output.js';

export default class LockRelease extends TzkvCommand {
  static override summary = 'Release a named lock, only if TOKEN still owns it.';
  static override description = `TOKEN is what \`tzkv lock acquire\` printed. When it no longer owns the lock (it expired, or another holder took it), exit 1 and the lock is left as it is. With --json prints {"name", "released"}.`;
  static override examples = ['<%= config.bin %> <%= command.id %> nightly "$token"'];
  static override args = {
    name: lockNameArg,
    token: Args.string({ description: 'The owner token lock acquire printed.', required: true, ignoreStdin: true }),
  };

  async run(): Promise<void> {
    const { args, flags } = await this.parse(LockRelease);
    const result = await withStore(flags, 'write', 'tzkv lock release', (store) => releaseLock(store, args.name, args.token));
    if (flags.json) await printJson(result);
  }
}
