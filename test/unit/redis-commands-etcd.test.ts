// The scenarios of test/unit/redis-command-cases.ts that Redis runs too, on an
// etcd store: the commands use nothing of the directory store's, so they
// answer the same on both backends. Left out: the scenarios on the fake
// clock, and those that read expiries back to the millisecond (an etcd store
// keeps them as leases of whole seconds, docs/etcd.md).
import { describe, it } from 'vitest';
import { open } from '../../src/open.js';
import { keyCommands } from '../../src/serve/redis/key-commands.js';
import { stringCommands } from '../../src/serve/redis/string-commands.js';
import { etcdForFile } from '../e2e/fixtures/etcd.js';
import { DirectServedStore, directContext } from '../helpers/direct-served-store.js';
import { etcd, needsServer } from '../helpers/servers.js';
import { type Scenario, keyScenarios, play, stringScenarios } from './redis-command-cases.js';

describe('Redis commands on an etcd store', () => {
  needsServer(etcd);
  const address = etcdForFile('redis-commands');
  const scenarios = [...stringScenarios, ...keyScenarios].filter((s) => !s.tzkv && !s.milliseconds);

  it.each(scenarios.map((s) => [s.name, s] as const))('%s', async (_, scenario: Scenario) => {
    const store = await open(address());
    try {
      await play(directContext(new DirectServedStore(store), [...stringCommands, ...keyCommands]), scenario, () => {
        throw new Error('a scenario on etcd cannot move the clock');
      });
    } finally {
      await store.close();
    }
  });
});
