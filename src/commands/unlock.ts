import * as Flags from '@oclif/core/flags';
import type { LockHolderInfo } from '../api.js';
import { TzkvCommand } from '../cli/base.js';
import { printFacts, printJson } from '../cli/output.js';
import { storeDirectory } from '../cli/store.js';

function describe(h: LockHolderInfo): string {
  if (h.pid === 0) return 'an unreadable lock file';
  const since = h.since === null ? '' : ` since ${h.since}`;
  return `pid ${h.pid} on ${h.host} (${h.command || 'unknown command'})${since}`;
}

export default class Unlock extends TzkvCommand {
  static override summary = 'Show the writer lock, or remove it with --force.';
  static override description = `Without --force: prints who holds the writer lock and whether the holder still runs; exit 0 when the store is not locked, 1 when it is. A lock whose holder died on this host never needs this: the next writer breaks it by itself. A lock from another host is never broken automatically, because tzkv cannot see whether that process still runs: when you know it is gone, --force removes the lock. WARNING: removing the lock of a writer that is still running lets two writers append at once, which can damage the store. With --json prints {"locked", "holder": {"pid", "host", "command", "since", "state"} | null, "removed"}.`;
  static override examples = ['<%= config.bin %> <%= command.id %>', '<%= config.bin %> <%= command.id %> --force -d /mnt/shared/kv'];
  static override flags = {
    force: Flags.boolean({ summary: 'Remove the lock whoever holds it (see the warning above).', default: false }),
  };

  async run(): Promise<void> {
    const { flags } = await this.parse(Unlock);
    const dir = storeDirectory(flags.dir);
    const result = await this.withStore(flags, 'read', async (store) => {
      if (!flags.force) {
        const holder = await store.lockHolder();
        return { locked: holder !== null, holder, removed: false };
      }
      const holder = await store.forceUnlock();
      return { locked: false, holder, removed: holder !== null };
    });
    if (result.removed && result.holder) {
      process.stderr.write(
        `tzkv: warning: removed the writer lock of ${describe(result.holder)} from ${dir}; if that process is still writing, run \`tzkv verify\` once it ends\n`,
      );
    }
    if (flags.json) await printJson(result);
    else if (result.holder === null) await printFacts([['locked', 'no']]);
    else {
      await printFacts([
        ['locked', result.removed ? 'no (removed)' : 'yes'],
        ['holder', describe(result.holder)],
        ['holder state', result.holder.state],
      ]);
    }
    if (!flags.force && result.locked) {
      process.exitCode = 1;
      if (!flags.json) process.stderr.write(`tzkv: ${dir} is locked; \`tzkv unlock --force\` removes the lock (see --help)\n`);
    }
  }
}
