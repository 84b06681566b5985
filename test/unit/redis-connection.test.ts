// A Redis connection served by an in-process listener, through raw sockets:
// pipelining, order, MULTI/EXEC, AUTH, HELLO 3, errors, limits. The expected
// bytes are what redis-server 7.0.15 answers to the same requests.
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import tls from 'node:tls';
import { describe, expect, it } from 'vitest';
import { open } from '../../src/index.js';
import { openServedStore } from '../../src/serve/core/served-store.js';
import { Metrics } from '../../src/serve/metrics.js';
import { commandTable } from '../../src/serve/redis/command-table.js';
import { connectionCommands } from '../../src/serve/redis/connection-commands.js';
import { keyCommands } from '../../src/serve/redis/key-commands.js';
import { stringCommands } from '../../src/serve/redis/string-commands.js';
import { parsePrometheusText, sampleValue } from '../helpers/prometheus-text.js';
import { frame, RawConnection } from '../helpers/raw-resp.js';
import { replies, rest, startTestServer, text, write } from '../helpers/redis-test-server.js';

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));
const bulk = (text: string): string => `$${Buffer.byteLength(text, 'latin1')}\r\n${text}\r\n`;

function helloReply(protocol: 2 | 3, id: number): string {
  const fields = [bulk('server'), bulk('redis'), bulk('version'), bulk('7.0.0'), bulk('proto'), `:${protocol}\r\n`, bulk('id'), `:${id}\r\n`, bulk('mode'), bulk('standalone'), bulk('role'), bulk('master'), bulk('modules'), '*0\r\n'];
  return `${protocol === 3 ? '%7' : '*14'}\r\n${fields.join('')}`;
}

describe('pipelining', () => {
  it('answers 10,000 commands sent in one write, in order, though some wait', async () => {
    const server = await startTestServer();
    const client = await server.connect();
    const commands: Buffer[] = [];
    const expected: string[] = [];
    for (let i = 0; i < 10_000; i++) {
      const kind = i % 5;
      if (kind === 0) {
        commands.push(frame('SET', `k${i}`, `v${i}`));
        expected.push('+OK\r\n');
      } else if (kind === 1) {
        commands.push(frame('GET', `k${i - 1}`));
        expected.push(bulk(`v${i - 1}`));
      } else if (kind === 2) {
        commands.push(Buffer.from(`ECHO "e ${i}"\r\n`));
        expected.push(bulk(`e ${i}`));
      } else if (kind === 3) {
        commands.push(Buffer.from(i % 1000 === 3 ? 'SLOW 20\r\n' : 'PING\r\n'));
        expected.push(i % 1000 === 3 ? '+OK\r\n' : '+PONG\r\n');
      } else {
        commands.push(frame('INCR', 'counter'));
        expected.push(`:${(i + 1) / 5}\r\n`);
      }
    }
    write(client, Buffer.concat(commands));
    expect(await replies(client, 10_000)).toEqual(expected);
  });

  it('starts the reads that follow one another together, so they share one look at the store; reads after a write join its commit instead', async () => {
    const server = await startTestServer();
    const client = await server.connect();
    await client.send(['SET', 'k', 'v']);
    const before = server.store.readRuns;
    const gets = Array.from({ length: 16 }, () => frame('GET', 'k'));
    write(client, Buffer.concat(gets));
    expect(await replies(client, 16)).toEqual(Array(16).fill(bulk('v')));
    expect(server.store.readRuns - before).toBe(1);
    const mixed = Buffer.concat([frame('GET', 'm'), frame('GET', 'm'), frame('SET', 'm', '1'), frame('GET', 'm'), frame('GET', 'k')]);
    write(client, mixed);
    expect(await replies(client, 5)).toEqual(['$-1\r\n', '$-1\r\n', '+OK\r\n', bulk('1'), bulk('v')]);
    // The two GETs before the SET share one look; the two after it read inside the SET's commit, after its write.
    expect(server.store.readRuns - before).toBe(2);
  });

  it('starts the writes that follow one another together: 500 pipelined SETs and INCRs of one client share a few commits, in order', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'tzkv-pipelined-writes-'));
    const store = await open(dir);
    const served = openServedStore(store, { sync: { kind: 'always' }, cacheBytes: 1 << 20 });
    try {
      const server = await startTestServer({ store: served, commands: commandTable(connectionCommands, stringCommands, keyCommands) });
      const client = await server.connect();
      const commands: Buffer[] = [];
      const expected: string[] = [];
      for (let i = 0; i < 250; i++) {
        commands.push(frame('SET', `k${i}`, `v${i}`), frame('INCR', 'n'));
        expected.push('+OK\r\n', `:${i + 1}\r\n`);
      }
      commands.push(frame('GET', 'k249'), frame('GET', 'n'));
      expected.push(bulk('v249'), bulk('250'));
      write(client, Buffer.concat(commands));
      expect(await replies(client, 502)).toEqual(expected);
      // One commit per write had been 500; READ_BATCH (64) writes at most start together. The two GETs after them are units of the last commit.
      expect(served.counters.commits).toBeLessThanOrEqual(20);
      expect(served.counters.writes).toBe(502);
    } finally {
      await served.close();
      await store.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('stops running commands while the client does not read its replies', async () => {
    const server = await startTestServer();
    const client = await server.connect();
    const value = 'x'.repeat(1 << 20);
    expect(text(await client.send(['SET', 'big', value]))).toBe('+OK\r\n');
    client.pause();
    const before = server.listener.state.totalCommands();
    write(client, Buffer.concat(Array.from({ length: 200 }, () => frame('GET', 'big'))));
    await sleep(300);
    expect(server.listener.state.totalCommands() - before).toBeLessThan(100);
    client.resume();
    for (let i = 0; i < 200; i++) expect((await replies(client, 1))[0] === bulk(value), `reply ${i}`).toBe(true);
  });
});

