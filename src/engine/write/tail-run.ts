// Indexing the tail (docs/design.md "Write path" step 4): the tail's newest
// entries, and a batch's straight from memory (docs/design.md "Atomic
// batches"), written sorted into one new index run, with what that changes in
// the census.
import type { RunInfo } from '../../format/manifest.js';
import { censusLength, censusLengthOf } from '../../format/seal-share.js';
import type { FileSystem } from '../../io/fs.js';
import type { CensusCount } from '../files/store-manifest.js';
import type { LogEntry } from '../log/log-scan.js';
import { CensusDelta } from '../read/census.js';
import type { View } from '../read/view.js';
import { sortedUnique } from '../runs/run-merge.js';
import { sortedLookup } from '../runs/run-probe.js';
import { RunWriter } from '../runs/run-writer.js';
import type { BatchEntries } from './batch-entries.js';

/** A batch's records in the log: its entries, relative to `base` in `segment` (default: the active one). */
export interface BatchInLog {
  base: number;
  entries: BatchEntries;
  segment?: number;
}

/**
 * Writes run `file` (renamed into place, fsynced; the directory is not) from
 * the tail entries `tail` (sorted, of the view's active segment) and a batch
 * appended after them, newest version per key. `census`, when given, is
 * brought up to date: each entry weighed against the view's runs. Returns the
 * run and the bytes of the records it shadowed. A failure removes the run's
 * temporary file.
 */
export function writeTailRun(
  fs: FileSystem,
  dir: string,
  file: number,
  view: View,
  tail: LogEntry[],
  batch: BatchInLog | undefined,
  census: CensusCount | null,
): { run: RunInfo; shadowed: number } {
  const m = view.manifest!;
  const active = m.active.file;
  const w = new RunWriter(fs, dir, file, tail.length + (batch?.entries.count ?? 0), view.codec);
  const delta = census ? new CensusDelta(sortedLookup(m.runs, (i) => view.run(i)), w.ttlRemoves) : null;
  const addTail = (e: LogEntry) => {
    delta?.account(e.key, e.kind, censusLengthOf(e));
    w.add(e.key, e.kind, active, e.offset, e.length, e.expiresAt, e.group, e.groupLength);
  };
  let shadowed = 0;
  try {
    try {
      if (!batch) {
        for (const e of tail) addTail(e);
      } else {
        const b = batch.entries;
        const segment = batch.segment ?? active;
        // No older run to weigh a key against: the census needs no key string.
        const lookups = m.runs.length > 0;
        const order = newestInOrder(b, (older) => (shadowed += b.lengths[older]));
        const count = order === null ? b.count : order.length;
        let ti = 0;
        for (let j = 0; j < count; j++) {
          const i = order === null ? j : order[j];
          const start = b.keyStarts[i];
          const end = b.keyStarts[i + 1];
          while (ti < tail.length && compareKey(tail[ti].key, b.keyBytes, start, end) < 0) addTail(tail[ti++]);
          if (ti < tail.length && compareKey(tail[ti].key, b.keyBytes, start, end) === 0) shadowed += tail[ti++].length;
          const groupLength = b.groupLengths[i];
          const group = groupLength === 0 ? 0 : batch.base + b.groups[i];
          const offset = batch.base + b.offsets[i];
          if (delta) {
            const length = censusLength(offset, b.lengths[i], group, groupLength);
            if (lookups) delta.account(b.key(i), b.kinds[i], length);
            else delta.accountNew(b.kinds[i], length);
          }
          w.addBytes(b.keyBytes, start, end, b.kinds[i], segment, offset, b.lengths[i], b.expiries[i], group, groupLength);
        }
        while (ti < tail.length) addTail(tail[ti++]);
      }
    } finally {
      if (census && delta) delta.applyTo(census);
    }
    return { run: w.finish(), shadowed };
  } catch (err) {
    w.abort();
    throw err;
  }
}

/**
 * The order to index a batch's entries in: null when their keys strictly
 * ascend (a bulk load of sorted input), else the index of each key's newest
 * entry in key order (sortedUnique), every older one passed to `onShadowed`.
 */
function newestInOrder(b: BatchEntries, onShadowed: (index: number) => void): Uint32Array | null {
  if (b.ascending) return null;
  const keys: string[] = [];
  for (let k = 0; k < b.count; k++) keys.push(b.key(k));
  return sortedUnique(keys, onShadowed);
}

/** Compares a key's latin1 form with the key bytes buf[start, end), in byte order. */
function compareKey(key: string, buf: Buffer, start: number, end: number): number {
  const n = Math.min(key.length, end - start);
  for (let i = 0; i < n; i++) {
    const d = key.charCodeAt(i) - buf[start + i];
    if (d !== 0) return d;
  }
  return key.length - (end - start);
}
