// `tzkv serve` as a new user and an operator meet it (issue #16, docs/cli.md
// "serve", docs/serve.md): every flag's refusal (exit 2 or 5, a message naming
// the flag, no stack trace, nothing created), a port in use, each kind of
// store location, the log in text and JSON Lines, the password from the
// environment and the flag, TLS, a Unix socket, an etcd store, the signals,
// --help, and serve() embedded. Real `bin/run.js serve` processes, real
// clients: redis-cli, curl, fetch, ioredis.
import { execa, type ResultPromise } from 'execa';
import { Redis } from 'ioredis';
import { chmodSync, existsSync, mkdirSync, readFileSync, readdirSync, statSync, writeFileSync } from 'node:fs';
import { type AddressInfo, connect, createServer } from 'node:net';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { afterEach, describe, expect, test } from 'vitest';
import type { Store } from '../../src/api.js';
import { open, serve, type ServeLogEntry } from '../../src/index.js';
import { RawConnection, type RawReply, readReply } from '../helpers/raw-resp.js';
import { etcd, needsServer, redisCli, serverNeed } from '../helpers/servers.js';
import { BIN, NODE, childEnv, expectNoStack, storeDir, tempDir, tzkv } from './helpers.js';
import { startEtcd } from './fixtures/etcd.js';

const openssl = serverNeed('openssl', 'apt-get install -y openssl');

type Child = ResultPromise<{ reject: false; stdin: 'ignore' }>;
const children = new Set<Child>();
afterEach(async () => {
  for (const child of children) child.kill('SIGKILL');
  await Promise.all(children);
  children.clear();
});

interface LogLine {
  time: string;
  level: string;
  event: string;
  message: string;
  [field: string]: unknown;
}

interface Serving {
  child: Child;
  /** stderr so far, a line each. */
  lines: string[];
  /** The first stderr line's JSON (with --json). */
  listening: () => LogLine;
  /** The Redis port on 127.0.0.1 (with --json). */
  port: () => number;
  httpUrl: (scheme?: string) => string;
  stop(signal?: NodeJS.Signals): Promise<{ exitCode: number | undefined; stdout: string; log: string[] }>;
}

/** `tzkv serve ...args` in the background, once its first stderr line is written (it fails the test if the server exits first). */
async function launch(args: string[], env: Record<string, string | undefined> = {}): Promise<Serving> {
  const child = execa(NODE, [BIN, 'serve', ...args], { reject: false, stdin: 'ignore', env: childEnv(env), extendEnv: false }) as Child;
  children.add(child);
  const lines: string[] = [];
  const first = new Promise<boolean>((resolve) => {
    createInterface({ input: child.stderr! }).on('line', (line) => {
      lines.push(line);
      resolve(true);
    });
    void child.then(() => resolve(false));
  });
  let timer: NodeJS.Timeout | undefined;
  const started = await Promise.race([first, new Promise<false>((r) => (timer = setTimeout(() => r(false), 20_000)))]);
  clearTimeout(timer);
  if (!started) {
    child.kill('SIGKILL');
    const result = await child;
    throw new Error(`tzkv serve ${args.join(' ')} did not start (exit ${result.exitCode}): ${String(result.stderr)}`);
  }
  const listening = () => JSON.parse(lines[0]!) as LogLine;
  return {
    child,
    lines,
    listening,
    port: () => Number(/^127\.0\.0\.1:(\d+)$/.exec(String(listening().redis))![1]),
    httpUrl: (scheme = 'http') => `${scheme}://${String(listening().http)}`,
    async stop(signal = 'SIGTERM') {
      child.kill(signal);
      const result = await child;
      children.delete(child);
      // readline may hold the last lines a moment after the exit.
      await new Promise((r) => setImmediate(r));
      return { exitCode: result.exitCode, stdout: String(result.stdout), log: lines };
    },
  };
}

/** The JSON log's lines, each checked to be an object with time, level, event and message. */
function jsonLog(lines: string[]): LogLine[] {
  return lines.map((line) => {
    const entry = JSON.parse(line) as LogLine;
    expect(Object.keys(entry).slice(0, 4), line).toEqual(['time', 'level', 'event', 'message']);
    expect(new Date(entry.time).toISOString()).toBe(entry.time);
    expect(['info', 'warn', 'error']).toContain(entry.level);
    return entry;
  });
}

async function redisCliRun(args: string[]): Promise<{ exitCode: number | undefined; stdout: string; stderr: string }> {
  const run = await execa('redis-cli', args, { reject: false, timeout: 10_000, stdin: 'ignore' });
  return { exitCode: run.exitCode, stdout: String(run.stdout).trimEnd(), stderr: String(run.stderr) };
}

