// Markdown for the benchmark: one table per workload, ratios to the best peer and to
// the floor, and each goal of issue #7 marked met or missed.

export const fmtMs = (ms) => (ms >= 100 ? `${ms.toFixed(0)} ms` : `${ms.toFixed(1)} ms`);
export const fmtX = (x) => `${x.toFixed(2)}x`;
const fmtMb = (mb) => (mb == null ? '–' : `${mb.toFixed(0)} MB`);

/**
 * rows: [{ group?, peer, label, ms?, rssMb?, skipped?, extra? }]; peer is 'tzkv', 'floor' or a
 * peer id. Ratios are to the fastest peer (not tzkv, not a floor) of the same group and to
 * the row floorOf(row) names. extraHeader adds a last column from each row's extra.
 */
export function table(rows, { floorOf = () => null, extraHeader } = {}) {
  const best = new Map();
  for (const r of rows) {
    if (r.skipped || r.peer === 'tzkv' || r.peer === 'floor') continue;
    if (!best.has(r.group) || r.ms < best.get(r.group).ms) best.set(r.group, r);
  }
  const head = ['', 'median', 'vs best peer', 'vs floor', 'peak RSS', ...(extraHeader ? [extraHeader] : [])];
  const lines = [`| ${head.join(' | ')} |`, `|${head.map(() => '---').join('|')}|`];
  for (const r of rows) {
    const name = r.group ? `${r.group}: ${r.label}` : r.label;
    if (r.skipped) {
      lines.push(`| ${name} | skipped: ${r.skipped} | | | |${extraHeader ? ' |' : ''}`);
      continue;
    }
    const b = best.get(r.group);
    const floor = floorOf(r);
    const cells = [
      r.peer === 'tzkv' ? `**${name}**` : name,
      fmtMs(r.ms),
      b ? fmtX(r.ms / b.ms) : '–',
      floor && r !== floor ? fmtX(r.ms / floor.ms) : r.peer === 'floor' ? 'floor' : '–',
      fmtMb(r.rssMb),
      ...(extraHeader ? [r.extra ?? ''] : []),
    ];
    lines.push(`| ${cells.join(' | ')} |`);
  }
  return lines.join('\n');
}

/** The best non-tzkv, non-floor row of a group, or undefined. */
export const bestPeer = (rows, group) =>
  rows.filter((r) => !r.skipped && r.peer !== 'tzkv' && r.peer !== 'floor' && r.group === group).sort((a, b) => a.ms - b.ms)[0];

/** A goal line: `- **met**: text — measured` or `**missed**`, with where the time goes for a miss. */
export function goalLine({ text, measured, met, where }) {
  const verdict = met === null ? 'Not measured' : met ? '**Met**' : '**MISSED**';
  return `- ${verdict} — goal: ${text}; measured: ${measured}.${met === false && where ? `\n  - Where the time goes: ${where}` : ''}`;
}

/** Copies each measured case's median and peak RSS onto the row of the same name. */
export function fill(rows, measured) {
  for (const r of rows) if (!r.skipped) Object.assign(r, { ms: measured[r.name].median, rssMb: measured[r.name].rssMb });
  return rows;
}
