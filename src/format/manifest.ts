// The MANIFEST file (docs/format.md "MANIFEST"). Pure encode/decode.
// Longer than most files: it is the typed model of every field the format
// documents and the checks that decode each, which belong together.
import { crc32 } from './bytes.js';
import { FORMAT_VERSION, MAGIC_MANIFEST, MANIFEST_HEADER_BYTES, MAX_FILE_NUMBER, VERSION_2 } from './constants.js';
import { COMPRESSION_ALGORITHMS } from './store-codec.js';
import type { CompressionSetting } from './store-codec.js';

export interface SegmentInfo {
  file: number;
  /** Final size of a sealed segment; null for the active one. */
  size: number | null;
  /**
   * The segment's bytes up to this offset hold records a compaction or a
   * repair copied from older segments, not new writes (docs/format.md
   * "MANIFEST"); absent: none. What follows it was appended later.
   */
  copied?: number;
  /** With `copied`: the newest segment (its file number) the copies came from. */
  copiedFrom?: number;
  /** Encrypted store: the data key id the segment's header names (docs/format.md "MANIFEST, version 2"). */
  key?: number;
  /**
   * Compressed store: bytes of values of `minBytes` or more that a bulk import
   * wrote uncompressed for the next compaction to compress (docs/format.md
   * "MANIFEST, version 2"); absent: none.
   */
  pending?: number;
}

export interface RunInfo {
  file: number;
  entries: number;
  /**
   * Smallest and largest key in the run (empty run: both empty) as the
   * MANIFEST stores them: the keys themselves, or in an encrypted store (`key`
   * set) sealed under that data key (docs/format.md "MANIFEST, version 2").
   * Compare keys with them only through src/engine/runs/run-range.ts.
   */
  minKey: Buffer;
  maxKey: Buffer;
  /** Encrypted store: the data key id the run's header names. */
  key?: number;
}

export interface Counters {
  puts: number;
  deletes: number;
  deadBytes: number;
  expiredDropped: number;
  /** Index entries compactions have dropped, in all. */
  compactedRecords: number;
}

/**
 * The census (docs/design.md "Census"): what stats reports without scanning.
 * Valid only while `generation` equals the manifest's own: a writer that does
 * not maintain it (an older tzkv) leaves it stale.
 */
export interface Census {
  generation: number;
  /** Keys whose newest indexed record is a PUT, expired or not. */
  keys: number;
  /** Total record length of those PUTs. */
  bytes: number;
  /**
   * Expired PUTs the last compaction dropped whose TTL removes remain in runs
   * written while it ran: stats counts them as expired adds (docs/design.md "Census").
   */
  phantom?: { keys: number; bytes: number };
}

/** A running compaction (docs/format.md "MANIFEST" `compaction`). */
export interface CompactionMarker {
  pid: number;
  host: string;
  startTime: string;
  token: string;
  started: string;
  /** The manifest generation the snapshot was taken at. */
  generation: number;
  /** The snapshot: sealed segments (ascending) and runs (newest first). */
  segments: number[];
  runs: number[];
  /** File numbers reserved for the output: [first, first + count). */
  files: { first: number; count: number };
}

/** How the last compaction ended (docs/format.md "MANIFEST" `lastCompactionReport`). */
export interface CompactionSummary {
  at: string;
  result: string;
  durationMs: number;
  lockHeldMs: number;
  bytesBefore: number;
  bytesAfter: number;
  recordsKept: number;
  recordsDropped: number;
  expiredDropped: number;
  /** A compressed store's: the kept PUT values' bytes as stored and uncompressed (docs/format.md "lastCompactionReport"). */
  values?: { stored: number; raw: number };
}

/**
 * What makes a store a follower (docs/format.md "MANIFEST" `follower`): whose
 * cut it holds. A field that is present but malformed reads with empty values
 * (the store is still a follower: it refuses writes until promoted).
 */
export interface FollowerMark {
  /** The leader's directory. */
  leader: string;
  /** The leader's `storeId`. */
  leaderId: string;
  /** The leader's manifest generation this follower holds. */
  generation: number;
  replicatedAt: string;
  /** Where the cut ends in the active segment: readers of the follower stop there. */
  activeEnd?: number;
  /** Per segment and run: its fingerprint on the follower when this cut was switched in. */
  files?: Record<string, string>;
}

export interface Manifest {
  generation: number;
  nextFile: number;
  active: { file: number; indexedTo: number };
  segments: SegmentInfo[];
  /** Newest first. */
  runs: RunInfo[];
  counters: Counters;
  created: string;
  lastCompaction: string | null;
  census: Census | null;
  compaction: CompactionMarker | null;
  lastCompactionReport: CompactionSummary | null;
  /** Random hex written when the store is created; null in a store older than it. */
  storeId: string | null;
  /** Present only in a follower store. */
  follower: FollowerMark | null;
  /** docs/format.md "MANIFEST, version 2": present only in an encrypted store (its keys are in KEYRING). */
  encryption: { cipher: 'aes-256-gcm' } | null;
  /** Present only in a compressed store. */
  compression: CompressionSetting | null;
  /** Unknown fields, preserved on rewrite (docs/format.md "MANIFEST"). */
  extra: Record<string, unknown>;
}

