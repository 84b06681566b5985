// stats, verify and compact of the etcd backend (docs/etcd.md "Maintenance"),
// built on etcd's own mechanisms: endpoint status, alarms, serializable reads
// of each member at one revision, compaction and defragmentation.
import { createHash } from 'node:crypto';
import type { CompactOptions, CompactReport, StoreStats, VerifyOptions, VerifyProblem, VerifyReport } from '../api.js';
import { TzkvError } from '../errors.js';
import { b64, type EtcdClient, EtcdReplyError, prefixEnd } from './client.js';
import { rangePages, type RangeReply } from './kv.js';

interface StatusReply {
  header: { revision: string; member_id: string };
  version: string;
  dbSize: string;
  dbSizeInUse?: string;
  leader: string;
  raftIndex: string;
  errors?: string[];
}

interface MemberStatus {
  endpoint: string;
  id: string | null;
  leader: boolean;
  revision: number | null;
  dbSize: number | null;
  dbSizeInUse: number | null;
  version: string | null;
  error: string | null;
}

const message = (err: unknown) => (err instanceof Error ? err.message : String(err));

async function memberStatuses(client: EtcdClient): Promise<MemberStatus[]> {
  return Promise.all(
    client.endpoints.map(async (endpoint): Promise<MemberStatus> => {
      try {
        const s = await client.callMember<StatusReply>(endpoint, 'maintenance/status', {});
        return {
          endpoint,
          id: s.header.member_id,
          leader: s.leader === s.header.member_id,
          revision: Number(s.header.revision),
          dbSize: Number(s.dbSize),
          dbSizeInUse: s.dbSizeInUse === undefined ? null : Number(s.dbSizeInUse),
          version: s.version,
          error: s.errors?.length ? s.errors.join('; ') : null,
        };
      } catch (err) {
        return { endpoint, id: null, leader: false, revision: null, dbSize: null, dbSizeInUse: null, version: null, error: message(err) };
      }
    }),
  );
}

/** The member statuses, failing with UNAVAILABLE when none answers. */
async function reachable(client: EtcdClient): Promise<{ members: MemberStatus[]; best: MemberStatus }> {
  const members = await memberStatuses(client);
  const up = members.filter((m) => m.revision !== null);
  if (up.length === 0) {
    throw new TzkvError('UNAVAILABLE', `no etcd member answered (${members.map((m) => `${m.endpoint}: ${m.error}`).join('; ')})`, {
      path: client.endpoints.join(','),
    });
  }
  return { members, best: up.find((m) => m.leader) ?? up[0] };
}

async function countUnder(client: EtcdClient, prefix: Buffer): Promise<number> {
  const reply = await client.call<RangeReply>('kv/range', { key: b64(prefix), range_end: b64(prefixEnd(prefix)), count_only: true });
  return Number(reply.count ?? 0);
}

export async function clusterStats(client: EtcdClient, location: string, prefix: Buffer): Promise<StoreStats> {
  const { members, best } = await reachable(client);
  const keys = await countUnder(client, prefix);
  const totalBytes = best.dbSize ?? 0;
  const liveBytes = best.dbSizeInUse ?? totalBytes;
  return {
    location,
    formatVersion: 0,
    keys,
    expiredKeys: 0, // etcd deletes a key when its lease runs out
    segments: 0,
    totalBytes,
    liveBytes,
    deadBytes: totalBytes - liveBytes,
    deadRatio: totalBytes === 0 ? 0 : (totalBytes - liveBytes) / totalBytes,
    puts: 0,
    deletes: 0,
    lastCompaction: null,
    lastCompactionReport: null,
    compacting: null,
    compactedRecords: 0,
    lastVerify: null,
    counted: 'etcd',
    encryption: null,
    compression: null,
    lockHolder: null,
    followers: [],
    details: { backend: 'etcd', revision: best.revision, prefix: prefix.toString('utf8'), members },
  };
}

/** SHA-256 over every key, value, mod revision and lease under `prefix` as `endpoint` holds them at `revision`. */
async function memberDigest(client: EtcdClient, endpoint: string, prefix: Buffer, revision: number): Promise<{ hash: string; keys: number; bytes: number }> {
  const hash = createHash('sha256');
  let keys = 0;
  let bytes = 0;
  const send = (body: Record<string, unknown>) => client.callMember<RangeReply>(endpoint, 'kv/range', body);
  for await (const kvs of rangePages(send, prefix, prefixEnd(prefix), { revision: String(revision), serializable: true })) {
    for (const kv of kvs) {
      hash.update(`${kv.key}\n${kv.value ?? ''}\n${kv.mod_revision}\n${kv.lease ?? '0'}\n`);
      keys++;
      bytes += Buffer.byteLength(kv.key ?? '', 'base64') + Buffer.byteLength(kv.value ?? '', 'base64');
    }
  }
  return { hash: hash.digest('hex'), keys, bytes };
}