describe('errors', () => {
  it('answers an unknown command with Redis 7 text, the connection stays', async () => {
    const client = await (await startTestServer()).connect();
    write(client, 'FOO a b\r\n');
    write(client, '*1\r\n$1\r\n\u0000\r\n');
    write(client, `FOO ${'a'.repeat(100)} ${'b'.repeat(100)} c\r\n`);
    write(client, `${'F'.repeat(200)}\r\n`);
    write(client, Buffer.from('FOO a\u00e9b\r\n'));
    expect(await replies(client, 5)).toEqual([
      "-ERR unknown command 'FOO', with args beginning with: 'a' 'b' \r\n",
      "-ERR unknown command '', with args beginning with: \r\n",
      `-ERR unknown command 'FOO', with args beginning with: '${'a'.repeat(100)}' '${'b'.repeat(25)}' \r\n`,
      `-ERR unknown command '${'F'.repeat(128)}', with args beginning with: \r\n`,
      "-ERR unknown command 'FOO', with args beginning with: 'a\u00c3\u00a9b' \r\n",
    ]);
    expect(text(await client.send(['PING']))).toBe('+PONG\r\n');
  });

  it('checks arity, case-insensitively named', async () => {
    const client = await (await startTestServer()).connect();
    write(client, 'GET\r\nget a b\r\nPING a b\r\nEcHo\r\nQUIT x\r\n');
    expect(await replies(client, 5)).toEqual([
      "-ERR wrong number of arguments for 'get' command\r\n",
      "-ERR wrong number of arguments for 'get' command\r\n",
      "-ERR wrong number of arguments for 'ping' command\r\n",
      "-ERR wrong number of arguments for 'echo' command\r\n",
      '+OK\r\n',
    ]);
    await client.closedByServer();
  });

  it('answers the commands before a protocol error, then the error, then closes', async () => {
    const server = await startTestServer();
    const client = await server.connect();
    write(client, 'PING\r\n*1\r\n$-1\r\nPING\r\n');
    expect(await rest(client)).toEqual({ data: '+PONG\r\n-ERR Protocol error: invalid bulk length\r\n', closed: true });
    expect(text(await (await server.connect()).send(['PING']))).toBe('+PONG\r\n');
  });

  it('turns a TzkvError into ERR and anything else into ERR internal error, told to onError', async () => {
    const server = await startTestServer();
    const client = await server.connect();
    write(client, 'TZKVFAIL\r\nBOOM\r\nBADREPLY\r\nPING\r\n');
    expect(await replies(client, 4)).toEqual(['-ERR key must not be empty\r\n', '-ERR internal error\r\n', '-ERR internal error\r\n', '+PONG\r\n']);
    expect(server.errors.map((error) => (error as Error).message)).toEqual(['boom', 'an integer reply must be a safe integer, got 1.5']);
    expect(server.calls.map(([name, micros, ok]) => [name, micros >= 0, ok])).toEqual([
      ['tzkvfail', true, false],
      ['boom', true, false],
      ['badreply', true, true],
      ['ping', true, true],
    ]);
  });
});