/**
 * One command over the Redis protocol, its reply as redis-cli prints it to a
 * pipe (a simple string or error as its text, a bulk string as its bytes, an
 * array a line per item): for the tests that are about tzkv serve, not about
 * redis-cli, so they run where no redis-tools are installed.
 */
async function respRun(port: number | string, ...words: string[]): Promise<{ stdout: string }> {
  const conn = await RawConnection.open(Number(port));
  try {
    const parsed = readReply(await conn.send(words));
    if (parsed === undefined) throw new Error(`no whole reply to ${words.join(' ')}`);
    const text = (r: RawReply): string =>
      'text' in r ? r.text : 'bytes' in r ? (r.bytes?.toString() ?? '') : (r.items ?? []).map(text).join('\n');
    return { stdout: text(parsed.reply) };
  } finally {
    conn.close();
  }
}

async function curl(args: string[]): Promise<{ status: number; body: string }> {
  const run = await execa('curl', ['-s', '-w', '\n%{http_code}', ...args], { reject: false, timeout: 10_000, stdin: 'ignore' });
  const out = String(run.stdout);
  const cut = out.lastIndexOf('\n');
  return { status: Number(out.slice(cut + 1)), body: out.slice(0, cut) };
}

/** A store the CLI made, holding made-by=cli. */
async function cliStore(): Promise<string> {
  const dir = await storeDir();
  expect((await tzkv(['put', '-d', dir, 'made-by', 'cli'])).exitCode).toBe(0);
  return dir;
}

/** Each file of a directory and its bytes. */
function snapshot(dir: string): Record<string, string> {
  return Object.fromEntries(readdirSync(dir).map((name) => [name, readFileSync(join(dir, name)).toString('base64')]));
}

/** A self-signed certificate for 127.0.0.1 and localhost, made by openssl. */
async function certificate(dir: string): Promise<{ cert: string; key: string }> {
  const cert = join(dir, 'cert.pem');
  const key = join(dir, 'key.pem');
  const args = ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-keyout', key, '-out', cert, '-days', '2', '-subj', '/CN=localhost'];
  await execa('openssl', [...args, '-addext', 'subjectAltName=IP:127.0.0.1,DNS:localhost']);
  return { cert, key };
}

