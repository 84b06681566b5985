import { TzkvCommand } from '../cli/base.js';
import { lockNameArg, lockWaitFlags, modeFlag } from '../cli/flags.js';
import { acquireLock, checkLockName, lockTimes, newHolder, withLockStore } from '../cli/lock-action.js';
import { printJson, writeOut } from '../cli/output.js';

export default class LockAcquire extends TzkvCommand {
  static override summary = 'Take a named lock and print its owner token.';
  static override description = `For scripts that cannot wrap a command in \`tzkv lock NAME -- COMMAND\`. Prints the owner token (32 hex digits) that \`tzkv lock release NAME TOKEN\` needs. Nobody renews the lock: it expires after --ttl unless released first, so give a TTL longer than the script runs. The holder recorded is the process that ran tzkv (the script). While another holds the lock, waits at most --wait, then exit 3 naming the holder. A store is started where none is, as put starts one (--mode). With --json prints {"name", "token", "expiresAt"}.`;
  static override examples = [
    '<%= config.bin %> <%= command.id %> deploy --ttl 15m --wait 5m --json -d etcd://kv1:2379/ci',
    'token=$(<%= config.bin %> <%= command.id %> nightly --ttl 1h --wait 0 -d /var/lib/jobs) || exit   # then ./nightly.sh; tzkv lock release nightly "$token" -d /var/lib/jobs',
  ];
  static override args = { name: lockNameArg };
  static override flags = { ...lockWaitFlags, ...modeFlag };

  async run(): Promise<void> {
    const { args, flags } = await this.parse(LockAcquire);
    checkLockName(args.name);
    const { ttlMs, wait } = lockTimes(flags);
    const holder = newHolder(`tzkv lock acquire ${args.name}`, ttlMs, process.ppid);
    const expiresAt = await withLockStore(flags, 'tzkv lock acquire', (store) => acquireLock(store, args.name, holder, wait));
    if (flags.json) await printJson({ name: args.name, token: holder.token, expiresAt: new Date(expiresAt).toISOString() });
    else await writeOut(`${holder.token}\n`);
  }
}
