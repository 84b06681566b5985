// The Redis commands of issue #16 as conversations: each is a list of
// commands sent on one fresh connection and the reply Redis gives to each,
// as redis-server 7 answers them (test/e2e/serve-redis.test.ts runs every
// conversation through ioredis and as raw bytes, in RESP2 and RESP3, against
// redis-server and against tzkv serve). A conversation's keys are its own:
// `k(name)` puts them under a prefix no other conversation uses.
import { type Expected, OK, QUEUED, array, bulk, bulksInAnyOrder, error, errorStarting, int, intIn, nil, simple } from './redis-replies.js';

export type Step = [words: Array<string | Buffer>, reply: Expected];

/** A conversation on one fresh connection; `k(name)` is a key of its own. */
export interface Conversation {
  name: string;
  steps(k: (name: string) => string): Step[];
}

const nowS = () => Math.floor(Date.now() / 1000);

const ARITY_ERRORS: Step[] = (
  [
    ['GET'], ['SET', 'k'], ['SETNX', 'k'], ['SETEX', 'k', '100'], ['PSETEX', 'k', '100'], ['GETDEL'], ['GETEX'], ['MGET'], ['MSET', 'k'],
    ['MSETNX', 'k'], ['DEL'], ['UNLINK'], ['EXISTS'], ['EXPIRE', 'k'], ['PEXPIRE', 'k'], ['EXPIREAT', 'k'], ['PEXPIREAT', 'k'], ['TTL'],
    ['PTTL'], ['PERSIST'], ['INCR'], ['INCRBY', 'k'], ['DECR'], ['DECRBY', 'k'], ['APPEND', 'k'], ['STRLEN'], ['TYPE'], ['SCAN'], ['KEYS'],
    ['ECHO'], ['SELECT'], ['DBSIZE', 'x'], ['AUTH'], ['PING', 'a', 'b'], ['MULTI', 'x'],
  ] as string[][]
).map((words) => [words, error(`ERR wrong number of arguments for '${words[0].toLowerCase()}' command`)]);