describe('commandTable', () => {
  it('joins the groups of commands by name, and refuses a name given twice or not in lower case', () => {
    const table = commandTable(connectionCommands, stringCommands, keyCommands);
    expect(table.size).toBe(connectionCommands.length + stringCommands.length + keyCommands.length);
    expect(table.get('exec')?.name).toBe('exec');
    expect(() => commandTable(connectionCommands, [connectionCommands[0]!])).toThrow("Redis command 'ping' is in the table twice");
    expect(() => commandTable([{ ...connectionCommands[0]!, name: 'Ping' }])).toThrow("Redis command name 'Ping' is not lower case");
  });
});

describe('metrics', () => {
  it('counts the commands by name and outcome, the connections and the bytes, as the redis protocol', async () => {
    const metrics = new Metrics();
    const server = await startTestServer({ metrics });
    const client = await server.connect();
    const request = 'PING\r\nPING\r\nGET k\r\nGET\r\nNOSUCH\r\n';
    write(client, request);
    const answered = (await replies(client, 5)).join('');
    const now = parsePrometheusText(metrics.render(server.store.counters));
    const requests = (command: string, status: string) => sampleValue(now, 'tzkv_requests_total', { protocol: 'redis', command, status });
    expect([requests('ping', 'ok'), requests('get', 'ok'), requests('get', 'error'), requests('nosuch', 'error')]).toEqual([2, 1, 1, undefined]);
    expect(sampleValue(now, 'tzkv_connected_clients', { protocol: 'redis' })).toBe(1);
    expect(sampleValue(now, 'tzkv_received_bytes_total', { protocol: 'redis' })).toBe(request.length);
    expect(sampleValue(now, 'tzkv_sent_bytes_total', { protocol: 'redis' })).toBe(answered.length);
    client.close();
    await sleep(50);
    const after = parsePrometheusText(metrics.render(server.store.counters));
    expect(sampleValue(after, 'tzkv_connected_clients', { protocol: 'redis' })).toBe(0);
    expect(sampleValue(after, 'tzkv_connections_total', { protocol: 'redis' })).toBe(1);
  });
});

