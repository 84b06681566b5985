// 10,000 fuzzed frames (valid, truncated, mutated, garbage, inline with
// random quoting, absurd lengths) sent to a real listener, one to four on
// each connection (a protocol error closes one, so most frames are read),
// while another client keeps asking PING: every PING is
// answered, the listener keeps accepting, and nothing but the test's own
// failing command reaches onError. TZKV_FUZZ_SEED=N explores other inputs.
import net from 'node:net';
import { expect, it } from 'vitest';
import { seededRandom } from '../helpers/fault-fs.js';
import { frame } from '../helpers/raw-resp.js';
import { startTestServer, text } from '../helpers/redis-test-server.js';

const SEED = Number(process.env.TZKV_FUZZ_SEED ?? 16);
const FRAMES = 10_000;

const NAMES = ['PING', 'ECHO', 'GET', 'SET', 'INCR', 'MULTI', 'EXEC', 'DISCARD', 'WATCH', 'UNWATCH', 'HELLO', 'AUTH', 'SELECT', 'CLIENT', 'COMMAND', 'INFO', 'DBSIZE', 'QUIT', 'BOOM', 'TZKVFAIL', 'NOPE', 'client'];
const WORDS = ['3', '2', '0', '-1', 'x', '', 'SETNAME', 'INFO', 'LIST', 'AUTH', 'default', 'keyspace', '99999999999999999999', '"', "'", '\\x41', 'a b'];

/** One to four frames. */
function frames(random: () => number): Buffer[] {
  const int = (n: number): number => Math.floor(random() * n);
  const pick = <T>(items: readonly T[]): T => items[int(items.length)]!;
  const bytes = (n: number): Buffer => Buffer.from(Array.from({ length: n }, () => int(256)));
  const command = (): Buffer => {
    const words: Array<string | Buffer> = [pick(NAMES)];
    for (let i = int(4); i > 0; i--) words.push(random() < 0.2 ? bytes(int(20)) : pick(WORDS));
    return frame(...words);
  };
  const out: Buffer[] = [];
  for (let i = 1 + int(4); i > 0; i--) {
    const kind = int(10);
    if (kind <= 2) out.push(command());
    else if (kind === 3) out.push(command().subarray(0, 1 + int(20)));
    else if (kind === 4) {
      const frame = Buffer.from(command());
      for (let flips = 1 + int(3); flips > 0; flips--) frame[int(frame.length)] = int(256);
      out.push(frame);
    } else if (kind === 5) out.push(bytes(1 + int(200)));
    else if (kind === 6) out.push(Buffer.from(`${pick(NAMES)} ${Array.from({ length: int(5) }, () => pick(WORDS)).join(pick([' ', '  ', '\t']))}${pick(['\r\n', '\n', ''])}`, 'latin1'));
    else if (kind === 7) out.push(Buffer.from(pick(['*999999999\r\n', '*2\r\n$999999999999\r\n', '*1\r\n$300000000\r\n', '*-5\r\n', '*0\r\n', '$3\r\nGET\r\n', ':1\r\n', '*1\r\n$4\r\nPIN'])));
    else if (kind === 8) out.push(Buffer.from(pick(['PING\r\n', 'ECHO "a\\x4"\r\n', "ECHO 'it\\'s'\r\n", '\r\n', 'MULTI\r\nPING\r\nEXEC\r\n'])));
    else out.push(random() < 0.02 ? Buffer.alloc(70_000, 0x61) : bytes(int(8)));
  }
  return out;
}

/** Sends the frames in a few writes, half-closes, and waits for the server to close (or gives up and resets). */
function storm(port: number, data: Buffer, random: () => number): Promise<void> {
  return new Promise((resolve) => {
    const socket = net.connect(port, '127.0.0.1');
    socket.on('error', () => undefined);
    socket.on('data', () => undefined);
    const timer = setTimeout(() => socket.destroy(), 5000);
    socket.once('close', () => {
      clearTimeout(timer);
      resolve();
    });
    socket.once('connect', () => {
      const cut = Math.floor(random() * data.length);
      socket.write(data.subarray(0, cut));
      socket.write(data.subarray(cut));
      if (random() < 0.2) setTimeout(() => socket.destroy(), Math.floor(random() * 20));
      else socket.end();
    });
  });
}

it(`survives ${FRAMES} fuzzed frames while serving another client (seed ${SEED})`, async () => {
  const server = await startTestServer({ limits: { idleTimeoutMs: 2000 } });
  const port = server.listener.port!;
  const pinger = await server.connect();
  let pongs = 0;
  let stormsDone = false;
  const pinging = (async () => {
    while (!stormsDone) {
      expect(text(await pinger.send(['PING']))).toBe('+PONG\r\n');
      pongs++;
      await new Promise((resolve) => setTimeout(resolve, 2));
    }
  })();
  const random = seededRandom(SEED);
  const batches: Buffer[] = [];
  for (let sent = 0; sent < FRAMES; ) {
    const batch = frames(random).slice(0, FRAMES - sent);
    sent += batch.length;
    batches.push(Buffer.concat(batch));
  }
  for (let i = 0; i < batches.length; i += 16) {
    await Promise.all(batches.slice(i, i + 16).map((batch) => storm(port, batch, random)));
  }
  stormsDone = true;
  await pinging;
  expect(pongs).toBeGreaterThan(10);
  expect(server.listener.state.totalCommands()).toBeGreaterThan(FRAMES / 10);
  const after = await server.connect();
  expect(text(await after.send(['ECHO', 'still here']))).toBe('$10\r\nstill here\r\n');
  expect(server.errors.filter((error) => (error as Error).message !== 'boom')).toEqual([]);
});
