import * as Flags from '@oclif/core/flags';
import type { CompactionInfo, LockHolderInfo } from '../api.js';
import { TzkvCommand } from '../cli/base.js';
import { printFacts, printJson, printMessage } from '../cli/output.js';
import { storeDirectory } from '../cli/open-store.js';

function describe(h: LockHolderInfo): string {
  if (h.pid === 0) return 'an unreadable lock file';
  const since = h.since === null ? '' : ` since ${h.since}`;
  return `pid ${h.pid} on ${h.host} (${h.command || 'unknown command'})${since}`;
}

const describeCompaction = (c: CompactionInfo) => `pid ${c.pid} on ${c.host} since ${c.since}`;

/** What to do about a lock, by what tzkv can tell of its holder: --force only for one it cannot judge. */
function advice(dir: string, h: LockHolderInfo): string {
  const force = `\`tzkv unlock --force -d ${dir}\` removes the lock`;
  if (h.pid === 0) return `${dir} is locked and its lock file is unreadable, so tzkv cannot tell who holds it: if no tzkv process is writing to this store, ${force}`;
  switch (h.state) {
    case 'alive':
      return `${dir} is locked by ${describe(h)}, which is still running: wait for it to finish, or give the command that waits for it a longer --lock-timeout. Do not use --force while it runs: two writers at once can damage the store`;
    case 'dead':
      return `${dir} is locked by ${describe(h)}, which is no longer running: the next writer removes the lock by itself`;
    case 'unknown':
      return `${dir} is locked by ${describe(h)}, on another host, where tzkv cannot see whether it still runs: once you know it has ended, ${force}`;
  }
}

export default class Unlock extends TzkvCommand {
  static override summary = 'Show the writer lock, or remove it with --force.';
  static override description = `Without --force: prints who holds the writer lock and whether the holder still runs, and the compaction the store records as running, if any; exit 0 when the store is not locked, 1 when it is, with what to do on stderr: wait for a holder that still runs (or give the waiting command a longer --lock-timeout), nothing for one that died on this host, --force only for one tzkv cannot judge (on another host, or an unreadable lock file). A lock whose holder died on this host never needs this: the next writer breaks it by itself, and a compaction whose process died here is cleared the same way. A lock or a compaction from another host is never ended automatically, because tzkv cannot see whether that process still runs: when you know it is gone, --force removes the lock and then ends that compaction (its unfinished output is removed by the next writer; nothing in the store is lost). WARNING: removing the lock of a writer that is still running lets two writers append at once, which can damage the store. With --json prints {"locked", "holder": {"pid", "host", "command", "since", "state"} | null, "removed", "compaction": {"pid", "host", "since", "snapshotGeneration"} | null, "compactionEnded"}.`;
  static override examples = ['<%= config.bin %> <%= command.id %>', '<%= config.bin %> <%= command.id %> --force -d /mnt/shared/kv'];
  static override flags = {
    force: Flags.boolean({ summary: 'Remove the lock whoever holds it (see the warning above).', default: false }),
  };

  async run(): Promise<void> {
    const { flags } = await this.parse(Unlock);
    const dir = storeDirectory(flags.dir);
    const lock = await this.withStore(flags, 'read', async (store) => {
      const compaction = (await store.stats()).compacting;
      if (!flags.force) {
        const holder = await store.lockHolder();
        return { locked: holder !== null, holder, removed: false, compaction };
      }
      const holder = await store.forceUnlock();
      return { locked: false, holder, removed: holder !== null, compaction };
    });
    // Under the writer lock, once it is free: the store ends the compaction only if it runs on another host.
    const ended = flags.force && lock.compaction !== null ? await this.withStore(flags, 'write', (store) => store.forceEndCompaction()) : null;
    const result = { ...lock, compactionEnded: ended !== null };
    if (result.removed && result.holder) {
      printMessage(`warning: removed the writer lock of ${describe(result.holder)} from ${dir}; if that process is still writing, run \`tzkv verify\` once it ends`);
    }
    if (ended) printMessage(`warning: ended the compaction of ${describeCompaction(ended)} in ${dir}; the next compaction starts afresh`);
    if (flags.json) await printJson(result);
    else {
      const facts: Array<[string, string]> =
        result.holder === null
          ? [['locked', 'no']]
          : [
              ['locked', result.removed ? 'no (removed)' : 'yes'],
              ['holder', describe(result.holder)],
              ['holder state', result.holder.state],
            ];
      if (result.compaction) facts.push(['compaction', `${describeCompaction(result.compaction)}${result.compactionEnded ? ' (ended)' : ''}`]);
      await printFacts(facts);
    }
    if (!flags.force && result.holder !== null) {
      process.exitCode = 1;
      if (!flags.json) printMessage(advice(dir, result.holder));
    }
  }
}
