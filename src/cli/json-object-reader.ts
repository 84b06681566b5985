// Streams the members of one JSON object of string → string
// (`{"a": "1", "b": "2"}`) without holding the document in memory: the
// members that end in a chunk of input are yielded together once the chunk
// is read. Anything else is an error naming the line it is on.

import type { Readable } from 'node:stream';
import { TzkvError, ioError } from '../errors.js';

export interface Member {
  /** Line where the member's key starts, from 1. */
  line: number;
  key: string;
  value: string;
}

type State = 'start' | 'first-key' | 'key' | 'colon' | 'value' | 'comma' | 'end';

const WHITESPACE = new Set([' ', '\t', '\n', '\r']);

export async function* readJsonObject(stream: Readable, name: string, onBytes?: (bytes: number) => void): AsyncGenerator<Member[]> {
  const decoder = new TextDecoder('utf-8', { fatal: true });
  let state: State = 'start';
  let line = 1;
  let inString = false;
  let escaped = false;
  let raw: string[] = [];
  let key = '';
  let keyLine = 1;
  let consumed = 0;
  const fail = (message: string): never => {
    throw new TzkvError('INVALID_ARGUMENT', `${name} line ${line}: ${message}`);
  };
  const decodeString = (): string => {
    try {
      return JSON.parse(`"${raw.join('')}"`) as string;
    } catch {
      return fail('invalid string (a bad escape or a raw control character)');
    }
  };

  const chunks = async function* () {
    try {
      for await (const chunk of stream as AsyncIterable<Buffer>) {
        consumed += chunk.length;
        yield decoder.decode(chunk, { stream: true });
        onBytes?.(consumed);
      }
      yield decoder.decode();
    } catch (err) {
      if (err instanceof TypeError) fail('not valid UTF-8');
      throw ioError(err, 'cannot read', name);
    }
  };

  for await (const text of chunks()) {
    const members: Member[] = [];
    for (const ch of text) {
      if (inString) {
        if (ch === '\n') fail('a string runs past the end of the line');
        if (escaped) {
          escaped = false;
        } else if (ch === '\\') {
          escaped = true;
        } else if (ch === '"') {
          inString = false;
          if (state === 'key') {
            key = decodeString();
            state = 'colon';
          } else {
            members.push({ line: keyLine, key, value: decodeString() });
            state = 'comma';
          }
          continue;
        }
        raw.push(ch);
        continue;
      }
      if (ch === '\n') line++;
      if (WHITESPACE.has(ch)) continue;
      switch (state) {
        case 'start':
          if (ch !== '{') fail('expected a JSON object ({"key": "value", ...})');
          state = 'first-key';
          break;
        case 'first-key':
        case 'key':
          if (ch === '}' && state === 'first-key') {
            state = 'end';
          } else if (ch === '"') {
            state = 'key';
            inString = true;
            raw = [];
            keyLine = line;
          } else {
            fail('expected a key in double quotes');
          }
          break;
        case 'colon':
          if (ch !== ':') fail(`expected ":" after the key ${JSON.stringify(key)}`);
          state = 'value';
          break;
        case 'value':
          if (ch !== '"') fail(`the value of ${JSON.stringify(key)} must be a string`);
          inString = true;
          raw = [];
          break;
        case 'comma':
          if (ch === ',') state = 'key';
          else if (ch === '}') state = 'end';
          else fail('expected "," or "}"');
          break;
        case 'end':
          fail('unexpected text after the end of the object');
      }
    }
    if (members.length > 0) yield members;
  }
  if (state !== 'end') fail('unexpected end of input: the object is not closed');
}
