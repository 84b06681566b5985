// What only the etcd backend has (issue #8): addresses, a 3-member cluster
// losing members, and etcd's own verify and compact. The key-value contract
// both backends share is in backends.test.ts.
import { writeFile } from 'node:fs/promises';
import { type AddressInfo } from 'node:net';
import { createServer, request as httpRequest } from 'node:http';
import { join } from 'node:path';
import { afterEach, describe, expect, test } from 'vitest';
import { type ListOptions, MAX_EXPIRY_MS, open, type Store, type TzkvError } from '../../src/index.js';
import { tzkvChild } from './fixtures/processes.js';
import { type EtcdCluster, startEtcd } from './fixtures/etcd.js';
import { etcd, needsServer } from '../helpers/servers.js';
import { expectNoStack, storeDir, tempDir, tzkv, tzkvJson } from './helpers.js';

const clusters: EtcdCluster[] = [];
afterEach(async () => {
  while (clusters.length > 0) await clusters.pop()!.stop();
});

async function cluster(members: number, options: { tls?: boolean; args?: string[] } = {}): Promise<EtcdCluster> {
  const c = await startEtcd(members, options);
  clusters.push(c);
  return c;
}

describe('etcd addresses', () => {
  test.each([
    ['etcd://127.0.0.1:2379', /no PREFIX/],
    ['etcd://127.0.0.1:2379/', /no PREFIX/],
    ['etcd://user:secret@127.0.0.1:2379/app', /credentials do not belong/],
    ['etcd://127.0.0.1/app', /is not host:port/],
    ['etcd://127.0.0.1:99999/app', /is not host:port/],
  ])('%s is refused with exit 2', async (address, why) => {
    const run = await tzkv(['get', '-d', address, 'k']);
    expect(run.exitCode).toBe(2);
    expect(run.stderr).toMatch(why);
    expect(run.stderr).not.toContain('secret');
    expectNoStack(run);
  });
});

describe('an address in TZKV_DIR', () => {
  needsServer(etcd);

  test('TZKV_DIR may hold the address; keys stay under the prefix', async () => {
    const c = await cluster(1);
    const env = { TZKV_DIR: c.url('team/a') };
    expect((await tzkv(['put', 'k', 'in a'], { env })).exitCode).toBe(0);
    expect((await tzkv(['put', '-d', c.url('team/b'), 'k', 'in b'])).exitCode).toBe(0);
    expect((await tzkv(['get', 'k'], { env })).stdout).toBe('in a');
    // A shorter prefix holds both namespaces: etcd keys are plain bytes under it.
    expect((await tzkv(['keys', '-d', c.url('team')])).stdout).toBe('a/k\nb/k\n');
    const raw = await fetch(`http://${c.hosts[0]}/v3/kv/range`, {
      method: 'POST',
      body: JSON.stringify({ key: Buffer.from('team/a/k').toString('base64') }),
    });
    const kv = ((await raw.json()) as { kvs: Array<{ value: string }> }).kvs[0];
    expect(Buffer.from(kv.value, 'base64').toString()).toBe('in a');
  });
});

