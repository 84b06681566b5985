import { describe, expect, test } from 'vitest';
import { fastPlan } from '../../src/cli/fast-argv.js';

const plan = (argv: string[], env: NodeJS.ProcessEnv = {}) => fastPlan(argv, env);

describe('fastPlan: which command lines skip oclif', () => {
  test('plain get and put lines, flags before or after, in either spelling', () => {
    expect(plan(['get', 'k'])).toEqual({ command: 'get', args: ['k'], json: false, 'if-absent': false, persist: false });
    expect(plan(['-d', '/s', '--json', 'get', 'k'])).toEqual({ command: 'get', args: ['k'], dir: '/s', json: true, 'if-absent': false, persist: false });
    expect(plan(['get', '--bucket=users', 'k', '--dir=/s'])).toEqual({ command: 'get', args: ['k'], dir: '/s', bucket: 'users', json: false, 'if-absent': false, persist: false });
    expect(plan(['put', 'k', 'v', '--ttl', '10m', '--if-absent', '-b', 'jobs', '--lock-timeout', '0'])).toEqual({
      command: 'put',
      args: ['k', 'v'],
      bucket: 'jobs',
      ttl: '10m',
      json: false,
      'if-absent': true,
      'lock-timeout': '0',
      persist: false,
    });
    // A key or value may be a command's name, or contain "=" and spaces.
    expect(plan(['get', 'put'])?.args).toEqual(['put']);
    expect(plan(['put', 'a=b', 'c d'])).toMatchObject({ args: ['a=b', 'c d'] });
    // After "--" every word is an argument, as oclif has it.
    expect(plan(['put', '-d', '/s', '--', '-k', '--json'])).toMatchObject({ args: ['-k', '--json'], dir: '/s', json: false });
    expect(plan(['get', '--json', '--', '-'])).toMatchObject({ args: ['-'], json: true });
  });

  test('an alias is its command: set, rm, delete, ls, list', () => {
    expect(plan(['set', 'k', 'v', '--ttl', '1h'])).toEqual(plan(['put', 'k', 'v', '--ttl', '1h']));
    expect(plan(['-d', '/s', 'rm', 'a', 'b'])).toMatchObject({ command: 'del', args: ['a', 'b'], dir: '/s' });
    expect(plan(['delete', '--', '-k'])).toMatchObject({ command: 'del', args: ['-k'] });
    expect(plan(['ls', 'user:', '-n', '3'])).toMatchObject({ command: 'keys', args: ['user:'], limit: 3 });
    expect(plan(['list', '-0'])).toMatchObject({ command: 'keys', null: true });
    // As its command would be: set without a VALUE is oclif's to report.
    expect(plan(['set', 'k'])).toBeUndefined();
    // An alias counts only where the command goes: a key may be called ls.
    expect(plan(['get', 'ls'])).toMatchObject({ command: 'get', args: ['ls'] });
  });

  test('incr takes KEY [BY], ttl KEY [DURATION] or --persist', () => {
    expect(plan(['incr', 'n'])).toMatchObject({ command: 'incr', args: ['n'] });
    // After "--" a flag is an argument too: three arguments are one too many.
    expect(plan(['incr', '--', 'n', '-3', '--json'])).toBeUndefined();
    expect(plan(['incr', '-d', '/s', '--', 'n', '-3'])).toMatchObject({ command: 'incr', args: ['n', '-3'], dir: '/s' });
    expect(plan(['ttl', 'k', '10m', '--lock-timeout', '1s'])).toMatchObject({ command: 'ttl', args: ['k', '10m'], 'lock-timeout': '1s', persist: false });
    expect(plan(['ttl', 'k', '--persist', '--json'])).toMatchObject({ command: 'ttl', args: ['k'], persist: true, json: true });
  });

  test('put and getset take KEY VALUE with the conditions and --get; del the conditions; incr --ttl', () => {
    expect(plan(['getset', 'k', 'v', '--json'])).toEqual({ command: 'getset', args: ['k', 'v'], json: true, 'if-absent': false, persist: false });
    expect(plan(['put', 'k', 'v', '--if-value', 'old', '--get'])).toEqual({ command: 'put', args: ['k', 'v'], json: false, 'if-absent': false, 'if-value': 'old', get: true, persist: false });
    expect(plan(['put', '--if-value=a b', 'k', '--', '-v'])).toMatchObject({ args: ['k', '-v'], 'if-value': 'a b' });
    expect(plan(['getset', 'k', 'v', '--if-version', '3:16:0a0b0c0d'])).toMatchObject({ command: 'getset', 'if-version': '3:16:0a0b0c0d' });
    expect(plan(['del', 'k', '--if-value', 'mine'])).toMatchObject({ command: 'del', args: ['k'], 'if-value': 'mine' });
    expect(plan(['incr', 'hits', '--ttl', '1m'])).toMatchObject({ command: 'incr', args: ['hits'], ttl: '1m' });
  });

  test('del takes one key or more, keys a prefix or none and --limit', () => {
    expect(plan(['del', 'a', 'b', 'c', '--lock-timeout', '2s', '--json'])).toEqual({ command: 'del', args: ['a', 'b', 'c'], json: true, 'if-absent': false, 'lock-timeout': '2s', persist: false });
    expect(plan(['keys'])).toEqual({ command: 'keys', args: [], json: false, 'if-absent': false, persist: false });
    expect(plan(['keys', 'user:', '-n', '10', '-b', 'x'])).toEqual({ command: 'keys', args: ['user:'], bucket: 'x', limit: 10, json: false, 'if-absent': false, persist: false });
    expect(plan(['keys', '--limit=3'])?.limit).toBe(3);
    expect(plan(['keys', 'tmp:', '-0'])).toMatchObject({ command: 'keys', args: ['tmp:'], null: true });
    expect(plan(['-0', 'keys', '--null'])).toBeUndefined(); // given twice: oclif says so
    expect(plan(['--null', 'keys'])?.null).toBe(true);
    expect(plan(['del', 'k'], { TZKV_LOCK_TIMEOUT: '1s' })?.['lock-timeout']).toBe('1s');
    expect(plan(['keys'], { TZKV_LOCK_TIMEOUT: '1s' })?.['lock-timeout']).toBeUndefined();
  });

  test('many keys at once: get KEY... or --prefix, del --prefix/--all/--dry-run, keys --match/--long', () => {
    expect(plan(['get', 'a', 'b', '--missing-ok', '--json'])).toEqual({ command: 'get', args: ['a', 'b'], json: true, 'if-absent': false, persist: false, 'missing-ok': true });
    expect(plan(['get', '--prefix', 'cfg:', '--with-keys'])).toMatchObject({ command: 'get', args: [], prefix: 'cfg:', 'with-keys': true });
    // No KEY: get's and del's own usage error, the same on both paths.
    expect(plan(['get'])).toMatchObject({ command: 'get', args: [] });
    expect(plan(['del'])).toMatchObject({ command: 'del', args: [] });
    expect(plan(['del', '--prefix=tmp:', '--dry-run'])).toMatchObject({ command: 'del', prefix: 'tmp:', 'dry-run': true });
    expect(plan(['del', '-b', 'x', '--all'])).toMatchObject({ command: 'del', bucket: 'x', all: true });
    expect(plan(['keys', 'u', '--match', 'u*:[0-9]', '-l', '-0'])).toMatchObject({ command: 'keys', args: ['u'], match: 'u*:[0-9]', long: true, null: true });
    // An empty prefix or pattern goes to oclif, as any empty flag value.
    expect(plan(['del', '--prefix', ''])).toBeUndefined();
    expect(plan(['keys', '--match='])).toBeUndefined();
    expect(plan(['keys', '--prefix', 'a'])).toBeUndefined();
  });

  test('batch takes FILE, "-" for stdin (asked for, so not left to oclif), and --each or --atomic', () => {
    expect(plan(['batch', 'ops.txt', '-d', '/s'])).toEqual({ command: 'batch', args: ['ops.txt'], dir: '/s', json: false, 'if-absent': false, persist: false });
    expect(plan(['-d', '/s', 'batch', '-', '--each', '--json'])).toEqual({ command: 'batch', args: ['-'], dir: '/s', json: true, each: true, 'if-absent': false, persist: false });
    expect(plan(['batch', '-', '--atomic', '-b', 'users', '--mode', '0750'])).toMatchObject({ args: ['-'], bucket: 'users', mode: '0750' });
    expect(plan(['batch', '-', '--atomic'])?.each).toBeUndefined();
  });

  test('the environment fills --dir and --lock-timeout as oclif does (empty is unset)', () => {
    expect(plan(['get', 'k'], { TZKV_DIR: '/env' })?.dir).toBe('/env');
    expect(plan(['get', 'k', '-d', '/flag'], { TZKV_DIR: '/env' })?.dir).toBe('/flag');
    expect(plan(['get', 'k'], { TZKV_DIR: '' })?.dir).toBeUndefined();
    expect(plan(['put', 'k', 'v'], { TZKV_LOCK_TIMEOUT: '2s' })?.['lock-timeout']).toBe('2s');
    expect(plan(['get', 'k'], { TZKV_LOCK_TIMEOUT: '2s' })?.['lock-timeout']).toBeUndefined();
  });

  test('takes --key-file on every fast command, before the command too, else $TZKV_KEY_FILE (the flag wins)', () => {
    expect(plan(['get', 'k', '--key-file', '/k'])?.['key-file']).toBe('/k');
    expect(plan(['--key-file', '/k', 'put', 'k', 'v'])?.['key-file']).toBe('/k');
    expect(plan(['keys', '--key-file=/k'])?.['key-file']).toBe('/k');
    expect(plan(['del', 'k'], { TZKV_KEY_FILE: '/env' })?.['key-file']).toBe('/env');
    expect(plan(['del', 'k', '--key-file', '/flag'], { TZKV_KEY_FILE: '/env' })?.['key-file']).toBe('/flag');
    expect(plan(['get', 'k'], { TZKV_KEY_FILE: '' })?.['key-file']).toBeUndefined();
  });

  test.each([
    ['another command', ['export']],
    ['ttl with --expire-at', ['ttl', 'k', '--expire-at', '0']],
    ['incr with three arguments', ['incr', 'k', '1', '2']],
    ['no command', ['--json']],
    ['a missing argument (put reads stdin)', ['put', 'k']],
    ['an extra argument', ['ttl', 'k', '1m', 'x']],
    ['keys with two prefixes', ['keys', 'a', 'b']],
    ['a --limit that is not a plain count', ['keys', '--limit', '0']],
    ['a --limit with a sign or a point', ['keys', '-n', '1.5']],
    ['-n on a command without it', ['get', 'k', '-n', '1']],
    ['-0 on a command without it', ['get', 'k', '-0']],
    ['-n before the command', ['-n', '1', 'keys']],
    ['a value from stdin', ['put', 'k', '-']],
    ['batch without FILE', ['batch']],
    ['batch with --each and --atomic (oclif refuses them together)', ['batch', '-', '--each', '--atomic']],
    ['batch with two files', ['batch', 'a', 'b']],
    ['"-" before the command', ['-', 'batch', 'f']],
    ['an argument that looks like a flag', ['put', 'k', '-5']],
    ['--file', ['put', 'k', '--file', 'f']],
    ['--expire-at', ['put', 'k', 'v', '--expire-at', '0']],
    ['a flag the command lacks', ['get', 'k', '--ttl', '1m']],
    ['a flag given twice', ['get', 'k', '-d', '/a', '--dir', '/b']],
    ['a flag without its value', ['get', 'k', '-d']],
    ['an empty flag value', ['get', 'k', '--dir=']],
    ['a flag value that looks like a flag', ['put', 'k', 'v', '--ttl', '-1s']],
    ['a value on a boolean flag', ['get', 'k', '--json=true']],
    ['help', ['get', '--help']],
    ['"--" before the command', ['--', 'get', 'k']],
    ['too many arguments after "--"', ['ttl', '--', 'k', '1m', '--json']],
    ['an empty key', ['get', '']],
    ['an empty value', ['put', 'k', '']],
    ['-d=DIR', ['get', 'k', '-d=/s']],
    ['a flag before the command that commandFirst does not step over', ['--ttl', '1m', 'put', 'k', 'v']],
    ['an etcd address', ['get', 'k', '-d', 'etcd://127.0.0.1:2379/p']],
    ['getset without its VALUE', ['getset', 'k']],
    ['--get on getset, which has none (it always gets)', ['getset', 'k', 'v', '--get']],
    ['--get on get', ['get', 'k', '--get']],
    ['--if-value on incr', ['incr', 'k', '--if-value', '1']],
    ['an --if-value that looks like a flag', ['put', 'k', 'v', '--if-value', '-old']],
    ['an --if-value written with "=" that starts with "-"', ['put', 'k', 'v', '--if-value=-old']],
    ['an empty --if-value', ['put', 'k', 'v', '--if-value=']],
  ])('not for %s', (_what, argv) => {
    expect(plan(argv)).toBeUndefined();
  });

  test('not for an etcd address or etcd settings in the environment, nor with TZKV_NO_FAST_PATH', () => {
    expect(plan(['get', 'k'], { TZKV_DIR: 'etcds://h:1/p' })).toBeUndefined();
    expect(plan(['get', 'k'], { TZKV_ETCD_TIMEOUT: '1s' })).toBeUndefined();
    expect(plan(['get', 'k'], { TZKV_ETCD_USER: 'u' })).toBeUndefined();
    expect(plan(['get', 'k'], { TZKV_NO_FAST_PATH: '1' })).toBeUndefined();
  });
});
