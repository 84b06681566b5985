import * as Flags from '@oclif/core/flags';
import { TzkvCommand } from '../cli/base.js';
import { storeDirectory } from '../cli/open-store.js';
import { printFacts, printJson, printMessage } from '../cli/output.js';
import { describeCompaction, describeHolder, lockAdvice, unlockStore } from '../cli/unlock-action.js';

export default class Unlock extends TzkvCommand {
  static override summary = 'Show the writer lock, or remove it with --force.';
  static override description = `Without --force: prints who holds the writer lock and whether the holder still runs, and the compaction the store records as running, if any; exit 0 when the store is not locked, 1 when it is, with what to do on stderr: wait for a holder that still runs (or give the waiting command a longer --lock-timeout), nothing for one that died on this host, --force only for one tzkv cannot judge (on another host, or an unreadable lock file). A lock whose holder died on this host never needs this: the next writer breaks it by itself, and a compaction whose process died here is cleared the same way. A lock or a compaction from another host is never ended automatically, because tzkv cannot see whether that process still runs: when you know it is gone, --force removes the lock and then ends that compaction (its unfinished output is removed by the next writer; nothing in the store is lost). WARNING: removing the lock of a writer that is still running lets two writers append at once, which can damage the store. With --json prints {"locked", "holder": {"pid", "host", "command", "since", "state"} | null, "removed", "compaction": {"pid", "host", "since", "snapshotGeneration"} | null, "compactionEnded"}.`;
  static override examples = ['<%= config.bin %> <%= command.id %>', '<%= config.bin %> <%= command.id %> --force -d /mnt/shared/kv'];
  static override flags = {
    force: Flags.boolean({ summary: 'Remove the lock whoever holds it (see the warning above).', default: false }),
  };

  async run(): Promise<void> {
    const { flags } = await this.parse(Unlock);
    const result = await unlockStore(flags);
    if (flags.json) await printJson(result);
    else {
      const facts: Array<[string, string]> =
        result.holder === null
          ? [['locked', 'no']]
          : [
              ['locked', result.removed ? 'no (removed)' : 'yes'],
              ['holder', describeHolder(result.holder)],
              ['holder state', result.holder.state],
            ];
      if (result.compaction) facts.push(['compaction', `${describeCompaction(result.compaction)}${result.compactionEnded ? ' (ended)' : ''}`]);
      await printFacts(facts);
    }
    if (!flags.force && result.holder !== null) {
      process.exitCode = 1;
      if (!flags.json) printMessage(lockAdvice(storeDirectory(flags.dir), result.holder));
    }
  }
}
