// `tzkv serve` answers as Redis does (issue #16): one suite, run against a
// real redis-server (the reference: what passes there is what Redis answers)
// and against a real `tzkv serve` process. Every command of the issue's list
// is checked through a client library (ioredis, RESP2 and RESP3) and at the
// byte level (node:net, RESP2 and RESP3 after HELLO 3; the conversations are
// in test/helpers/redis-conversations.ts), then AUTH, HELLO, QUIT, INFO,
// COMMAND, DBSIZE, SCAN, binary values, expiry, MULTI/EXEC atomicity,
// pipelining, concurrent clients, redis-cli and redis-benchmark. Both servers
// require a password, so every connection authenticates as a real
// deployment's would. Replies that legitimately differ between the two
// (INFO's text, HELLO's version, COMMAND's details past the first six fields)
// are checked for their shape only.
import { execa } from 'execa';
import { Redis } from 'ioredis';
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, test } from 'vitest';
import { CONVERSATIONS } from '../helpers/redis-conversations.js';
import { expectClientReply, expectRawReply } from '../helpers/redis-replies.js';
import { type RunningServer, startRedisServer, startTzkvServe } from '../helpers/redis-servers.js';
import { RawConnection, type RawReply, frame, readReply } from '../helpers/raw-resp.js';
import { type ServerNeed, needsServer, redisBenchmark, redisCli, redisServer } from '../helpers/servers.js';
import { tzkv } from './helpers.js';

const PASSWORD = 'suite-secret';
const WRONGPASS = '-WRONGPASS invalid username-password pair or user is disabled.\r\n';

interface Target {
  needs: ServerNeed[];
  start(): Promise<RunningServer>;
  /** After the server stopped (`served`: it had started): checks what it left behind, and removes it. */
  after(served: boolean): Promise<void>;
}

let storeDir = '';
const TARGETS: Array<[string, Target]> = [
  ['redis-server', { needs: [redisServer], start: () => startRedisServer({ password: PASSWORD }), after: async () => undefined }],
  [
    'tzkv serve',
    {
      needs: [],
      start: async () => {
        storeDir = join(await mkdtemp(join(tmpdir(), 'tzkv-serve-redis-')), 'store');
        // A store made by the CLI, with no live key: the suite's keys are the only ones.
        expect((await tzkv(['put', '-d', storeDir, 'made-by', 'cli'])).exitCode).toBe(0);
        expect((await tzkv(['del', '-d', storeDir, 'made-by'])).exitCode).toBe(0);
        return startTzkvServe(storeDir, ['--requirepass', PASSWORD]);
      },
      after: async (served) => {
        const verify = served ? await tzkv(['verify', '-d', storeDir]) : undefined;
        if (storeDir !== '') await rm(join(storeDir, '..'), { recursive: true, force: true });
        if (verify === undefined) return;
        expect(verify.stderr, verify.stdout).toBe('');
        expect(verify.exitCode).toBe(0);
      },
    },
  ],
];

/** Connections a test opened, closed after it whatever happened. */
const opened: Array<{ disconnect(): void } | RawConnection> = [];
afterEach(() => {
  for (const c of opened.splice(0)) 'disconnect' in c ? c.disconnect() : c.close();
});

/** An ioredis client, connected and authenticated. */
async function client(port: number, protocol: 2 | 3 = 2): Promise<Redis> {
  const redis = new Redis({ host: '127.0.0.1', port, password: PASSWORD, protocol, lazyConnect: true, maxRetriesPerRequest: 0, retryStrategy: () => null });
  opened.push(redis);
  redis.on('error', () => undefined); // a failed command rejects; the event would only repeat it
  await redis.connect();
  return redis;
}

/** A byte-level connection, not authenticated. */
async function rawUnauthenticated(port: number): Promise<RawConnection> {
  const conn = await RawConnection.open(port);
  opened.push(conn);
  return conn;
}

