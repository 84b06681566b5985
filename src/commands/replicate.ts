import * as Flags from '@oclif/core/flags';
import type { ReplicateReport } from '../api.js';
import { TzkvCommand } from '../cli/base.js';
import { modeFlag } from '../cli/flags.js';
import { printFacts, printJson } from '../cli/output.js';
import { replicateStore } from '../cli/replicate-action.js';
import type { SyncReport } from '../replication/store-sync.js';

export default class Replicate extends TzkvCommand {
  static override summary = 'Bring a follower copy of the store up to date.';
  static override description = [
    "The first run makes DIR a complete store equal to a consistent point-in-time cut of this one; later runs ship only what changed (new sealed segments and index files, the active segment's new tail) and remove files compaction made obsolete. Safe to kill at any moment: the follower switches to the new cut atomically, and the next run finishes the job. Takes no lock on this store.",
    'Every shipped byte range is checked by CRC on arrival. A follower file changed since the last run (its size, inode or change time differ) is shipped whole again and listed under "resynced"; --check also compares every follower file with this store byte for byte, to catch damage that left no such trace.',
    'Every read command works on the follower with --dir DIR; writes there are refused until `tzkv promote`. A DIR that is an independent store, or a follower of another store, is refused (exit 5). `tzkv stats` on this store lists its followers and when each last caught up.',
    'With --json prints {"target", "initial", "filesShipped", "bytesShipped", "records", "filesRemoved", "resynced", "checkedBytes", "position": {"generation", "segment", "offset"}, "durationMs"}.',
    'Either side may be an etcd cluster (etcd://host:port/PREFIX, docs/etcd.md): a directory store into an etcd prefix, or an etcd prefix into a directory store (an ordinary store, not a follower). Both sides are then read in key order and only keys whose value or expiry differ are written, keys the source no longer has are deleted; with --json prints {"source", "target", "initial", "records", "deleted", "unchanged", "bytesShipped", "durationMs"}.',
  ].join('\n\n');
  static override examples = [
    '<%= config.bin %> <%= command.id %> --to /mnt/backup/kv',
    '* * * * * <%= config.bin %> <%= command.id %> -d /srv/kv --to /mnt/backup/kv --json >> /var/log/tzkv-replicate.jsonl',
    '<%= config.bin %> <%= command.id %> --to /mnt/backup/kv --check   # weekly: compare every byte',
    '<%= config.bin %> <%= command.id %> -d etcd://10.0.0.5:2379/app --to /mnt/backup/app   # back a cluster up',
  ];
  static override flags = {
    to: Flags.string({ summary: 'The follower directory (created when missing), or an etcd:// address.', required: true, helpValue: 'DIR' }),
    check: Flags.boolean({ summary: 'Also compare every follower file with this store, byte for byte, and resend what differs.' }),
    ...modeFlag,
  };

  async run(): Promise<void> {
    const { flags } = await this.parse(Replicate);
    const outcome = await replicateStore(flags);
    if (flags.json) return printJson('sync' in outcome ? outcome.sync : outcome.follower);
    await printFacts('sync' in outcome ? syncFacts(outcome.sync) : followerFacts(outcome.follower, flags.check));
  }
}

/** What a follower's report says, "bytes checked" only with --check. */
function followerFacts(report: ReplicateReport, check: boolean | undefined): Array<[string, string | number | null]> {
  return [
    ['follower', report.target],
    ['initial copy', report.initial ? 'yes' : 'no'],
    ['files shipped', report.filesShipped],
    ['bytes shipped', report.bytesShipped],
    ['records shipped', report.records],
    ['files removed', report.filesRemoved],
    ['resynced', report.resynced.length > 0 ? report.resynced.join(' ') : null],
    ...(check ? [['bytes checked', report.checkedBytes] as [string, number]] : []),
    ['position', `generation ${report.position.generation}, segment ${report.position.segment} offset ${report.position.offset}`],
    ['duration ms', report.durationMs],
  ];
}

/** What a key-by-key merge with an etcd cluster says. */
function syncFacts(report: SyncReport): Array<[string, string | number | null]> {
  return [
    ['source', report.source],
    ['target', report.target],
    ['initial copy', report.initial ? 'yes' : 'no'],
    ['keys written', report.records],
    ['keys deleted', report.deleted],
    ['keys unchanged', report.unchanged],
    ['bytes shipped', report.bytesShipped],
    ['duration ms', report.durationMs],
  ];
}
