// The scenarios of test/unit/redis-command-cases.ts on a real redis-server:
// the replies the tables expect of tzkv are Redis's own. (Scenarios marked
// `tzkv` check tzkv's limits or need its fake clock, and are left out.)
import { type ChildProcess, spawn } from 'node:child_process';
import { createServer, type Socket, connect } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { needsServer, serverNeed } from '../helpers/servers.js';
import { type Expected, type Scenario, type Word, globCases, keyScenarios, normalise, stringScenarios } from './redis-command-cases.js';

const redisServer = serverNeed('redis-server', 'apt-get install -y redis-server');

/** One RESP2 reply at `at` in `data`, in the tables' form, and where the next begins; undefined until all of it has come. */
function parseReply(data: Buffer, at: number): [Expected, number] | undefined {
  const end = data.indexOf('\r\n', at);
  if (end === -1) return undefined;
  const line = data.toString('latin1', at + 1, end);
  const type = String.fromCharCode(data[at]);
  if (type === '+' || type === '-' || type === ':') return [`${type}${line}`, end + 2];
  const n = Number(line);
  if (type === '$') {
    if (n < 0) return ['nil', end + 2];
    if (data.length < end + 2 + n + 2) return undefined;
    return [`$${data.toString('latin1', end + 2, end + 2 + n)}`, end + 2 + n + 2];
  }
  if (type === '*') {
    if (n < 0) return ['*nil', end + 2];
    const items: Expected[] = [];
    let next = end + 2;
    for (let i = 0; i < n; i++) {
      const item = parseReply(data, next);
      if (!item) return undefined;
      items.push(item[0]);
      next = item[1];
    }
    return [items, next];
  }
  throw new Error(`unexpected RESP type ${type}`);
}

/** A client that sends one command at a time and reads its reply. */
class RespClient {
  private data = Buffer.alloc(0);
  private waiting: ((reply: Expected) => void) | undefined;

  constructor(private readonly socket: Socket) {
    socket.on('data', (chunk) => {
      this.data = Buffer.concat([this.data, chunk]);
      const parsed = parseReply(this.data, 0);
      if (!parsed || !this.waiting) return;
      this.data = this.data.subarray(parsed[1]);
      const resolve = this.waiting;
      this.waiting = undefined;
      resolve(parsed[0]);
    });
  }

  send(words: Word[]): Promise<Expected> {
    const parts = words.map((word) => (typeof word === 'string' ? Buffer.from(word) : word));
    const frame = Buffer.concat([Buffer.from(`*${parts.length}\r\n`), ...parts.flatMap((p) => [Buffer.from(`$${p.length}\r\n`), p, Buffer.from('\r\n')])]);
    return new Promise((resolve) => {
      this.waiting = resolve;
      this.socket.write(frame);
    });
  }

  close(): void {
    this.socket.destroy();
  }
}

async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  await new Promise((resolve) => server.close(resolve));
  return port;
}

async function startRedis(): Promise<{ server: ChildProcess; client: RespClient }> {
  const port = await freePort();
  const server = spawn('redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'], { stdio: 'ignore' });
  for (let attempt = 0; ; attempt++) {
    try {
      const socket = await new Promise<Socket>((resolve, reject) => {
        const s = connect(port, '127.0.0.1', () => resolve(s));
        s.once('error', reject);
      });
      const client = new RespClient(socket);
      if ((await client.send(['PING'])) === '+PONG') return { server, client };
    } catch (err) {
      if (attempt > 100) throw err;
    }
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

describe('the tables are what redis-server answers', () => {
  needsServer(redisServer);
  let redis: { server: ChildProcess; client: RespClient } | undefined;

  beforeAll(async () => {
    if (redisServer.present) redis = await startRedis();
  });

  afterAll(() => {
    redis?.client.close();
    redis?.server.kill();
  });

  const redisScenarios = [...stringScenarios, ...keyScenarios].filter((s) => !s.tzkv);
  it.each(redisScenarios.map((s) => [s.name, s] as const))('%s', async (_, scenario: Scenario) => {
    const { client } = redis!;
    expect(await client.send(['FLUSHALL'])).toBe('+OK');
    for (const [words, expected] of scenario.steps) {
      expect(normalise(words[0], await client.send(words)), words.map(String).join(' ').slice(0, 120)).toEqual(expected);
    }
  });

  it.each(globCases)('KEYS %j finds %j: %s', async (pattern, key, matches) => {
    const { client } = redis!;
    await client.send(['FLUSHALL']);
    await client.send(['SET', Buffer.from(key, 'latin1'), '1']);
    expect(await client.send(['KEYS', Buffer.from(pattern, 'latin1')])).toEqual(matches ? [`$${key}`] : []);
  });
});
