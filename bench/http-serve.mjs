#!/usr/bin/env node
// GET /v1/kv/k over HTTP (issue #16: node:http or a library, by measurement):
// the same request answered by
//   handler   tzkv's HTTP API as it ships (src/serve/http: createHttpHandler
//             + listenHttp on node:http: routing, the bearer check, metrics)
//   node      a bare node:http route doing the work of one GET: the key
//             percent-decoded and checked, the store read, the metrics counted
//   fastify   the same route in fastify 5 (its router, its reply), same work
// each server in a process of its own over one store directory holding k
// (100 bytes), autocannon in this process with 50 keep-alive connections.
// Rounds interleaved (handler, node, fastify, handler, ...), each preceded by
// a warm-up; the median of each. It reports; it never fails on speed.
//
//   node bench/http-serve.mjs [--rounds 5] [--seconds 5] [--connections 50] [--pipelining 1]
// Needs `npm run build` and `npm run bench:install` (autocannon, fastify).
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import { loadAverage, machine } from './lib/machine.mjs';
import { median } from './lib/measure.mjs';

const benchDir = dirname(fileURLToPath(import.meta.url));
const dist = (path) => pathToFileURL(join(benchDir, '..', 'dist', path)).href;
const MODES = ['handler', 'node', 'fastify'];

const { values: opts } = parseArgs({
  options: {
    serve: { type: 'string' },
    dir: { type: 'string' },
    rounds: { type: 'string', default: '5' },
    seconds: { type: 'string', default: '5' },
    connections: { type: 'string', default: '50' },
    pipelining: { type: 'string', default: '1' },
  },
});

/** A child: serves `opts.dir` one way on a free port, prints the port, runs until killed. */
async function serveOne(mode, dir) {
  const { open } = await import(dist('index.js'));
  const { Metrics } = await import(dist('serve/metrics.js'));
  const { percentDecode } = await import(dist('serve/http/url-bytes.js'));
  const { checkKey } = await import(dist('keys.js'));
  const store = await open(dir);
  const metrics = new Metrics();
  /** The work of one GET, without a framework: its key from the raw path, the store read, the count. */
  const getValue = async (rawUrl) => {
    const started = performance.now();
    const entry = await store.getEntry(checkKey(percentDecode(rawUrl.slice('/v1/kv/'.length).split('?')[0], 'key')));
    metrics.command('http', 'get', Math.round((performance.now() - started) * 1000), entry ? 200 : 404);
    return entry;
  };
  let port;
  if (mode === 'handler') {
    const { createHttpHandler } = await import(dist('serve/http/http-handler.js'));
    const { listenHttp } = await import(dist('serve/http/http-listener.js'));
    const served = {
      counters: { cacheHits: 0, cacheMisses: 0, cacheBytes: 0, cacheEntries: 0, commits: 0, writes: 0 },
      get: (key) => store.getEntry(key),
      getMany: (keys) => Promise.all(keys.map((k) => store.getEntry(k))),
      write: (fn) => store.transact(fn),
      keys: (o) => store.keys(o),
      stats: () => store.stats(),
      close: async () => undefined,
    };
    const listener = await listenHttp({ host: '127.0.0.1', port: 0, handler: createHttpHandler(served, { metrics }) });
    port = Number(listener.address.split(':').pop());
  } else if (mode === 'node') {
    const { createServer } = await import('node:http');
    const server = createServer(async (req, res) => {
      const entry = await getValue(req.url);
      res.writeHead(200, { 'Content-Type': 'application/octet-stream', 'Content-Length': entry.value.length });
      res.end(entry.value);
    });
    await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
    port = server.address().port;
  } else {
    const { default: fastify } = await import('fastify');
    const app = fastify({ logger: false });
    app.get('/v1/kv/*', async (req, reply) => {
      const entry = await getValue(req.raw.url);
      reply.header('Content-Type', 'application/octet-stream');
      return entry.value;
    });
    await app.listen({ host: '127.0.0.1', port: 0 });
    port = app.server.address().port;
  }
  process.stdout.write(`${port}\n`);
}

function startServer(mode, dir) {
  const child = spawn(process.execPath, [fileURLToPath(import.meta.url), '--serve', mode, '--dir', dir], { stdio: ['ignore', 'pipe', 'inherit'] });
  return new Promise((resolve, reject) => {
    child.once('error', reject);
    child.stdout.once('data', (d) => resolve({ mode, child, port: Number(String(d).trim()) }));
  });
}

async function measure(autocannon, port, seconds) {
  const result = await autocannon({
    url: `http://127.0.0.1:${port}/v1/kv/k`,
    connections: Number(opts.connections),
    pipelining: Number(opts.pipelining),
    duration: seconds,
  });
  if (result.non2xx > 0 || result.errors > 0) throw new Error(`port ${port}: ${result.non2xx} non-2xx answers, ${result.errors} errors`);
  return { rps: result.requests.average, p50: result.latency.p50, p99: result.latency.p99 };
}

async function main() {
  const { default: autocannon } = await import('autocannon');
  const dir = mkdtempSync(join(tmpdir(), 'tzkv-http-bench-'));
  const loadAtStart = loadAverage();
  try {
    const { open } = await import(dist('index.js'));
    const store = await open(dir);
    await store.put('k', Buffer.alloc(100, 'v'));
    await store.close();
    const servers = [];
    for (const mode of MODES) servers.push(await startServer(mode, dir));
    const samples = Object.fromEntries(MODES.map((m) => [m, []]));
    for (let round = 0; round < Number(opts.rounds); round++) {
      for (const { mode, port } of servers) {
        await measure(autocannon, port, 1); // warm-up
        samples[mode].push(await measure(autocannon, port, Number(opts.seconds)));
      }
    }
    for (const { child } of servers) child.kill();
    console.log(`GET /v1/kv/k (100-byte value), ${opts.connections} connections, pipelining ${opts.pipelining}, ${opts.rounds} rounds of ${opts.seconds} s, medians:\n`);
    console.log('| server | requests/s | p50 ms | p99 ms | rounds (req/s) |\n|---|---:|---:|---:|---|');
    for (const mode of MODES) {
      const s = samples[mode];
      const m = (f) => median(s.map(f));
      console.log(`| ${mode} | ${Math.round(m((x) => x.rps))} | ${m((x) => x.p50)} | ${m((x) => x.p99)} | ${s.map((x) => Math.round(x.rps)).join(', ')} |`);
    }
    console.log(`\n${machine(dir, loadAtStart)}`);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

if (opts.serve) await serveOne(opts.serve, opts.dir);
else await main();