describe('tzkv serve refusing its command line', () => {
  // Each with --create, so that whatever opened the store would have created it.
  const refusals: Array<[string, string[], number, RegExp, Record<string, string>?]> = [
    ['--sync batch-ms without its window', ['--sync', 'batch-ms'], 2, /^tzkv: invalid --sync "batch-ms": batch-ms needs its window in ms, as in --sync batch-ms=100$/m],
    ['--sync batch-ms 100 (two words)', ['--sync', 'batch-ms', '100'], 2, /^tzkv: invalid --sync "batch-ms" followed by "100": write it as one word, --sync batch-ms=100$/m],
    ['--sync sometimes', ['--sync', 'sometimes'], 2, /^tzkv: invalid --sync "sometimes": expected always, never, or batch-ms=N/m],
    ['--cache lots', ['--cache', 'lots'], 2, /^tzkv: invalid --cache "lots"/m],
    ['--port 70000', ['--port', '70000'], 2, /^tzkv: invalid --port 70000: expected a port from 1 to 65535/m],
    ['--http-port=-1', ['--http-port=-1'], 2, /^tzkv: invalid --http-port -1/m],
    ['--no-redis --no-http', ['--no-redis', '--no-http'], 2, /^tzkv: --no-redis and --no-http together leave nothing to serve$/m],
    ['--tls-cert without --tls-key', ['--tls-cert', BIN], 2, /^tzkv: TLS needs both --tls-cert and --tls-key$/m],
    ['an empty --requirepass', ['--requirepass', ''], 2, /^tzkv: invalid --requirepass "" \(or TZKV_PASSWORD\): a password cannot be empty$/m],
    ['an empty TZKV_PASSWORD', [], 2, /^tzkv: invalid TZKV_PASSWORD "": a password cannot be empty \(unset TZKV_PASSWORD to serve without one\)$/m, { TZKV_PASSWORD: '' }],
    ['--unix with --no-redis', ['--no-redis', '--unix', '/tmp/tzkv-never.sock'], 2, /^tzkv: --unix serves the Redis protocol: it cannot go with --no-redis$/m],
    ['--max-clients 0', ['--max-clients', '0'], 2, /^tzkv: invalid --max-clients 0: expected 1 or more$/m],
    ['--timeout 5x', ['--timeout', '5x'], 2, /^tzkv: invalid --timeout "5x"/m],
    ['a typo (--prot 1)', ['--prot', '1'], 2, /^tzkv: Nonexistent flag: --prot; did you mean --port\?\nSee 'tzkv serve --help'\.$/m],
  ];
  test.concurrent.each(refusals)('%s', async (_what, args, exitCode, message, env) => {
    const dir = join(await tempDir(), 'store');
    const ports = ['--port', '--http-port'].flatMap((flag) => (args.some((a) => a.startsWith(flag)) ? [] : [flag, '0']));
    const run = await tzkv(['serve', '-d', dir, '--create', ...ports, ...args], { env, timeout: 10_000 });
    expect(run.stderr).toMatch(message);
    expect(run.exitCode).toBe(exitCode);
    expect(run.stdout).toBe('');
    expectNoStack(run);
    expect(existsSync(dir)).toBe(false);
  });

  test('a TLS file that is missing: exit 5 naming it; --unix in a missing directory: exit 5 naming the directory', async () => {
    const parent = await tempDir();
    const dir = join(parent, 'store');
    const missing = join(parent, 'no-such-cert.pem');
    const tls = await tzkv(['serve', '-d', dir, '--create', '--port', '0', '--no-http', '--tls-cert', missing, '--tls-key', missing], { timeout: 10_000 });
    expect(tls.stderr).toBe(`tzkv: cannot read --tls-cert ${missing}: no such file or directory\n`);
    expect(tls.exitCode).toBe(5);
    const socket = join(parent, 'no-such-dir', 'tzkv.sock');
    const unix = await tzkv(['serve', '-d', dir, '--create', '--port', '0', '--no-http', '--unix', socket], { timeout: 10_000 });
    expect(unix.stderr).toBe(`tzkv: cannot listen on ${socket}: the directory ${join(parent, 'no-such-dir')} does not exist\n`);
    expect(unix.exitCode).toBe(5);
    for (const run of [tls, unix]) expect(run.stdout).toBe('');
    expect(readdirSync(parent)).toEqual([]);
  });

  test('with --json a refusal is one JSON log line on stderr, and stdout stays empty', async () => {
    const dir = join(await tempDir(), 'store');
    const run = await tzkv(['serve', '-d', dir, '--port', '0', '--sync', 'sometimes', '--json'], { timeout: 10_000 });
    expect(run.exitCode).toBe(2);
    expect(run.stdout).toBe('');
    const [entry, ...more] = jsonLog(run.stderr.trimEnd().split('\n'));
    expect(more).toEqual([]);
    expect(entry).toMatchObject({ level: 'error', event: 'failed', code: 'INVALID_ARGUMENT', exitCode: 2 });
    expect(entry!.message).toMatch(/^invalid --sync "sometimes"/);
  });

  test('a port in use (two servers on one port): exit 5 naming the address, the second store untouched and its lock free, the first server unharmed', async () => {
    const first = await launch(['-d', await cliStore(), '--port', '0', '--http-port', '0', '--json']);
    const dir = await cliStore();
    const before = snapshot(dir);
    const port = first.port();
    const httpAt = String(first.listening().http);
    for (const [flags, at] of [
      [['--port', String(port), '--no-http'], `127.0.0.1:${port}`],
      [['--port', '0', '--http-port', httpAt.split(':')[1]!], httpAt],
    ] as const) {
      const run = await tzkv(['serve', '-d', dir, ...flags], { timeout: 10_000 });
      expect(run.stderr).toBe(`tzkv: cannot listen on ${at}: the address is in use (another server on that port? choose another with --port / --http-port, or 0 for any free one)\n`);
      expect(run.exitCode).toBe(5);
      expect(run.stdout).toBe('');
    }
    expect(snapshot(dir)).toEqual(before);
    expect((await tzkv(['put', '-d', dir, '--lock-timeout', '0', 'after', 'x'])).exitCode).toBe(0);
    expect((await respRun(String(port), 'ping')).stdout).toBe('PONG');
    expect((await first.stop()).exitCode).toBe(0);
  });
});

