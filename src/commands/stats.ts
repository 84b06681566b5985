import type { CompactionSummary, LockHolderInfo, StoreStats } from '../api.js';
import { TzkvCommand } from '../cli/base.js';
import { DamageWarnings } from '../cli/damage.js';
import { printFacts, printJson } from '../cli/output.js';

function holder(h: LockHolderInfo | null): string | null {
  if (!h) return null;
  const since = h.since ? ` since ${h.since}` : '';
  return `pid ${h.pid} on ${h.host || 'unknown host'} (${h.command || 'unknown command'}, ${h.state})${since}`;
}

function lastReport(r: CompactionSummary | null): string | null {
  if (!r) return null;
  if (r.result !== 'ok') return `${r.at}: ${r.result}`;
  return `${r.at}: ok, ${r.bytesBefore} -> ${r.bytesAfter} bytes, ${r.recordsKept} kept, ${r.recordsDropped} dropped (${r.expiredDropped} expired), ${r.durationMs} ms, lock held ${r.lockHeldMs} ms`;
}

function running(c: StoreStats['compacting']): string | null {
  return c ? `pid ${c.pid} on ${c.host} since ${c.since} (snapshot of generation ${c.snapshotGeneration})` : null;
}

export default class Stats extends TzkvCommand {
  static override summary = 'Show facts about the store: keys, files, bytes, counters, maintenance.';
  static override description = [
    'A table on a terminal, "name: value" lines otherwise (an absent value prints "-").',
    'Costs the same on a store of ten million keys as on a small one: keys and bytes come from counters the store keeps, and "counted" says "scan" only for a store written before them (the next compaction starts them).',
    'A key whose expiry has passed is never counted as live; it counts as expired until a compaction removes it.',
    'Damaged data it meets (see `tzkv verify`) is stepped over with a warning on stderr naming file and offset: the counts leave out what it held, and stats exits 4.',
    'On an etcd cluster (docs/etcd.md): the keys under the prefix, the leader\'s database size and size in use, and each member\'s status.',
    'An encrypted store needs no key: "encrypted" names its cipher and the data key new files are written with.',
    'A compressed store: "compressed" gives the values the last compaction kept, as stored and uncompressed; "pending compression" the bytes of values a large import wrote uncompressed, which the next compaction (`tzkv compact`, or `compact --if-needed` from cron) compresses.',
    'With --json prints {"location", "formatVersion", "encryption": {"cipher", "dataKey"} or null, "compression": {"algorithm", "values": {"stored", "raw", "ratio", "at"} or null, "pending": {"bytes", "segments"}} or null, "keys", "expiredKeys", "segments", "totalBytes", "liveBytes", "deadBytes", "deadRatio", "puts", "deletes", "lastCompaction", "lastCompactionReport": {"at", "result", "durationMs", "lockHeldMs", "bytesBefore", "bytesAfter", "recordsKept", "recordsDropped", "expiredDropped"}, "compacting": {"pid", "host", "since", "snapshotGeneration"}, "compactedRecords", "lastVerify": {"verifiedAt", "ok", "problems", "bytes", "durationMs"} or null, "counted", "lockHolder", "followers": [{"location", "replicatedAt", "generation", "position", "bytesShipped"}], "details"}.',
  ].join('\n\n');
  static override examples = [
    '<%= config.bin %> <%= command.id %>',
    '<%= config.bin %> <%= command.id %> --json | jq .deadRatio',
    '<%= config.bin %> <%= command.id %> --json | jq -r \'"tzkv_keys \\(.keys)"\'   # for a metrics scraper',
  ];

  async run(): Promise<void> {
    const { flags } = await this.parse(Stats);
    const warnings = new DamageWarnings();
    const stats = await this.withStore(flags, 'read', (store) => store.stats({ onDamage: warnings.onDamage }));
    await this.print(stats, flags.json);
    warnings.finish('stats', 'its counts leave out what the damage held');
  }

  private async print(stats: StoreStats, json: boolean): Promise<void> {
    if (json) return printJson(stats);
    if (stats.counted === 'etcd') return printFacts(etcdFacts(stats));
    await printFacts([
      ['location', stats.location],
      ['format version', stats.formatVersion],
      ['encrypted', encrypted(stats.encryption)],
      ['compressed', compressed(stats.compression)],
      ...(stats.compression ? [['pending compression', pending(stats.compression.pending)] as [string, string]] : []),
      ['keys', stats.keys],
      ['expired keys', stats.expiredKeys],
      ['segments', stats.segments],
      ['total bytes', stats.totalBytes],
      ['live bytes', stats.liveBytes],
      ['dead bytes', stats.deadBytes],
      ['dead ratio', stats.deadRatio.toFixed(3)],
      ['puts', stats.puts],
      ['deletes', stats.deletes],
      ['last compaction', stats.lastCompaction],
      ['last compaction report', lastReport(stats.lastCompactionReport)],
      ['compacting', running(stats.compacting)],
      ['compacted records', stats.compactedRecords],
      ['last verify', stats.lastVerify && `${stats.lastVerify.verifiedAt}: ${stats.lastVerify.ok ? 'clean' : `${stats.lastVerify.problems} problems`}`],
      ['lock holder', holder(stats.lockHolder)],
      ...stats.followers.map((f): [string, string] => [`follower ${f.location}`, `caught up ${f.replicatedAt} at generation ${f.generation}`]),
      ['counted', stats.counted],
    ]);
  }
}

/** "yes (aes-256-gcm, data key 2)", or "no". */
function encrypted(e: StoreStats['encryption']): string {
  if (!e) return 'no';
  return `yes (${e.cipher}, ${e.dataKey === null ? 'KEYRING unreadable' : `data key ${e.dataKey}`})`;
}

/** "brotli: 1200 bytes of values stored, 5600 uncompressed (ratio 0.214) at the last compaction (TIME)", or "no". */
function compressed(c: StoreStats['compression']): string {
  if (!c) return 'no';
  const v = c.values;
  if (!v) return `${c.algorithm} (figures after the first compaction)`;
  return `${c.algorithm}: ${v.stored} bytes of values stored, ${v.raw} uncompressed (ratio ${v.ratio.toFixed(3)}) at the last compaction (${v.at})`;
}

/** "none", or "N bytes of values in M segments, written uncompressed by an import: the next compaction compresses them (tzkv compact)". */
function pending(p: { bytes: number; segments: number }): string {
  if (p.bytes === 0) return 'none';
  return `${p.bytes} bytes of values in ${p.segments} segment${p.segments === 1 ? '' : 's'}, written uncompressed by an import: the next compaction compresses them (tzkv compact)`;
}

/** What stats says about an etcd cluster: what etcd knows, not a directory store's counters. */
function etcdFacts(stats: StoreStats): Array<[string, string | number | null]> {
  const members = (stats.details.members ?? []) as Array<{ endpoint: string; leader: boolean; revision: number | null; dbSize: number | null; version: string | null; error: string | null }>;
  return [
    ['location', stats.location],
    ['keys', stats.keys],
    ['database bytes', stats.totalBytes],
    ['bytes in use', stats.liveBytes],
    ['reclaimable bytes', stats.deadBytes],
    ['revision', (stats.details.revision as number | undefined) ?? null],
    ...members.map((m): [string, string] => [
      `member ${m.endpoint}`,
      m.error !== null && m.revision === null ? `unreachable: ${m.error}` : `${m.leader ? 'leader' : 'follower'}, etcd ${m.version}, revision ${m.revision}, ${m.dbSize} bytes${m.error ? `, errors: ${m.error}` : ''}`,
    ]),
    ['counted', stats.counted],
  ];
}