/** A byte-level connection, authenticated, in RESP `protocol` (HELLO 3 AUTH for RESP3, AUTH for RESP2). */
async function raw(port: number, protocol: 2 | 3 = 2): Promise<RawConnection> {
  const conn = await rawUnauthenticated(port);
  const hello = text(await conn.send(protocol === 3 ? ['HELLO', '3', 'AUTH', 'default', PASSWORD] : ['AUTH', PASSWORD]));
  expect(hello.slice(0, 1), hello).toBe(protocol === 3 ? '%' : '+');
  return conn;
}

const text = (bytes: Buffer) => bytes.toString('latin1');
const outcome = (p: Promise<unknown>) => p.then((value) => ({ value }), (err: Error) => ({ error: err }));
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
/** A reply decoded from its bytes, which must be exactly one reply. */
function decoded(bytes: Buffer): RawReply {
  const read = readReply(bytes);
  expect(read?.end).toBe(bytes.length);
  return read!.reply;
}
const itemsOf = (r: RawReply): RawReply[] => ('items' in r && r.items !== null ? r.items : expect.fail(`not an aggregate: ${JSON.stringify(r)}`));
const bytesOf = (r: RawReply): string => ('bytes' in r && r.bytes !== null ? r.bytes.toString('latin1') : expect.fail(`not a string: ${JSON.stringify(r)}`));

/** Asserts two byte strings are equal (toEqual walks a megabyte byte by byte, for seconds). */
function expectSameBytes(actual: Buffer | null, expected: Buffer): void {
  if (actual !== null && actual.equals(expected)) return;
  const at = actual === null ? -1 : actual.findIndex((b, i) => b !== expected[i]);
  expect({ length: actual?.length, firstDifferenceAt: at }).toEqual({ length: expected.length, firstDifferenceAt: -1 });
}

/** HELLO's fields by name: the map of RESP3, or RESP2's flat array of names and values. */
function helloFields(reply: RawReply): Map<string, RawReply> {
  const items = itemsOf(reply);
  const fields = new Map<string, RawReply>();
  for (let i = 0; i < items.length; i += 2) fields.set(bytesOf(items[i]), items[i + 1]);
  return fields;
}

/** Every command of issue #16's list, as COMMAND names them. */
const ISSUE_COMMANDS =
  'ping echo hello auth select quit command client info dbsize get set setnx setex psetex getdel getex mget mset msetnx del unlink exists expire pexpire expireat pexpireat ttl pttl persist incr incrby decr decrby append strlen type scan keys multi exec discard'.split(
    ' ',
  );

const CLIENTS = [
  { client: 'ioredis, RESP2', id: 'io2', protocol: 2 as const, library: true },
  { client: 'ioredis, RESP3', id: 'io3', protocol: 3 as const, library: true },
  { client: 'raw RESP2 bytes', id: 'raw2', protocol: 2 as const, library: false },
  { client: 'raw RESP3 bytes', id: 'raw3', protocol: 3 as const, library: false },
];