describe('tzkv serve and the store it is given', () => {
  test('a missing directory: exit 5 naming it and pointing at --create, nothing created; --create starts it (mode 0700) and serves it', async () => {
    const parent = await tempDir();
    const dir = join(parent, 'new', 'store');
    const run = await tzkv(['serve', '-d', dir, '--port', '0', '--no-http'], { timeout: 10_000 });
    expect(run.stderr).toBe(`tzkv: no tzkv store at ${dir}: the directory does not exist (tzkv serve --create starts one)\n`);
    expect(run.exitCode).toBe(5);
    expect(readdirSync(parent)).toEqual([]);
    const server = await launch(['-d', dir, '--create', '--port', '0', '--no-http', '--json']);
    expect(server.listening()).toMatchObject({ event: 'listening', store: dir, http: null });
    for (const d of [dir, join(parent, 'new')]) expect(statSync(d).mode & 0o777).toBe(0o700);
    const redis = new Redis({ port: server.port(), lazyConnect: true });
    await redis.connect();
    expect(await redis.set('greeting', 'hello')).toBe('OK');
    redis.disconnect();
    expect((await server.stop()).exitCode).toBe(0);
    expect(await tzkv(['get', '-d', dir, 'greeting'])).toMatchObject({ exitCode: 0, stdout: 'hello' });
    expect((await tzkv(['verify', '-d', dir])).exitCode).toBe(0);
  });

  test('an empty directory: exit 5 (it holds no store) unless --create; a directory of other files: exit 5 even with --create, untouched', async () => {
    const parent = await tempDir();
    const empty = join(parent, 'empty');
    mkdirSync(empty);
    const refused = await tzkv(['serve', '-d', empty, '--port', '0', '--no-http'], { timeout: 10_000 });
    expect(refused.stderr).toBe(`tzkv: no tzkv store at ${empty}: the directory holds none (tzkv serve --create starts one)\n`);
    expect(refused.exitCode).toBe(5);
    const server = await launch(['-d', empty, '--create', '--port', '0', '--no-http', '--json']);
    expect((await respRun(String(server.port()), 'set', 'k', 'v')).stdout).toBe('OK');
    expect((await server.stop()).exitCode).toBe(0);
    expect(await tzkv(['get', '-d', empty, 'k'])).toMatchObject({ exitCode: 0, stdout: 'v' });

    const other = join(parent, 'other');
    mkdirSync(other);
    writeFileSync(join(other, 'notes.txt'), 'mine');
    for (const create of [[], ['--create']]) {
      const run = await tzkv(['serve', '-d', other, ...create, '--port', '0', '--no-http'], { timeout: 10_000 });
      expect(run.stderr).toBe(`tzkv: ${other} is not a tzkv store: it holds other files (notes.txt) and no MANIFEST\n`);
      expect(run.exitCode).toBe(5);
    }
    expect(readdirSync(other)).toEqual(['notes.txt']);
  });

  test('an encrypted store and no key: exit 6 naming the store and how to give the key, even with its tail indexed; with the key it serves', async () => {
    const dir = await storeDir();
    const keyFile = join(await tempDir(), 'key');
    writeFileSync(keyFile, Buffer.alloc(32, 9).toString('base64'));
    const env = { TZKV_KEY_FILE: keyFile };
    expect((await tzkv(['init', '--encrypt', '-d', dir], { env })).exitCode).toBe(0);
    expect((await tzkv(['put', '-d', dir, 'k', 'v'], { env })).exitCode).toBe(0);
    expect((await tzkv(['compact', '-d', dir], { env })).exitCode).toBe(0); // nothing left unindexed: opening alone reads no key
    const refused = await tzkv(['serve', '-d', dir, '--port', '0', '--no-http'], { timeout: 10_000 });
    expect(refused.stderr).toBe(`tzkv: ${dir} is an encrypted store: give its key with --key-file PATH, TZKV_KEY_FILE or TZKV_PASSPHRASE\n`);
    expect(refused.exitCode).toBe(6);
    const server = await launch(['-d', dir, '--key-file', keyFile, '--port', '0', '--no-http', '--json']);
    expect((await respRun(String(server.port()), 'get', 'k')).stdout).toBe('v');
    expect((await server.stop()).exitCode).toBe(0);
  });

  test('a store with a damaged record: serve starts; a GET of the damaged key is an ERR naming the damage, other keys read, writes are refused naming it', async () => {
    const dir = join(await tempDir(), 'store'); // damaged on purpose: no verify at the end
    for (const k of ['a', 'b', 'c']) expect((await tzkv(['put', '-d', dir, k, `value of ${k}, long enough`])).exitCode).toBe(0);
    const segment = readdirSync(dir).find((n) => n.endsWith('.tzds'))!;
    const bytes = readFileSync(join(dir, segment));
    bytes[bytes.indexOf('value of a') + 3] ^= 0x01;
    writeFileSync(join(dir, segment), bytes);
    const server = await launch(['-d', dir, '--port', '0', '--http-port', '0', '--json']);
    const port = String(server.port());
    const damage = `${segment} offset 16: CRC mismatch`;
    const getA = await respRun(port, 'get', 'a');
    expect(getA.stdout).toContain(`ERR key "a" cannot be read: its newest version may be in damaged data at ${damage}`);
    expect(getA.stdout).toContain('tzkv verify --repair');
    expect((await respRun(port, 'get', 'b')).stdout).toBe('value of b, long enough');
    expect((await respRun(port, 'mget', 'b', 'c')).stdout).toBe('value of b, long enough\nvalue of c, long enough');
    expect((await respRun(port, 'set', 'd', 'x')).stdout).toMatch(new RegExp(`^ERR ${damage}.*refusing to write behind damaged data`));
    const http = await fetch(`${server.httpUrl()}/v1/kv/a`);
    expect(http.status).toBe(500);
    expect(await http.json()).toMatchObject({ error: 'CORRUPT', message: expect.stringContaining(damage) });
    expect(await (await fetch(`${server.httpUrl()}/v1/kv/c`)).text()).toBe('value of c, long enough');
    expect((await server.stop()).exitCode).toBe(0);
  });

  test('the default store (no -d) on a fresh HOME: exit 5 naming it, nothing created; --create starts it, and the CLI reads what the server wrote', async () => {
    const home = await tempDir();
    const env = { HOME: home };
    const dir = join(home, '.local', 'share', 'tzkv');
    const run = await tzkv(['serve', '--port', '0', '--no-http'], { env, timeout: 10_000 });
    expect(run.stderr).toBe(`tzkv: no tzkv store at ${dir}: the directory does not exist (tzkv serve --create starts one)\n`);
    expect(run.exitCode).toBe(5);
    expect(existsSync(join(home, '.local'))).toBe(false);
    const server = await launch(['--create', '--port', '0', '--no-http', '--json'], env);
    expect(server.listening().store).toBe(dir);
    expect((await respRun(String(server.port()), 'set', 'first', 'write')).stdout).toBe('OK');
    expect((await server.stop()).exitCode).toBe(0);
    expect(await tzkv(['get', 'first'], { env })).toMatchObject({ exitCode: 0, stdout: 'write' });
  });
});

