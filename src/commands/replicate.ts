import * as Flags from '@oclif/core/flags';
import { TzkvCommand } from '../cli/base.js';
import { printFacts, printJson } from '../cli/output.js';
import { startProgress } from '../cli/progress.js';
import { storeDirectory } from '../cli/store.js';

export default class Replicate extends TzkvCommand {
  static override summary = 'Bring a follower copy of the store up to date.';
  static override description = `The first run makes DIR a complete store equal to a consistent point-in-time cut of this one; later runs ship only what changed (new sealed segments and index files, the active segment's new tail) and remove files compaction made obsolete. Safe to kill at any moment: the follower switches to the new cut atomically, and the next run finishes the job. Takes no lock on this store. Every read command works on the follower with --dir DIR; writes there are refused until \`tzkv promote\`. A DIR that is an independent store, or a follower of another store, is refused (exit 5). With --json prints {"target", "initial", "filesShipped", "bytesShipped", "filesRemoved", "position": {"generation", "segment", "offset"}, "durationMs"}.`;
  static override examples = [
    '<%= config.bin %> <%= command.id %> --to /mnt/backup/kv',
    '* * * * * <%= config.bin %> <%= command.id %> -d /srv/kv --to /mnt/backup/kv --json >> /var/log/tzkv-replicate.jsonl',
  ];
  static override flags = {
    to: Flags.string({ summary: 'The follower directory (created when missing).', required: true, helpValue: 'DIR' }),
  };

  async run(): Promise<void> {
    const { flags } = await this.parse(Replicate);
    const target = storeDirectory(flags.to);
    const report = await this.withStore(flags, 'read', async (store) => {
      let progress: Awaited<ReturnType<typeof startProgress>> | undefined;
      let starting: Promise<unknown> | undefined;
      try {
        return await store.replicate(target, {
          onProgress: (done, total) => {
            starting ??= startProgress('replicating', total).then((bar) => (progress = bar));
            progress?.update(done);
          },
        });
      } finally {
        await starting;
        progress?.stop();
      }
    });
    if (flags.json) return printJson(report);
    await printFacts([
      ['follower', report.target],
      ['initial copy', report.initial ? 'yes' : 'no'],
      ['files shipped', report.filesShipped],
      ['bytes shipped', report.bytesShipped],
      ['files removed', report.filesRemoved],
      ['position', `generation ${report.position.generation}, segment ${report.position.segment} offset ${report.position.offset}`],
      ['duration ms', report.durationMs],
    ]);
  }
}