/** The format version of a store with this manifest: 2 when it is encrypted or compressed, else 1 (docs/format.md "Format version 2"). */
export function manifestVersion(m: Pick<Manifest, 'encryption' | 'compression'>): number {
  return m.encryption === null && m.compression === null ? FORMAT_VERSION : VERSION_2;
}

const KNOWN = new Set(['generation', 'nextFile', 'active', 'segments', 'runs', 'counters', 'created', 'lastCompaction', 'census', 'compaction', 'lastCompactionReport', 'storeId', 'follower', 'encryption', 'compression']);

export function encodeManifest(m: Manifest): Buffer {
  const body = Buffer.from(
    JSON.stringify({
      ...m.extra,
      ...(m.storeId !== null ? { storeId: m.storeId } : {}),
      ...(m.follower ? { follower: m.follower } : {}),
      ...(m.encryption ? { encryption: m.encryption } : {}),
      ...(m.compression ? { compression: m.compression } : {}),
      generation: m.generation,
      nextFile: m.nextFile,
      active: m.active,
      segments: m.segments,
      runs: m.runs.map((r) => ({
        file: r.file,
        entries: r.entries,
        minKey: r.minKey.toString('base64'),
        maxKey: r.maxKey.toString('base64'),
        ...(r.key !== undefined ? { key: r.key } : {}),
      })),
      counters: m.counters,
      created: m.created,
      lastCompaction: m.lastCompaction,
      ...(m.census ? { census: m.census } : {}),
      ...(m.compaction ? { compaction: m.compaction } : {}),
      ...(m.lastCompactionReport ? { lastCompactionReport: m.lastCompactionReport } : {}),
    }),
    'utf8',
  );
  const header = Buffer.alloc(MANIFEST_HEADER_BYTES);
  header.write(MAGIC_MANIFEST, 0, 4, 'latin1');
  header.writeUInt16LE(manifestVersion(m), 4);
  header.writeUInt16LE(0, 6);
  header.writeUInt32LE(body.length, 8);
  header.writeUInt32LE(crc32(body), 12);
  return Buffer.concat([header, body]);
}

export class ManifestError extends Error {
  constructor(
    message: string,
    readonly newerVersion = false,
  ) {
    super(message);
  }
}

function isCount(v: unknown): v is number {
  return typeof v === 'number' && Number.isSafeInteger(v) && v >= 0;
}
function isFileNumber(v: unknown): v is number {
  return isCount(v) && v >= 1 && v <= MAX_FILE_NUMBER;
}

