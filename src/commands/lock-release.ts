import * as Args from '@oclif/core/args';
import { TzkvCommand } from '../cli/base.js';
import { lockNameArg } from '../cli/flags.js';
import { checkLockName, checkToken, releaseLock, withLockStore } from '../cli/lock-action.js';
import { printJson } from '../cli/output.js';

export default class LockRelease extends TzkvCommand {
  static override summary = 'Release a named lock, only if TOKEN still owns it.';
  static override description = `TOKEN is what \`tzkv lock acquire\` printed. When it no longer owns the lock (it expired, was released, or another holder took it), exit 1 saying who holds it now, and the lock is left as it is. A TOKEN that is not 32 hex digits (an empty $token after a failed acquire) is a usage error, exit 2. With --json prints {"name", "released"}.`;
  static override examples = [
    '<%= config.bin %> <%= command.id %> nightly "$token" -d /var/lib/jobs',
    '<%= config.bin %> <%= command.id %> deploy "$token" --json -d etcd://kv1:2379/ci   # exit 1 if the lock expired meanwhile',
  ];
  static override args = {
    name: lockNameArg,
    token: Args.string({ description: 'The owner token lock acquire printed.', required: true, ignoreStdin: true }),
  };

  async run(): Promise<void> {
    const { args, flags } = await this.parse(LockRelease);
    checkLockName(args.name);
    checkToken(args.token);
    const result = await withLockStore(flags, 'tzkv lock release', (store) => releaseLock(store, args.name, args.token), 'write');
    if (flags.json) await printJson(result);
  }
}