/** A member that has not applied `revision` yet answers "future revision": give it a moment. */
async function digestWhenCaughtUp(client: EtcdClient, endpoint: string, prefix: Buffer, revision: number) {
  for (let attempt = 0; ; attempt++) {
    try {
      return await memberDigest(client, endpoint, prefix, revision);
    } catch (err) {
      if (!(err instanceof EtcdReplyError) || !/future revision/.test(err.reply) || attempt >= 20) throw err;
      await new Promise((r) => setTimeout(r, 50));
    }
  }
}

/**
 * The digest the members that differ are judged against: the one most members
 * share, the leader's among equals (a leader that alone differs is the one reported).
 */
function majorityDigest<D extends { endpoint: string; hash: string }>(digests: D[], leader: string): D | undefined {
  const count = new Map<string, number>();
  for (const d of digests) count.set(d.hash, (count.get(d.hash) ?? 0) + 1);
  const most = Math.max(0, ...count.values());
  const candidates = digests.filter((d) => count.get(d.hash) === most);
  return candidates.find((d) => d.endpoint === leader) ?? candidates[0];
}

export async function verifyCluster(client: EtcdClient, prefix: Buffer, options?: VerifyOptions): Promise<VerifyReport> {
  const started = Date.now();
  const problems: VerifyProblem[] = [];
  const { members, best } = await reachable(client);
  for (const m of members) {
    if (m.revision === null) problems.push({ file: m.endpoint, offset: null, kind: 'unreachable', message: `unreachable: ${m.error}` });
    else if (m.error) problems.push({ file: m.endpoint, offset: null, kind: 'member error', message: `member reports errors: ${m.error}` });
  }
  try {
    const alarms = await client.call<{ alarms?: Array<{ memberID: string; alarm: string }> }>('maintenance/alarm', { action: 'GET' });
    for (const a of alarms.alarms ?? []) {
      const who = members.find((m) => m.id === a.memberID)?.endpoint ?? `member ${a.memberID}`;
      problems.push({ file: who, offset: null, kind: `alarm ${a.alarm}`, message: `etcd alarm ${a.alarm} is raised` });
    }
  } catch (err) {
    problems.push({ file: client.endpoints.join(','), offset: null, kind: 'alarm check failed', message: message(err) });
  }
  const revision = best.revision!;
  const up = members.filter((m) => m.revision !== null);
  let keys = 0;
  let bytes = 0;
  const digests: Array<{ endpoint: string; hash: string }> = [];
  for (let i = 0; i < up.length; i++) {
    try {
      const d = await digestWhenCaughtUp(client, up[i].endpoint, prefix, revision);
      digests.push({ endpoint: up[i].endpoint, hash: d.hash });
      keys = Math.max(keys, d.keys);
      bytes = Math.max(bytes, d.bytes);
    } catch (err) {
      problems.push({ file: up[i].endpoint, offset: null, kind: 'read failed', message: `reading the keys at revision ${revision} failed: ${message(err)}` });
    }
    options?.onProgress?.(i + 1, up.length);
  }
  const reference = majorityDigest(digests, best.endpoint);
  for (const d of digests) {
    if (reference && d.hash !== reference.hash) {
      problems.push({
        file: d.endpoint,
        offset: null,
        kind: 'hash mismatch',
        message: `the keys under the prefix at revision ${revision} differ from ${reference.endpoint}'s`,
      });
    }
  }
  return {
    ok: problems.length === 0,
    newerVersion: false,
    files: members.length,
    records: keys,
    bytes,
    problemCount: problems.length,
    problems,
    warnings: [],
    skipped: [],
    durationMs: Date.now() - started,
    recorded: false, // a cluster has no place for the note: etcd keeps its own health
  };
}

export async function compactCluster(client: EtcdClient, options: CompactOptions): Promise<CompactReport> {
  const started = Date.now();
  const before = await reachable(client);
  const bytesBefore = before.members.reduce((n, m) => n + (m.dbSize ?? 0), 0);
  let compacted = false;
  if (!options.dryRun) {
    try {
      await client.call('kv/compaction', { revision: String(before.best.revision), physical: true });
      compacted = true;
    } catch (err) {
      // Compacted to this revision already: nothing left to do.
      if (!(err instanceof EtcdReplyError && /compacted/.test(err.reply))) throw err;
    }
    if (options.defrag) {
      for (const m of before.members) {
        if (m.revision !== null) await client.callMember(m.endpoint, 'maintenance/defragment', {});
      }
    }
  }
  const after = options.dryRun ? before : await reachable(client);
  return {
    compacted,
    dryRun: options.dryRun ?? false,
    bytesBefore,
    bytesAfter: after.members.reduce((n, m) => n + (m.dbSize ?? 0), 0),
    recordsKept: 0,
    recordsDropped: 0,
    expiredDropped: 0,
    durationMs: Date.now() - started,
    lockHeldMs: 0, // etcd takes no lock: compaction runs beside every other request
  };
}
