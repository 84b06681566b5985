// The census (docs/design.md "Census"): live keys and bytes kept up to date as
// records are indexed, so stats never scans the store. Each newly indexed
// entry is weighed against the key's newest entry in the older runs.
import { KIND_PUT } from '../../format/constants.js';
import type { Census } from '../../format/manifest.js';
import { TtlList } from '../runs/ttl-list.js';
import type { IndexEntry } from '../../format/index-block.js';
import { censusLengthOf } from '../../format/seal-share.js';
import { isExpired } from '../../keys.js';
import type { RunInfo } from '../../format/manifest.js';
import { newestEntries } from '../runs/run-merge.js';
import type { RunReader } from '../runs/run-reader.js';
import { sortedLookup } from '../runs/run-probe.js';
import { ttlSection, ttlUpTo } from '../runs/run-ttl.js';
import type { View } from './view.js';

/** What indexing a set of newest-version entries changes in the census. */
export class CensusDelta {
  keys = 0;
  bytes = 0;

  /**
   * `older` finds a key's newest entry in the runs older than the entries
   * being accounted (asked in ascending key order); `removes` collects the expiry times of the PUTs they shadow.
   */
  constructor(
    private readonly older: (key: string) => IndexEntry | undefined,
    readonly removes: TtlList = new TtlList(),
  ) {}

  /** Accounts one entry (a key's newest version among the new ones; latin1 form of the key; `length`: its censusLength). */
  account(key: string, kind: number, length: number): void {
    const previous = this.older(key);
    if (previous && previous.kind === KIND_PUT) {
      this.keys--;
      this.bytes -= censusLengthOf(previous);
      // TTL sections hold records' own lengths: a record's SEAL share changes when a compaction moves it.
      if (previous.expiresAt > 0) this.removes.push(previous.expiresAt, previous.length);
    }
    this.accountNew(kind, length);
  }

  /** account() of an entry no older run holds (there is none to ask): no lookup, no key needed. */
  accountNew(kind: number, length: number): void {
    if (kind === KIND_PUT) {
      this.keys++;
      this.bytes += length;
    }
  }

  applyTo(c: Pick<Census, 'keys' | 'bytes'>): void {
    c.keys += this.keys;
    c.bytes += this.bytes;
  }
}

/**
 * At a compaction's switch: the keys of the `newer` runs (the view's first,
 * written since the snapshot, which is the rest) whose newest snapshot
 * version is a PUT expired at `now`, which the compaction dropped, and the
 * total length of those PUTs (`bytes`, as TTL sections count them; and
 * `censusBytes`, their censusLength, as the census does). The newer runs' TTL
 * sections list each of them as removed; with the PUT gone, that remove would
 * dangle. Runs without removes due by `now` cannot hold one: then no key is
 * looked up.
 */
export function phantomOf(v: View, newer: number, now: number): { keys: number; bytes: number; censusBytes: number } {
  const phantom = { keys: 0, bytes: 0, censusBytes: 0 };
  let due = 0;
  for (let i = 0; i < newer; i++) {
    const section = ttlSection(v.run(i));
    if (section) due += ttlUpTo(v.run(i), section, 1, now).count;
  }
  if (due === 0) return phantom;
  const runs = v.manifest!.runs;
  const snapshot = sortedLookup(runs.slice(newer), (i) => v.run(newer + i));
  const readers = runs.slice(0, newer).map((_, i) => v.run(i));
  for (const e of newestEntries(readers, () => {})) {
    const dropped = snapshot(e.key.toString('latin1'));
    if (dropped && dropped.kind === KIND_PUT && isExpired(dropped.expiresAt, now)) {
      phantom.keys++;
      phantom.bytes += dropped.length;
      phantom.censusBytes += censusLengthOf(dropped);
    }
  }
  return phantom;
}

/**
 * At a compaction's switch in an encrypted store, what the kept records that
 * runs written since the snapshot (the view's `newer` first) shadow changed
 * in censusLength by moving to new groups: the compaction's keptShift counts
 * them, and the census, which dropped them when those runs were written, must
 * not. `output` is the compaction's run (`info`). One lookup in the output and
 * one in the snapshot per key of the newer runs: as many as their flushes made.
 */
export function shadowedShift(v: View, newer: number, output: RunReader, info: RunInfo): number {
  const kept = sortedLookup([info], () => output);
  const runs = v.manifest!.runs;
  const snapshot = sortedLookup(runs.slice(newer), (i) => v.run(newer + i));
  const readers = runs.slice(0, newer).map((_, i) => v.run(i));
  let shift = 0;
  for (const e of newestEntries(readers, () => {})) {
    const key = e.key.toString('latin1');
    const now = kept(key);
    const before = now && snapshot(key);
    if (now && before) shift += censusLengthOf(now) - censusLengthOf(before);
  }
  return shift;
}
