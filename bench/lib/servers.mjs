// The servers bench/serve.mjs measures, each a process of its own on a port of
// its own: `tzkv serve` (the built CLI, as a user runs it) and redis-server.
// A server is resolved once it accepts connections and stopped with SIGTERM
// (both exit 0 after a graceful stop: tzkv commits and fsyncs what it
// acknowledged, Redis fsyncs its AOF). Its memory is read from /proc.
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { createInterface } from 'node:readline';
import { cleanEnv } from './measure.mjs';
import { TZKV } from './peers.mjs';

/** A process's resident memory now (VmRSS) and its peak since it started (VmHWM), in MB. */
export function memoryOf(pid) {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const mb = (field) => Number(new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(status)?.[1]) / 1024;
  return { rssMb: mb('VmRSS'), peakMb: mb('VmHWM') };
}

/**
 * Samples a process's VmRSS every `everyMs` until stop(), which returns the largest sample
 * (the end of a round reads VmHWM too: the kernel's own peak, between samples included).
 */
export function sampleRss(pid, everyMs = 100) {
  let maxMb = memoryOf(pid).rssMb;
  const timer = setInterval(() => {
    try {
      maxMb = Math.max(maxMb, memoryOf(pid).rssMb);
    } catch {
      // the process ended; stop() says what was seen
    }
  }, everyMs);
  return { stop: () => (clearInterval(timer), maxMb) };
}

/**
 * `tzkv serve --no-http --port 0 --json -d DIR FLAGS`: resolves to a server once its first
 * log line says where it listens. nodeFlags go to Node (`--cpu-prof`, which NODE_OPTIONS
 * does not take).
 */
export function startTzkv(dir, flags = [], nodeFlags = []) {
  const [node, script] = TZKV;
  const argv = [...nodeFlags, script, 'serve', '--no-http', '--port', '0', '--json', '-d', dir, ...flags];
  const child = spawn(node, argv, { env: cleanEnv(), stdio: ['ignore', 'ignore', 'pipe'] });
  return started(child, child.stderr, (line) => {
    if (!line.startsWith('{')) return null;
    const event = JSON.parse(line);
    return event.event === 'listening' ? Number(event.redis.split(':').pop()) : null;
  });
}

/** redis-server on a free port of 127.0.0.1, no RDB snapshots, its files in dir; flags add to that. */
export async function startRedis(dir, flags = []) {
  const port = await freePort();
  const argv = ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--dir', dir, ...flags];
  const child = spawn('redis-server', argv, { stdio: ['ignore', 'pipe', 'pipe'] });
  createInterface({ input: child.stderr }).on('line', () => undefined);
  return started(child, child.stdout, (line) => (line.includes('Ready to accept connections') ? port : null));
}

/**
 * Resolves to { pid, port, startMs, log, stop() } once portOf(a line of `output`) names the
 * port; rejects when the child exits first. stop() sends SIGTERM and resolves once the
 * child exited 0 (it rejects otherwise, with the child's log).
 */
function started(child, output, portOf) {
  const t0 = performance.now();
  const log = [];
  const exited = new Promise((resolve) => child.once('exit', (code, signal) => resolve({ code, signal })));
  return new Promise((resolve, reject) => {
    let ready = false;
    createInterface({ input: output }).on('line', (line) => {
      log.push(line);
      const port = ready ? null : portOf(line);
      if (port === null) return;
      ready = true;
      resolve({ pid: child.pid, port, startMs: performance.now() - t0, log, stop: () => stop(child, exited, log) });
    });
    exited.then(({ code, signal }) => ready || reject(new Error(`${child.spawnfile} exited (${code ?? signal}) before listening:\n${log.join('\n')}`)));
    child.once('error', reject);
  });
}

async function stop(child, exited, log) {
  child.kill('SIGTERM');
  const { code, signal } = await exited;
  if (code !== 0) throw new Error(`${child.spawnfile} stopped with ${code ?? signal}:\n${log.slice(-20).join('\n')}`);
}

/** A TCP port nothing listens on now (the kernel's pick; a race with other processes is possible, and then the start fails loudly). */
function freePort() {
  return new Promise((resolve, reject) => {
    const probe = createServer();
    probe.once('error', reject);
    probe.listen(0, '127.0.0.1', () => {
      const { port } = probe.address();
      probe.close(() => resolve(port));
    });
  });
}