describe('a cluster with authentication', () => {
  needsServer(etcd);

  test('--etcd-user with TZKV_ETCD_PASSWORD works; no user, a wrong password or a missing one fail clearly; an expired token is renewed', async () => {
    const c = await cluster(1, { args: ['--auth-token-ttl=1'] });
    const call = async (path: string, body: object) => {
      const res = await fetch(`http://${c.hosts[0]}/v3/${path}`, { method: 'POST', body: JSON.stringify(body) });
      expect(res.status, path).toBe(200);
    };
    await call('auth/user/add', { name: 'root', password: 'rootpw' });
    await call('auth/role/add', { name: 'root' });
    await call('auth/user/grant', { user: 'root', role: 'root' });
    await call('auth/enable', {});
    const url = c.url('app');
    const ok = await tzkv(['put', '-d', url, 'k', 'v', '--etcd-user', 'root'], { env: { TZKV_ETCD_PASSWORD: 'rootpw' } });
    expect(ok.exitCode, ok.stderr).toBe(0);
    expect((await tzkv(['get', '-d', url, 'k'], { env: { TZKV_ETCD_USER: 'root', TZKV_ETCD_PASSWORD: 'rootpw' } })).stdout).toBe('v');
    const anonymous = await tzkv(['get', '-d', url, 'k']);
    expect(anonymous.exitCode).toBe(5);
    expect(anonymous.stderr).toMatch(/needs --etcd-user and TZKV_ETCD_PASSWORD/);
    const wrong = await tzkv(['get', '-d', url, 'k', '--etcd-user', 'root'], { env: { TZKV_ETCD_PASSWORD: 'nope' } });
    expect(wrong.exitCode).toBe(5);
    expect(wrong.stderr).toMatch(/refused user root: .*authentication failed/);
    expect(wrong.stderr).not.toContain('nope');
    const missing = await tzkv(['get', '-d', url, 'k', '--etcd-user', 'root']);
    expect(missing.exitCode).toBe(2);
    expect(missing.stderr).toMatch(/TZKV_ETCD_PASSWORD/);
    for (const run of [anonymous, wrong, missing]) expectNoStack(run);
    // verify and stats also ask each member on its own: those calls carry the token too.
    const verify = await tzkvJson<{ ok: boolean; records: number }>(['verify', '-d', url, '--etcd-user', 'root'], { env: { TZKV_ETCD_PASSWORD: 'rootpw' } });
    expect([verify.run.exitCode, verify.json.ok, verify.json.records]).toEqual([0, true, 1]);
    expect((await tzkv(['verify', '-d', url, '--etcd-user', 'root'])).exitCode).toBe(2);
    // A long-lived embedded store outlives its token (1 s here): the next call authenticates again.
    const store = await open(url, { etcd: { user: 'root', password: 'rootpw' } });
    expect((await store.get('k'))?.toString()).toBe('v');
    await new Promise((r) => setTimeout(r, 2500));
    expect((await store.get('k'))?.toString()).toBe('v');
    await store.close();
  });
});

describe('etcds:// (TLS with client certificates)', () => {
  needsServer(etcd);

  test('--etcd-ca, --etcd-cert and --etcd-key reach it; without them the connection is refused with exit 5', async () => {
    const c = await cluster(1, { tls: true });
    const tls = c.tls!;
    const url = c.url('secure');
    const files = ['--etcd-ca', tls.ca, '--etcd-cert', tls.clientCert, '--etcd-key', tls.clientKey];
    const put = await tzkv(['put', '-d', url, 'k', 'over tls', ...files]);
    expect(put.exitCode, put.stderr).toBe(0);
    expect((await tzkv(['get', '-d', url, 'k', ...files])).stdout).toBe('over tls');
    const untrusted = await tzkv(['get', '-d', url, 'k', '--etcd-timeout', '2s']);
    expect(untrusted.exitCode).toBe(5);
    expect(untrusted.stderr).toContain(c.hosts[0]);
    const noClientCert = await tzkv(['get', '-d', url, 'k', '--etcd-ca', tls.ca, '--etcd-timeout', '2s']);
    expect(noClientCert.exitCode).toBe(5);
    const missingFile = await tzkv(['get', '-d', url, 'k', '--etcd-ca', '/nonexistent/ca.pem']);
    expect(missingFile.exitCode).toBe(2);
    expect(missingFile.stderr).toContain('/nonexistent/ca.pem');
    for (const run of [untrusted, noClientCert, missingFile]) expectNoStack(run);
  });
});

