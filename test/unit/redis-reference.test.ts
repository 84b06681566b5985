// The same raw bytes sent to tzkv's listener and to a real redis-server 7
// must get the same bytes back (connection ids and the version aside):
// protocol errors, inline splitting, unknown commands, arity, MULTI/EXEC,
// HELLO, AUTH, CLIENT. This is what proves the texts are Redis's, not our
// reading of them. Where tzkv differs on purpose (SELECT 1: one database;
// CLIENT SETINFO, which 7.0 lacks) there is no case.
import { beforeAll, describe, expect, it } from 'vitest';
import { RawConnection } from '../helpers/raw-resp.js';
import { rest, startTestServer, write } from '../helpers/redis-test-server.js';
import { startRedisServer } from '../helpers/redis-servers.js';
import { needsServer, redisServer } from '../helpers/servers.js';

const SENTINEL = '*2\r\n$4\r\nECHO\r\n$3\r\nEND\r\n';
const SENTINEL_REPLY = '$3\r\nEND\r\n';

/** What the server answers to `request` followed by ECHO END: up to END's reply, until it closes, or until it is quiet for 300 ms. */
async function exchange(port: number, request: string): Promise<string> {
  const client = await RawConnection.open(port);
  write(client, request + SENTINEL);
  let data = '';
  for (let quiet = 0; quiet < 12 && !data.endsWith(SENTINEL_REPLY); ) {
    const { data: more, closed } = await rest(client, 25);
    data += more;
    quiet = more === '' ? quiet + 1 : 0;
    if (closed) {
      data += '<closed>';
      break;
    }
  }
  client.close();
  return data.replace(/\$2\r\nid\r\n:\d+\r\n/g, '$2\r\nid\r\n:ID\r\n').replace(/\$\d+\r\n7\.0\.\d+\r\n/g, '$VERSION\r\n');
}

/** A test's name for a request: the request, shortened. */
function named(requests: string[]): Array<[string, string]> {
  return requests.map((request) => [request.length > 100 ? `${JSON.stringify(request.slice(0, 60))}... (${request.length} bytes)` : JSON.stringify(request), request]);
}

const CASES: string[] = [
  '*abc\r\n',
  '*01\r\n',
  '*1\r\n$-1\r\n',
  '*1\r\n$01\r\nx\r\n',
  '*1\r\n$1x\r\n',
  '*2\r\n$4\r\nPING\r\n:1\r\n',
  '*0\r\n*-1\r\n*1\r\n$4\r\nPINGxx*1\r\n$1\r\nxyzPING\r\n',
  'PING "a\r\n',
  'PING "a"b\r\n',
  "ECHO 'a\r\n",
  `PING ${'x'.repeat(70_000)}`,
  `*${'1'.repeat(70_000)}`,
  `*1\r\n$${'1'.repeat(70_000)}`,
  'PING "\\x41\\n"\r\nECHO "\\x4g"\r\nECHO \'a\\\'b\'\r\nECHO "a\\tb\\\\c\\"\\z"\r\nPING a"b c"\r\n\r\n\n  \v ECHO a\vb\r\nECHO a\rb\r\n',
  'FOO a b\r\n*2\r\n$3\r\nfoo\r\n$1\r\na\r\n*1\r\n$1\r\n\u0000\r\n',
  `FOO ${'a'.repeat(100)} ${'b'.repeat(100)} c\r\n${'F'.repeat(200)}\r\nFOO a\u00c3\u00a9b\r\n`,
  'GET\r\nget a b\r\nPING a b\r\nECHO\r\nDBSIZE x\r\nAUTH\r\n',
  'MULTI\r\nMULTI\r\nPING\r\nEXEC\r\nEXEC\r\nDISCARD\r\n',
  'MULTI\r\nFOO\r\nPING\r\nEXEC\r\nMULTI\r\nGET\r\nEXEC\r\n',
  'MULTI\r\nSET ref:a 1\r\nINCR ref:a\r\nSET ref:s x\r\nINCR ref:s\r\nGET ref:a\r\nEXEC\r\nMULTI\r\nPING\r\nDISCARD\r\nEXEC\r\nMULTI\r\nEXEC\r\n',
  'WATCH ref:w\r\nMULTI\r\nWATCH ref:x\r\nGET ref:w\r\nUNWATCH\r\nEXEC\r\nUNWATCH\r\n',
  'MULTI\r\nQUIT\r\n',
  'QUIT x\r\nPING\r\n',
  'HELLO 4\r\nHELLO x\r\nHELLO 3 FOO\r\nHELLO 2 SETNAME "a b"\r\n',
  'HELLO 3\r\nGET ref:nope\r\nHELLO 2\r\nGET ref:nope\r\nHELLO 3 SETNAME app\r\nCLIENT GETNAME\r\nHELLO\r\n',
  'AUTH x\r\nAUTH default x\r\nAUTH foo x\r\nAUTH a b c\r\n',
  'SELECT 0\r\nSELECT 16\r\nSELECT x\r\nSELECT -1\r\n',
  'CLIENT GETNAME\r\nCLIENT SETNAME app\r\nCLIENT GETNAME\r\nCLIENT SETNAME ""\r\nCLIENT GETNAME\r\nCLIENT FOO\r\nCLIENT SETNAME\r\nCLIENT SETNAME "a b"\r\nCLIENT\r\n',
  'PING\r\nPING "hi there"\r\nECHO x\r\nCOMMAND DOCS ref:nope\r\nCOMMAND FOO\r\n',
];

const PASSWORD_CASES: string[] = [
  'GET a\r\nPING\r\nFOO\r\nGET\r\nMULTI\r\nCLIENT ID\r\nHELLO 3\r\nHELLO\r\nAUTH x\r\nAUTH default x\r\nPING\r\nAUTH sekrit\r\nPING\r\nAUTH x\r\nPING\r\n',
  'HELLO 3 AUTH default nope\r\nHELLO 3 AUTH default sekrit\r\nPING\r\n',
  '*11\r\n',
  '*1\r\n$16385\r\n',
  '*10\r\n$4\r\nECHO\r\n$1\r\na\r\n$1\r\na\r\n$1\r\na\r\n$1\r\na\r\n$1\r\na\r\n$1\r\na\r\n$1\r\na\r\n$1\r\na\r\n$1\r\na\r\n',
  'MULTI\r\nAUTH sekrit\r\nMULTI\r\nPING\r\nEXEC\r\n',
  'QUIT\r\n',
];

describe('replies as redis-server 7 writes them', () => {
  needsServer(redisServer);
  let redisPort = 0;
  let redisLockedPort = 0;

  beforeAll(async () => {
    if (!redisServer.present) return;
    redisPort = (await startRedisServer()).port;
    redisLockedPort = (await startRedisServer({ password: 'sekrit' })).port;
  });

  it.each(named(CASES))('%s', async (_name, request) => {
    const tzkv = await startTestServer();
    expect(await exchange(tzkv.listener.port!, request)).toBe(await exchange(redisPort, request));
  });

  it.each(named(PASSWORD_CASES))('with a password: %s', async (_name, request) => {
    const tzkv = await startTestServer({ password: 'sekrit' });
    expect(await exchange(tzkv.listener.port!, request)).toBe(await exchange(redisLockedPort, request));
  });
});