describe('tzkv serve logs', () => {
  test('text: "listening" naming both addresses and the store, then on SIGINT "stopping" and "stopped"; exit 0, nothing on stdout', async () => {
    const dir = await cliStore();
    const server = await launch(['-d', dir, '--port', '0', '--http-port', '0']);
    expect(server.lines[0]).toMatch(new RegExp(`^tzkv serve: listening redis 127\\.0\\.0\\.1:\\d+, http 127\\.0\\.0\\.1:\\d+ \\(store ${dir}\\)$`));
    const stopped = await server.stop('SIGINT');
    expect(stopped).toMatchObject({ exitCode: 0, stdout: '' });
    expect(stopped.log.slice(1)).toEqual([
      'tzkv serve: SIGINT: stopping (finishing requests in flight; a second signal exits at once)',
      'tzkv serve: stopped: every acknowledged write is in the store',
    ]);
  });

  test.each(['SIGTERM', 'SIGINT', 'SIGHUP'] as const)('--json, stopped by %s: every line a JSON object, "listening" first, "stopping" and "stopped" last; exit 0, nothing on stdout', async (signal) => {
    const dir = await cliStore();
    const socket = join(await tempDir(), 'tzkv.sock');
    const server = await launch(['-d', dir, '--port', '0', '--http-port', '0', '--unix', socket, '--json']);
    const stopped = await server.stop(signal);
    expect(stopped).toMatchObject({ exitCode: 0, stdout: '' });
    const log = jsonLog(stopped.log);
    expect(log.map((e) => e.event)).toEqual(['listening', 'stopping', 'stopped']);
    expect(log[0]).toMatchObject({ level: 'info', redis: expect.stringMatching(/^127\.0\.0\.1:\d+$/), http: expect.stringMatching(/^127\.0\.0\.1:\d+$/), unix: socket, store: dir });
    expect(log[1]).toMatchObject({ level: 'info', signal });
  });

  test('--bind 0.0.0.0 without a password: "listening" first, then a warning; with a password, no warning', async () => {
    const dir = await cliStore();
    const open = await launch(['-d', dir, '--bind', '0.0.0.0', '--port', '0', '--no-http', '--json']);
    const log = jsonLog((await open.stop()).log);
    expect(log.map((e) => `${e.level} ${e.event}`)).toEqual(['info listening', 'warn no-password', 'info stopping', 'info stopped']);
    expect(log[0]!.redis).toMatch(/^0\.0\.0\.0:\d+$/);
    expect(log[1]!.message).toMatch(/^listening on 0\.0\.0\.0 with no password: anyone who can reach this machine can read and write every key/);
    const closed = await launch(['-d', dir, '--bind', '0.0.0.0', '--port', '0', '--no-http', '--json'], { TZKV_PASSWORD: 'pw' });
    expect(jsonLog((await closed.stop()).log).map((e) => e.event)).toEqual(['listening', 'stopping', 'stopped']);
  });

  test('--json on a store directory others may write to: the warning is a JSON line too, after "listening"', async () => {
    const dir = await cliStore();
    chmodSync(dir, 0o777);
    const server = await launch(['-d', dir, '--port', '0', '--no-http', '--json']);
    chmodSync(dir, 0o700);
    const log = jsonLog((await server.stop()).log);
    expect(log.map((e) => `${e.level} ${e.event}`)).toEqual(['info listening', 'warn store-warning', 'info stopping', 'info stopped']);
    expect(log[1]!.message).toContain(`store directory ${dir} is writable by group and others (mode 0777)`);
  });

  test('a second SIGINT while stopping (an HTTP request still sending its body) exits 1 at once, saying so', async () => {
    const server = await launch(['-d', await cliStore(), '--port', '0', '--http-port', '0', '--json']);
    const [host, port] = String(server.listening().http).split(':');
    const slow = connect(Number(port), host);
    slow.on('error', () => undefined);
    await new Promise((r) => slow.once('connect', r));
    slow.write('PUT /v1/kv/slow HTTP/1.1\r\nHost: x\r\nContent-Length: 10\r\n\r\nabc');
    await new Promise((r) => setTimeout(r, 100));
    server.child.kill('SIGINT');
    await new Promise((r) => setTimeout(r, 300));
    expect(server.child.exitCode).toBeNull(); // still waiting for the request
    const stopped = await server.stop('SIGINT');
    slow.destroy();
    expect(stopped.exitCode).toBe(1);
    expect(jsonLog(stopped.log).map((e) => `${e.level} ${e.event}`)).toEqual(['info listening', 'info stopping', 'error killed']);
  });
});

