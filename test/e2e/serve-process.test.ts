// `tzkv serve` as a process among processes (issue #16): stopped by SIGTERM
// it keeps every acknowledged write; the CLI and the server on one directory
// see each other's writes; compact and replicate run under its traffic;
// SIGKILL mid-traffic loses no acknowledged write; fuzzed RESP never stops it;
// a missing store or a mistyped flag is refused. Writes go through ioredis;
// what is in the store afterwards is read by the CLI (bin/run.js).
import { Redis } from 'ioredis';
import { existsSync } from 'node:fs';
import { connect } from 'node:net';
import { join } from 'node:path';
import { describe, expect, test } from 'vitest';
import { RawConnection, frame } from '../helpers/raw-resp.js';
import { startTzkvServe } from '../helpers/redis-servers.js';
import { expectNoStack, storeDir, tempDir, tzkv } from './helpers.js';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Waits until `done()` holds, failing after 20 s. */
async function until(done: () => boolean, what: string): Promise<void> {
  const deadline = Date.now() + 20_000;
  while (!done()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(10);
  }
}

/** A client that fails at once when the server is gone, instead of queueing or reconnecting. */
async function client(port: number): Promise<Redis> {
  const redis = new Redis({ host: '127.0.0.1', port, lazyConnect: true, maxRetriesPerRequest: 0, retryStrategy: () => null, enableOfflineQueue: false });
  redis.on('error', () => undefined);
  await redis.connect();
  return redis;
}

/** A store directory the CLI made (the server opens a store, it does not start one). */
async function cliStore(): Promise<string> {
  const dir = await storeDir();
  expect((await tzkv(['put', '-d', dir, 'made-by', 'cli'])).exitCode).toBe(0);
  return dir;
}

/** Every live key and value, as the CLI reads them. */
async function storeContents(dir: string): Promise<Record<string, string>> {
  const run = await tzkv(['export', '-d', dir, '--format', 'json']);
  expect(run.stderr).toBe('');
  expect(run.exitCode).toBe(0);
  return JSON.parse(run.stdout) as Record<string, string>;
}

const valueOf = (key: string) => `value of ${key}`;

/**
 * `count` clients, each SETting `prefix:CLIENT:N` for N = 0, 1, ... (value:
 * valueOf(key)) one after another until stop() or until the server goes away.
 * acked: the keys whose SET was answered OK.
 */
async function writers(port: number, count: number, prefix: string) {
  const clients = await Promise.all(Array.from({ length: count }, () => client(port)));
  const acked: string[] = [];
  let stopping = false;
  const loops = clients.map(async (redis, c) => {
    for (let n = 0; !stopping; n++) {
      const key = `${prefix}:${c}:${n}`;
      try {
        if ((await redis.set(key, valueOf(key))) === 'OK') acked.push(key);
      } catch {
        return; // the server went away: this write was not acknowledged
      }
    }
  });
  return {
    acked,
    async stop(): Promise<string[]> {
      stopping = true;
      await Promise.all(loops);
      for (const redis of clients) redis.disconnect();
      return acked;
    },
  };
}

/** Asserts that every key of `keys` holds its value in `contents`. */
function expectAll(contents: Record<string, string>, keys: string[], what: string): void {
  const missing = keys.filter((k) => contents[k] !== valueOf(k));
  expect(missing.slice(0, 10), `${what}: ${missing.length} of ${keys.length} acknowledged writes missing or wrong`).toEqual([]);
}

describe('tzkv serve stopping', () => {
  test('SIGTERM: exit 0, a "stopped" line, and every acknowledged write is in the store (bin/run.js get and export)', async () => {
    const dir = await cliStore();
    const server = await startTzkvServe(dir);
    const load = await writers(server.port, 10, 'term');
    await until(() => load.acked.length >= 200, '200 acknowledged writes');
    const stopped = await server.stop('SIGTERM');
    const acked = await load.stop();
    expect(stopped).toEqual({ exitCode: 0, signal: undefined });
    const events = server.stderrLines.map((l) => (JSON.parse(l) as { event?: string }).event);
    expect(events[0]).toBe('listening');
    expect(events).toContain('stopped');
    expectAll(await storeContents(dir), acked, 'after SIGTERM');
    const last = acked[acked.length - 1];
    const get = await tzkv(['get', '-d', dir, last]);
    expect({ exitCode: get.exitCode, stdout: get.stdout }).toEqual({ exitCode: 0, stdout: valueOf(last) });
  });
});

