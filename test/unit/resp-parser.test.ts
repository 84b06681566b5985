// The Redis protocol parser: frames and inline commands as Redis 7 reads
// them (the texts and splits here were checked against redis-server 7.0.15
// with raw bytes), its limits and error texts, and that the chunks a socket
// delivers may split a pipeline anywhere.
import { describe, expect, it } from 'vitest';
import { MAX_INLINE_BYTES, MAX_MULTIBULK_LENGTH, RespParser, RespProtocolError } from '../../src/serve/resp/resp-parser.js';

const latin1 = (text: string): Buffer => Buffer.from(text, 'latin1');

/** Every command the chunks hold, as latin1 strings; a protocol error ends the list as its message. */
function parse(chunks: Array<string | Buffer>, setup: (parser: RespParser) => void = () => undefined, maxBulkBytes = 1 << 20): Array<string[] | string> {
  const parser = new RespParser({ maxBulkBytes });
  setup(parser);
  const out: Array<string[] | string> = [];
  try {
    for (const chunk of chunks) {
      parser.feed(typeof chunk === 'string' ? latin1(chunk) : chunk);
      for (let command = parser.next(); command !== null; command = parser.next()) out.push(command.map((word) => word.toString('latin1')));
    }
  } catch (error) {
    if (!(error instanceof RespProtocolError)) throw error;
    out.push(error.message);
  }
  return out;
}

describe('multibulk frames', () => {
  it('reads each command of a pipeline, binary bulk strings included', () => {
    expect(parse(['*2\r\n$3\r\nGET\r\n$1\r\nk\r\n*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$4\r\na\r\nb\r\n*1\r\n$0\r\n\r\n'])).toEqual([
      ['GET', 'k'],
      ['SET', 'k', 'a\r\nb'],
      [''],
    ]);
  });

  it('skips frames of zero or negative count, and the two bytes after a bulk string unread', () => {
    expect(parse(['*0\r\n*-1\r\n*1\r\n$4\r\nPINGxx*1\r\n$1\r\nxyzPING\r\n'])).toEqual([['PING'], ['x'], ['PING']]);
  });

  it('waits for the rest of a frame', () => {
    expect(parse(['*1\r\nx'])).toEqual([]);
    expect(parse(['*2\r\n$3\r\nGET\r\n$5\r\nab'])).toEqual([]);
  });

  it.each([
    ['*abc\r\n', 'ERR Protocol error: invalid multibulk length'],
    ['*+1\r\n', 'ERR Protocol error: invalid multibulk length'],
    ['*01\r\n', 'ERR Protocol error: invalid multibulk length'],
    [`*${MAX_MULTIBULK_LENGTH + 1}\r\n`, 'ERR Protocol error: invalid multibulk length'],
    ['*1\r\n$-1\r\n', 'ERR Protocol error: invalid bulk length'],
    ['*1\r\n$-0\r\n', 'ERR Protocol error: invalid bulk length'],
    ['*1\r\n$01\r\nx\r\n', 'ERR Protocol error: invalid bulk length'],
    ['*1\r\n$1x\r\n', 'ERR Protocol error: invalid bulk length'],
    ['*1\r\n$+4\r\nPING\r\n', 'ERR Protocol error: invalid bulk length'],
    ['*1\r\n$1048577\r\n', 'ERR Protocol error: invalid bulk length'],
    ['*2\r\n$4\r\nPING\r\n:1\r\n', "ERR Protocol error: expected '$', got ':'"],
  ])('refuses %j: %s', (frame, message) => {
    expect(parse([frame])).toEqual([message]);
  });

  it('reads the longest bulk string allowed, and a million-argument frame', () => {
    expect(parse(['*1\r\n$1048576\r\n', Buffer.alloc(1 << 20, 0x61), '\r\n'])[0]![0]).toHaveLength(1 << 20);
    const parser = new RespParser({ maxBulkBytes: 10 });
    parser.feed(latin1(`*${MAX_MULTIBULK_LENGTH}\r\n`));
    expect(parser.next()).toBeNull();
  });

  it('refuses count lines that find no end within 64 KiB', () => {
    expect(parse(['*' + '1'.repeat(MAX_INLINE_BYTES)])).toEqual(['ERR Protocol error: too big mbulk count string']);
    expect(parse(['*1\r\n$' + '1'.repeat(MAX_INLINE_BYTES)])).toEqual(['ERR Protocol error: too big bulk count string']);
  });

  it('holds a client that has not authenticated to 10 arguments of 16 KiB', () => {
    const locked = (parser: RespParser): void => {
      parser.authRequired = true;
    };
    expect(parse(['*11\r\n'], locked)).toEqual(['ERR Protocol error: unauthenticated multibulk length']);
    expect(parse(['*1\r\n$16385\r\n'], locked)).toEqual(['ERR Protocol error: unauthenticated bulk length']);
    expect(parse(['*10\r\n$16384\r\n'], locked)).toEqual([]);
    expect(parse(['*11\r\n$16385\r\n'])).toEqual([]);
  });

  it('stays failed after an error', () => {
    const parser = new RespParser({ maxBulkBytes: 100 });
    parser.feed(latin1('*x\r\n'));
    expect(() => parser.next()).toThrow('invalid multibulk length');
    parser.feed(latin1('PING\r\n'));
    expect(() => parser.next()).toThrow('invalid multibulk length');
  });
});

