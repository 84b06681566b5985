import { describe, expect, test } from 'vitest';
import { compileGlob, looksLikeGlob } from '../../src/cli/glob.js';

describe('keys --match GLOB', () => {
  test.each([
    ['user:*', ['user:', 'user:1:email', 'user:x/y'], ['use', 'users:1', 'xuser:1']],
    ['*:email', ['user:1:email', ':email'], ['user:1:email2', 'email']],
    ['user:?', ['user:1', 'user:é', 'user:*'], ['user:', 'user:10']],
    ['a[bc]d', ['abd', 'acd'], ['add', 'abcd']],
    ['a[a-c]', ['aa', 'ab', 'ac'], ['ad', 'a-']],
    ['a[!a-c]', ['ad', 'a-'], ['ab', 'a']],
    ['a[^b]', ['ac'], ['ab']],
    ['a[]]', ['a]'], ['a[']],
    ['a[-z]', ['a-', 'az'], ['am']],
    ['job\\*', ['job*'], ['job1']],
    ['\\[x\\]', ['[x]'], ['x']],
    ['a.b(c)+$', ['a.b(c)+$'], ['aXb(c)+$', 'a.bcc']],
    ['*', ['', 'anything\nat all'], []],
  ])('%s', (pattern, yes, no) => {
    const glob = compileGlob(pattern);
    for (const key of yes) expect(glob.matches(key), `${pattern} matches ${JSON.stringify(key)}`).toBe(true);
    for (const key of no) expect(glob.matches(key), `${pattern} does not match ${JSON.stringify(key)}`).toBe(false);
  });

  test('the literal prefix a listing scans under: up to the first special character, escapes resolved', () => {
    expect(compileGlob('user:*:email').literalPrefix).toBe('user:');
    expect(compileGlob('job\\*x?').literalPrefix).toBe('job*x');
    expect(compileGlob('[ab]c').literalPrefix).toBe('');
    expect(compileGlob('plain').literalPrefix).toBe('plain');
  });

  test.each([
    ['', /a pattern cannot be empty/],
    ['users:[12', /the "\[" at character 7 is never closed by "\]"/],
    ['a[]', /is never closed/],
    ['a\\', /ends with a lone "\\"/],
    ['[z-a]', /the range "z-a" runs backwards/],
  ])('%j is a usage error', (pattern, message) => {
    expect(() => compileGlob(pattern)).toThrow(expect.objectContaining({ code: 'INVALID_ARGUMENT', message: expect.stringMatching(message) }));
  });

  test('a prefix with * ? or [ looks like a glob', () => {
    expect(['users:*', 'a?', 'x[1]'].map(looksLikeGlob)).toEqual([true, true, true]);
    expect(['users:', 'a-b', 'x]'].map(looksLikeGlob)).toEqual([false, false, false]);
  });
});