describe('tzkv serve with a password', () => {
  needsServer(redisCli);

  test('TZKV_PASSWORD: redis-cli -a and curl with a bearer token get in; no password or a wrong one is refused', async () => {
    const dir = await cliStore();
    const server = await launch(['-d', dir, '--port', '0', '--http-port', '0', '--json'], { TZKV_PASSWORD: 'env-secret' });
    const port = String(server.port());
    expect((await redisCliRun(['-p', port, 'get', 'made-by'])).stdout).toBe('NOAUTH Authentication required.');
    // As with redis-server: redis-cli says AUTH failed on stderr, then sends the command anyway.
    expect(await redisCliRun(['-p', port, '--no-auth-warning', '-a', 'wrong', 'get', 'made-by'])).toMatchObject({ stdout: 'NOAUTH Authentication required.', stderr: expect.stringMatching(/^AUTH failed: WRONGPASS/) });
    expect((await redisCliRun(['-p', port, '--no-auth-warning', '-a', 'env-secret', 'get', 'made-by'])).stdout).toBe('cli');
    const url = `${server.httpUrl()}/v1/kv/made-by`;
    expect((await curl([url])).status).toBe(401);
    expect((await curl(['-H', 'Authorization: Bearer wrong', url])).status).toBe(401);
    expect(await curl(['-H', 'Authorization: Bearer env-secret', url])).toEqual({ status: 200, body: 'cli' });
    expect(await curl(['-H', 'Authorization: Bearer env-secret', '-X', 'PUT', '--data-binary', 'web', `${server.httpUrl()}/v1/kv/new`])).toMatchObject({ status: 201 });
    expect((await tzkv(['get', '-d', dir, 'new'])).stdout).toBe('web');
    expect((await server.stop()).exitCode).toBe(0);
  });

  test('--requirepass wins over TZKV_PASSWORD', async () => {
    const server = await launch(['-d', await cliStore(), '--port', '0', '--no-http', '--requirepass', 'flag-secret', '--json'], { TZKV_PASSWORD: 'env-secret' });
    const port = String(server.port());
    expect((await redisCliRun(['-p', port, '--no-auth-warning', '-a', 'env-secret', 'ping'])).stderr).toMatch(/^AUTH failed: WRONGPASS/);
    expect((await redisCliRun(['-p', port, '--no-auth-warning', '-a', 'flag-secret', 'ping'])).stdout).toBe('PONG');
    expect((await server.stop()).exitCode).toBe(0);
  });
});