describe('a 3-member cluster', () => {
  needsServer(etcd);

  test('with one member killed every command works; with two, commands fail within the timeout with exit 5 naming the endpoints', async () => {
    const c = await cluster(3);
    const url = c.url('app');
    for (let i = 0; i < 20; i++) expect((await tzkv(['put', '-d', url, `k${i}`, `v${i}`])).exitCode).toBe(0);
    expect((await tzkvJson<{ ok: boolean }>(['verify', '-d', url])).json.ok).toBe(true);

    await c.kill(0); // the first endpoint tried
    expect((await tzkv(['get', '-d', url, 'k3'])).stdout).toBe('v3');
    expect((await tzkv(['put', '-d', url, 'after', 'one down'])).exitCode).toBe(0);
    expect((await tzkv(['incr', '-d', url, 'n'])).stdout.trim()).toBe('1');
    expect((await tzkv(['keys', '-d', url, '--limit', '3'])).stdout).toBe('after\nk0\nk1\n');
    const stats = await tzkvJson<{ keys: number; details: { members: Array<{ endpoint: string; error: string | null }> } }>(['stats', '-d', url]);
    expect(stats.json.keys).toBe(22);
    expect(stats.json.details.members.filter((m) => m.error !== null)).toHaveLength(1);
    const plain = (await tzkv(['stats', '-d', url])).stdout;
    expect(plain).toContain(`member http://${c.hosts[0]}: unreachable`);
    expect(plain.match(/: leader, etcd 3\./g)).toHaveLength(1);
    expect(plain).toMatch(/^keys: 22$/m);
    const verify = await tzkvJson<{ ok: boolean; problems: Array<{ kind: string; file: string }> }>(['verify', '-d', url]);
    expect(verify.run.exitCode).toBe(4);
    expect(verify.json.problems).toEqual([expect.objectContaining({ kind: 'unreachable', file: `http://${c.hosts[0]}` })]);

    await c.kill(1); // no quorum left
    const started = Date.now();
    const run = await tzkv(['get', '-d', url, 'k3', '--etcd-timeout', '2s']);
    const took = Date.now() - started;
    expect(run.exitCode).toBe(5);
    for (const host of c.hosts) expect(run.stderr).toContain(host);
    expect(took).toBeLessThan(15_000); // the timeout, not a hang (generous for a loaded machine)
    expectNoStack(run);
    const put = await tzkvJson<{ error: { code: string } }>(['put', '-d', url, 'x', 'y', '--etcd-timeout', '2s']);
    expect(put.run.exitCode).toBe(5);
    expect(put.json.error.code).toBe('UNAVAILABLE');
  }, 90_000);
});

/**
 * A proxy in front of one member that changes the value of the last key in
 * every range reply: a member whose copy of the keys differs from the others'
 * (etcd's own replication never lets that happen through its API).
 */
async function divergingProxy(target: string): Promise<{ host: string; close(): Promise<void> }> {
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const upstream = httpRequest(`http://${target}${req.url}`, { method: req.method, headers: req.headers }, (up) => {
        const body: Buffer[] = [];
        up.on('data', (c: Buffer) => body.push(c));
        up.on('end', () => {
          let out = Buffer.concat(body);
          if (req.url === '/v3/kv/range') {
            const reply = JSON.parse(out.toString('utf8')) as { kvs?: Array<{ value?: string }> };
            if (reply.kvs && reply.kvs.length > 0) reply.kvs[reply.kvs.length - 1].value = Buffer.from('diverged').toString('base64');
            out = Buffer.from(JSON.stringify(reply));
          }
          const headers = { ...up.headers, 'content-length': String(out.length) };
          res.writeHead(up.statusCode ?? 502, headers);
          res.end(out);
        });
      });
      upstream.on('error', () => res.destroy());
      upstream.end(Buffer.concat(chunks));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return { host: `127.0.0.1:${port}`, close: () => new Promise((resolve) => server.close(() => resolve())) };
}