/** Decodes and checks a manifest; throws ManifestError naming what is wrong. */
export function decodeManifest(buf: Buffer): Manifest {
  if (buf.length < MANIFEST_HEADER_BYTES) throw new ManifestError(`manifest is ${buf.length} bytes, shorter than its header`);
  if (buf.toString('latin1', 0, 4) !== MAGIC_MANIFEST) throw new ManifestError('manifest has the wrong magic');
  const version = buf.readUInt16LE(4);
  if (version > VERSION_2) {
    throw new ManifestError(`format version ${version} is newer than this tzkv understands (${VERSION_2})`, true);
  }
  if (version < 1 || buf.readUInt16LE(6) !== 0) throw new ManifestError('manifest header is invalid');
  const length = buf.readUInt32LE(8);
  if (buf.length !== MANIFEST_HEADER_BYTES + length) throw new ManifestError('manifest length does not match its header');
  const body = buf.subarray(MANIFEST_HEADER_BYTES);
  if (crc32(body) !== buf.readUInt32LE(12)) throw new ManifestError('manifest CRC mismatch');
  let raw: Record<string, unknown>;
  try {
    raw = JSON.parse(body.toString('utf8'));
  } catch {
    throw new ManifestError('manifest body is not JSON');
  }
  if (raw === null || typeof raw !== 'object') throw new ManifestError('manifest body is not an object');
  const active = raw.active as Manifest['active'];
  const segments = raw.segments as SegmentInfo[];
  const runs = raw.runs as Array<Record<string, unknown>>;
  const counters = raw.counters as Counters;
  if (!isCount(raw.generation) || !isFileNumber(raw.nextFile)) throw new ManifestError('manifest generation or nextFile invalid');
  if (!active || !isFileNumber(active.file) || !isCount(active.indexedTo)) throw new ManifestError('manifest active segment invalid');
  if (!Array.isArray(segments) || segments.length === 0) throw new ManifestError('manifest lists no segments');
  for (let i = 0; i < segments.length; i++) {
    const s = segments[i];
    const last = i === segments.length - 1;
    if (!s || !isFileNumber(s.file) || (last ? s.size !== null : !isCount(s.size))) throw new ManifestError('manifest segment entry invalid');
    if (i > 0 && s.file <= segments[i - 1].file) throw new ManifestError('manifest segments out of order');
    if (s.file >= raw.nextFile) throw new ManifestError('manifest segment number not below nextFile');
  }
  if (segments[segments.length - 1].file !== active.file) throw new ManifestError('manifest active segment is not the last segment');
  if (!Array.isArray(runs)) throw new ManifestError('manifest runs invalid');
  const decodedRuns: RunInfo[] = runs.map((r) => {
    if (!r || !isFileNumber(r.file) || !isCount(r.entries) || typeof r.minKey !== 'string' || typeof r.maxKey !== 'string') {
      throw new ManifestError('manifest run entry invalid');
    }
    if (r.file >= (raw.nextFile as number)) throw new ManifestError('manifest run number not below nextFile');
    return { file: r.file, entries: r.entries, minKey: Buffer.from(r.minKey, 'base64'), maxKey: Buffer.from(r.maxKey, 'base64'), ...keyId(r.key) };
  });
  if (!counters || !isCount(counters.puts) || !isCount(counters.deletes) || !isCount(counters.deadBytes)) {
    throw new ManifestError('manifest counters invalid');
  }
  const extra: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(raw)) if (!KNOWN.has(k)) extra[k] = v;
  return {
    generation: raw.generation,
    nextFile: raw.nextFile,
    active: { file: active.file, indexedTo: active.indexedTo },
    segments: segments.map((s) => ({ file: s.file, size: s.size, ...(isCount(s.copied) && isFileNumber(s.copiedFrom) ? { copied: s.copied, copiedFrom: s.copiedFrom } : {}), ...keyId(s.key), ...(isCount(s.pending) && s.pending > 0 ? { pending: s.pending } : {}) })),
    runs: decodedRuns,
    counters: {
      puts: counters.puts,
      deletes: counters.deletes,
      deadBytes: counters.deadBytes,
      expiredDropped: isCount(counters.expiredDropped) ? counters.expiredDropped : 0,
      compactedRecords: isCount(counters.compactedRecords) ? counters.compactedRecords : 0,
    },
    created: typeof raw.created === 'string' ? raw.created : new Date(0).toISOString(),
    lastCompaction: typeof raw.lastCompaction === 'string' ? raw.lastCompaction : null,
    census: decodeCensus(raw.census),
    compaction: decodeMarker(raw.compaction),
    lastCompactionReport: decodeSummary(raw.lastCompactionReport),
    storeId: typeof raw.storeId === 'string' ? raw.storeId : null,
    follower: decodeFollower(raw.follower),
    ...decodeVersion2(version, raw),
    extra,
  };
}

/** A file entry's data key id, when it has a valid one. */
function keyId(v: unknown): { key?: number } {
  return isCount(v) && v >= 1 && v <= 0xffff ? { key: v } : {};
}

/**
 * The fields of version 2 (docs/format.md "MANIFEST, version 2"). The header's
 * version and the body must agree (the CRC covers only the body): a version 1
 * manifest naming either, or a version 2 one naming neither, is damaged.
 */
function decodeVersion2(version: number, raw: Record<string, unknown>): Pick<Manifest, 'encryption' | 'compression'> {
  const e = raw.encryption as Record<string, unknown> | undefined;
  const c = raw.compression as Record<string, unknown> | undefined;
  if ((version === FORMAT_VERSION) !== (e === undefined && c === undefined)) {
    throw new ManifestError(`manifest header says version ${version}, its body is ${version === FORMAT_VERSION ? 'encrypted or compressed' : 'neither encrypted nor compressed'}`);
  }
  if (version === FORMAT_VERSION) return { encryption: null, compression: null };
  if (e !== undefined && (e === null || e.cipher !== 'aes-256-gcm')) throw new ManifestError(`manifest encryption is not one this tzkv knows (${JSON.stringify(e)})`, true);
  if (c !== undefined && (c === null || !COMPRESSION_ALGORITHMS.includes(c.algorithm as never))) {
    throw new ManifestError(`manifest compression is not one this tzkv knows (${JSON.stringify(c)})`, true);
  }
  if (c !== undefined && !isCount(c.minBytes)) throw new ManifestError('manifest compression minBytes invalid');
  return {
    encryption: e === undefined ? null : { cipher: 'aes-256-gcm' },
    compression: c === undefined ? null : { algorithm: c.algorithm as CompressionSetting['algorithm'], minBytes: c.minBytes as number },
  };
}

