// "Did you mean ...?" for a mistyped command or flag: the known word nearest
// to what was typed, when it is near enough to be a typo rather than another
// word. The logic of oclif's not-found plugin, without its prompt: tzkv only
// suggests, and never runs a command nobody typed.

/**
 * Words other key-value tools use for tzkv's commands that are not aliases
 * (`set`, `rm`, `delete`, `ls` and `list` are: they are among the candidates).
 */
const OTHER_NAMES: Record<string, string> = { remove: 'del', info: 'stats', expire: 'ttl' };

/**
 * The candidate `typed` most likely stands for, or undefined: the nearest by
 * edit distance (a swap of two neighbours counts as one edit), allowing one
 * edit in a word of up to four characters and two in a longer one.
 */
export function closest(typed: string, candidates: readonly string[]): string | undefined {
  const other = OTHER_NAMES[typed];
  if (other !== undefined && candidates.includes(other)) return other;
  const allowed = typed.length <= 4 ? 1 : 2;
  let best: string | undefined;
  let bestDistance = allowed + 1;
  for (const candidate of candidates) {
    const distance = editDistance(typed.toLowerCase(), candidate);
    if (distance < bestDistance) [best, bestDistance] = [candidate, distance];
  }
  return best;
}

/** Optimal string alignment distance: insertions, deletions, substitutions and swaps of adjacent characters. */
function editDistance(a: string, b: string): number {
  const rows = Array.from({ length: a.length + 1 }, (_, i) => [i, ...Array<number>(b.length).fill(0)]);
  for (let j = 1; j <= b.length; j++) rows[0][j] = j;
  for (let i = 1; i <= a.length; i++) {
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      rows[i][j] = Math.min(rows[i - 1][j] + 1, rows[i][j - 1] + 1, rows[i - 1][j - 1] + cost);
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) rows[i][j] = Math.min(rows[i][j], rows[i - 2][j - 2] + 1);
    }
  }
  return rows[a.length][b.length];
}