describe('inline commands', () => {
  it.each([
    ['PING\r\n', ['PING']],
    ['PING\n', ['PING']],
    ['SET  k\tv \r\n', ['SET', 'k', 'v']],
    ['PING "\\x41\\n"\r\n', ['PING', 'A\n']],
    ['ECHO "\\x4g"\r\n', ['ECHO', 'x4g']],
    ['ECHO "a\\tb\\\\c\\"\\r\\b\\a\\z"\r\n', ['ECHO', 'a\tb\\c"\r\b\x07z']],
    ["ECHO 'a\\'b'\r\n", ['ECHO', "a'b"]],
    ["ECHO 'a\\nb'\r\n", ['ECHO', 'a\\nb']],
    ['PING a"b c" d\r\n', ['PING', 'ab c', 'd']],
    ['ECHO "" \'\'\r\n', ['ECHO', '', '']],
    ['ECHO a\vb\r\n', ['ECHO', 'a\vb']],
    ['  \v ECHO x\r\n', ['ECHO', 'x']],
    ['ECHO a\rb\r\n', ['ECHO', 'a', 'b']],
    ['ECHO a\u0000b c\r\n', ['ECHO', 'a']],
  ])('splits %j as sdssplitargs does', (line, words) => {
    expect(parse([line])).toEqual([words]);
  });

  it('skips blank lines', () => {
    expect(parse(['\r\n\n  \r\nPING\r\n'])).toEqual([['PING']]);
  });

  it.each(['PING "a\r\n', 'PING "a"b\r\n', "PING 'a\r\n", "PING 'a'b\r\n", 'PING "a\\"\r\n'])('refuses the unbalanced quotes of %j', (line) => {
    expect(parse([line])).toEqual(['ERR Protocol error: unbalanced quotes in request']);
  });

  it('refuses an inline request that finds no end within 64 KiB, and takes a long line that has one', () => {
    expect(parse(['PING ' + 'x'.repeat(MAX_INLINE_BYTES)])).toEqual(['ERR Protocol error: too big inline request']);
    expect(parse(['ECHO ' + 'x'.repeat(MAX_INLINE_BYTES) + '\r\n'])).toEqual([['ECHO', 'x'.repeat(MAX_INLINE_BYTES)]]);
    expect(parse([...'PING '.split(''), ...Array.from({ length: 700 }, () => 'x'.repeat(100))])).toEqual(['ERR Protocol error: too big inline request']);
  });
});

describe('chunks', () => {
  const pipeline = Buffer.concat([
    latin1('*2\r\n$3\r\nGET\r\n$3\r\nkey\r\n'),
    latin1('SET "a b" \'c\\\'d\' plain\r\n'),
    latin1('*3\r\n$3\r\nSET\r\n$2\r\nk2\r\n$6\r\n\r\n\u0000\u00ff\r\n\r\n'),
    latin1('*0\r\n'),
    latin1('\r\n'),
    latin1('*1\r\n$0\r\n\r\n'),
    latin1('PING\n'),
    latin1('*2\r\n$4\r\nECHO\r\n$20\r\n' + '0123456789'.repeat(2) + '\r\n'),
  ]);
  const expected = parse([pipeline]);

  it('reads the pipeline whole', () => {
    expect(expected).toEqual([['GET', 'key'], ['SET', 'a b', "c'd", 'plain'], ['SET', 'k2', '\r\n\u0000\u00ff\r\n'], [''], ['PING'], ['ECHO', '0123456789'.repeat(2)]]);
  });

  it('reads the same commands however the pipeline is split in two', () => {
    for (let at = 0; at <= pipeline.length; at++) {
      expect(parse([pipeline.subarray(0, at), pipeline.subarray(at)]), `split at ${at}`).toEqual(expected);
    }
  });

  it('reads the same commands from one byte at a time, and from three pieces', () => {
    expect(parse([...pipeline].map((byte) => Buffer.from([byte])))).toEqual(expected);
    for (let a = 1; a < pipeline.length; a += 7) {
      for (let b = a; b < pipeline.length; b += 5) {
        expect(parse([pipeline.subarray(0, a), pipeline.subarray(a, b), pipeline.subarray(b)]), `split at ${a}, ${b}`).toEqual(expected);
      }
    }
  });

  it('gives the words of a frame inside one chunk as views of it, not copies', () => {
    const chunk = latin1('*2\r\n$3\r\nGET\r\n$3\r\nkey\r\nECHO hello\r\n');
    const parser = new RespParser({ maxBulkBytes: 100 });
    parser.feed(chunk);
    const words = [...parser.next()!, ...parser.next()!];
    expect(words.map((word) => word.toString())).toEqual(['GET', 'key', 'ECHO', 'hello']);
    for (const word of words) expect(word.buffer).toBe(chunk.buffer);
  });

  it('assembles a bulk string that spans many chunks', () => {
    const value = Buffer.alloc(300_000);
    for (let i = 0; i < value.length; i++) value[i] = i % 251;
    const frame = Buffer.concat([latin1(`*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$${value.length}\r\n`), value, latin1('\r\n*1\r\n$4\r\nPING\r\n')]);
    const parser = new RespParser({ maxBulkBytes: 1 << 20 });
    const commands: Buffer[][] = [];
    for (let at = 0; at < frame.length; at += 65_536) {
      parser.feed(frame.subarray(at, at + 65_536));
      for (let command = parser.next(); command !== null; command = parser.next()) commands.push(command);
    }
    expect(commands).toHaveLength(2);
    expect(commands[0]![2]!.equals(value)).toBe(true);
    expect(commands[1]!.map(String)).toEqual(['PING']);
    expect(parser.bufferedBytes).toBe(0);
  });
});
