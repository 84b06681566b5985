// One line describing the machine a run was taken on: cores, memory, the disk under the
// data directory, Node, and the load average (other work on the machine skews the figures).
import { spawnSync } from 'node:child_process';
import { cpus, loadavg, totalmem } from 'node:os';

const sh = (cmd, args) => spawnSync(cmd, args, { encoding: 'utf8' }).stdout?.trim() ?? '';

export function machine(dataDir) {
  const [fstype, source] = sh('findmnt', ['-no', 'FSTYPE,SOURCE', '-T', dataDir]).split(/\s+/);
  const size = sh('df', ['-h', '--output=size', dataDir]).split('\n').pop();
  const device = source?.replace('/dev/', '').replace(/\d+$/, '');
  const rotational = device ? sh('cat', [`/sys/block/${device}/queue/rotational`]) : '';
  const disk = `${source ?? '?'} (${fstype ?? '?'}, ${size}${rotational === '0' ? ', non-rotational' : rotational === '1' ? ', rotational' : ''})`;
  const sqlite = sh('sqlite3', ['-version']).split(' ')[0];
  const load = loadavg().map((x) => x.toFixed(2)).join(' ');
  return `Machine: ${cpus().length} cores (${cpus()[0]?.model.trim()}), ${(totalmem() / 2 ** 30).toFixed(0)} GiB memory, disk ${disk}; Node ${process.version}${sqlite ? `, sqlite3 ${sqlite}` : ''}; load average (1, 5, 15 min) at the end of the run: ${load}.`;
}
