// The Redis string and keyspace commands on a real store (through a direct
// ServedStore, test/helpers/direct-served-store.ts), scenario by scenario
// from test/unit/redis-command-cases.ts, on a fake clock: every reply exact.
import { describe, expect, it } from 'vitest';
import { globMatches, globPrefix } from '../../src/serve/redis/redis-glob.js';
import { keyCommands } from '../../src/serve/redis/key-commands.js';
import { stringCommands } from '../../src/serve/redis/string-commands.js';
import { DirectServedStore, directContext } from '../helpers/direct-served-store.js';
import { tempStore } from '../helpers/temp-store.js';
import { type Scenario, globCases, keyScenarios, play, stringScenarios } from './redis-command-cases.js';

const START = Date.UTC(2024, 0, 1);

async function playOnStore(scenario: Scenario): Promise<void> {
  let now = START;
  const store = await tempStore({ now: () => now });
  try {
    const ctx = directContext(new DirectServedStore(store), [...stringCommands, ...keyCommands], { now: () => now });
    await play(ctx, scenario, (ms) => (now += ms));
  } finally {
    await store.close();
  }
}

describe('Redis string commands', () => {
  it.each(stringScenarios.map((s) => [s.name, s] as const))('%s', (_, scenario) => playOnStore(scenario));
});

describe('Redis keyspace commands', () => {
  it.each(keyScenarios.map((s) => [s.name, s] as const))('%s', (_, scenario) => playOnStore(scenario));
});

describe('KEYS and SCAN patterns, as Redis matches them', () => {
  it.each(globCases)('%j against %j: %s', (pattern, key, matches) => {
    const [p, k] = [Buffer.from(pattern, 'latin1'), Buffer.from(key, 'latin1')];
    expect(globMatches(p, k)).toBe(matches);
    // Every key a pattern matches starts with its literal prefix.
    if (matches) expect(k.subarray(0, globPrefix(p).length)).toEqual(globPrefix(p));
  });

  it('takes the literal prefix before the first wildcard, escapes undone', () => {
    const prefix = (pattern: string) => globPrefix(Buffer.from(pattern)).toString();
    expect([prefix('user:*'), prefix('a\\*b*'), prefix('ab?'), prefix('[ab]'), prefix('abc'), prefix('ab\\'), prefix('')]).toEqual(['user:', 'a*b', 'ab', '', 'abc', 'ab\\', '']);
  });

  it('stops at 1000 nested stars instead of exhausting the stack', () => {
    const pattern = Buffer.from(`${'*a'.repeat(5000)}b`);
    expect(globMatches(pattern, Buffer.from('a'.repeat(6000)))).toBe(false);
  });
});
