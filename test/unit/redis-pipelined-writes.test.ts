// Pipelined writes start together (connection.ts): each write command must
// queue its unit (KeySpace.write) before its first await, so the units keep
// the commands' order. Here every write command of the string and keyspace
// tables, with reads between them, goes through one connection to a real
// directory-backed served store, once as one pipeline and once a command at
// a time: the replies must be the same.
import { describe, expect, it } from 'vitest';
import { openServedStore } from '../../src/serve/core/served-store.js';
import { commandTable } from '../../src/serve/redis/command-table.js';
import { connectionCommands } from '../../src/serve/redis/connection-commands.js';
import { keyCommands } from '../../src/serve/redis/key-commands.js';
import { stringCommands } from '../../src/serve/redis/string-commands.js';
import { frame } from '../helpers/raw-resp.js';
import { replies, startTestServer, text, write } from '../helpers/redis-test-server.js';
import { tempStore } from '../helpers/temp-store.js';

const START = Date.UTC(2024, 0, 1);
const w = (line: string) => line.split(' ');

/** Every write command on a few keys, each followed by something that reads what it did. */
const COMMANDS: string[][] = [
  w('SET a 1'),
  w('GET a'),
  w('SET a 2 NX'),
  w('SET a 3 XX GET'),
  w('SET a 4 EX 100 GET'),
  w('SET a 5 KEEPTTL'),
  w('TTL a'),
  w('SETNX a 6'),
  w('SETNX b 7'),
  w('SETEX c 100 x'),
  w('PSETEX c 5000 y'),
  w('PTTL c'),
  w('GETSET a 10'),
  w('GETDEL b'),
  w('EXISTS b'),
  w('GETEX a EX 50'),
  w('TTL a'),
  w('GETEX a PERSIST'),
  w('TTL a'),
  w('SET a 11'),
  w('GETEX a'),
  w('MSET a 1 b 2'),
  w('MSETNX b 3 c 4'),
  w('MSETNX d 5 e 6'),
  w('MGET a b c d e'),
  w('INCR n'),
  w('DECR n'),
  w('INCRBY n 10'),
  w('DECRBY n 3'),
  w('INCR a'),
  w('INCRBYFLOAT f 1.5'),
  w('INCRBYFLOAT f 0.25'),
  w('INCR c'),
  w('APPEND a xyz'),
  w('SETRANGE a 1 QQ'),
  w('GET a'),
  w('STRLEN a'),
  w('DEL d e x'),
  w('UNLINK e b'),
  w('EXISTS d e b'),
  w('SET b 2'),
  w('EXPIRE a 100'),
  w('PEXPIRE b 200000'),
  w(`EXPIREAT c ${START / 1000 + 300}`),
  w(`PEXPIREAT n ${START + 400_000}`),
  w('EXPIRE f 10 XX'),
  w('TTL a'),
  w('PTTL b'),
  w('TTL c'),
  w('PTTL n'),
  w('PERSIST a'),
  w('TTL a'),
  w('RENAME a a2'),
  w('RENAMENX b a2'),
  w('RENAMENX b b2'),
  w('COPY a2 c3'),
  w('COPY a2 b2 REPLACE'),
  w('MGET a a2 b b2 c3'),
  w('TTL b2'),
  w('EXPIRE c3 0'),
  w('EXISTS c3'),
  w('GET n'),
];

/** The replies of COMMANDS on a fresh store, sent as one pipeline or one command at a time; and the commits the store made. */
async function run(pipelined: boolean): Promise<{ answers: string[]; commits: number }> {
  const now = () => START;
  const store = await tempStore({ now });
  const served = openServedStore(store, { sync: { kind: 'always' }, cacheBytes: 1 << 20, now });
  try {
    const server = await startTestServer({ store: served, commands: commandTable(connectionCommands, stringCommands, keyCommands), now });
    const client = await server.connect();
    const answers: string[] = [];
    if (pipelined) {
      write(client, Buffer.concat(COMMANDS.map((words) => frame(...words))));
      answers.push(...(await replies(client, COMMANDS.length)));
    } else {
      for (const words of COMMANDS) answers.push(text(await client.send(words)));
    }
    return { answers, commits: served.counters.commits };
  } finally {
    await served.close();
    await store.close();
  }
}

describe('pipelined write commands', () => {
  it('cover every write command of the string and keyspace tables', () => {
    const writes = [...stringCommands, ...keyCommands].filter((command) => command.flags.includes('write')).map((command) => command.name);
    const used = new Set(COMMANDS.map((words) => words[0].toLowerCase()));
    expect(writes.filter((name) => !used.has(name))).toEqual([]);
  });

  it('answer as the same commands sent one at a time do, on a directory store', async () => {
    const oneByOne = await run(false);
    const pipelined = await run(true);
    expect(pipelined.answers).toEqual(oneByOne.answers);
    // The pipeline's writes did start together: they shared commits.
    expect(pipelined.commits).toBeLessThan(oneByOne.commits / 4);
  });
});
