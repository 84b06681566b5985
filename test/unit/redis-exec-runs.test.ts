// EXEC runs its queued commands inside ServedStore.write, which may run them
// more than once (an etcd retry; a unit moved to the next commit). Only the
// last run may leave anything behind: the connection's state (HELLO, CLIENT
// SETNAME, SELECT, AUTH inside MULTI, which Redis 7 runs in EXEC), the
// count of commands, SCAN's positions. The expected bytes are what
// redis-server 7.0.15 answers (its HELLO reply aside: version and id).
import { describe, expect, it } from 'vitest';
import type { Transaction } from '../../src/api.js';
import { commandTable } from '../../src/serve/redis/command-table.js';
import { connectionCommands } from '../../src/serve/redis/connection-commands.js';
import { keyCommands } from '../../src/serve/redis/key-commands.js';
import { scanCursorsOf } from '../../src/serve/redis/scan-cursors.js';
import { stringCommands } from '../../src/serve/redis/string-commands.js';
import { MemoryServedStore } from '../helpers/memory-served-store.js';
import { frame } from '../helpers/raw-resp.js';
import { replies, startTestServer, write } from '../helpers/redis-test-server.js';

/** A MemoryServedStore whose write() runs each function twice, as ServedStore.write may: the first run's writes are dropped. */
class RetryingServedStore extends MemoryServedStore {
  runs = 0;

  override write<T>(fn: (tx: Transaction) => T | Promise<T>): Promise<T> {
    return super.write(async (tx) => {
      const dropped: Transaction = { getEntry: (key) => tx.getEntry(key), put: () => dropped, del: () => dropped };
      this.runs++;
      await fn(dropped);
      this.runs++;
      return fn(tx);
    });
  }
}

const COMMANDS = commandTable(connectionCommands, stringCommands, keyCommands);
const bulk = (text: string): string => `$${Buffer.byteLength(text, 'latin1')}\r\n${text}\r\n`;

function hello3(id: number): string {
  const fields = [bulk('server'), bulk('redis'), bulk('version'), bulk('7.0.0'), bulk('proto'), ':3\r\n', bulk('id'), `:${id}\r\n`, bulk('mode'), bulk('standalone'), bulk('role'), bulk('master'), bulk('modules'), '*0\r\n'];
  return `%7\r\n${fields.join('')}`;
}

describe('EXEC whose commands the store runs twice', () => {
  it('applies the connection commands queued in MULTI once, in order, as Redis 7 does', async () => {
    const store = new RetryingServedStore();
    const server = await startTestServer({ store, commands: COMMANDS });
    const client = await server.connect();
    const queued = ['HELLO 3', 'CLIENT GETNAME', 'CLIENT SETNAME first', 'CLIENT GETNAME', 'SELECT 0', 'AUTH default pw', 'AUTH pw', 'INCR n'];
    write(client, ['CLIENT SETNAME before', 'MULTI', ...queued, 'EXEC', 'CLIENT GETNAME', 'GET n'].map((line) => `${line}\r\n`).join(''));
    const answers = await replies(client, queued.length + 5);
    expect(store.runs).toBe(2);
    expect(answers).toEqual([
      '+OK\r\n',
      '+OK\r\n',
      ...queued.map(() => '+QUEUED\r\n'),
      [
        `*${queued.length}\r\n`,
        hello3(1),
        bulk('before'),
        '+OK\r\n',
        bulk('first'),
        '+OK\r\n',
        '+OK\r\n',
        '-ERR AUTH <password> called without any password configured for the default user. Are you sure your configuration is correct?\r\n',
        ':1\r\n',
      ].join(''),
      bulk('first'),
      bulk('1'),
    ]);
  });

  it('counts each queued command once', async () => {
    const server = await startTestServer({ store: new RetryingServedStore(), commands: COMMANDS });
    const client = await server.connect();
    write(client, 'MULTI\r\nINCR n\r\nINCR n\r\nCLIENT SETNAME x\r\nGET n\r\nEXEC\r\n');
    await replies(client, 6);
    const counted = (name: string) => server.calls.filter(([called]) => called === name).length;
    expect([counted('multi'), counted('incr'), counted('client'), counted('get'), counted('exec')]).toEqual([1, 2, 1, 1, 1]);
    expect(server.listener.state.totalCommands()).toBe(6);
  });

  it('gives a SCAN cursor that a SCAN after the EXEC goes on from, keeping one position and one listing', async () => {
    const store = new RetryingServedStore();
    const server = await startTestServer({ store, commands: COMMANDS });
    const client = await server.connect();
    write(client, Buffer.concat(['k1', 'k2', 'k3', 'k4', 'k5'].map((key) => frame('SET', key, 'v'))));
    await replies(client, 5);
    write(client, 'MULTI\r\nSCAN 0 COUNT 2\r\nEXEC\r\n');
    const exec = (await replies(client, 3))[2]!;
    const cursor = /^\*1\r\n\*2\r\n\$\d+\r\n(\d+)\r\n\*2\r\n\$2\r\nk1\r\n\$2\r\nk2\r\n$/.exec(exec)?.[1];
    expect(cursor, exec).toBeDefined();
    expect(scanCursorsOf(store).openListings).toBe(1);
    write(client, frame('SCAN', cursor!, 'COUNT', '10'));
    expect(await replies(client, 1)).toEqual([`*2\r\n${bulk('0')}*3\r\n${bulk('k3')}${bulk('k4')}${bulk('k5')}`]);
  });
});