describe('tzkv serve and the CLI on one directory', () => {
  test('a CLI put, overwrite and del are seen by the next server GET, though the server read the key before', async () => {
    const dir = await cliStore();
    const server = await startTzkvServe(dir);
    const redis = await client(server.port);
    expect(await redis.get('shared')).toBeNull();
    expect((await tzkv(['put', '-d', dir, 'shared', 'from the cli'])).exitCode).toBe(0);
    expect(await redis.get('shared')).toBe('from the cli');
    expect((await tzkv(['put', '-d', dir, 'shared', 'again'])).exitCode).toBe(0);
    expect(await redis.get('shared')).toBe('again');
    expect((await tzkv(['del', '-d', dir, 'shared'])).exitCode).toBe(0);
    expect(await redis.get('shared')).toBeNull();
    expect(await redis.get('made-by')).toBe('cli');
    redis.disconnect();
    expect((await server.stop()).exitCode).toBe(0);
  });

  test('a server SET is seen by CLI get, a server DEL makes CLI get exit 1, and CLI incr continues a server INCR', async () => {
    const dir = await cliStore();
    const server = await startTzkvServe(dir);
    const redis = await client(server.port);
    expect(await redis.set('from-server', 'hello')).toBe('OK');
    expect(await tzkv(['get', '-d', dir, 'from-server'])).toMatchObject({ exitCode: 0, stdout: 'hello' });
    expect(await redis.del('from-server')).toBe(1);
    expect((await tzkv(['get', '-d', dir, 'from-server'])).exitCode).toBe(1);
    expect(await redis.incrby('counter', 41)).toBe(41);
    expect(await tzkv(['incr', '-d', dir, 'counter'])).toMatchObject({ exitCode: 0, stdout: '42\n' });
    expect(await redis.incr('counter')).toBe(43);
    redis.disconnect();
    expect((await server.stop()).exitCode).toBe(0);
  });

  test('compact and replicate --to DIR2 while 10 clients write through the server: no acknowledged write lost, both stores verify clean', async () => {
    const dir = await cliStore();
    const follower = join(await tempDir(), 'follower');
    const server = await startTzkvServe(dir);
    const load = await writers(server.port, 10, 'busy');
    await until(() => load.acked.length >= 300, '300 acknowledged writes');
    const [compact, replicate] = await Promise.all([tzkv(['compact', '-d', dir]), tzkv(['replicate', '-d', dir, '--to', follower])]);
    const ackedBeforeReplicaDone = [...load.acked];
    await sleep(200);
    const acked = await load.stop();
    expect(compact.stderr).toBe('');
    expect(compact.exitCode).toBe(0);
    expect(replicate.stderr).toBe('');
    expect(replicate.exitCode).toBe(0);
    const redis = await client(server.port);
    expect(await redis.dbsize()).toBe(acked.length + 1);
    redis.disconnect();
    expect((await server.stop()).exitCode).toBe(0);
    const contents = await storeContents(dir);
    expect(Object.keys(contents).length).toBe(acked.length + 1);
    expectAll(contents, acked, 'leader');
    // The follower is a cut taken while replicate ran: it has no key the leader lacks, and each it has is right.
    const replica = await storeContents(follower);
    expect(Object.entries(replica).filter(([k, v]) => contents[k] !== v)).toEqual([]);
    expect(Object.keys(replica).length).toBeGreaterThanOrEqual(300);
    // (+ 10: a write of each client may be in the cut and acknowledged after replicate ended.)
    expect(Object.keys(replica).length).toBeLessThanOrEqual(ackedBeforeReplicaDone.length + 1 + 10);
    for (const d of [dir, follower]) {
      const verify = await tzkv(['verify', '-d', d]);
      expect(verify.stderr, d).toBe('');
      expect(verify.exitCode).toBe(0);
    }
  }, 180_000);
});

describe('tzkv serve killed', () => {
  test('SIGKILL mid-traffic, 20 rounds of 20 writing clients: every acknowledged write is there after each restart; verify is clean', async () => {
    const dir = await cliStore();
    const acked: string[] = [];
    for (let round = 0; round < 20; round++) {
      const server = await startTzkvServe(dir);
      // What every round before acknowledged is there when the server comes back.
      const redis = await client(server.port);
      for (let i = 0; i < acked.length; i += 500) {
        const keys = acked.slice(i, i + 500);
        const values = await redis.mget(...keys);
        const wrong = keys.filter((k, j) => values[j] !== valueOf(k));
        expect(wrong.slice(0, 10), `round ${round}: ${wrong.length} acknowledged writes missing after the kill`).toEqual([]);
      }
      redis.disconnect();
      const load = await writers(server.port, 20, `kill${round}`);
      await sleep(50 + Math.floor(Math.random() * 250));
      await server.stop('SIGKILL');
      acked.push(...(await load.stop()));
    }
    expect(acked.length).toBeGreaterThan(200);
    expectAll(await storeContents(dir), acked, 'after 20 kills');
    const verify = await tzkv(['verify', '-d', dir]);
    expect(verify.stderr).toBe('');
    expect(verify.exitCode).toBe(0);
  }, 180_000);
});

/** A small deterministic generator (xorshift32), so a failing run can be repeated with its seed. */
function random(seed: number): (n: number) => number {
  let x = seed >>> 0 || 1;
  return (n) => {
    x ^= x << 13;
    x >>>= 0;
    x ^= x >>> 17;
    x ^= x << 5;
    x >>>= 0;
    return x % n;
  };
}

