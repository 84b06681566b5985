// `tzkv keys --match GLOB`: shell-style patterns over the whole key (docs/cli.md
// "keys"). `*` is any run of characters (`:` and `/` included), `?` one
// character, `[abc]`, `[a-z]` one of a set and `[!a-z]` (or `[^a-z]`) one not in
// it; `\` makes the next character literal. A key is matched as UTF-8 text.

import { TzkvError } from '../errors.js';

export interface Glob {
  /** The characters every match starts with (before the first `*`, `?` or `[`): a listing needs to scan only keys with this prefix. */
  literalPrefix: string;
  matches(key: string): boolean;
}

/** Whether `text` holds a character that is special in a glob: a prefix that does is probably a pattern given to the wrong argument. */
export const looksLikeGlob = (text: string): boolean => /[*?[]/.test(text);

/** Regular-expression syntax characters, escaped outside a character class. */
const SYNTAX = /[\^$\\.*+?()[\]{}|/]/g;

/** A character as a code point escape, valid anywhere in a `u` regular expression. */
const codePoint = (char: string) => `\\u{${char.codePointAt(0)!.toString(16)}}`;

/** Compiles `pattern` (named `name` in messages, as `--match`); a malformed one is a usage error (exit 2). */
export function compileGlob(pattern: string, name = '--match'): Glob {
  const bad = (why: string) => new TzkvError('INVALID_ARGUMENT', `invalid ${name} ${JSON.stringify(pattern)}: ${why}`);
  if (pattern === '') throw bad('a pattern cannot be empty ("*" matches every key)');
  const chars = [...pattern];
  let source = '';
  let literalPrefix = '';
  let literal = true;
  for (let i = 0; i < chars.length; i++) {
    const char = chars[i];
    if (char === '\\') {
      if (i + 1 === chars.length) throw bad('it ends with a lone "\\" (write "\\\\" for a backslash)');
      const next = chars[++i];
      source += next.replace(SYNTAX, '\\$&');
      if (literal) literalPrefix += next;
      continue;
    }
    if (char === '*' || char === '?') {
      source += char === '*' ? '.*' : '.';
      literal = false;
      continue;
    }
    if (char === '[') {
      const set = characterSet(chars, i);
      if (set === undefined) throw bad(`the "[" at character ${i + 1} is never closed by "]" (write "\\[" to match a "[")`);
      if (typeof set.source !== 'string') throw bad(set.source.why);
      source += set.source;
      i = set.end;
      literal = false;
      continue;
    }
    source += char.replace(SYNTAX, '\\$&');
    if (literal) literalPrefix += char;
  }
  const regex = new RegExp(`^${source}$`, 'su');
  return { literalPrefix, matches: (key) => regex.test(key) };
}

/**
 * The set that opens at `chars[open]` ("["): its regular expression and the
 * index of its "]", or undefined when none closes it. A "]" right after the
 * "[" (or "[!") belongs to the set, as a "-" does first or last.
 */
function characterSet(chars: string[], open: number): { source: string | { why: string }; end: number } | undefined {
  let i = open + 1;
  const negated = chars[i] === '!' || chars[i] === '^';
  if (negated) i++;
  const items: string[] = [];
  for (let first = true; i < chars.length; first = false) {
    let char = chars[i];
    if (char === ']' && !first) return { source: `[${negated ? '^' : ''}${items.join('')}]`, end: i };
    if (char === '\\' && i + 1 < chars.length) char = chars[++i];
    if (chars[i + 1] === '-' && i + 2 < chars.length && chars[i + 2] !== ']') {
      let last = chars[i + 2];
      i += 2;
      if (last === '\\' && i + 1 < chars.length) last = chars[++i];
      if (last.codePointAt(0)! < char.codePointAt(0)!) return { source: { why: `the range "${char}-${last}" runs backwards` }, end: i };
      items.push(`${codePoint(char)}-${codePoint(last)}`);
    } else {
      items.push(codePoint(char));
    }
    i++;
  }
  return undefined;
}