describe('tzkv serve over TLS', () => {
  needsServer(openssl);
  needsServer(redisCli);

  test('redis-cli --tls and curl over https reach it; plain TCP does not', async () => {
    const { cert, key } = await certificate(await tempDir());
    const server = await launch(['-d', await cliStore(), '--port', '0', '--http-port', '0', '--tls-cert', cert, '--tls-key', key, '--json']);
    expect(server.listening().tls).toBe(true);
    const port = String(server.port());
    expect((await redisCliRun(['--tls', '--insecure', '-p', port, 'ping'])).stdout).toBe('PONG');
    expect((await redisCliRun(['--tls', '--cacert', cert, '-h', '127.0.0.1', '-p', port, 'set', 'secure', 'yes'])).stdout).toBe('OK');
    expect((await redisCliRun(['-p', port, 'ping'])).stdout).not.toBe('PONG');
    expect(await curl(['-k', `${server.httpUrl('https')}/v1/kv/secure`])).toEqual({ status: 200, body: 'yes' });
    expect(await curl(['--cacert', cert, `${server.httpUrl('https')}/healthz`])).toMatchObject({ status: 200 });
    expect((await curl([`${server.httpUrl('http')}/healthz`])).status).not.toBe(200);
    expect((await server.stop()).exitCode).toBe(0);
  });

  test('a file that is not PEM, or a key that is not the certificate\'s: exit 2 naming the flag and the file, nothing created', async () => {
    const tmp = await tempDir();
    for (const name of ['one', 'two']) mkdirSync(join(tmp, name));
    const [one, two] = await Promise.all([certificate(join(tmp, 'one')), certificate(join(tmp, 'two'))]);
    const junk = join(tmp, 'junk.pem');
    writeFileSync(junk, 'not a certificate\n');
    const dir = join(tmp, 'store');
    const cases: Array<[string, string, RegExp]> = [
      [junk, one.key, new RegExp(`^tzkv: invalid --tls-cert ${junk}: not a PEM certificate`)],
      [one.cert, junk, new RegExp(`^tzkv: invalid --tls-key ${junk}: not a PEM private key`)],
      [one.cert, two.key, new RegExp(`^tzkv: invalid --tls-key ${two.key}: it is not the key of --tls-cert ${one.cert}`)],
    ];
    for (const [cert, key, message] of cases) {
      const run = await tzkv(['serve', '-d', dir, '--create', '--port', '0', '--http-port', '0', '--tls-cert', cert, '--tls-key', key], { timeout: 10_000 });
      expect(run.stderr).toMatch(message);
      expect(run.exitCode).toBe(2);
      expectNoStack(run);
    }
    expect(existsSync(dir)).toBe(false);
  });
});

describe('tzkv serve on a Unix socket', () => {
  needsServer(redisCli);

  test('redis-cli -s reaches it, with TCP beside it; the socket file is removed at stop, and one left by a killed server is replaced', async () => {
    const dir = await cliStore();
    const socket = join(await tempDir(), 'tzkv.sock');
    const server = await launch(['-d', dir, '--port', '0', '--no-http', '--unix', socket, '--json']);
    expect(server.listening().unix).toBe(socket);
    expect((await redisCliRun(['-s', socket, 'ping'])).stdout).toBe('PONG');
    expect((await redisCliRun(['-s', socket, 'set', 'via', 'socket'])).stdout).toBe('OK');
    expect((await redisCliRun(['-p', String(server.port()), 'get', 'via'])).stdout).toBe('socket');
    expect((await server.stop()).exitCode).toBe(0);
    expect(existsSync(socket)).toBe(false);

    const first = await launch(['-d', dir, '--port', '0', '--no-http', '--unix', socket, '--json']);
    await first.stop('SIGKILL');
    expect(statSync(socket).isSocket()).toBe(true);
    const second = await launch(['-d', dir, '--port', '0', '--no-http', '--unix', socket, '--json']);
    expect((await redisCliRun(['-s', socket, 'get', 'via'])).stdout).toBe('socket');
    expect((await second.stop()).exitCode).toBe(0);
    expect(existsSync(socket)).toBe(false);
  });
});

describe('tzkv serve on an etcd store', () => {
  needsServer(etcd);
  needsServer(redisCli);

  test('redis-cli SET GET INCR EXPIRE TTL SCAN and HTTP PUT/GET; the CLI on the same address sees the server\'s writes, and the server the CLI\'s', async () => {
    const cluster = await startEtcd(1);
    try {
      const url = cluster.url('served');
      const server = await launch(['-d', url, '--port', '0', '--http-port', '0', '--json']);
      expect(server.listening().store).toBe(url);
      const cli = (...args: string[]) => redisCliRun(['-p', String(server.port()), ...args]);
      expect((await cli('set', 'user:1', 'ada')).stdout).toBe('OK');
      expect((await cli('get', 'user:1')).stdout).toBe('ada');
      expect((await cli('incr', 'visits')).stdout).toBe('1');
      expect((await cli('incrby', 'visits', '41')).stdout).toBe('42');
      expect((await cli('expire', 'user:1', '100')).stdout).toBe('1');
      expect(Number((await cli('ttl', 'user:1')).stdout)).toBeGreaterThanOrEqual(99);
      expect((await cli('ttl', 'visits')).stdout).toBe('-1');
      expect((await cli('set', 'user:2', 'bob')).stdout).toBe('OK');
      expect((await cli('scan', '0', 'match', 'user:*', 'count', '100')).stdout).toBe('0\nuser:1\nuser:2');
      expect((await fetch(`${server.httpUrl()}/v1/kv/page`, { method: 'PUT', body: 'from http' })).status).toBe(201);
      expect(await (await fetch(`${server.httpUrl()}/v1/kv/user:2`)).text()).toBe('bob');
      expect(await tzkv(['get', '-d', url, 'page'])).toMatchObject({ exitCode: 0, stdout: 'from http' });
      expect(await tzkv(['get', '-d', url, 'visits'])).toMatchObject({ exitCode: 0, stdout: '42' });
      expect((await tzkv(['put', '-d', url, 'from-cli', 'yes'])).exitCode).toBe(0);
      expect((await cli('get', 'from-cli')).stdout).toBe('yes');
      expect((await server.stop()).exitCode).toBe(0);
    } finally {
      await cluster.stop();
    }
  });

  test('an etcd address no member answers: exit 5 before listening, naming it', async () => {
    // A port nobody listens on: one the OS gave and took back.
    const probe = await new Promise<number>((resolve) => {
      const listener = createServer().listen(0, '127.0.0.1', () => {
        const { port } = listener.address() as AddressInfo;
        listener.close(() => resolve(port));
      });
    });
    const url = `etcd://127.0.0.1:${probe}/nobody`;
    const run = await tzkv(['serve', '-d', url, '--port', '0', '--no-http', '--etcd-timeout', '1s'], { timeout: 15_000 });
    expect(run.stderr).toMatch(/^tzkv: no etcd member answered within 1000 ms/);
    expect(run.stderr).toContain(`127.0.0.1:${probe}`);
    expect(run.stderr).not.toMatch(/listening/);
    expect(run.exitCode).toBe(5);
  });
});