export const CONVERSATIONS: Conversation[] = [
  {
    name: 'PING answers PONG, or its argument as a bulk string; ECHO answers its argument',
    steps: () => [[['PING'], simple('PONG')], [['PING', 'hello there'], bulk('hello there')], [['ECHO', 'x y\r\nz'], bulk('x y\r\nz')], [['ECHO', ''], bulk('')]],
  },
  {
    name: "a command with the wrong number of arguments is ERR wrong number of arguments for 'name' command (lower case), for each command",
    steps: () => ARITY_ERRORS,
  },
  {
    name: "an unknown command is ERR unknown command 'NAME', and the connection keeps serving",
    steps: () => [[['NOSUCHCMD', 'a', 'b'], errorStarting("ERR unknown command 'NOSUCHCMD'")], [['PING'], simple('PONG')]],
  },
  {
    name: 'SELECT 0 is OK; SELECT of a word is ERR value is not an integer or out of range',
    steps: () => [[['SELECT', '0'], OK], [['SELECT', 'abc'], error('ERR value is not an integer or out of range')], [['PING'], simple('PONG')]],
  },
  {
    name: 'CLIENT GETNAME is nil until CLIENT SETNAME names the connection; a name with a space is refused',
    steps: () => [
      [['CLIENT', 'GETNAME'], nil],
      [['CLIENT', 'SETNAME', 'suite-client'], OK],
      [['CLIENT', 'GETNAME'], bulk('suite-client')],
      [['CLIENT', 'SETNAME', 'has space'], error('ERR Client names cannot contain spaces, newlines or special characters.')],
      [['CLIENT', 'GETNAME'], bulk('suite-client')],
      [['CLIENT', 'SETNAME'], error("ERR wrong number of arguments for 'client|setname' command")],
    ],
  },
  {
    name: 'GET is nil for a missing key; SET is OK and GET returns the value, the latest SET winning',
    steps: (k) => [[['GET', k('a')], nil], [['SET', k('a'), 'one'], OK], [['GET', k('a')], bulk('one')], [['SET', k('a'), 'two'], OK], [['GET', k('a')], bulk('two')]],
  },
  {
    name: 'SET NX sets only a missing key, SET XX only an existing one; nil when nothing was set; NX with XX is a syntax error',
    steps: (k) => [
      [['SET', k('a'), '1', 'XX'], nil],
      [['GET', k('a')], nil],
      [['SET', k('a'), '1', 'NX'], OK],
      [['SET', k('a'), '2', 'NX'], nil],
      [['GET', k('a')], bulk('1')],
      [['SET', k('a'), '3', 'XX'], OK],
      [['GET', k('a')], bulk('3')],
      [['SET', k('a'), '4', 'NX', 'XX'], error('ERR syntax error')],
      [['GET', k('a')], bulk('3')],
    ],
  },
  {
    name: 'SET GET answers the old value (nil when there was none) and sets the new one; with NX it answers the old value and sets nothing',
    steps: (k) => [
      [['SET', k('a'), 'first', 'GET'], nil],
      [['SET', k('a'), 'second', 'GET'], bulk('first')],
      [['GET', k('a')], bulk('second')],
      [['SET', k('a'), 'third', 'NX', 'GET'], bulk('second')],
      [['GET', k('a')], bulk('second')],
    ],
  },
  {
    name: 'SET EX, PX, EXAT and PXAT give the key a TTL; SET KEEPTTL keeps it; a plain SET removes it',
    steps: (k) => [
      [['SET', k('a'), 'v', 'EX', '100'], OK],
      [['TTL', k('a')], intIn(99, 100)],
      [['SET', k('a'), 'v', 'PX', '50000'], OK],
      [['PTTL', k('a')], intIn(49_000, 50_000)],
      [['SET', k('a'), 'v', 'EXAT', String(nowS() + 1000)], OK],
      [['TTL', k('a')], intIn(998, 1000)],
      [['SET', k('a'), 'v', 'PXAT', String(Date.now() + 60_000)], OK],
      [['PTTL', k('a')], intIn(55_000, 60_000)],
      [['SET', k('a'), 'kept', 'KEEPTTL'], OK],
      [['PTTL', k('a')], intIn(55_000, 60_000)],
      [['GET', k('a')], bulk('kept')],
      [['SET', k('a'), 'plain'], OK],
      [['TTL', k('a')], int(-1)],
    ],
  },
  {
    name: 'SET refuses a zero, negative or non-numeric expiry, two expiries, KEEPTTL with an expiry and an unknown option, and writes nothing',
    steps: (k) => [
      [['SET', k('a'), 'v', 'EX', '0'], error("ERR invalid expire time in 'set' command")],
      [['SET', k('a'), 'v', 'PX', '-5'], error("ERR invalid expire time in 'set' command")],
      [['SET', k('a'), 'v', 'EX', 'ten'], error('ERR value is not an integer or out of range')],
      [['SET', k('a'), 'v', 'EX', '10', 'PX', '100'], error('ERR syntax error')],
      [['SET', k('a'), 'v', 'KEEPTTL', 'EX', '5'], error('ERR syntax error')],
      [['SET', k('a'), 'v', 'EX'], error('ERR syntax error')],
      [['SET', k('a'), 'v', 'FOREVER'], error('ERR syntax error')],
      [['EXISTS', k('a')], int(0)],
    ],
  },
  {
    name: 'SETNX answers 1 and sets a missing key, 0 and leaves an existing one',
    steps: (k) => [[['SETNX', k('a'), '1'], int(1)], [['SETNX', k('a'), '2'], int(0)], [['GET', k('a')], bulk('1')]],
  },
  {
    name: 'SETEX and PSETEX set the value with a TTL in seconds or milliseconds; a zero, negative or non-numeric TTL is refused',
    steps: (k) => [
      [['SETEX', k('a'), '100', 'v'], OK],
      [['TTL', k('a')], intIn(99, 100)],
      [['GET', k('a')], bulk('v')],
      [['PSETEX', k('a'), '50000', 'w'], OK],
      [['PTTL', k('a')], intIn(49_000, 50_000)],
      [['GET', k('a')], bulk('w')],
      [['SETEX', k('b'), '0', 'v'], error("ERR invalid expire time in 'setex' command")],
      [['SETEX', k('b'), '-5', 'v'], error("ERR invalid expire time in 'setex' command")],
      [['PSETEX', k('b'), '0', 'v'], error("ERR invalid expire time in 'psetex' command")],
      [['SETEX', k('b'), 'x', 'v'], error('ERR value is not an integer or out of range')],
      [['EXISTS', k('b')], int(0)],
    ],
  },
  {
    name: 'GETDEL answers the value and deletes the key; nil for a missing key',
    steps: (k) => [[['SET', k('a'), 'v'], OK], [['GETDEL', k('a')], bulk('v')], [['EXISTS', k('a')], int(0)], [['GETDEL', k('a')], nil]],
  },
  {
    name: 'GETEX answers the value; EX, PX, EXAT and PXAT set its TTL, PERSIST removes it; nil for a missing key; bad options are refused',
    steps: (k) => [
      [['SET', k('a'), 'v'], OK],
      [['GETEX', k('a')], bulk('v')],
      [['TTL', k('a')], int(-1)],
      [['GETEX', k('a'), 'EX', '100'], bulk('v')],
      [['TTL', k('a')], intIn(99, 100)],
      [['GETEX', k('a'), 'PX', '50000'], bulk('v')],
      [['PTTL', k('a')], intIn(49_000, 50_000)],
      [['GETEX', k('a'), 'EXAT', String(nowS() + 1000)], bulk('v')],
      [['TTL', k('a')], intIn(998, 1000)],
      [['GETEX', k('a'), 'PXAT', String(Date.now() + 60_000)], bulk('v')],
      [['PTTL', k('a')], intIn(55_000, 60_000)],
      [['GETEX', k('a'), 'PERSIST'], bulk('v')],
      [['TTL', k('a')], int(-1)],
      [['GETEX', k('missing'), 'EX', '5'], nil],
      [['EXISTS', k('missing')], int(0)],
      [['GETEX', k('a'), 'EX', '5', 'PX', '5'], error('ERR syntax error')],
      [['GETEX', k('a'), 'PX', '0'], error("ERR invalid expire time in 'getex' command")],
      [['GETEX', k('a'), 'SOON'], error('ERR syntax error')],
      [['TTL', k('a')], int(-1)],
    ],
  },
  {
    name: 'MSET is OK and MGET answers the values in order, nil for a missing key; MSET with an odd count is refused',
    steps: (k) => [
      [['MSET', k('a'), '1', k('b'), '2'], OK],
      [['MGET', k('a'), k('missing'), k('b')], array(bulk('1'), nil, bulk('2'))],
      [['MSET', k('a'), '3', k('b')], error("ERR wrong number of arguments for 'mset' command")],
      [['MGET', k('a')], array(bulk('1'))],
    ],
  },
  {
    name: 'MSETNX answers 0 and sets nothing when any key exists, 1 and sets all when none does',
    steps: (k) => [
      [['SET', k('a'), 'old'], OK],
      [['MSETNX', k('b'), 'new', k('a'), 'new'], int(0)],
      [['MGET', k('a'), k('b')], array(bulk('old'), nil)],
      [['MSETNX', k('b'), '1', k('c'), '2'], int(1)],
      [['MGET', k('b'), k('c')], array(bulk('1'), bulk('2'))],
    ],
  },
  {
    name: 'DEL and UNLINK answer the number of keys they removed, a key named twice counted once',
    steps: (k) => [
      [['MSET', k('a'), '1', k('b'), '2', k('c'), '3'], OK],
      [['DEL', k('a'), k('b'), k('missing')], int(2)],
      [['UNLINK', k('c'), k('c')], int(1)],
      [['DEL', k('a')], int(0)],
      [['EXISTS', k('a'), k('b'), k('c')], int(0)],
    ],
  },
  {
    name: 'EXISTS counts every key named that exists, repeats included',
    steps: (k) => [[['SET', k('a'), 'v'], OK], [['EXISTS', k('a'), k('a'), k('missing')], int(2)], [['EXISTS', k('missing')], int(0)]],
  },
  {
    name: 'EXPIRE, PEXPIRE, EXPIREAT and PEXPIREAT answer 1 and set the TTL of an existing key, 0 for a missing one',
    steps: (k) => [
      [['SET', k('a'), 'v'], OK],
      [['EXPIRE', k('a'), '100'], int(1)],
      [['TTL', k('a')], intIn(99, 100)],
      [['PEXPIRE', k('a'), '50000'], int(1)],
      [['PTTL', k('a')], intIn(49_000, 50_000)],
      [['EXPIREAT', k('a'), String(nowS() + 1000)], int(1)],
      [['TTL', k('a')], intIn(998, 1000)],
      [['PEXPIREAT', k('a'), String(Date.now() + 60_000)], int(1)],
      [['PTTL', k('a')], intIn(55_000, 60_000)],
      [['GET', k('a')], bulk('v')],
      [['EXPIRE', k('missing'), '100'], int(0)],
      [['PEXPIRE', k('missing'), '100'], int(0)],
      [['EXPIREAT', k('missing'), String(nowS() + 100)], int(0)],
      [['PEXPIREAT', k('missing'), String(Date.now() + 100_000)], int(0)],
      [['EXISTS', k('missing')], int(0)],
      [['EXPIRE', k('a'), 'soon'], error('ERR value is not an integer or out of range')],
    ],
  },
  {
    name: 'EXPIRE 0, a negative PEXPIRE and an EXPIREAT or PEXPIREAT in the past delete the key at once',
    steps: (k) => [
      [['SET', k('a'), 'v'], OK],
      [['EXPIRE', k('a'), '0'], int(1)],
      [['EXISTS', k('a')], int(0)],
      [['SET', k('a'), 'v'], OK],
      [['PEXPIRE', k('a'), '-1'], int(1)],
      [['GET', k('a')], nil],
      [['SET', k('a'), 'v'], OK],
      [['EXPIREAT', k('a'), '1'], int(1)],
      [['TTL', k('a')], int(-2)],
      [['SET', k('a'), 'v'], OK],
      [['PEXPIREAT', k('a'), '1'], int(1)],
      [['EXISTS', k('a')], int(0)],
    ],
  },
  {
    name: 'TTL and PTTL answer -2 for a missing key and -1 for one without expiry; PERSIST answers 1 when it removed a TTL, else 0',
    steps: (k) => [
      [['TTL', k('a')], int(-2)],
      [['PTTL', k('a')], int(-2)],
      [['SET', k('a'), 'v'], OK],
      [['TTL', k('a')], int(-1)],
      [['PTTL', k('a')], int(-1)],
      [['PERSIST', k('a')], int(0)],
      [['EXPIRE', k('a'), '100'], int(1)],
      [['PERSIST', k('a')], int(1)],
      [['TTL', k('a')], int(-1)],
      [['PERSIST', k('missing')], int(0)],
    ],
  },
  {
    name: 'INCR, INCRBY, DECR and DECRBY answer the new value, starting from 0, and store it as decimal text',
    steps: (k) => [
      [['INCR', k('a')], int(1)],
      [['INCRBY', k('a'), '10'], int(11)],
      [['DECR', k('a')], int(10)],
      [['DECRBY', k('a'), '5'], int(5)],
      [['INCRBY', k('a'), '-100'], int(-95)],
      [['GET', k('a')], bulk('-95')],
      [['DECR', k('b')], int(-1)],
      [['SET', k('c'), '41'], OK],
      [['INCR', k('c')], int(42)],
      [['INCRBY', k('c'), '9007199254740000'], int(9_007_199_254_740_042)],
    ],
  },
  {
    name: 'INCR refuses a value that is not a 64-bit decimal integer, an increment that is not one, and overflow, leaving the value',
    steps: (k) => [
      [['SET', k('a'), 'abc'], OK],
      [['INCR', k('a')], error('ERR value is not an integer or out of range')],
      [['SET', k('a'), '1.5'], OK],
      [['INCR', k('a')], error('ERR value is not an integer or out of range')],
      [['SET', k('a'), ' 1'], OK],
      [['INCRBY', k('a'), '1'], error('ERR value is not an integer or out of range')],
      [['SET', k('a'), '01'], OK],
      [['DECR', k('a')], error('ERR value is not an integer or out of range')],
      [['SET', k('a'), '1'], OK],
      [['INCRBY', k('a'), 'x'], error('ERR value is not an integer or out of range')],
      [['INCRBY', k('a'), '9223372036854775808'], error('ERR value is not an integer or out of range')],
      [['SET', k('a'), '9223372036854775807'], OK],
      [['INCR', k('a')], error('ERR increment or decrement would overflow')],
      [['DECRBY', k('a'), '-9223372036854775808'], error('ERR decrement would overflow')],
      [['GET', k('a')], bulk('9223372036854775807')],
      [['SET', k('a'), '-9223372036854775808'], OK],
      [['DECR', k('a')], error('ERR increment or decrement would overflow')],
      [['GET', k('a')], bulk('-9223372036854775808')],
    ],
  },
  {
    name: 'APPEND answers the new length, creating the key; STRLEN answers the length, 0 for a missing key',
    steps: (k) => [
      [['APPEND', k('a'), 'ab'], int(2)],
      [['APPEND', k('a'), 'cde'], int(5)],
      [['GET', k('a')], bulk('abcde')],
      [['STRLEN', k('a')], int(5)],
      [['STRLEN', k('missing')], int(0)],
    ],
  },
  {
    name: 'TYPE answers string for a key and none for a missing one, as simple strings',
    steps: (k) => [[['SET', k('a'), 'v'], OK], [['TYPE', k('a')], simple('string')], [['TYPE', k('missing')], simple('none')]],
  },
  {
    name: 'KEYS answers the keys matching a glob (*, ?, [ae], [^e], [a-b], \\*), in any order; none is an empty array',
    steps: (k) => [
      [['MSET', k('hello'), '1', k('hallo'), '2', k('hbllo'), '3', k('hllo'), '4', k('heeeello'), '5', k('h*llo'), '6'], OK],
      [['KEYS', k('h?llo')], bulksInAnyOrder([k('hello'), k('hallo'), k('hbllo'), k('h*llo')])],
      [['KEYS', k('h*llo')], bulksInAnyOrder([k('hello'), k('hallo'), k('hbllo'), k('hllo'), k('heeeello'), k('h*llo')])],
      [['KEYS', k('h[ae]llo')], bulksInAnyOrder([k('hello'), k('hallo')])],
      [['KEYS', k('h[^e]llo')], bulksInAnyOrder([k('hallo'), k('hbllo'), k('h*llo')])],
      [['KEYS', k('h[a-b]llo')], bulksInAnyOrder([k('hallo'), k('hbllo')])],
      [['KEYS', k('h\\*llo')], bulksInAnyOrder([k('h*llo')])],
      [['KEYS', k('nothing*')], array()],
    ],
  },
  {
    name: 'MULTI is OK, each command then QUEUED, and EXEC answers all their replies in order, each seeing the ones before',
    steps: (k) => [
      [['MULTI'], OK],
      [['SET', k('a'), '1'], QUEUED],
      [['INCR', k('a')], QUEUED],
      [['GET', k('a')], QUEUED],
      [['GET', k('missing')], QUEUED],
      [['EXEC'], array(OK, int(2), bulk('2'), nil)],
      [['GET', k('a')], bulk('2')],
    ],
  },
  {
    name: 'EXEC answers a command that fails when run with its error in its place, and the other commands are applied',
    steps: (k) => [
      [['SET', k('a'), 'text'], OK],
      [['MULTI'], OK],
      [['SET', k('b'), '1'], QUEUED],
      [['INCR', k('a')], QUEUED],
      [['SET', k('c'), '2'], QUEUED],
      [['EXEC'], array(OK, error('ERR value is not an integer or out of range'), OK)],
      [['MGET', k('a'), k('b'), k('c')], array(bulk('text'), bulk('1'), bulk('2'))],
    ],
  },
  {
    name: 'a command refused when queued (wrong arity, unknown) makes EXEC answer EXECABORT, and nothing of the MULTI is applied',
    steps: (k) => [
      [['MULTI'], OK],
      [['SET', k('a'), '1'], QUEUED],
      [['SET', k('b')], error("ERR wrong number of arguments for 'set' command")],
      [['NOSUCHCMD'], errorStarting("ERR unknown command 'NOSUCHCMD'")],
      [['EXEC'], error('EXECABORT Transaction discarded because of previous errors.')],
      [['EXISTS', k('a')], int(0)],
    ],
  },
  {
    name: 'DISCARD drops the queued commands; EXEC or DISCARD without MULTI and a nested MULTI are ERRs',
    steps: (k) => [
      [['MULTI'], OK],
      [['SET', k('a'), '1'], QUEUED],
      [['DISCARD'], OK],
      [['EXISTS', k('a')], int(0)],
      [['EXEC'], error('ERR EXEC without MULTI')],
      [['DISCARD'], error('ERR DISCARD without MULTI')],
      [['MULTI'], OK],
      [['MULTI'], error('ERR MULTI calls can not be nested')],
      [['SET', k('a'), '2'], QUEUED],
      [['EXEC'], array(OK)],
      [['GET', k('a')], bulk('2')],
    ],
  },
];
