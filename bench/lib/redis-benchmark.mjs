// redis-benchmark and redis-cli (Debian's redis-tools) as processes, read from
// their text: requests per second per test from redis-benchmark's --csv, and
// INFO fields from redis-cli.
import { execFile, spawnSync } from 'node:child_process';
import { promisify } from 'node:util';

const run = promisify(execFile);

/** Why redis-benchmark or redis-server cannot run here, or null when both can. */
export function redisMissing() {
  for (const tool of ['redis-benchmark', 'redis-cli', 'redis-server']) {
    if (spawnSync(tool, ['--version']).status !== 0) return `${tool} not installed (apt-get install -y redis-server redis-tools)`;
  }
  return null;
}

/** The versions of redis-server and redis-benchmark, as they print them. */
export const redisVersions = () =>
  ['redis-server', 'redis-benchmark'].map((tool) => spawnSync(tool, ['--version'], { encoding: 'utf8' }).stdout.trim().split(' ').slice(0, 3).join(' ')).join('; ');

/**
 * `redis-benchmark -h 127.0.0.1 -p PORT ARGS --csv`: resolves to { TEST: { rps, p50 } } (TEST as
 * it names them: SET, GET) and the wall time. Rejects when it fails or a reply was an error
 * (its "Error from server" lines), so a figure is never of error replies.
 */
export async function redisBenchmark(port, args) {
  const t0 = performance.now();
  const { stdout, stderr } = await run('redis-benchmark', ['-h', '127.0.0.1', '-p', String(port), ...args, '--csv'], { maxBuffer: 1 << 24 });
  const ms = performance.now() - t0;
  if (/error/i.test(stdout) || /Error from server/i.test(stderr)) throw new Error(`redis-benchmark ${args.join(' ')}: ${stdout}${stderr}`);
  const tests = {};
  for (const line of stdout.split('\n')) {
    const cells = line.split(',').map((c) => c.replace(/^"|"$/g, ''));
    if (cells.length < 5 || cells[0] === 'test') continue;
    tests[cells[0]] = { rps: Number(cells[1]), p50: Number(cells[4]) };
  }
  return { tests, ms };
}

/** One redis-cli command's reply, as redis-cli prints it (raw). */
export async function redisCli(port, ...command) {
  const { stdout } = await run('redis-cli', ['-h', '127.0.0.1', '-p', String(port), '--raw', ...command]);
  return stdout.trim();
}

/** The numeric fields of `INFO section`, by name. */
export async function redisInfo(port, section) {
  const fields = {};
  for (const line of (await redisCli(port, 'info', section)).split('\n')) {
    const m = /^(\w+):(-?[\d.]+)\r?$/.exec(line);
    if (m) fields[m[1]] = Number(m[2]);
  }
  return fields;
}
