import { TzkvCommand } from '../cli/base.js';
import { lockNameArg, lockWaitFlags } from '../cli/flags.js';
import { acquireLock, lockTimes, newHolder } from '../cli/lock-action.js';
import { withStore } from '../cli/open-store.js';
import { printJson, writeOut } from '../cli/output.js';

export default class LockAcquire extends TzkvCommand {
  static override summary = 'Take a named lock and print its owner token.';
  static override description = `For scripts that cannot wrap a command in \`tzkv lock NAME -- COMMAND\`. Nobody renews the lock: it expires after --ttl unless \`tzkv lock release NAME TOKEN\` comes first. While another holds it, waits at most --wait, then exit 3 naming the holder. With --json prints {"name", "token", "expiresAt"}.`;
  static override examples = ['token=$(<%= config.bin %> lock acquire nightly --ttl 1h --wait 0) && ./nightly.sh; <%= config.bin %> lock release nightly "$token"'];
  static override args = { name: lockNameArg };
  static override flags = { ...lockWaitFlags };

  async run(): Promise<void> {
    const { args, flags } = await this.parse(LockAcquire);
    const { ttlMs, waitMs } = lockTimes(flags);
    const holder = newHolder(`tzkv lock acquire ${args.name}`, ttlMs);
    const expiresAt = await withStore(flags, 'create', 'tzkv lock acquire', (store) => acquireLock(store, args.name, holder, waitMs));
    if (flags.json) await printJson({ name: args.name, token: holder.token, expiresAt: new Date(expiresAt).toISOString() });
    else await writeOut(`${holder.token}\n`);
  }
}