describe('MULTI/EXEC', () => {
  it('queues commands and runs them as one unit, a runtime error as an element', async () => {
    const server = await startTestServer();
    const client = await server.connect();
    const other = await server.connect();
    write(client, 'MULTI\r\nSET a 1\r\nINCR a\r\nSET s x\r\nINCR s\r\nSLOW 200\r\nGET a\r\nEXEC\r\n');
    expect(await replies(client, 7)).toEqual(['+OK\r\n', ...Array(6).fill('+QUEUED\r\n')]);
    await sleep(100);
    expect(text(await other.send(['GET', 'a']))).toBe('$-1\r\n');
    expect(await replies(client, 1)).toEqual(['*6\r\n+OK\r\n:2\r\n+OK\r\n-ERR value is not an integer or out of range\r\n+OK\r\n$1\r\n2\r\n']);
    expect(text(await other.send(['GET', 'a']))).toBe('$1\r\n2\r\n');
  });

  it('refuses the whole EXEC after a command was refused while queued', async () => {
    const server = await startTestServer();
    const client = await server.connect();
    write(client, 'MULTI\r\nSET a 1\r\nFOO\r\nEXEC\r\nMULTI\r\nGET\r\nEXEC\r\nGET a\r\n');
    expect(await replies(client, 8)).toEqual([
      '+OK\r\n',
      '+QUEUED\r\n',
      "-ERR unknown command 'FOO', with args beginning with: \r\n",
      '-EXECABORT Transaction discarded because of previous errors.\r\n',
      '+OK\r\n',
      "-ERR wrong number of arguments for 'get' command\r\n",
      '-EXECABORT Transaction discarded because of previous errors.\r\n',
      '$-1\r\n',
    ]);
  });

  it('answers MULTI nested, EXEC and DISCARD without MULTI, DISCARD, an empty EXEC, QUIT inside MULTI', async () => {
    const client = await (await startTestServer()).connect();
    write(client, 'MULTI\r\nMULTI\r\nPING\r\nEXEC\r\nEXEC\r\nDISCARD\r\nMULTI\r\nSET a 1\r\nDISCARD\r\nGET a\r\nMULTI\r\nEXEC\r\nMULTI\r\nQUIT\r\n');
    expect(await rest(client)).toEqual({
      data: '+OK\r\n-ERR MULTI calls can not be nested\r\n+QUEUED\r\n*1\r\n+PONG\r\n-ERR EXEC without MULTI\r\n-ERR DISCARD without MULTI\r\n+OK\r\n+QUEUED\r\n+OK\r\n$-1\r\n+OK\r\n*0\r\n+OK\r\n+OK\r\n',
      closed: true,
    });
  });

  it('runs nothing when a WATCHed key changed, and runs after UNWATCH', async () => {
    const server = await startTestServer();
    const client = await server.connect();
    const other = await server.connect();
    expect(text(await client.send(['WATCH', 'w', 'v']))).toBe('+OK\r\n');
    expect(text(await other.send(['SET', 'w', 'changed']))).toBe('+OK\r\n');
    write(client, 'MULTI\r\nSET w mine\r\nEXEC\r\nGET w\r\n');
    expect(await replies(client, 4)).toEqual(['+OK\r\n', '+QUEUED\r\n', '*-1\r\n', bulk('changed')]);
    write(client, 'WATCH w\r\nMULTI\r\nWATCH x\r\nSET w mine\r\nEXEC\r\n');
    expect(await replies(client, 5)).toEqual(['+OK\r\n', '+OK\r\n', '-ERR WATCH inside MULTI is not allowed\r\n', '+QUEUED\r\n', '*1\r\n+OK\r\n']);
    write(client, 'WATCH w\r\nUNWATCH\r\n');
    await replies(client, 2);
    text(await other.send(['SET', 'w', 'again']));
    write(client, 'HELLO 3\r\nMULTI\r\nSET w mine\r\nEXEC\r\n');
    expect((await replies(client, 4)).slice(1)).toEqual(['+OK\r\n', '+QUEUED\r\n', '*1\r\n+OK\r\n']);
    write(client, 'WATCH w\r\n');
    await replies(client, 1);
    text(await other.send(['SET', 'w', 'again']));
    write(client, 'MULTI\r\nEXEC\r\n');
    expect(await replies(client, 2)).toEqual(['+OK\r\n', '_\r\n']);
  });
});