describe('tzkv serve --help', () => {
  test('shows the flags and examples; tzkv --help lists serve', async () => {
    const help = await tzkv(['serve', '--help']);
    expect(help.exitCode).toBe(0);
    expect(help.stdout).toMatch(/\nEXAMPLES\n\s+\$ tzkv serve /);
    for (const flag of ['--port=PORT', '--http-port=PORT', '--bind=ADDRESS', '--unix=PATH', '--requirepass=PASSWORD', '--tls-cert=FILE', '--sync=MODE', '--cache=SIZE', '--create', '--json']) {
      expect(help.stdout).toContain(flag);
    }
    expect(help.stdout).toMatch(/--json\s+Log as JSON Lines on stderr/);
    expect((await tzkv(['--help'])).stdout).toMatch(/^\s+serve\s+Serve the store over the Redis protocol and an HTTP\/JSON API/m);
  });
});

describe('serve(store, options), embedded', () => {
  test('serves an open store to ioredis and fetch; close() resolves, then the store closes and keeps what was written', async () => {
    const dir = await storeDir();
    const store = await open(dir);
    const log: ServeLogEntry[] = [];
    const server = await serve(store, { redis: { host: '127.0.0.1', port: 0 }, http: { host: '127.0.0.1', port: 0 }, log: (e) => log.push(e) });
    expect(log.map((e) => e.event)).toEqual(['listening']);
    const redis = new Redis({ port: Number(server.redis!.split(':')[1]), lazyConnect: true });
    await redis.connect();
    expect(await redis.set('embedded', 'yes')).toBe('OK');
    expect(await (await fetch(`http://${server.http}/v1/kv/embedded`)).text()).toBe('yes');
    redis.disconnect();
    await expect(server.close()).resolves.toBeUndefined();
    await store.close();
    expect(await tzkv(['get', '-d', dir, 'embedded'])).toMatchObject({ exitCode: 0, stdout: 'yes' });
  });

  test('a background fsync that fails (--sync batch-ms) is logged as an error, and later writes are refused', async () => {
    const dir = await storeDir();
    const store = await open(dir, { sync: false });
    let failSync = true;
    const failing = new Proxy(store, {
      get: (target, name) => (name === 'sync' && failSync ? () => Promise.reject(new Error('EIO: i/o error, fsync')) : Reflect.get(target, name, target)),
    }) as Store;
    const log: ServeLogEntry[] = [];
    const server = await serve(failing, { redis: { host: '127.0.0.1', port: 0 }, http: null, sync: { kind: 'batch', ms: 5 }, log: (e) => log.push(e) });
    const redis = new Redis({ port: Number(server.redis!.split(':')[1]), lazyConnect: true });
    await redis.connect();
    expect(await redis.set('k', 'v')).toBe('OK');
    const deadline = Date.now() + 5_000;
    while (!log.some((e) => e.level === 'error') && Date.now() < deadline) await new Promise((r) => setTimeout(r, 10));
    const error = log.find((e) => e.level === 'error');
    expect(error).toMatchObject({ event: 'sync-failed' });
    expect(error!.message).toMatch(/a background fsync of the store failed \(EIO: i\/o error, fsync\)/);
    await expect(redis.set('k2', 'v')).rejects.toThrow(/no more writes are taken/);
    redis.disconnect();
    failSync = false;
    await server.close();
    await store.close();
  });
});
