// One line describing the machine a run was taken on: cores, memory, the disk under the
// data directory, Node, and the load average (other work on the machine skews the figures).
import { spawnSync } from 'node:child_process';
import { cpus, loadavg, totalmem } from 'node:os';

const sh = (cmd, args) => spawnSync(cmd, args, { encoding: 'utf8' }).stdout?.trim() ?? '';

export const loadAverage = () => loadavg().map((x) => x.toFixed(2)).join(' ');

export function machine(dataDir, loadAtStart) {
  const [fstype, source] = sh('findmnt', ['-no', 'FSTYPE,SOURCE', '-T', dataDir]).split(/\s+/);
  const size = sh('df', ['-h', '--output=size', dataDir]).split('\n').pop()?.trim();
  const disk = `${source ?? '?'} (${fstype ?? '?'}, ${size})`;
  const sqlite = sh('sqlite3', ['-version']).split(' ')[0];
  const load = loadAverage();
  return `Machine: ${cpus().length} cores (${cpus()[0]?.model.trim()}), ${(totalmem() / 2 ** 30).toFixed(0)} GiB memory, disk ${disk}; Node ${process.version}${sqlite ? `, sqlite3 ${sqlite}` : ''}; load average (1, 5, 15 min) at the start of the run ${loadAtStart}, at its end ${load} (other work on the machine inflates figures; compare rows of one run).`;
}

/** What was measured: the checkout's commit and the last commit that changed src/, and whether src/ has uncommitted changes. */
export function builtFrom(benchDir) {
  const git = (...args) => spawnSync('git', ['-C', benchDir, ...args], { encoding: 'utf8' }).stdout.trim();
  const dirty = git('status', '--porcelain', '--', '../src') ? ', with uncommitted changes to src/' : '';
  return `${git('log', '-1', '--format=%h')} (src/ as of ${git('log', '-1', '--format=%h %s', '--', '../src').slice(0, 90)}${dirty})`;
}
