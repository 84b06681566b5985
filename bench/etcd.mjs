#!/usr/bin/env node
// One `put` and one `get` per process against a local etcd, tzkv side by side
// with Go's etcdctl (Debian's etcd-client), and `node -e 0` as the floor
// (issue #8 "Numbers"). Whole processes, interleaved after a warm-up, medians,
// NODE_EXTRA_CA_CERTS unset. Needs `etcd` and `etcdctl` on PATH (apt-get
// install etcd-server etcd-client); skips with a notice otherwise.
//
//   node bench/etcd.mjs [--quick]
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { interleave, runOnce } from './lib/measure.mjs';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..');
const BIN = join(ROOT, 'bin', 'run.js');
const quick = process.argv.includes('--quick');
const runs = quick ? 5 : 31;

for (const tool of ['etcd', 'etcdctl']) {
  if (spawnSync('sh', ['-c', `command -v ${tool}`]).status !== 0) {
    console.log(`skipped: ${tool} is not installed (apt-get install -y etcd-server etcd-client)`);
    process.exit(0);
  }
}

const freePort = () =>
  new Promise((resolve) => {
    const s = createServer().listen(0, '127.0.0.1', () => {
      const { port } = s.address();
      s.close(() => resolve(port));
    });
  });

const [client, peer] = [await freePort(), await freePort()];
const data = mkdtempSync(join(tmpdir(), 'tzkv-bench-etcd-'));
const host = `127.0.0.1:${client}`;
const etcd = spawn(
  'etcd',
  [
    '--name=bench',
    `--data-dir=${join(data, 'd')}`,
    `--listen-client-urls=http://${host}`,
    `--advertise-client-urls=http://${host}`,
    `--listen-peer-urls=http://127.0.0.1:${peer}`,
    `--initial-advertise-peer-urls=http://127.0.0.1:${peer}`,
    `--initial-cluster=bench=http://127.0.0.1:${peer}`,
    '--log-level=error',
  ],
  { stdio: 'ignore' },
);
try {
  for (let i = 0; ; i++) {
    try {
      const res = await fetch(`http://${host}/health`);
      if (res.ok) break;
    } catch {
      if (i > 200) throw new Error('etcd did not start');
    }
    await new Promise((r) => setTimeout(r, 50));
  }
  const url = `etcd://${host}/bench`;
  const value = 'v'.repeat(100);
  runOnce([process.execPath, BIN, 'put', '-d', url, 'key:00000001', value]);
  let n = 0;
  const results = interleave(
    [
      { name: 'node -e 0', argv: [process.execPath, '-e', '0'] },
      { name: 'tzkv get', argv: [process.execPath, BIN, 'get', '-d', url, 'key:00000001'], check: (r) => r.stdout.toString() === value || fail('tzkv get') },
      { name: 'etcdctl get', argv: ['etcdctl', `--endpoints=${host}`, 'get', 'bench/key:00000001', '--print-value-only'] },
      { name: 'tzkv put', argv: [process.execPath, BIN, 'put', '-d', url, `key:p${n++ % 100}`, value] },
      { name: 'etcdctl put', argv: ['etcdctl', `--endpoints=${host}`, 'put', `bench/key:q${n++ % 100}`, value] },
    ],
    { runs, warmup: 3 },
  );
  const floor = results['node -e 0'].median;
  const row = (name, peer) =>
    `| ${name} | ${results[name].median.toFixed(1)} ms | ${(results[name].median / floor).toFixed(2)}x | ${peer ? `${(results[name].median / results[peer].median).toFixed(2)}x ${peer}` : ''} |`;
  console.log(`etcd ${spawnSync('etcd', ['--version']).stdout.toString().split('\n')[0]}, Node ${process.version}, ${runs} runs each, interleaved, medians\n`);
  console.log('| command | median | vs `node -e 0` | vs etcdctl |\n|---|---|---|---|');
  console.log(row('node -e 0'));
  console.log(row('tzkv get', 'etcdctl get'));
  console.log(row('etcdctl get'));
  console.log(row('tzkv put', 'etcdctl put'));
  console.log(row('etcdctl put'));
} finally {
  etcd.kill('SIGKILL');
  rmSync(data, { recursive: true, force: true });
}

function fail(what) {
  throw new Error(`${what} returned the wrong value`);
}