/** One fuzzed frame: a valid command cut short, a broken length, a wrong type byte, garbage, a huge inline line, ... */
function fuzzFrame(r: (n: number) => number): Buffer {
  const words = ['SET', 'GET', 'DEL', 'INCR', 'MGET', 'EXPIRE', 'PING', 'ECHO', 'MULTI', 'EXEC', 'HELLO', 'CLIENT', 'NOSUCH', 'SCAN', 'KEYS'];
  const valid = () => frame(words[r(words.length)], `fuzz:${r(50)}`, ...Array.from({ length: r(3) }, () => String(r(1000))));
  const kind = r(100);
  if (kind < 12) return Buffer.from(Array.from({ length: 1 + r(64) }, () => r(256)));
  if (kind < 25) {
    const f = valid();
    return f.subarray(0, r(f.length));
  }
  if (kind < 35) return Buffer.from(`*${r(3) + 1}\r\n$${['abc', '-7', '99999999999', '', '1e3', '0x10'][r(6)]}\r\n`);
  if (kind < 45) return Buffer.from(`*${['abc', '-5', '2147483648', '99999999999999999999', ''][r(5)]}\r\n`);
  if (kind < 55) return Buffer.from(`*2\r\n${['*1\r\n', ':1\r\n', '+OK\r\n', '-ERR\r\n', '%1\r\n'][r(5)]}`);
  if (kind < 60) return Buffer.from(`SET "unbalanced ${r(100)}\r\n`);
  if (kind < 61) return Buffer.alloc(70_000 + r(1000), 'a'); // an inline line over Redis's 64 KiB
  if (kind < 75) {
    const f = valid();
    f[r(f.length)] = r(256);
    return f;
  }
  return valid();
}

describe('tzkv serve under fuzzed input', () => {
  test('10,000 fuzzed and truncated RESP frames from 4 sockets at once: another client gets PONG to every PING meanwhile, and the server never exits', async () => {
    const dir = await cliStore();
    const server = await startTzkvServe(dir);
    const seed = Number(process.env.TZKV_FUZZ_SEED ?? 16);
    const r = random(seed);
    const frames = Array.from({ length: 10_000 }, () => fuzzFrame(r));
    let next = 0;
    // Each socket takes 1-20 frames at a time, writes them, and lets go when the server closes it or after 20 ms of quiet.
    const fuzzer = async () => {
      while (next < frames.length) {
        const batch = frames.slice(next, (next += 1 + r(20)));
        await new Promise<void>((resolve) => {
          const socket = connect(server.port, '127.0.0.1');
          let quiet = setTimeout(() => socket.destroy(), 200);
          const hush = () => {
            clearTimeout(quiet);
            quiet = setTimeout(() => socket.destroy(), 20);
          };
          socket.on('connect', () => socket.write(Buffer.concat(batch), hush));
          socket.on('data', hush);
          socket.on('error', () => undefined);
          socket.on('close', () => {
            clearTimeout(quiet);
            resolve();
          });
        });
      }
    };
    const pinger = await RawConnection.open(server.port);
    let fuzzing = true;
    let pongs = 0;
    const pinging = (async () => {
      while (fuzzing) {
        expect((await pinger.send(['PING'], 1, 5000)).toString('latin1'), `seed ${seed}`).toBe('+PONG\r\n');
        pongs++;
        await sleep(5);
      }
    })();
    pinging.catch(() => undefined); // awaited below, after the fuzzers
    await Promise.all([fuzzer(), fuzzer(), fuzzer(), fuzzer()]);
    fuzzing = false;
    await pinging;
    pinger.close();
    expect(server.process.exitCode, `seed ${seed}: ${server.stderrLines.slice(-5).join('\n')}`).toBeNull();
    expect(pongs).toBeGreaterThan(10);
    const after = await RawConnection.open(server.port);
    expect((await after.send(['PING'])).toString('latin1')).toBe('+PONG\r\n');
    after.close();
    expect((await server.stop()).exitCode).toBe(0);
  }, 180_000);
});

describe('tzkv serve refusing to start', () => {
  test('serve -d on a missing directory exits 5 naming the path, and creates nothing', async () => {
    const parent = await tempDir();
    const missing = join(parent, 'no', 'such');
    const run = await tzkv(['serve', '-d', missing, '--port', '0', '--no-http'], { timeout: 15_000 });
    expect(run.exitCode).toBe(5);
    expect(run.stderr).toContain(missing);
    expectNoStack(run);
    expect(existsSync(join(parent, 'no'))).toBe(false);
  });

  test('a mistyped flag (--prot) exits 2 naming it, and serves nothing', async () => {
    const dir = await cliStore();
    const run = await tzkv(['serve', '-d', dir, '--prot', '0', '--no-http'], { timeout: 15_000 });
    expect(run.exitCode).toBe(2);
    expect(run.stderr).toContain('--prot');
    expectNoStack(run);
  });
});
