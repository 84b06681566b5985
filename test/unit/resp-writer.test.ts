// The reply encoder: each kind of Reply as the exact bytes Redis 7 writes in
// RESP2 and in RESP3 (checked against redis-server 7.0.15: HELLO's map, a
// missing key's null, COMMAND's sets, INFO's verbatim text, ...).
import { describe, expect, it } from 'vitest';
import { BoolReply, DoubleReply, ErrorReply, MapReply, NullArray, OK, SetReply, SimpleString, VerbatimReply } from '../../src/serve/resp/reply.js';
import type { Reply } from '../../src/serve/resp/reply.js';
import { RespWriter } from '../../src/serve/resp/resp-writer.js';

function encode(reply: Reply, protocol: 2 | 3): string {
  const writer = new RespWriter();
  writer.write(reply, protocol);
  return Buffer.concat(writer.take()).toString('latin1');
}

const bulk = (text: string): Buffer => Buffer.from(text);

describe('RespWriter', () => {
  it.each<[string, Reply, string, string]>([
    ['a bulk string', bulk('hello'), '$5\r\nhello\r\n', '$5\r\nhello\r\n'],
    ['an empty bulk string', bulk(''), '$0\r\n\r\n', '$0\r\n\r\n'],
    ['binary bytes', Buffer.from([0, 0x0d, 0x0a, 0xff]), '$4\r\n\u0000\r\n\u00ff\r\n', '$4\r\n\u0000\r\n\u00ff\r\n'],
    ['the null bulk string', null, '$-1\r\n', '_\r\n'],
    ['the null array', NullArray.instance, '*-1\r\n', '_\r\n'],
    ['an integer', 42, ':42\r\n', ':42\r\n'],
    ['a negative integer', -7, ':-7\r\n', ':-7\r\n'],
    ['a big integer', 9223372036854775807n, ':9223372036854775807\r\n', ':9223372036854775807\r\n'],
    ['a simple string', OK, '+OK\r\n', '+OK\r\n'],
    ['an error', new ErrorReply('ERR bad\r\nthing'), '-ERR bad  thing\r\n', '-ERR bad  thing\r\n'],
    ['an array', [bulk('a'), 1, null], '*3\r\n$1\r\na\r\n:1\r\n$-1\r\n', '*3\r\n$1\r\na\r\n:1\r\n_\r\n'],
    ['an empty array', [], '*0\r\n', '*0\r\n'],
    ['a map', new MapReply([[bulk('proto'), 3], [bulk('modules'), []]]), '*4\r\n$5\r\nproto\r\n:3\r\n$7\r\nmodules\r\n*0\r\n', '%2\r\n$5\r\nproto\r\n:3\r\n$7\r\nmodules\r\n*0\r\n'],
    ['a set', new SetReply([new SimpleString('readonly'), new SimpleString('fast')]), '*2\r\n+readonly\r\n+fast\r\n', '~2\r\n+readonly\r\n+fast\r\n'],
    ['a double', new DoubleReply(1.5), '$3\r\n1.5\r\n', ',1.5\r\n'],
    ['an infinite double', new DoubleReply(-Infinity), '$4\r\n-inf\r\n', ',-inf\r\n'],
    ['true', new BoolReply(true), ':1\r\n', '#t\r\n'],
    ['false', new BoolReply(false), ':0\r\n', '#f\r\n'],
    ['verbatim text', new VerbatimReply('# Keyspace\r\n'), '$12\r\n# Keyspace\r\n\r\n', '=16\r\ntxt:# Keyspace\r\n\r\n'],
    ['UTF-8 text', new SimpleString('héllo'), '+h\u00c3\u00a9llo\r\n', '+h\u00c3\u00a9llo\r\n'],
  ])('writes %s', (_what, reply, resp2, resp3) => {
    expect(encode(reply, 2)).toBe(resp2);
    expect(encode(reply, 3)).toBe(resp3);
  });

  it('batches many replies into few Buffers, and passes a large value on uncopied', () => {
    const writer = new RespWriter();
    for (let i = 0; i < 1000; i++) writer.write(bulk(`value-${i}`), 2);
    const large = Buffer.alloc(100_000, 0x61);
    writer.write(large, 2);
    writer.write(OK, 2);
    expect(writer.pendingBytes).toBeGreaterThan(100_000);
    const parts = writer.take();
    expect(parts.length).toBeLessThanOrEqual(4);
    expect(parts).toContain(large);
    const text = Buffer.concat(parts).toString('latin1');
    expect(text.startsWith('$7\r\nvalue-0\r\n$7\r\nvalue-1\r\n')).toBe(true);
    expect(text.endsWith(`$100000\r\n${'a'.repeat(100_000)}\r\n+OK\r\n`)).toBe(true);
    expect(writer.pendingBytes).toBe(0);
    expect(writer.take()).toEqual([]);
  });

  it('writes nothing of a reply it cannot encode', () => {
    const writer = new RespWriter();
    writer.write(OK, 2);
    expect(() => writer.write([bulk('x'.repeat(70_000)), 1.5], 2)).toThrow(TypeError);
    expect(() => writer.write({} as Reply, 2)).toThrow(TypeError);
    writer.write(1, 2);
    expect(Buffer.concat(writer.take()).toString()).toBe('+OK\r\n:1\r\n');
  });
});
