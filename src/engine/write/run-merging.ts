// Merging index runs (docs/design.md "Write path" step 5): the size-tiered
// policy picks neighbouring runs, and one merged run takes their place, so a
// store of N entries has O(log N) runs. A running compaction's snapshot runs
// are left alone: its switch replaces them.
import { censusValid } from '../../format/manifest.js';
import type { Manifest, RunInfo } from '../../format/manifest.js';
import type { FileSystem } from '../../io/fs.js';
import type { StoreCodec } from '../../format/store-codec.js';
import type { Processes } from '../../io/processes.js';
import { mergeableRuns } from '../files/compaction-marker.js';
import { FileNumbers } from '../files/store-manifest.js';
import type { ManifestEdit } from '../files/store-manifest.js';
import { planMerge } from '../runs/merge-policy.js';
import { mergeInto } from '../runs/run-merge.js';
import { RunReader } from '../runs/run-reader.js';
import { readTtlRemoves, ttlSection } from '../runs/run-ttl.js';
import { TtlList } from '../runs/ttl-list.js';
import { RunWriter } from '../runs/run-writer.js';

/**
 * Collects the TTL removes of a group of runs into `into`; false when a run
 * has no TTL section (written before the census), which ends the census.
 */
function groupRemoves(readers: RunReader[], into: TtlList): boolean {
  for (const r of readers) {
    const section = ttlSection(r);
    if (!section) return false;
    into.addAll(readTtlRemoves(r, section));
  }
  return true;
}

/** A merge written to disk: the edit that lists it, and the runs it replaces (to delete once that edit is installed). */
interface RunMerge {
  edit: ManifestEdit;
  replaced: RunInfo[];
}

/**
 * Writes the merge the policy asks for next in `m` as a new run (fsynced, the
 * directory too); null when it asks for none. Tombstones are dropped only
 * when the group holds the oldest run; the census stays valid only when the
 * merge leaves no TTL remove of the group unresolved.
 */
export function writeNextMerge(fs: FileSystem, dir: string, m: Manifest, processes: Processes, codec: StoreCodec): RunMerge | null {
  const plan = planMerge(m.runs.slice(0, mergeableRuns(m, processes)));
  if (!plan) return null;
  const [from, to] = plan;
  const group = m.runs.slice(from, to);
  const bottom = to === m.runs.length;
  const numbers = new FileNumbers(m.nextFile);
  const file = numbers.take();
  const readers: RunReader[] = [];
  try {
    for (const r of group) readers.push(RunReader.open(fs, dir, r.file, codec));
  } catch (err) {
    for (const r of readers) r.close();
    throw err;
  }
  let w: RunWriter;
  try {
    w = new RunWriter(fs, dir, file, group.reduce((s, r) => s + r.entries, 0), codec);
  } catch (err) {
    for (const r of readers) r.close();
    throw err;
  }
  const edit: ManifestEdit = {};
  try {
    // The census's removes move to the merged run, less those the merge resolved inside the group.
    let census = censusValid(m) ? groupRemoves(readers, w.ttlRemoves) : false;
    const shadowed = new TtlList();
    edit.counted = { deadBytes: mergeInto(w, readers, bottom, shadowed) };
    if (census && w.ttlRemoves.sort().subtractSorted(shadowed.sort()) > 0) census = false;
    if (!census) edit.census = null;
    const info = w.finish();
    edit.runs = { remove: group.map((r) => r.file), add: info.entries > 0 || !bottom ? [info] : [] };
  } catch (err) {
    w.abort();
    throw err;
  } finally {
    for (const r of readers) r.close();
  }
  fs.fsyncDir(dir);
  edit.nextFile = numbers.next;
  return { edit, replaced: group };
}