describe('verify across members', () => {
  needsServer(etcd);

  test('a member whose keys differ from the others\' is the one reported, leader or not: a hash mismatch, exit 4', async () => {
    const c = await cluster(3);
    const url = c.url('app');
    for (let i = 0; i < 5; i++) expect((await tzkv(['put', '-d', url, `k${i}`, `v${i}`])).exitCode).toBe(0);
    // Each member in turn answers through the proxy: one of the three is the leader.
    for (let odd = 0; odd < 3; odd++) {
      const proxy = await divergingProxy(c.hosts[odd]);
      try {
        const through = `etcd://${c.hosts.map((h, i) => (i === odd ? proxy.host : h)).join(',')}/app`;
        const verify = await tzkvJson<{ ok: boolean; problems: Array<{ kind: string; file: string; message: string }> }>(['verify', '-d', through]);
        const what = `member ${odd} diverging: ${JSON.stringify(verify.json.problems)}`;
        expect(verify.run.exitCode, what).toBe(4);
        expect(verify.json.ok).toBe(false);
        expect(verify.json.problems, what).toEqual([expect.objectContaining({ kind: 'hash mismatch', file: `http://${proxy.host}` })]);
        expect(verify.json.problems[0].message).toMatch(/differ from http:\/\/127\.0\.0\.1:\d+'s/);
        const text = await tzkv(['verify', '-d', through]);
        expect(text.exitCode).toBe(4);
        expect(text.stdout).toContain(`http://${proxy.host}`);
      } finally {
        await proxy.close();
      }
    }
    // The members themselves agree.
    expect((await tzkv(['verify', '-d', url])).exitCode).toBe(0);
  });
});

describe('import into etcd when the cluster goes away part way', () => {
  needsServer(etcd);

  test('exit 5 and the message says how many operations were applied', async () => {
    const c = await cluster(1);
    const url = c.url('bulk');
    const lines = Array.from({ length: 40_000 }, (_, i) => `k${String(i).padStart(6, '0')}\t${'v'.repeat(1000)}`);
    const input = join(await tempDir(), 'in.tsv');
    await writeFile(input, lines.join('\n') + '\n');
    const child = tzkvChild(['import', '-d', url, '--format', 'tsv', input, '--json', '--etcd-timeout', '2s']);
    // Kill the member once some, but not all, transactions have landed.
    const count = async () => {
      const res = await fetch(`http://${c.hosts[0]}/v3/kv/range`, {
        method: 'POST',
        body: JSON.stringify({ key: Buffer.from('bulk/').toString('base64'), range_end: Buffer.from('bulk0').toString('base64'), count_only: true }),
      });
      return Number(((await res.json()) as { count?: string }).count ?? 0);
    };
    let landed = 0;
    while ((landed = await count()) === 0) await new Promise((r) => setTimeout(r, 20));
    expect(landed).toBeLessThan(40_000);
    await c.kill(0);
    const run = await child;
    expect(run.exitCode).toBe(5);
    const error = (JSON.parse(String(run.stdout)) as { error: { message: string; info?: { applied: number; total: number } } }).error;
    expect(error.message).toMatch(/etcd applied \d+ of 40000 operations before failing.*running the same input again is safe/);
    const applied = Number(/applied (\d+) of/.exec(error.message)![1]);
    expect(applied).toBeGreaterThanOrEqual(landed - 128);
    expect(applied).toBeLessThan(40_000);
    expect(applied % 128).toBe(0);
  }, 60_000);
});

describe('import into etcd run again after it stopped part way', () => {
  needsServer(etcd);

  test('the same input again ends where one whole run ends', async () => {
    const c = await cluster(1);
    const lines = Array.from({ length: 1000 }, (_, i) => JSON.stringify({ key: `k${String(i).padStart(4, '0')}`, value: `v${i}`, ...(i % 7 ? {} : { expiresAt: '2099-01-01T00:00:00.000Z' }) }));
    const dir = await tempDir();
    const whole = join(dir, 'whole.jsonl');
    const applied = join(dir, 'applied.jsonl');
    await writeFile(whole, lines.join('\n') + '\n');
    // What a run that failed after 3 transactions of 128 operations leaves behind: the first 384 lines.
    await writeFile(applied, lines.slice(0, 384).join('\n') + '\n');
    expect((await tzkv(['import', '-d', c.url('once'), whole])).exitCode).toBe(0);
    expect((await tzkv(['put', '-d', c.url('again'), 'k0001', 'changed after the failed run'])).exitCode).toBe(0);
    expect((await tzkv(['import', '-d', c.url('again'), applied])).exitCode).toBe(0);
    expect((await tzkv(['import', '-d', c.url('again'), whole])).exitCode).toBe(0);
    const once = await tzkv(['export', '-d', c.url('once')]);
    const again = await tzkv(['export', '-d', c.url('again')]);
    expect(once.exitCode).toBe(0);
    expect(again.exitCode).toBe(0);
    // Keys and values exactly; expiries are leases of whole seconds, read back to within a second or two.
    type Line = { key: string; value: string; expiresAt: string | null };
    const parse = (out: string) => out.trim().split('\n').map((l) => JSON.parse(l) as Line);
    const [a, o] = [parse(again.stdout), parse(once.stdout)];
    expect(a).toHaveLength(1000);
    expect(a.map(({ key, value }) => [key, value])).toEqual(o.map(({ key, value }) => [key, value]));
    for (let i = 0; i < a.length; i++) {
      expect(a[i].expiresAt === null, a[i].key).toBe(o[i].expiresAt === null);
      if (a[i].expiresAt !== null) expect(Math.abs(Date.parse(a[i].expiresAt!) - Date.parse('2099-01-01T00:00:00Z')), a[i].key).toBeLessThan(3000);
    }
  });
});

describe('an etcd alarm', () => {
  needsServer(etcd);

  test('a cluster out of space: writes fail with exit 5 naming the cause, verify reports the NOSPACE alarm with exit 4', async () => {
    const c = await cluster(1, { args: ['--quota-backend-bytes=1048576'] });
    const url = c.url('full');
    const api = await open(url);
    let refused: unknown;
    try {
      for (let i = 0; i < 40; i++) await api.put(`k${i}`, Buffer.alloc(100_000, i));
    } catch (err) {
      refused = err;
    }
    await api.close();
    expect(refused).toMatchObject({ code: 'IO', message: expect.stringMatching(/space exceeded/) });
    const put = await tzkv(['put', '-d', url, 'more', 'x']);
    expect(put.exitCode).toBe(5);
    expect(put.stderr).toMatch(/database space exceeded/);
    expectNoStack(put);
    const verify = await tzkvJson<{ ok: boolean; problems: Array<{ kind: string; file: string }> }>(['verify', '-d', url]);
    expect(verify.run.exitCode).toBe(4);
    expect(verify.json.problems).toContainEqual(expect.objectContaining({ kind: 'alarm NOSPACE', file: `http://${c.hosts[0]}` }));
    expect((await tzkv(['verify', '-d', url])).stdout).toMatch(/alarm NOSPACE is raised/);
  }, 60_000);
});

describe('maintenance against etcd', () => {
  needsServer(etcd);

  test('compact compacts to the current revision; a second run finds nothing to do', async () => {
    const c = await cluster(1);
    const url = c.url('app');
    // 20 versions of a 200 KB value: history for compaction to drop and pages for defragmentation to free.
    const api = await open(url);
    for (let i = 0; i < 20; i++) await api.put('big', Buffer.alloc(200_000, i));
    await api.close();
    for (let i = 0; i < 10; i++) await tzkv(['put', '-d', url, 'k', `v${i}`]);
    const first = await tzkvJson<{ compacted: boolean; bytesBefore: number }>(['compact', '-d', url]);
    expect(first.run.exitCode, first.run.stderr).toBe(0);
    expect(first.json.compacted).toBe(true);
    expect(first.json.bytesBefore).toBeGreaterThan(0);
    const second = await tzkvJson<{ compacted: boolean; bytesAfter: number }>(['compact', '-d', url, '--defrag']);
    expect(second.json.compacted).toBe(false);
    // Defragmenting gives the freed pages back: the database file shrinks.
    expect(second.json.bytesAfter).toBeLessThan(first.json.bytesBefore);
    expect((await tzkv(['get', '-d', url, 'k'])).stdout).toBe('v9');
  });
});

describe('commands for a directory store\'s machinery against etcd', () => {
  needsServer(etcd);

  test('unlock finds no lock and removes none; promote and verify --repair are refused with exit 2 saying why', async () => {
    const c = await cluster(1);
    const url = c.url('admin');
    expect((await tzkv(['put', '-d', url, 'k', 'v'])).exitCode).toBe(0);
    for (const force of [[], ['--force']]) {
      const plain = await tzkv(['unlock', '-d', url, ...force]);
      expect([plain.exitCode, plain.stdout, plain.stderr]).toEqual([0, 'locked: no\n', '']);
      const json = await tzkvJson(['unlock', '-d', url, '--json', ...force]);
      expect([json.run.exitCode, json.json]).toEqual([0, { locked: false, holder: null, removed: false, compaction: null, compactionEnded: false }]);
    }
    const refusals: Array<[string[], string]> = [
      [['promote'], `${url} is an etcd cluster, never a follower: there is nothing to promote`],
      [['verify', '--repair'], 'verify --repair is for store directories: an etcd cluster repairs members from each other (etcdctl alarm, member replacement)'],
    ];
    for (const [args, message] of refusals) {
      const run = await tzkv([...args, '-d', url]);
      expect([run.exitCode, run.stdout, run.stderr], args.join(' ')).toEqual([2, '', `tzkv: ${message}\n`]);
      const json = await tzkvJson([...args, '-d', url, '--json']);
      expect(json.json, args.join(' ')).toEqual({ error: { code: 'INVALID_ARGUMENT', message, exitCode: 2 } });
    }
    expect((await tzkv(['get', '-d', url, 'k'])).stdout).toBe('v');
  });
});

describe('replicate between a directory and etcd', () => {
  needsServer(etcd);

  interface Sync {
    initial: boolean;
    records: number;
    deleted: number;
    unchanged: number;
  }
  const exportOf = async (store: string) => {
    const run = await tzkv(['export', '-d', store]);
    expect(run.exitCode, run.stderr).toBe(0);
    return run.stdout
      .trimEnd()
      .split('\n')
      .filter((l) => l !== '')
      .map((l) => JSON.parse(l) as { key: string; value: string; expiresAt: string | null })
      .map((e) => `${e.key}=${e.value}${e.expiresAt === null ? '' : ' (expires)'}`);
  };

  test('directory → etcd ships what changed, deletions and expiries included; etcd → directory backs the prefix up', async () => {
    const c = await cluster(1);
    const url = c.url('mirror');
    const dir = await storeDir();
    const lines = Array.from({ length: 300 }, (_, i) => `k${String(i).padStart(3, '0')}\tv${i}`);
    expect((await tzkv(['import', '-d', dir, '-', '--format', 'tsv'], { input: lines.join('\n') + '\n' })).exitCode).toBe(0);
    await tzkv(['put', '-d', dir, 'session', 'tok', '--ttl', '1h']);
    // etcd already holds a key the directory does not: replication removes it.
    await tzkv(['put', '-d', url, 'stray', 'old']);

    const first = await tzkvJson<Sync>(['replicate', '-d', dir, '--to', url]);
    expect(first.run.exitCode, first.run.stderr).toBe(0);
    expect(first.json).toMatchObject({ initial: false, records: 301, deleted: 1, unchanged: 0 });
    expect(await exportOf(url)).toEqual(await exportOf(dir));

    const again = await tzkvJson<Sync>(['replicate', '-d', dir, '--to', url]);
    expect(again.json).toMatchObject({ records: 0, deleted: 0, unchanged: 301 });

    // A key that expires: shipped with its lease, then gone from both sides.
    await tzkv(['put', '-d', dir, 'brief', 'x', '--ttl', '1s']);
    expect((await tzkvJson<Sync>(['replicate', '-d', dir, '--to', url])).json).toMatchObject({ records: 1 });
    await new Promise((r) => setTimeout(r, 2500));
    expect((await tzkv(['get', '-d', url, 'brief'])).exitCode).toBe(1);
    await tzkv(['del', '-d', dir, 'k007']);
    await tzkv(['put', '-d', dir, 'k008', 'changed']);
    await tzkv(['ttl', '-d', dir, 'k009', '1h']);
    const third = await tzkvJson<Sync>(['replicate', '-d', dir, '--to', url]);
    expect(third.json).toMatchObject({ records: 2, deleted: 1 });
    expect(await exportOf(url)).toEqual(await exportOf(dir));
    expect((await tzkv(['get', '-d', url, 'k008'])).stdout).toBe('changed');
    expect(Number((await tzkv(['ttl', '-d', url, 'k009'])).stdout)).toBeGreaterThan(3500);

    const backup = await storeDir();
    const back = await tzkvJson<Sync>(['replicate', '-d', url, '--to', backup]);
    expect(back.run.exitCode, back.run.stderr).toBe(0);
    expect(back.json).toMatchObject({ initial: true, records: 300 });
    expect(await exportOf(backup)).toEqual(await exportOf(dir));
    expect((await tzkv(['replicate', '-d', url, '--to', backup, '--check'])).exitCode).toBe(2);
  }, 90_000);
});

describe('the embedded API on etcd', () => {
  needsServer(etcd);

  test('open(etcd://...) gives the same Store: batch, update, entries, expiry, read-only; no StoreAdmin', async () => {
    const c = await cluster(1);
    const store = await open(c.url('api'));
    expect(store.admin(), 'no writer lock, followers or repair').toBeUndefined();
    const b = store.batch();
    // 2,500 keys: listings page 1,000 at a time, so this crosses two page ends.
    for (let i = 0; i < 2500; i++) b.put(`k${String(i).padStart(4, '0')}`, `v${i}`, i % 100 === 0 ? { ttlMs: 60_000 } : {});
    b.del('k0001');
    await b.write();
    expect((await store.get('k0002'))?.toString()).toBe('v2');
    expect(await store.has('k0001')).toBe(false);
    const exp = await store.expiry('k0100');
    expect(exp).toBeGreaterThan(Date.now() + 55_000);
    expect(exp).toBeLessThan(Date.now() + 61_000);
    expect(await store.expiry('k0101')).toBeNull();
    expect(await store.expiry('nope')).toBeUndefined();
    const keys: string[] = [];
    for await (const e of store.entries({ prefix: 'k02', limit: 5 })) keys.push(`${e.key}=${e.value}`);
    expect(keys).toEqual(['k0200=v200', 'k0201=v201', 'k0202=v202', 'k0203=v203', 'k0204=v204']);
    const all: string[] = [];
    for await (const e of store.keys()) all.push(e.key.toString());
    expect(all).toHaveLength(2499);
    expect(all).toEqual([...all].sort());
    expect(new Set(all).size).toBe(2499);
    const limited: string[] = [];
    for await (const e of store.keys({ limit: 1500 })) limited.push(e.key.toString());
    expect(limited).toEqual(all.slice(0, 1500)); // a limit that ends inside the second page
    const next = await store.update('n', (cur) => ({ value: String(Number(cur?.value ?? 0) + 5) }));
    expect(next?.value.toString()).toBe('5');
    expect(await store.setExpiry('n', Date.now() + 30_000)).toBe(true);
    expect(await store.setExpiry('absent', null)).toBe(false);
    expect(await store.put('n', 'x', { ifAbsent: true })).toBe(false);
    await store.close();
    const reader = await open(c.url('api'), { readOnly: true });
    await expect(reader.put('k', 'v')).rejects.toMatchObject({ code: 'READ_ONLY' });
    expect((await reader.get('n'))?.toString()).toBe('5');
    await reader.close();
    await expect(reader.get('n')).rejects.toMatchObject({ code: 'CLOSED' });
  });

  test('update() to an expiry already passed ends the key at once on both backends (etcd deletes it, no lease of its minimum TTL)', async () => {
    const c = await cluster(1);
    for (const store of [await open(await storeDir()), await open(c.url('ended'))]) {
      await store.put('k', 'v', { ttlMs: 60_000 });
      await store.update('k', (current) => current && { value: current.value, expiresAt: Date.now() });
      expect(await store.getEntry('k'), store.location).toBeUndefined();
      const keys: string[] = [];
      for await (const e of store.keys()) keys.push(e.key.toString());
      expect(keys, store.location).toEqual([]);
      await store.close();
    }
  });

  test('keys and entries resume after a key on both backends: pages of a listing, whether or not that key exists', async () => {
    const c = await cluster(1);
    for (const store of [await open(await storeDir()), await open(c.url('pages'))]) {
      const b = store.batch();
      for (const k of ['a', 'p', 'p:1', 'p:2', 'p:2:x', 'p:3', 'q', 'z']) b.put(k, k.toUpperCase());
      await b.write();
      const list = async (options: ListOptions) => {
        const keys: string[] = [];
        for await (const e of store.keys(options)) keys.push(e.key.toString());
        return keys;
      };
      expect(await list({ prefix: 'p:', after: 'p:2' }), store.location).toEqual(['p:2:x', 'p:3']);
      expect(await list({ prefix: 'p:', after: 'p:10', limit: 1 }), 'a key that is not there').toEqual(['p:2']);
      expect(await list({ prefix: 'p:', after: 'a' }), 'before the prefix: from the prefix').toEqual(['p:1', 'p:2', 'p:2:x', 'p:3']);
      expect(await list({ prefix: 'p:', after: 'p:3' }), 'the last one').toEqual([]);
      expect(await list({ prefix: 'p:', after: 'q' }), 'past the prefix').toEqual([]);
      expect(await list({ after: 'p:3' })).toEqual(['q', 'z']);
      expect(await list({ after: Buffer.from([0xff, 0xff]) })).toEqual([]);
      const pages: string[][] = [];
      for (let after: string | undefined; ; ) {
        const page = await list({ prefix: 'p', limit: 2, ...(after === undefined ? {} : { after }) });
        if (page.length === 0) break;
        pages.push(page);
        after = page[page.length - 1];
      }
      expect(pages).toEqual([['p', 'p:1'], ['p:2', 'p:2:x'], ['p:3']]);
      const entries: string[] = [];
      for await (const e of store.entries({ after: 'p:2:x', limit: 2 })) entries.push(`${e.key}=${e.value}`);
      expect(entries).toEqual(['p:3=P:3', 'q=Q']);
      await store.close();
    }
  });

  test('bad arguments are refused by both backends with the same error, before either acts', async () => {
    const c = await cluster(1);
    const stores = { directory: await open(await storeDir()), etcd: await open(c.url('args')) };
    const long = 'k'.repeat(1025);
    const drain = async (it: AsyncIterable<unknown>) => {
      for await (const _ of it);
    };
    const calls: Array<[string, (s: Store) => Promise<unknown>]> = [
      ['get of an empty key', (s) => s.get('')],
      ['getEntry of an over-long key', (s) => s.getEntry(long)],
      ['has of a number', (s) => s.has(5 as unknown as string)],
      ['expiry of an empty key', (s) => s.expiry('')],
      ['put of an over-long key', (s) => s.put(long, 'v')],
      ['put with a past expiry', (s) => s.put('k', 'v', { expiresAt: 1000 })],
      ['put with a negative ttl', (s) => s.put('k', 'v', { ttlMs: -5 })],
      ['put with ttl and expiry', (s) => s.put('k', 'v', { ttlMs: 5, expiresAt: Date.now() + 5000 })],
      ['put past the latest expiry', (s) => s.put('k', 'v', { expiresAt: MAX_EXPIRY_MS + 1 })],
      ['del with one bad key among good ones', (s) => s.del('seed', '')],
      ['setExpiry to a fraction', (s) => s.setExpiry('seed', 1.5)],
      ['update to an expiry past the latest', (s) => s.update('seed', () => ({ value: 'w', expiresAt: MAX_EXPIRY_MS + 1 }))],
      ['keys with a negative limit', (s) => drain(s.keys({ limit: -1 }))],
      ['entries with a prefix that is no bytes', (s) => drain(s.entries({ prefix: 7 as unknown as string }))],
      ['a batch put with a zero ttl', async (s) => s.batch().put('k', 'v', { ttlMs: 0 })],
      ['a batch del of an empty key', async (s) => s.batch().del('')],
    ];
    const outcome = (p: Promise<unknown>) =>
      p.then(
        () => 'resolved',
        (e: TzkvError) => `${e.code}: ${e.message}`,
      );
    for (const s of Object.values(stores)) await s.put('seed', 'v');
    for (const [what, call] of calls) {
      const directory = await outcome(call(stores.directory));
      expect(directory, what).toMatch(/^INVALID_ARGUMENT: /);
      expect(await outcome(call(stores.etcd)), what).toBe(directory);
    }
    for (const s of Object.values(stores)) {
      expect((await s.getEntry('seed'))?.value.toString()).toBe('v');
      expect(await s.getEntry('k')).toBeUndefined();
      await s.close();
    }
    // A closed store asked with a bad key: the argument is judged first, on both (etcd said CLOSED).
    for (const s of Object.values(stores)) expect(await outcome(s.get('')), s.location).toBe('INVALID_ARGUMENT: key must not be empty');
  });
});
