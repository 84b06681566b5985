import { TzkvCommand } from '../cli/base.js';
import { lockNameArg, lockWaitFlags } from '../cli/flags.js';
import { lockTimes, newHolder, runLocked } from '../cli/lock-action.js';
import { withStore } from '../cli/open-store.js';

export default class Lock extends TzkvCommand {
  static override summary = 'Run a command while holding a named lock.';
  static override description = `Takes the lock NAME (waiting while another holds it, at most --wait, then exit 3 naming the holder), runs COMMAND without a shell, renews the lock every TTL/3 while COMMAND runs, releases it when COMMAND ends and exits with COMMAND's exit code. A holder that dies (kill -9, a reboot) loses the lock once --ttl has passed. The lock is the key .tzkv-lock/NAME in the store, so keys, export, stats and replicate show it. Also: lock acquire, lock release, lock list (docs/cli.md "lock").`;
  static override examples = [
    '<%= config.bin %> <%= command.id %> backup --ttl 2m --wait 0 -- ./backup.sh',
    "<%= config.bin %> <%= command.id %> deploy -d etcd://kv1:2379/ci -- sh -c 'make deploy'",
  ];
  static override strict = false;
  static override args = { name: lockNameArg };
  static override flags = { ...lockWaitFlags };

  async run(): Promise<void> {
    const { args, argv, flags } = await this.parse(Lock);
    const command = (argv as string[]).slice(1);
    if (command.length === 0) this.error('tzkv lock NAME needs a COMMAND after "--": tzkv lock NAME -- COMMAND...', { exit: 2 });
    const { ttlMs, waitMs } = lockTimes(flags);
    const holder = newHolder(`tzkv lock ${args.name} -- ${command.join(' ')}`, ttlMs);
    process.exitCode = await withStore(flags, 'create', 'tzkv lock', (store) => runLocked(store, args.name, holder, waitMs, command));
  }
}
