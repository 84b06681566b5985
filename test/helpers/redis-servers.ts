// The two servers the Redis-protocol tests talk to: a real redis-server (the
// reference: Debian's, .ci/run installs it) and a real `tzkv serve` process.
// Each listens on a free loopback port and is ready when the function resolves;
// every server a test file started is killed after the file (afterAll), and
// one that fails to start is killed before the error is thrown.
import { execa, type ResultPromise } from 'execa';
import { createInterface } from 'node:readline';
import { afterAll } from 'vitest';
import { BIN, NODE, childEnv } from '../e2e/helpers.js';
import { RawConnection } from './raw-resp.js';

export interface RunningServer {
  /** The Redis protocol's port on 127.0.0.1. */
  port: number;
  /** Ends the server with `signal` (default SIGTERM) and waits for it to exit. */
  stop(signal?: NodeJS.Signals): Promise<StoppedServer>;
}

export interface StoppedServer {
  exitCode: number | undefined;
  signal: string | undefined;
}

type Child = ResultPromise<{ reject: false; stdin: 'ignore' }>;

const running = new Set<Child>();

afterAll(async () => {
  for (const child of running) child.kill('SIGKILL');
  await Promise.all([...running]);
  running.clear();
});

function track(child: Child): Child {
  running.add(child);
  void child.then(() => running.delete(child));
  return child;
}

async function stopChild(child: Child, signal: NodeJS.Signals, what: string): Promise<StoppedServer> {
  child.kill(signal);
  const timer = setTimeout(() => child.kill('SIGKILL'), 20_000);
  const result = await child;
  clearTimeout(timer);
  if (result.signal === 'SIGKILL' && signal !== 'SIGKILL') throw new Error(`${what} did not exit within 20 s of ${signal}`);
  return { exitCode: result.exitCode, signal: result.signal };
}

/**
 * redis-server on a free loopback port, persisting nothing (`--save ''
 * --appendonly no`), with `--requirepass` when a password is given. Ready: it
 * answers. The port is drawn at random and drawn again when taken (a port
 * asked of the OS and closed could be taken again before redis-server binds it).
 */
export async function startRedisServer(options: { password?: string } = {}): Promise<RunningServer> {
  for (let attempt = 1; ; attempt++) {
    const port = 20_000 + Math.floor(Math.random() * 40_000);
    const args = ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--loglevel', 'warning'];
    if (options.password !== undefined) args.push('--requirepass', options.password);
    const child = track(execa('redis-server', args, { reject: false, stdin: 'ignore' }) as Child);
    if (await redisAnswers(port, child, options.password)) return { port, stop: (signal = 'SIGTERM') => stopChild(child, signal, 'redis-server') };
    child.kill('SIGKILL');
    const result = await child;
    const log = `${String(result.stdout)} ${String(result.stderr)}`;
    if (!/in use/i.test(log) || attempt === 5) throw new Error(`redis-server on port ${port} did not start: ${log}`);
  }
}

/**
 * Whether the redis-server `child` answers on `port` within 10 s: INFO names
 * its pid (not another server's that holds the port); false once it exits.
 */
async function redisAnswers(port: number, child: Child, password: string | undefined): Promise<boolean> {
  const deadline = Date.now() + 10_000;
  while (child.exitCode === null && Date.now() < deadline) {
    try {
      const conn = await RawConnection.open(port);
      if (password !== undefined) await conn.send(['AUTH', password]);
      const info = (await conn.send(['INFO', 'server'])).toString('latin1');
      conn.close();
      if (info.includes(`\r\nprocess_id:${child.pid}\r\n`)) return true;
    } catch {
      // not listening yet
    }
    await new Promise((r) => setTimeout(r, 25));
  }
  return false;
}

export interface TzkvServe extends RunningServer {
  /** host:port of the HTTP API, or null with --no-http. */
  http: string | null;
  process: Child;
  /** stderr so far, a line each (with --json, one JSON object each). */
  stderrLines: string[];
}

/**
 * `tzkv serve -d DIR --port 0 --json ...extraArgs` (with `--no-http` unless
 * extraArgs has `--http-port`), as docs/serve.md's process contract has it:
 * ready when the first stderr line, {"event":"listening","redis":"127.0.0.1:PORT",...}, is written.
 */
export async function startTzkvServe(dir: string, extraArgs: string[] = [], env: Record<string, string | undefined> = {}): Promise<TzkvServe> {
  const args = [BIN, 'serve', '-d', dir, '--port', '0', '--json', ...(extraArgs.includes('--http-port') ? [] : ['--no-http']), ...extraArgs];
  const child = track(execa(NODE, args, { reject: false, stdin: 'ignore', env: childEnv(env), extendEnv: false }) as Child);
  const stderrLines: string[] = [];
  const firstLine = new Promise<string | undefined>((resolve) => {
    createInterface({ input: child.stderr! }).on('line', (line) => {
      stderrLines.push(line);
      if (stderrLines.length === 1) resolve(line);
    });
    void child.then(() => resolve(undefined));
  });
  const fail = async (why: string): Promise<never> => {
    // It may be on its way out (a usage error): its exit code says more than a kill.
    const exited = await Promise.race([child.then(() => true), new Promise<false>((r) => setTimeout(() => r(false), 2000))]);
    if (!exited) child.kill('SIGKILL');
    const result = await child;
    throw new Error(`tzkv serve ${args.slice(2).join(' ')} did not start (${why}; exit ${result.exitCode ?? result.signal}): ${stderrLines.join('\n')}`);
  };
  let timer: NodeJS.Timeout | undefined;
  const line = await Promise.race([firstLine, new Promise<'timeout'>((r) => (timer = setTimeout(() => r('timeout'), 20_000)))]);
  clearTimeout(timer);
  if (line === 'timeout') return fail('no line on stderr in 20 s');
  if (line === undefined) return fail('it exited');
  let listening: { event?: string; redis?: string | null; http?: string | null };
  try {
    listening = JSON.parse(line) as typeof listening;
  } catch {
    return fail('its first stderr line is not JSON');
  }
  const redis = /^127\.0\.0\.1:(\d+)$/.exec(listening.redis ?? '');
  if (listening.event !== 'listening' || redis === null) return fail('its first stderr line is not {"event":"listening","redis":"127.0.0.1:PORT"}');
  return {
    port: Number(redis[1]),
    http: listening.http ?? null,
    process: child,
    stderrLines,
    stop: (signal = 'SIGTERM') => stopChild(child, signal, 'tzkv serve'),
  };
}