describe('AUTH', () => {
  it('asks for AUTH before anything but AUTH, HELLO and QUIT, after the checks of name and arity', async () => {
    const server = await startTestServer({ password: 'sekrit' });
    const client = await server.connect();
    write(client, 'GET a\r\nPING\r\nFOO\r\nGET\r\nMULTI\r\nCLIENT ID\r\nHELLO 3\r\nAUTH x\r\nAUTH default x\r\nAUTH a b c\r\nPING\r\nAUTH sekrit\r\nPING\r\nAUTH x\r\nPING\r\n');
    expect(await replies(client, 15)).toEqual([
      '-NOAUTH Authentication required.\r\n',
      '-NOAUTH Authentication required.\r\n',
      "-ERR unknown command 'FOO', with args beginning with: \r\n",
      "-ERR wrong number of arguments for 'get' command\r\n",
      '-NOAUTH Authentication required.\r\n',
      '-NOAUTH Authentication required.\r\n',
      '-NOAUTH HELLO must be called with the client already authenticated, otherwise the HELLO AUTH <user> <pass> option can be used to authenticate the client and select the RESP protocol version at the same time\r\n',
      '-WRONGPASS invalid username-password pair or user is disabled.\r\n',
      '-WRONGPASS invalid username-password pair or user is disabled.\r\n',
      '-ERR syntax error\r\n',
      '-NOAUTH Authentication required.\r\n',
      '+OK\r\n',
      '+PONG\r\n',
      '-WRONGPASS invalid username-password pair or user is disabled.\r\n',
      '+PONG\r\n',
    ]);
  });

  it('authenticates and switches protocol in one HELLO', async () => {
    const server = await startTestServer({ password: 'sekrit' });
    const client = await server.connect();
    write(client, 'HELLO 3 AUTH default nope\r\nHELLO 3 AUTH default sekrit\r\nPING\r\n');
    const answers = await replies(client, 3);
    expect(answers[0]).toBe('-WRONGPASS invalid username-password pair or user is disabled.\r\n');
    expect(answers[1]).toBe(helloReply(3, [...server.listener.state.clients!()][0]!.id));
    expect(answers[2]).toBe('+PONG\r\n');
  });

  it('closes a connection that has not authenticated and announces a large frame', async () => {
    const server = await startTestServer({ password: 'sekrit' });
    const client = await server.connect();
    write(client, '*11\r\n');
    expect(await rest(client)).toEqual({ data: '-ERR Protocol error: unauthenticated multibulk length\r\n', closed: true });
    const second = await server.connect();
    write(second, 'AUTH sekrit\r\n*11\r\n');
    expect(await replies(second, 1)).toEqual(['+OK\r\n']);
    write(second, `${'$1\r\na\r\n'.repeat(10)}$4\r\nPING\r\n`);
    expect(await replies(second, 1)).toEqual(["-ERR unknown command 'a', with args beginning with: 'a' 'a' 'a' 'a' 'a' 'a' 'a' 'a' 'a' 'PING' \r\n"]);
  });

  it('without a password, AUTH of the default user holds and AUTH <password> says no password is set', async () => {
    const client = await (await startTestServer()).connect();
    write(client, 'AUTH x\r\nAUTH default x\r\nAUTH foo x\r\n');
    expect(await replies(client, 3)).toEqual([
      '-ERR AUTH <password> called without any password configured for the default user. Are you sure your configuration is correct?\r\n',
      '+OK\r\n',
      '-WRONGPASS invalid username-password pair or user is disabled.\r\n',
    ]);
  });
});

describe('HELLO', () => {
  it('switches the encoding of the replies to RESP3 and back', async () => {
    const server = await startTestServer();
    const client = await server.connect();
    const id = Number((text(await client.send(['CLIENT', 'ID']))).slice(1, -2));
    write(client, 'HELLO 3\r\nGET nope\r\nCOMMAND INFO ping nope\r\nHELLO 2\r\nGET nope\r\nHELLO\r\n');
    expect(await replies(client, 6)).toEqual([
      helloReply(3, id),
      '_\r\n',
      '*2\r\n*10\r\n$4\r\nping\r\n:-1\r\n~1\r\n+fast\r\n:0\r\n:0\r\n:0\r\n~1\r\n+@fast\r\n~0\r\n~0\r\n~0\r\n_\r\n',
      helloReply(2, id),
      '$-1\r\n',
      helloReply(2, id),
    ]);
  });

  it('refuses other protocols and options, and sets the name', async () => {
    const client = await (await startTestServer()).connect();
    write(client, 'HELLO 4\r\nHELLO x\r\nHELLO 3 FOO\r\nHELLO 2 SETNAME "a b"\r\nHELLO 2 SETNAME conn1\r\nCLIENT GETNAME\r\n');
    const answers = await replies(client, 6);
    expect(answers.slice(0, 4)).toEqual([
      '-NOPROTO unsupported protocol version\r\n',
      '-ERR Protocol version is not an integer or out of range\r\n',
      "-ERR Syntax error in HELLO option 'FOO'\r\n",
      '-ERR Client names cannot contain spaces, newlines or special characters.\r\n',
    ]);
    expect(answers[5]).toBe(bulk('conn1'));
  });
});