function decodeFollower(raw: unknown): FollowerMark | null {
  if (!raw) return null;
  const f = (typeof raw === 'object' ? raw : {}) as Record<string, unknown>;
  const text = (v: unknown) => (typeof v === 'string' ? v : '');
  const files = f.files && typeof f.files === 'object' ? Object.entries(f.files).filter((e): e is [string, string] => typeof e[1] === 'string') : null;
  return {
    leader: text(f.leader),
    leaderId: text(f.leaderId),
    generation: isCount(f.generation) ? f.generation : 0,
    replicatedAt: text(f.replicatedAt),
    ...(isCount(f.activeEnd) ? { activeEnd: f.activeEnd } : {}),
    ...(files ? { files: Object.fromEntries(files) } : {}),
  };
}

function decodeCensus(raw: unknown): Census | null {
  const c = raw as Census | null;
  if (!c || typeof c !== 'object' || !isCount(c.generation) || !isCount(c.keys) || !isCount(c.bytes)) return null;
  const p = c.phantom;
  const phantom = p && typeof p === 'object' && isCount(p.keys) && isCount(p.bytes) ? { keys: p.keys, bytes: p.bytes } : undefined;
  return { generation: c.generation, keys: c.keys, bytes: c.bytes, ...(phantom && (phantom.keys > 0 || phantom.bytes > 0) ? { phantom } : {}) };
}

/** A marker that does not decode is treated as absent: it could only block, never protect, anything. */
function decodeMarker(raw: unknown): CompactionMarker | null {
  const c = raw as CompactionMarker | null;
  if (!c || typeof c !== 'object' || !isCount(c.pid) || !isCount(c.generation) || !c.files || !isFileNumber(c.files.first) || !isCount(c.files.count)) return null;
  if (!Array.isArray(c.segments) || !c.segments.every(isFileNumber) || !Array.isArray(c.runs) || !c.runs.every(isFileNumber)) return null;
  return {
    pid: c.pid,
    host: String(c.host ?? ''),
    startTime: String(c.startTime ?? ''),
    token: String(c.token ?? ''),
    started: String(c.started ?? ''),
    generation: c.generation,
    segments: [...c.segments],
    runs: [...c.runs],
    files: { first: c.files.first, count: c.files.count },
  };
}

function decodeSummary(raw: unknown): CompactionSummary | null {
  const r = raw as Record<string, unknown> | null;
  if (!r || typeof r !== 'object' || typeof r.at !== 'string' || typeof r.result !== 'string') return null;
  const n = (v: unknown) => (typeof v === 'number' && Number.isFinite(v) && v >= 0 ? v : 0);
  return {
    at: r.at,
    result: r.result,
    durationMs: n(r.durationMs),
    lockHeldMs: n(r.lockHeldMs),
    bytesBefore: n(r.bytesBefore),
    bytesAfter: n(r.bytesAfter),
    recordsKept: n(r.recordsKept),
    recordsDropped: n(r.recordsDropped),
    expiredDropped: n(r.expiredDropped),
    ...decodeValues(r.values),
  };
}

/** A summary's `values`, when valid. */
function decodeValues(raw: unknown): Pick<CompactionSummary, 'values'> {
  const v = raw as Record<string, unknown> | null;
  const count = (x: unknown): x is number => typeof x === 'number' && Number.isSafeInteger(x) && x >= 0;
  return v && typeof v === 'object' && count(v.stored) && count(v.raw) ? { values: { stored: v.stored, raw: v.raw } } : {};
}

/** True when the manifest's census was maintained by every write since it was taken (docs/format.md "census"). */
export function censusValid(m: Manifest): m is Manifest & { census: Census } {
  return m.census !== null && m.census.generation === m.generation;
}

/** A deep copy to edit (structuredClone would turn the key Buffers into plain Uint8Arrays). */
export function cloneManifest(m: Manifest): Manifest {
  return {
    ...m,
    active: { ...m.active },
    segments: m.segments.map((s) => ({ ...s })),
    runs: m.runs.map((r) => ({ ...r })),
    counters: { ...m.counters },
    census: m.census ? { ...m.census, ...(m.census.phantom ? { phantom: { ...m.census.phantom } } : {}) } : null,
    compaction: m.compaction ? { ...m.compaction, segments: [...m.compaction.segments], runs: [...m.compaction.runs], files: { ...m.compaction.files } } : null,
    lastCompactionReport: m.lastCompactionReport ? { ...m.lastCompactionReport } : null,
    follower: m.follower ? { ...m.follower, ...(m.follower.files ? { files: { ...m.follower.files } } : {}) } : null,
    encryption: m.encryption && { ...m.encryption },
    compression: m.compression && { ...m.compression },
    extra: structuredClone(m.extra),
  };
}
