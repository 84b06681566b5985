// The leases of one etcd operation (src/etcd/leases.ts), against a real etcd
// member: a lease granted for one write is shared with a later write of the
// same operation only while it still covers that write's expiry, and a
// transaction whose lease is gone writes nothing and says so.
import { describe, expect, test } from 'vitest';
import { EtcdClient } from '../../src/etcd/client.js';
import { commit, putOp } from '../../src/etcd/kv.js';
import { Leases } from '../../src/etcd/leases.js';
import { etcdForFile } from '../e2e/fixtures/etcd.js';
import { etcd, needsServer } from '../helpers/servers.js';

const address = etcdForFile('lease-unit');

function clientOf(url: string): EtcdClient {
  return new EtcdClient({ endpoints: [`http://${new URL(url.replace(/^etcd:/, 'http:')).host}`], timeoutMs: 5000 });
}

describe('Leases', () => {
  needsServer(etcd);

  test('a lease granted earlier in the operation is not shared with a later expiry it would end before', async () => {
    const client = clientOf(address());
    let now = Date.now();
    const leases = new Leases(client, () => now);
    try {
      const first = await leases.forExpiry(now + 10_000);
      expect(await leases.forExpiry(now + 9_500)).toBe(first); // the same whole seconds, still covered
      const start = now;
      now += 5000; // a long import: five seconds later, an expiry five seconds later rounds to the same 10 s
      const later = await leases.forExpiry(start + 15_000);
      expect(later).not.toBe(first);
      const granted = await client.call<{ grantedTTL: string }>('lease/timetolive', { ID: later });
      expect(granted.grantedTTL).toBe('10');
    } finally {
      client.close();
    }
  });

  test('a write keeps the lease it read only for the very expiry it reported', async () => {
    const client = clientOf(address());
    const leases = new Leases(client, Date.now);
    try {
      const held = (await client.call<{ ID: string }>('lease/grant', { TTL: '60' })).ID;
      const reported = (await leases.expiryOf(held))!;
      expect(await leases.forExpiry(reported, held)).toBe(held);
      expect(await leases.forExpiry(reported)).toBe(held); // another key written with that expiry (RENAME, COPY)
      expect(await leases.forExpiry(reported + 1, held)).not.toBe(held);
    } finally {
      client.close();
    }
  });

  test('commit: a put with a lease etcd no longer has writes nothing and answers undefined', async () => {
    const url = address();
    const client = clientOf(url);
    try {
      const lease = (await client.call<{ ID: string }>('lease/grant', { TTL: '60' })).ID;
      await client.call('lease/revoke', { ID: lease });
      const key = Buffer.from('lease-unit/gone');
      expect(await commit(client, [], [putOp(key, Buffer.from('v'), lease)])).toBeUndefined();
      expect((await client.call<{ count?: string }>('kv/range', { key: key.toString('base64') })).count).toBeUndefined();
    } finally {
      client.close();
    }
  });
});