describe('connection commands', () => {
  it('answers PING, ECHO, SELECT and CLIENT as Redis does', async () => {
    const client = await (await startTestServer()).connect();
    write(client, 'PING\r\nPING "hi there"\r\nECHO x\r\nSELECT 0\r\nSELECT 1\r\nSELECT x\r\n');
    write(client, 'CLIENT GETNAME\r\nCLIENT SETNAME app\r\nCLIENT GETNAME\r\nCLIENT SETNAME ""\r\nCLIENT GETNAME\r\nCLIENT FOO\r\nCLIENT SETNAME\r\nCLIENT SETINFO lib-name ioredis\r\nCLIENT SETINFO what x\r\n');
    expect(await replies(client, 15)).toEqual([
      '+PONG\r\n',
      bulk('hi there'),
      bulk('x'),
      '+OK\r\n',
      '-ERR DB index is out of range\r\n',
      '-ERR value is not an integer or out of range\r\n',
      '$-1\r\n',
      '+OK\r\n',
      bulk('app'),
      '+OK\r\n',
      '$-1\r\n',
      "-ERR unknown subcommand 'FOO'. Try CLIENT HELP.\r\n",
      "-ERR wrong number of arguments for 'client|setname' command\r\n",
      '+OK\r\n',
      "-ERR Unrecognized option 'what'\r\n",
    ]);
  });

  it('describes the clients in CLIENT INFO and CLIENT LIST', async () => {
    const server = await startTestServer();
    const client = await server.connect();
    const other = await server.connect();
    text(await other.send(['CLIENT', 'SETNAME', 'other']));
    const info = text(await client.send(['CLIENT', 'INFO']));
    expect(info).toMatch(/^\$\d+\r\nid=\d+ addr=127\.0\.0\.1:\d+ laddr=127\.0\.0\.1:\d+ fd=-1 name= age=0 idle=0 flags=N db=0 .* cmd=client user=default redir=-1 resp=2\n\r\n$/);
    const list = text(await client.send(['CLIENT', 'LIST']));
    expect(list.split('\n').filter((line) => line.includes('id='))).toHaveLength(2);
    expect(list).toContain(' name=other ');
  });

  it('describes its commands in COMMAND', async () => {
    const server = await startTestServer();
    const client = await server.connect();
    const count = server.listener.state.commands.size;
    write(client, 'COMMAND COUNT\r\nCOMMAND INFO get\r\nCOMMAND DOCS nope\r\nCOMMAND FOO\r\nCOMMAND LIST\r\nCOMMAND\r\nCOMMAND DOCS\r\n');
    const answers = await replies(client, 7);
    expect(answers.slice(0, 4)).toEqual([
      `:${count}\r\n`,
      '*1\r\n*10\r\n$3\r\nget\r\n:2\r\n*2\r\n+readonly\r\n+fast\r\n:1\r\n:1\r\n:1\r\n*2\r\n+@read\r\n+@fast\r\n*0\r\n*0\r\n*0\r\n',
      '*0\r\n',
      "-ERR unknown subcommand 'FOO'. Try COMMAND HELP.\r\n",
    ]);
    expect(answers[4]!.startsWith(`*${count}\r\n`)).toBe(true);
    expect(answers[4]).toContain(bulk('multi'));
    expect(answers[5]!.startsWith(`*${count}\r\n*10\r\n`)).toBe(true);
    expect(answers[6]!.startsWith(`*${count * 2}\r\n`)).toBe(true);
  });

  it('reports the store in INFO and DBSIZE', async () => {
    const server = await startTestServer({ version: '9.9.9' });
    const client = await server.connect();
    write(client, 'DBSIZE\r\nINFO keyspace\r\nSET a 1\r\nSET b 2\r\n');
    const answers = await replies(client, 4);
    // Sent apart from the SETs: GETs pipelined right after writes read inside their commit, not from the cache INFO counts.
    write(client, 'GET a\r\nGET nope\r\nDBSIZE\r\nINFO keyspace\r\nINFO nope\r\nINFO\r\nINFO stats server\r\n');
    answers.push(...(await replies(client, 7)));
    expect(answers.slice(0, 2)).toEqual([':0\r\n', bulk('# Keyspace\r\n')]);
    expect(answers.slice(6, 9)).toEqual([':2\r\n', bulk('# Keyspace\r\ndb0:keys=2,expires=0,avg_ttl=0\r\n'), '$0\r\n\r\n']);
    const all = answers[9]!;
    for (const line of ['# Server\r\n', 'redis_version:7.0.0\r\n', 'tzkv_version:9.9.9\r\n', '\r\n\r\n# Clients\r\nconnected_clients:1\r\n', '# Memory\r\nused_memory:', '# Persistence\r\nloading:0\r\n', 'keyspace_hits:1\r\nkeyspace_misses:1\r\n', '# Keyspace\r\ndb0:keys=2']) {
      expect(all).toContain(line);
    }
    expect(answers[10]).toMatch(/^\$\d+\r\n# Stats\r\n.*\r\n\r\n# Server\r\n/s);
  });
});

describe('limits and closing', () => {
  it('refuses clients past max clients with Redis text, and takes them again once one left', async () => {
    const server = await startTestServer({ maxClients: 2 });
    const first = await server.connect();
    const second = await server.connect();
    await Promise.all([first.send(['PING']), second.send(['PING'])]);
    const third = await server.connect();
    expect(await rest(third)).toEqual({ data: '-ERR max number of clients reached\r\n', closed: true });
    first.close();
    await sleep(50);
    expect(text(await (await server.connect()).send(['PING']))).toBe('+PONG\r\n');
  });

  it('closes a connection idle for the timeout, not one that keeps talking', async () => {
    const server = await startTestServer({ limits: { idleTimeoutMs: 200 } });
    const idle = await server.connect();
    const busy = await server.connect();
    const started = Date.now();
    for (let i = 0; i < 8; i++) {
      expect(text(await busy.send(['PING']))).toBe('+PONG\r\n');
      await sleep(60);
    }
    const { data, closed } = await rest(idle, 100);
    expect({ data, closed }).toEqual({ data: '', closed: true });
    expect(Date.now() - started).toBeGreaterThanOrEqual(400);
    expect(text(await busy.send(['SLOW', '300']))).toBe('+OK\r\n');
  });

  it('closes a connection that reads none of its replies for the timeout', async () => {
    const server = await startTestServer({ limits: { idleTimeoutMs: 300 } });
    const client = await server.connect();
    expect(text(await client.send(['SET', 'big', 'x'.repeat(1 << 20)]))).toBe('+OK\r\n');
    client.pause();
    write(client, Buffer.concat(Array.from({ length: 100 }, () => frame('GET', 'big'))));
    await sleep(1000);
    expect(server.listener.state.connectedClients()).toBe(0);
  });

  it('serves a client that half-closes after its commands', async () => {
    const client = await (await startTestServer()).connect();
    write(client, 'SLOW 50\r\nPING\r\n');
    client.endInput();
    expect(await rest(client)).toEqual({ data: '+OK\r\n+PONG\r\n', closed: true });
  });

  it('closes gracefully: the running command answers, then the connection ends and no new one is taken', async () => {
    const server = await startTestServer();
    const client = await server.connect();
    write(client, 'SLOW 200\r\n');
    await sleep(50);
    await server.listener.close();
    expect(await rest(client)).toEqual({ data: '+OK\r\n', closed: true });
    await expect(RawConnection.open(server.listener.port!)).rejects.toThrow(/ECONNREFUSED/);
  });

  it('serves TLS with the certificate given', async () => {
    const fixture = (name: string): Buffer => readFileSync(new URL(`../fixtures/tls/${name}`, import.meta.url));
    const server = await startTestServer({ tls: { cert: fixture('cert.pem'), key: fixture('key.pem') } });
    const socket = tls.connect({ port: server.listener.port!, host: '127.0.0.1', ca: fixture('cert.pem') });
    const reply = await new Promise<string>((resolve, reject) => {
      socket.once('secureConnect', () => socket.write('PING\r\n'));
      socket.once('data', (data: Buffer) => resolve(data.toString()));
      socket.once('error', reject);
    });
    socket.destroy();
    expect(reply).toBe('+PONG\r\n');
    const plain = await server.connect();
    write(plain, 'PING\r\n');
    expect((await rest(plain, 500)).data).not.toContain('PONG');
  });

  it('listens on a unix socket, replacing a stale socket file', async () => {
    const { mkdtempSync } = await import('node:fs');
    const { tmpdir } = await import('node:os');
    const { join } = await import('node:path');
    const path = join(mkdtempSync(join(tmpdir(), 'tzkv-redis-')), 'redis.sock');
    const first = await startTestServer({ port: null, path });
    expect(text(await (await first.connect()).send(['PING']))).toBe('+PONG\r\n');
    await expect(startTestServer({ port: null, path })).rejects.toThrow(`cannot listen on ${path}: the address is in use`);
    await first.listener.close();
    const second = await startTestServer({ port: null, path });
    expect(second.listener.address).toBeNull();
    expect(text(await (await second.connect()).send(['PING']))).toBe('+PONG\r\n');
  });
});
