#!/usr/bin/env node
// What each Store method does to the caller's event loop (src/api.ts says it
// for each): while a call runs, a 0 ms interval timer counts the turns the
// loop gets; the longest stretch without one is how long the call blocked
// the program's other work. A directory store of KEYS keys (default 600,000,
// 100-byte values, about 80 MB: past verify's 64 MiB worker threshold) is
// built in a temp directory; with an etcd:// address the same is measured on
// etcd (a few thousand keys). Uses the built dist/ (npm run build).
//
//   node bench/event-loop.mjs [KEYS] [etcd://host:port/PREFIX]
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..');
const { open } = await import(join(ROOT, 'dist', 'index.js'));
const keys = Number(process.argv[2] ?? 600_000);
const etcdAddress = process.argv[3];
const value = Buffer.alloc(100, 0x61);
const keyOf = (i) => `key${String(i).padStart(8, '0')}`;

async function measure(name, call) {
  let last = performance.now();
  let longest = 0;
  let turns = 0;
  const timer = setInterval(() => {
    const now = performance.now();
    longest = Math.max(longest, now - last);
    last = now;
    turns++;
  }, 0);
  const started = performance.now();
  last = started;
  await call();
  const ended = performance.now();
  clearInterval(timer);
  longest = Math.max(longest, ended - last);
  console.log(`${name.padEnd(36)} ${(ended - started).toFixed(1).padStart(9)} ms   longest block ${longest.toFixed(1).padStart(8)} ms   turns ${turns}`);
}

async function fill(store, n) {
  let batch = store.batch();
  for (let i = 0; i < n; i++) {
    batch.put(keyOf(i), value, i % 10 === 0 ? { ttlMs: 3_600_000 } : undefined);
    if (batch.length === 1000) {
      await batch.write();
      batch = store.batch();
    }
  }
  await batch.write();
}

async function drain(iterator) {
  for await (const _ of iterator);
}

async function keyMethods(store, n) {
  await measure('get', () => store.get(keyOf(12345 % n)));
  await measure('getEntry (a key with a TTL)', () => store.getEntry(keyOf(12340 % n)));
  await measure('has', () => store.has(keyOf(12345 % n)));
  await measure('expiry', () => store.expiry(keyOf(12340 % n)));
  await measure('put', () => store.put('p', value));
  await measure('del', () => store.del('p'));
  await measure('setExpiry', () => store.setExpiry(keyOf(1), Date.now() + 60_000));
  await measure('update', () => store.update('n', (c) => ({ value: String(Number(c?.value ?? 0) + 1) })));
  await measure('batch of 10,000: write()', async () => {
    const b = store.batch();
    for (let i = 0; i < 10_000; i++) b.put(`b${i}`, value);
    await b.write();
  });
  await measure(`keys(): all ${n}`, () => drain(store.keys()));
  await measure('entries({ limit: 1000 })', () => drain(store.entries({ limit: 1000 })));
  await measure('stats', () => store.stats());
}

const root = mkdtempSync(join(tmpdir(), 'tzkv-event-loop-'));
try {
  console.log(`a store directory of ${keys} keys`);
  const store = await open(join(root, 'store'));
  await fill(store, keys);
  for (let i = 0; i < 2000; i++) await store.put(`tail${i}`, value); // an unindexed tail too
  await keyMethods(store, keys);
  await measure('verify (a worker checks CRCs)', () => store.verify());
  const admin = store.admin();
  await measure('admin: lockHolder', () => admin.lockHolder());
  await measure('admin: forceUnlock', () => admin.forceUnlock());
  await measure('admin: forceEndCompaction', () => admin.forceEndCompaction());
  await measure('admin: replicate (a first copy)', () => admin.replicate(join(root, 'follower')));
  await measure('compact', () => store.compact());
  await measure('admin: repair (nothing to repair)', () => admin.repair());
  await store.close();
  const small = await open(join(root, 'small'));
  await fill(small, 1000);
  await measure('verify of 1,000 keys (one thread)', () => small.verify());
  await small.close();
  const follower = await open(join(root, 'follower'));
  await measure('admin: promote', () => follower.admin().promote());
  await measure('close', () => follower.close());
  if (etcdAddress) {
    console.log(`\n${etcdAddress}, 3,000 keys`);
    const etcd = await open(etcdAddress);
    await fill(etcd, 3000);
    await keyMethods(etcd, 3000);
    await measure('verify', () => etcd.verify());
    await etcd.close();
  }
} finally {
  rmSync(root, { recursive: true, force: true });
}
