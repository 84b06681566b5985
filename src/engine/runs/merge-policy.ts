// When to merge index runs (docs/design.md "Index runs"). Size-tiered: runs
// whose entry counts fall in the same power-of-4 tier are merged four at a
// time, newest first, so a store of N entries keeps O(log N) runs and every
// entry is rewritten O(log N) times.
import type { RunInfo } from '../../format/manifest.js';

const FANIN = 4;
const BASE_ENTRIES = 1024;
/** Past this many runs, merge the newest regardless of tiers. */
const MAX_RUNS = 20;

function tierOf(entries: number): number {
  let t = 0;
  let cap = BASE_ENTRIES;
  while (entries > cap) {
    cap *= FANIN;
    t++;
  }
  return t;
}

/** [from, to) of runs (newest first) to merge now, or null. */
export function planMerge(runs: RunInfo[]): [number, number] | null {
  for (let i = 0; i + FANIN <= runs.length; i++) {
    const t = tierOf(runs[i].entries);
    let j = i + 1;
    while (j < runs.length && tierOf(runs[j].entries) === t) j++;
    if (j - i >= FANIN) return [i, j];
    i = j - 1;
  }
  if (runs.length > MAX_RUNS) return [0, FANIN];
  return null;
}
