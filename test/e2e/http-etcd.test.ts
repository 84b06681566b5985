// The HTTP API over an etcd store: the same answers as over a directory
// (test/unit/http-api.test.ts), for what goes through the backend: writes
// and their conditions, expiry headers, pages of keys, an atomic batch.
import { afterEach, describe, expect, test } from 'vitest';
import { open } from '../../src/index.js';
import { startHttpApi } from '../helpers/http-api-server.js';
import { etcd, needsServer } from '../helpers/servers.js';
import { type EtcdCluster, startEtcd } from './fixtures/etcd.js';

const clusters: EtcdCluster[] = [];
afterEach(async () => {
  while (clusters.length > 0) await clusters.pop()!.stop();
});

describe('the HTTP API on etcd', () => {
  needsServer(etcd);

  test('PUT, GET with X-Expires-At, If-None-Match, pages of keys, a batch, DELETE', async () => {
    const cluster = await startEtcd(1);
    clusters.push(cluster);
    const { url } = await startHttpApi({ store: await open(cluster.url('http')) });
    expect((await fetch(`${url}/v1/kv/a%2F1`, { method: 'PUT', body: Buffer.from([0, 0xff]) })).status).toBe(201);
    expect((await fetch(`${url}/v1/kv/a%2F1`, { method: 'PUT', body: 'x', headers: { 'if-none-match': '*' } })).status).toBe(412);
    const put = await fetch(`${url}/v1/kv/a/2?ttl=1h`, { method: 'PUT', body: 'two' });
    expect(put.status).toBe(201);
    const get = await fetch(`${url}/v1/kv/a/1`);
    expect(Buffer.from(await get.arrayBuffer())).toEqual(Buffer.from([0, 0xff]));
    const expiring = await fetch(`${url}/v1/kv/a/2`);
    // etcd keeps an expiry as a lease of whole seconds: within a second of the one asked for.
    expect(Math.abs(Date.parse(expiring.headers.get('x-expires-at')!) - Date.parse(put.headers.get('x-expires-at')!))).toBeLessThan(1500);
    const batch = await fetch(`${url}/v1/batch`, {
      method: 'POST',
      body: JSON.stringify([{ op: 'put', key: 'a/3', value: '3' }, { op: 'get', key: 'a/3' }, { op: 'del', key: 'a/2' }]),
    });
    expect(((await batch.json()) as { results: unknown[] }).results).toEqual([
      { op: 'put', key: 'a/3', expiresAt: null },
      { op: 'get', key: 'a/3', found: true, value: '3', expiresAt: null },
      { op: 'del', key: 'a/2', deleted: true },
    ]);
    const first = (await (await fetch(`${url}/v1/keys?prefix=a/&limit=1`)).json()) as { keys: Array<{ key: string }>; next: string };
    expect(first).toEqual({ keys: [{ key: 'a/1', expiresAt: null }], next: 'a%2F1' });
    const second = (await (await fetch(`${url}/v1/keys?prefix=a/&limit=1&after=${first.next}`)).json()) as unknown;
    expect(second).toEqual({ keys: [{ key: 'a/3', expiresAt: null }], next: null });
    expect((await fetch(`${url}/v1/kv/a/3`, { method: 'DELETE' })).status).toBe(204);
    expect((await fetch(`${url}/v1/kv/a/3`, { method: 'DELETE' })).status).toBe(404);
    expect((await fetch(`${url}/healthz`)).status).toBe(200);
  });
});