describe.each(TARGETS)('%s', (_name, target) => {
  for (const need of target.needs) needsServer(need);
  let server: RunningServer | undefined;
  // A server that did not start fails each test with why (rather than the file's hook alone).
  let startError: unknown;
  const port = () => {
    if (server === undefined) throw startError;
    return server.port;
  };

  beforeAll(async () => {
    if (!target.needs.every((n) => n.present)) return;
    try {
      server = await target.start();
    } catch (err) {
      startError = err;
    }
  }, 30_000);
  afterAll(async () => {
    await server?.stop();
    await target.after(server !== undefined);
  });

  describe.each(CLIENTS)('$client', ({ id, protocol, library }) => {
    CONVERSATIONS.forEach((conversation, i) => {
      test(conversation.name, async () => {
        const steps = conversation.steps((name) => `${id}:${i}:${name}`);
        if (library) {
          const redis = await client(port(), protocol);
          for (const [[name, ...args], reply] of steps) {
            expectClientReply(await outcome(redis.call(String(name), args)), reply, `${String(name)} ${args.join(' ')}`);
          }
        } else {
          const conn = await raw(port(), protocol);
          for (const [words, reply] of steps) expectRawReply(await conn.send(words), reply, protocol, words.join(' '));
        }
      });
    });
  });

  describe('connection', () => {
    test('AUTH: before it every command is NOAUTH and writes nothing; a wrong password is WRONGPASS; AUTH PASSWORD and AUTH default PASSWORD are OK', async () => {
      const conn = await rawUnauthenticated(port());
      for (const words of [['PING'], ['GET', 'auth:k'], ['SET', 'auth:k', 'v'], ['DBSIZE']]) {
        expect(text(await conn.send(words)), words.join(' ')).toBe('-NOAUTH Authentication required.\r\n');
      }
      expect(text(await conn.send(['AUTH', 'wrong']))).toBe(WRONGPASS);
      expect(text(await conn.send(['AUTH', 'default', 'wrong']))).toBe(WRONGPASS);
      expect(text(await conn.send(['AUTH', 'a', 'b', 'c']))).toBe('-ERR syntax error\r\n');
      expect(text(await conn.send(['PING']))).toBe('-NOAUTH Authentication required.\r\n');
      expect(text(await conn.send(['AUTH', PASSWORD]))).toBe('+OK\r\n');
      expect(text(await conn.send(['PING']))).toBe('+PONG\r\n');
      expect(text(await conn.send(['GET', 'auth:k']))).toBe('$-1\r\n');
      const other = await rawUnauthenticated(port());
      expect(text(await other.send(['AUTH', 'default', PASSWORD]))).toBe('+OK\r\n');
      expect(text(await other.send(['PING']))).toBe('+PONG\r\n');
    });

    test('ioredis with a wrong password fails with WRONGPASS, without one with NOAUTH (RESP2 and RESP3)', async () => {
      for (const protocol of [2, 3] as const) {
        for (const [password, prefix] of [['wrong', 'WRONGPASS'], [undefined, 'NOAUTH']] as const) {
          const redis = new Redis({ host: '127.0.0.1', port: port(), password, protocol, lazyConnect: true, maxRetriesPerRequest: 0, retryStrategy: () => null });
          opened.push(redis);
          const errors: string[] = [];
          redis.on('error', (e: Error) => errors.push(e.message));
          await redis.connect().catch(() => undefined);
          await expect(redis.get('auth:k')).rejects.toThrow();
          expect(errors[0], `RESP${protocol}, password ${password}`).toMatch(new RegExp(`^${prefix} `));
        }
      }
    });

    test('HELLO 3 before AUTH is NOAUTH, with a wrong password WRONGPASS; HELLO 3 AUTH answers a map (server, version, proto 3, id, mode, role, modules) and switches to RESP3; HELLO 2 back to RESP2; HELLO 4 is NOPROTO', async () => {
      const conn = await rawUnauthenticated(port());
      expect(text(await conn.send(['HELLO', '3']))).toMatch(/^-NOAUTH .*\r\n$/);
      expect(text(await conn.send(['HELLO', '3', 'AUTH', 'default', 'wrong']))).toBe(WRONGPASS);
      const hello3 = decoded(await conn.send(['HELLO', '3', 'AUTH', 'default', PASSWORD]));
      expect(hello3.type).toBe('%');
      const fields = helloFields(hello3);
      expect([...fields.keys()]).toEqual(['server', 'version', 'proto', 'id', 'mode', 'role', 'modules']);
      expect(fields.get('server')?.type).toBe('$');
      expect(bytesOf(fields.get('version')!)).toMatch(/^\d+\.\d+\.\d+/);
      expect(fields.get('proto')).toEqual({ type: ':', text: '3' });
      expect(fields.get('id')).toEqual({ type: ':', text: expect.stringMatching(/^\d+$/) });
      expect(bytesOf(fields.get('mode')!)).toBe('standalone');
      expect(bytesOf(fields.get('role')!)).toBe('master');
      expect(fields.get('modules')).toEqual({ type: '*', items: [] });
      expect(text(await conn.send(['GET', 'hello:missing']))).toBe('_\r\n');
      const hello2 = decoded(await conn.send(['HELLO', '2']));
      expect(hello2.type).toBe('*');
      expect(helloFields(hello2).get('proto')).toEqual({ type: ':', text: '2' });
      expect(text(await conn.send(['GET', 'hello:missing']))).toBe('$-1\r\n');
      expect(text(await conn.send(['HELLO', '4']))).toMatch(/^-NOPROTO .*\r\n$/);
      expect(text(await conn.send(['HELLO', 'three']))).toBe('-ERR Protocol version is not an integer or out of range\r\n');
    });

    test('QUIT answers OK and the server closes the connection; ioredis quit() resolves OK', async () => {
      const conn = await raw(port());
      expect(text(await conn.send(['QUIT']))).toBe('+OK\r\n');
      await conn.closedByServer();
      const redis = await client(port(), 3);
      expect(await redis.quit()).toBe('OK');
    });

    test.each([
      ['a bulk length that is not a number', '*1\r\n$abc\r\n'],
      ['a negative bulk length', '*1\r\n$-5\r\n'],
      ['a bulk length over any limit', '*1\r\n$9999999999\r\n'],
      ['an array inside the command array', '*1\r\n*1\r\n'],
      ['an array length that is not a number', '*abc\r\n'],
      ['an inline command with unbalanced quotes', 'SET "abc\r\n'],
    ])('%s is answered "-ERR Protocol error: ..." and the connection is closed; the server keeps serving', async (_what, bytes) => {
      const conn = await rawUnauthenticated(port());
      expect(text(await conn.send(Buffer.from(bytes, 'latin1')))).toMatch(/^-ERR Protocol error: [^\r\n]+\r\n$/);
      await conn.closedByServer();
      expect(text(await (await raw(port())).send(['PING']))).toBe('+PONG\r\n');
    });

    test('inline commands, as typed into telnet: PING, SET and GET answer as in RESP', async () => {
      const conn = await rawUnauthenticated(port());
      expect(text(await conn.send(Buffer.from(`AUTH ${PASSWORD}\r\n`)))).toBe('+OK\r\n');
      expect(text(await conn.send(Buffer.from('PING\r\n')))).toBe('+PONG\r\n');
      expect(text(await conn.send(Buffer.from('SET inline:k "two words"\r\nGET inline:k\r\n'), 2))).toBe('+OK\r\n$9\r\ntwo words\r\n');
    });

    test('INFO is text of "# Section" and "field:value" lines with redis_version and connected_clients: a bulk string in RESP2, verbatim (=txt:) in RESP3', async () => {
      for (const protocol of [2, 3] as const) {
        const reply = decoded(await (await raw(port(), protocol)).send(['INFO']));
        expect(reply.type).toBe(protocol === 3 ? '=' : '$');
        let info = bytesOf(reply);
        if (protocol === 3) {
          expect(info.slice(0, 4)).toBe('txt:');
          info = info.slice(4);
        }
        const lines = info.split('\r\n');
        expect(lines.filter((l) => l !== '' && !/^# \w+$/.test(l) && !/^\w+:/.test(l))).toEqual([]);
        expect(lines).toContain('# Server');
        expect(lines).toContain('# Clients');
        expect(info).toMatch(/\r\nredis_version:\d+\.\d+\.\d+\r\n/);
        expect(Number(/\r\nconnected_clients:(\d+)\r\n/.exec(info)?.[1])).toBeGreaterThanOrEqual(1);
      }
      expect(await (await client(port())).info()).toContain('# Server');
    });

    test('COMMAND lists every command of the issue with name, arity, flags, first key, last key and step; COMMAND COUNT is its length; COMMAND INFO answers nil for an unknown name', async () => {
      for (const protocol of [2, 3] as const) {
        const conn = await raw(port(), protocol);
        const all = itemsOf(decoded(await conn.send(['COMMAND'])));
        const names = all.map((entry) => bytesOf(itemsOf(entry)[0]));
        expect(names.filter((n) => ISSUE_COMMANDS.includes(n)).sort()).toEqual([...ISSUE_COMMANDS].sort());
        expect(text(await conn.send(['COMMAND', 'COUNT']))).toBe(`:${all.length}\r\n`);
        const [get, set, nosuch] = itemsOf(decoded(await conn.send(['COMMAND', 'INFO', 'get', 'SET', 'nosuch'])));
        const flagSet = protocol === 3 ? '~' : '*';
        for (const [entry, name, arity, flag] of [[get, 'get', '2', 'readonly'], [set, 'set', '-3', 'write']] as const) {
          const [n, a, flags, first, last, step] = itemsOf(entry);
          expect({ n: bytesOf(n), a, first, last, step }).toEqual({ n: name, a: { type: ':', text: arity }, first: { type: ':', text: '1' }, last: { type: ':', text: '1' }, step: { type: ':', text: '1' } });
          expect(flags.type).toBe(flagSet);
          expect(itemsOf(flags)).toContainEqual({ type: '+', text: flag });
        }
        expect(nosuch).toEqual(protocol === 3 ? { type: '_', text: '' } : { type: '$', bytes: null });
      }
    });

    test('DBSIZE answers the number of keys: 3 more after three new keys, 1 fewer after a DEL', async () => {
      const redis = await client(port());
      const before = await redis.dbsize();
      await redis.mset('dbsize:a', '1', 'dbsize:b', '2', 'dbsize:c', '3');
      expect(await redis.dbsize()).toBe(before + 3);
      await redis.del('dbsize:a');
      expect(text(await (await raw(port(), 3)).send(['DBSIZE']))).toBe(`:${before + 2}\r\n`);
    });
  });

  describe('SCAN', () => {
    test('SCAN MATCH with COUNT 2, from cursor 0 until it comes back 0, returns every matching key and no other; the cursor is a decimal number', async () => {
      const redis = await client(port());
      const keys = Array.from({ length: 25 }, (_, i) => `scan:${i}`);
      await redis.mset(...keys.flatMap((k) => [k, 'v']), 'scanx:other', 'v');
      for (const count of ['2', '1000']) {
        const seen = new Set<string>();
        let cursor = '0';
        let calls = 0;
        do {
          const [next, batch] = (await redis.scan(cursor, 'MATCH', 'scan:*', 'COUNT', count)) as [string, string[]];
          expect(next).toMatch(/^\d+$/);
          batch.forEach((k) => seen.add(k));
          cursor = next;
          calls++;
        } while (cursor !== '0' && calls < 1000);
        expect([...seen].sort()).toEqual([...keys].sort());
        if (count === '2') expect(calls).toBeGreaterThan(1);
      }
    });

    test('SCAN answers [cursor, keys] as bulk strings in RESP2 and RESP3; a bad cursor is ERR invalid cursor, COUNT 0 a syntax error', async () => {
      await (await client(port())).set('scanshape:k', 'v');
      for (const protocol of [2, 3] as const) {
        const conn = await raw(port(), protocol);
        const reply = decoded(await conn.send(['SCAN', '0', 'MATCH', 'scanshape:*']));
        expect(reply.type).toBe('*');
        const [cursor, keys] = itemsOf(reply);
        expect(bytesOf(cursor)).toMatch(/^\d+$/);
        expect(keys.type).toBe('*');
        for (const key of itemsOf(keys)) expect(bytesOf(key)).toBe('scanshape:k');
        expect(text(await conn.send(['SCAN', 'abc']))).toBe('-ERR invalid cursor\r\n');
        expect(text(await conn.send(['SCAN', '0', 'COUNT', '0']))).toBe('-ERR syntax error\r\n');
        expect(text(await conn.send(['SCAN', '0', 'MATCH']))).toBe('-ERR syntax error\r\n');
      }
    });
  });

  describe('values and expiry', () => {
    test('a value and a key of all 256 byte values, and a 1 MB random value, come back byte for byte (ioredis and raw bytes)', async () => {
      const redis = await client(port());
      const every = Buffer.from(Array.from({ length: 256 }, (_, i) => i));
      const big = randomBytes(1 << 20);
      expect(await redis.set(every, every)).toBe('OK');
      expectSameBytes(await redis.getBuffer(every), every);
      expect(await redis.strlen(every)).toBe(256);
      expect(await redis.set('binary:big', big)).toBe('OK');
      expectSameBytes(await redis.getBuffer('binary:big'), big);
      const conn = await raw(port(), 3);
      expectSameBytes(await conn.send(['GET', every]), Buffer.concat([Buffer.from('$256\r\n'), every, Buffer.from('\r\n')]));
      expect(text(await conn.send(['SET', 'binary:big2', big]))).toBe('+OK\r\n');
      expectSameBytes(await conn.send(['GET', 'binary:big2']), Buffer.concat([Buffer.from(`$${big.length}\r\n`), big, Buffer.from('\r\n')]));
      expect(text(await conn.send(['APPEND', every, Buffer.from([0, 255, 13, 10])]))).toBe(':260\r\n');
      expectSameBytes(await redis.getBuffer(every), Buffer.concat([every, Buffer.from([0, 255, 13, 10])]));
    });

    test('keys given 1 s (SET PX, SET PXAT, PSETEX, PEXPIRE, GETEX PX, SET KEEPTTL after PX) are gone 300 ms after it; a PERSISTed one and one without TTL stay', async () => {
      // A second, not 100 ms: on a loaded machine the commands setting them up can take more than 100 ms, and the first would go before the check that they are there.
      const redis = await client(port());
      const k = (n: string) => `expiry:${n}`;
      await redis.set(k('px'), 'v', 'PX', 1000);
      await redis.set(k('pxat'), 'v', 'PXAT', Date.now() + 1000);
      await redis.psetex(k('psetex'), 1000, 'v');
      await redis.set(k('pexpire'), 'v');
      await redis.pexpire(k('pexpire'), 1000);
      await redis.set(k('getex'), 'v');
      await redis.getex(k('getex'), 'PX', 1000);
      await redis.set(k('keepttl'), 'v', 'PX', 1000);
      const lastGiven = Date.now();
      await redis.set(k('keepttl'), 'w', 'KEEPTTL');
      await redis.set(k('persist'), 'v', 'PX', 1000);
      await redis.persist(k('persist'));
      await redis.set(k('plain'), 'v');
      const gone = ['px', 'pxat', 'psetex', 'pexpire', 'getex', 'keepttl'].map(k);
      expect(await redis.exists(...gone)).toBe(6);
      await sleep(lastGiven + 1300 - Date.now());
      expect(await redis.exists(...gone)).toBe(0);
      expect(await redis.mget(...gone)).toEqual(gone.map(() => null));
      for (const key of gone) expect([await redis.ttl(key), await redis.pttl(key)]).toEqual([-2, -2]);
      expect((await redis.keys('expiry:*')).sort()).toEqual([k('persist'), k('plain')]);
      expect(await redis.mget(k('persist'), k('plain'))).toEqual(['v', 'v']);
    });
  });

  describe('transactions and load', () => {
    test('MULTI/EXEC is atomic: readers with MGET and with MULTI GET GET EXEC never see one key of an EXEC written without the other', async () => {
      const writer = await client(port());
      const readers = await Promise.all([client(port()), client(port(), 3)]);
      let done = false;
      let reads = 0;
      const halves: string[] = [];
      const read = async (r: Redis, i: number) => {
        while (!done) {
          const pair = i === 0 ? await r.mget('atomic:a', 'atomic:b') : ((await r.multi().get('atomic:a').get('atomic:b').exec()) ?? []).map(([, v]) => v);
          if (pair[0] !== pair[1]) halves.push(pair.join(' / '));
          reads++;
        }
      };
      const reading = readers.map(read);
      for (let i = 1; i <= 300; i++) {
        expect(await writer.multi().set('atomic:a', String(i)).set('atomic:b', String(i)).exec()).toEqual([[null, 'OK'], [null, 'OK']]);
        if (i % 3 === 0) await sleep(0);
      }
      done = true;
      await Promise.all(reading);
      expect(halves).toEqual([]);
      expect(reads).toBeGreaterThan(10);
      expect(await writer.mget('atomic:a', 'atomic:b')).toEqual(['300', '300']);
    });

    test('a pipeline of 10,000 commands (ioredis) gets its 10,000 replies in order; 10,000 frames in one write get their replies in order', async () => {
      const redis = await client(port());
      const pipeline = redis.pipeline();
      const expected: unknown[] = [];
      for (let i = 0; i < 2500; i++) {
        pipeline.set(`pipe:${i}`, `value ${i}`).get(`pipe:${i}`).incr('pipe:counter').exists(`pipe:${i}`, 'pipe:missing');
        expected.push([null, 'OK'], [null, `value ${i}`], [null, i + 1], [null, 1]);
      }
      expect(await pipeline.exec()).toEqual(expected);
      const conn = await raw(port());
      const frames = Buffer.concat(Array.from({ length: 10_000 }, (_, i) => frame('ECHO', String(i))));
      const replies = Array.from({ length: 10_000 }, (_, i) => `$${String(i).length}\r\n${i}\r\n`).join('');
      expect(text(await conn.send(frames, 10_000, 30_000))).toBe(replies);
    });

    test('50 clients doing 200 INCRs each on one key: it ends at 10,000 and the replies are 1 to 10,000, each once', async () => {
      const clients = await Promise.all(Array.from({ length: 50 }, (_, i) => client(port(), i % 2 === 0 ? 2 : 3)));
      const replies = (
        await Promise.all(
          clients.map(async (c) => {
            const mine: number[] = [];
            for (let i = 0; i < 200; i++) mine.push(await c.incr('concurrent:counter'));
            return mine;
          }),
        )
      ).flat();
      expect(await clients[0].get('concurrent:counter')).toBe('10000');
      expect(replies.sort((a, b) => a - b)).toEqual(Array.from({ length: 10_000 }, (_, i) => i + 1));
    });
  });

  describe('redis-cli', () => {
    needsServer(redisCli);
    const cli = (args: string[], input?: string) =>
      execa('redis-cli', ['-p', String(port()), '-a', PASSWORD, '--no-auth-warning', ...args], { reject: false, input, timeout: 30_000 });

    test('redis-cli set, get and incr print OK, the value and the number; get of a missing key prints an empty line', async () => {
      expect(await cli(['set', 'cli:k', 'hello world'])).toMatchObject({ exitCode: 0, stdout: 'OK' });
      expect(await cli(['get', 'cli:k'])).toMatchObject({ exitCode: 0, stdout: 'hello world' });
      expect(await cli(['incr', 'cli:n'])).toMatchObject({ exitCode: 0, stdout: '1' });
      expect(await cli(['get', 'cli:missing'])).toMatchObject({ exitCode: 0, stdout: '' });
    });

    test('redis-cli --pipe inserts 10,000 SETs with "errors: 0, replies: 10000"; --scan --pattern then lists exactly those keys', async () => {
      const keys = Array.from({ length: 10_000 }, (_, i) => `cli:pipe:${i}`);
      const input = keys.map((k, i) => frame('SET', k, `v${i}`).toString('latin1')).join('');
      const pipe = await cli(['--pipe'], input);
      expect(pipe.stdout).toContain('errors: 0, replies: 10000');
      expect(pipe.exitCode).toBe(0);
      expect(await cli(['get', 'cli:pipe:9999'])).toMatchObject({ stdout: 'v9999' });
      const scan = await cli(['--scan', '--pattern', 'cli:pipe:*']);
      expect(scan.exitCode).toBe(0);
      expect([...new Set(scan.stdout.split('\n'))].sort()).toEqual([...keys].sort());
    });
  });

  describe('redis-benchmark', () => {
    needsServer(redisBenchmark);

    test('redis-benchmark -t set,get -n 2000 -c 10 completes with no error and reports both rates', async () => {
      const run = await execa('redis-benchmark', ['-p', String(port()), '-a', PASSWORD, '-t', 'set,get', '-n', '2000', '-c', '10', '-q'], { reject: false, timeout: 60_000 });
      expect(`${run.stdout}${run.stderr}`).not.toMatch(/error/i);
      expect(run.exitCode).toBe(0);
      expect(run.stdout).toMatch(/SET: [\d.]+ requests per second/);
      expect(run.stdout).toMatch(/GET: [\d.]+ requests per second/);
      expect(await (await client(port())).strlen('key:__rand_int__')).toBe(3);
    });
  });
});
