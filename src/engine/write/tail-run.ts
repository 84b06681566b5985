// Indexing the tail (docs/design.md "Write path" step 4): the tail's newest
// entries, and a batch's straight from memory (docs/design.md "Atomic
// batches"), written sorted into one new index run, with what that changes in
// the census.
import type { RunInfo } from '../../format/manifest.js';
import type { FileSystem } from '../../io/fs.js';
import type { CensusCount } from '../files/store-manifest.js';
import type { LogEntry } from '../log/log-scan.js';
import { CensusDelta } from '../read/census.js';
import type { View } from '../read/view.js';
import { sortedUnique } from '../runs/run-merge.js';
import { sortedLookup } from '../runs/run-probe.js';
import { RunWriter } from '../runs/run-writer.js';
import type { BatchEntries } from './batch.js';

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
  const batchSegment = batch?.segment ?? active;
  const w = new RunWriter(fs, dir, file, tail.length + (batch?.entries.keys.length ?? 0));
  const delta = census ? new CensusDelta(sortedLookup(m.runs, (i) => view.run(i)), w.ttlRemoves) : null;
  const add = (key: string, kind: number, segment: number, offset: number, length: number, expiresAt: number) => {
    delta?.account(key, kind, length);
    w.add(key, kind, segment, offset, length, expiresAt);
  };
  let shadowed = 0;
  try {
    try {
      if (!batch) {
        for (const e of tail) add(e.key, e.kind, active, e.offset, e.length, e.expiresAt);
      } else {
        const { keys, kinds, offsets, lengths, expiries } = batch.entries;
        const order = sortedUnique(keys, (older) => (shadowed += lengths[older]));
        const count = order === null ? keys.length : order.length;
        let ti = 0;
        for (let j = 0; j < count; j++) {
          const i = order === null ? j : order[j];
          const key = keys[i];
          while (ti < tail.length && tail[ti].key < key) {
            const e = tail[ti++];
            add(e.key, e.kind, active, e.offset, e.length, e.expiresAt);
          }
          if (ti < tail.length && tail[ti].key === key) shadowed += tail[ti++].length;
          add(key, kinds[i], batchSegment, batch.base + offsets[i], lengths[i], expiries[i]);
        }
        while (ti < tail.length) {
          const e = tail[ti++];
          add(e.key, e.kind, active, e.offset, e.length, e.expiresAt);
        }
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
