import { TzkvCommand } from '../cli/base.js';
import { listLocks } from '../cli/lock-action.js';
import { printJson, writeOut } from '../cli/output.js';

export default class LockList extends TzkvCommand {
  static override summary = 'Show the named locks held now.';
  static override description = `One line per lock, tab-separated: name, holder (pid, host, command), since, expires. Nothing when no lock is held; exit 0 either way. With --json prints [{"name", "token", "pid", "host", "command", "since", "expiresAt"}, ...].`;
  static override examples = ['<%= config.bin %> <%= command.id %> -d /var/lib/jobs', '<%= config.bin %> <%= command.id %> --json -d etcd://kv1:2379/ci'];

  async run(): Promise<void> {
    const { flags } = await this.parse(LockList);
    const locks = await this.withKeyStore(flags, 'read', listLocks);
    if (flags.json) await printJson(locks);
    else {
      const lines = locks.map((l) => `${l.name}\tpid ${l.pid} on ${l.host} (${l.command})\tsince ${l.since}\texpires ${l.expiresAt ?? 'never'}\n`);
      await writeOut(lines.join(''));
    }
  }
}
