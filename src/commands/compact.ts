import * as Flags from '@oclif/core/flags';
import { TzkvCommand } from '../cli/base.js';
import { compactStore } from '../cli/compact-action.js';
import { lockFlag } from '../cli/flags.js';
import { printFacts, printJson } from '../cli/output.js';

export default class Compact extends TzkvCommand {
  static override summary = 'Rewrite the store without dead records, reclaiming space.';
  static override description = [
    'Dead records are overwritten or deleted values and expired keys. The writer lock is held only twice, for milliseconds: to take a snapshot (the unindexed tail is indexed, the active segment sealed) and to switch to the rewritten files; the rewrite itself runs without it, so writers keep writing and readers keep reading. Writes made meanwhile are kept. A compaction killed at any moment leaves the store as it was; the next writer removes its files. One compaction runs at a time: a second one fails with exit 3.',
    '--dry-run only reports what would be reclaimed. --if-needed compacts only when the dead bytes (from `tzkv stats`) reach both --min-dead-ratio of the total (default 0.5) and --min-dead-bytes (default 64M), and skips (exit 0) while another compaction runs: fit for cron every few minutes. In a compressed store it also compacts when the values a large import wrote uncompressed (`pending compression` in `tzkv stats`) reach either threshold, since compaction is what compresses them. Giving either threshold implies --if-needed.',
    'With --json prints {"compacted", "dryRun", "bytesBefore", "bytesAfter", "recordsKept", "recordsDropped", "expiredDropped", "durationMs", "lockHeldMs"}, or {"compacted": false, "skipped": true, "reason", "deadBytes", "totalBytes", "pendingBytes" (compressed store)} when --if-needed skipped it.',
  ].join('\n\n');
  static override examples = [
    '<%= config.bin %> <%= command.id %>',
    '<%= config.bin %> <%= command.id %> --dry-run --json',
    '<%= config.bin %> <%= command.id %> --if-needed   # cron: dead bytes over 50% and over 64M',
    '<%= config.bin %> <%= command.id %> --min-dead-ratio 40% --min-dead-bytes 1G --json   # the same as with --if-needed',
    '<%= config.bin %> <%= command.id %> -d etcd://10.0.0.5:2379/app --defrag   # etcd: compact the revision history, defragment',
    '<%= config.bin %> <%= command.id %> --new-data-key --key-file ~/.tzkv.key   # encrypted store: rotate the data key',
  ];
  static override flags = {
    ...lockFlag,
    'dry-run': Flags.boolean({ summary: 'Only report what would be reclaimed.', default: false }),
    defrag: Flags.boolean({ summary: 'On an etcd cluster: also defragment every member (blocks each member while it runs).', default: false }),
    'if-needed': Flags.boolean({ summary: 'Compact only when enough of the store is dead.', default: false }),
    'new-data-key': Flags.boolean({
      summary: 'Encrypted store: rotate the data key as the store is rewritten.',
      description:
        'Adds a new data key to KEYRING and makes it current before anything is written, writes every output of the compaction with it, and after the switch drops from KEYRING every key no file of the store still names. Needs the secret (exit 6 without it); a store that is not encrypted is refused (exit 2). A compaction killed at any moment leaves a store that opens with the same secret.',
      default: false,
    }),
    // No oclif defaults: a threshold given at all implies --if-needed.
    'min-dead-ratio': Flags.string({ summary: 'Dead share of all bytes needed to compact (default 0.5, or 50%); implies --if-needed.', helpValue: 'RATIO' }),
    'min-dead-bytes': Flags.string({ summary: 'Dead bytes needed to compact (default 64M; 1G, ...); implies --if-needed.', helpValue: 'SIZE' }),
  };

  async run(): Promise<void> {
    const { flags } = await this.parse(Compact);
    const result = await compactStore(flags);
    if (flags.json) return printJson(result);
    if ('skipped' in result) return printFacts([['compacted', 'no'], ['reason', result.reason]]);
    await printFacts([
      ['compacted', result.compacted ? 'yes' : 'no'],
      ['dry run', result.dryRun ? 'yes' : 'no'],
      ['bytes before', result.bytesBefore],
      ['bytes after', result.bytesAfter],
      ['records kept', result.recordsKept],
      ['records dropped', result.recordsDropped],
      ['expired dropped', result.expiredDropped],
      ['duration ms', result.durationMs],
      ['lock held ms', result.lockHeldMs],
    ]);
  }
}
