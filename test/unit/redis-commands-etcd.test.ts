// The scenarios of test/unit/redis-command-cases.ts that Redis runs too, on an
// etcd store: the commands use nothing of the directory store's, so they
// answer the same on both backends. Left out: the scenarios on the fake
// clock, and those that read expiries back to the millisecond (an etcd store
// keeps them as leases of whole seconds, docs/etcd.md).
//
// The clock (the store's and the commands') moves on by a millisecond before
// each reading, as it may on a loaded machine: no reply may depend on
// whether it did (a TTL read from a lease did: etcd tells whole seconds
// left, tzkv takes the middle of that second, and TTL's rounding to the
// nearest second turned on the millisecond after the read).
import { describe, it } from 'vitest';
import { open } from '../../src/open.js';
import { keyCommands } from '../../src/serve/redis/key-commands.js';
import { stringCommands } from '../../src/serve/redis/string-commands.js';
import { etcdForFile } from '../e2e/fixtures/etcd.js';
import { DirectServedStore, directContext } from '../helpers/direct-served-store.js';
import { etcd, needsServer } from '../helpers/servers.js';
import { type Scenario, keyScenarios, play, stringScenarios } from './redis-command-cases.js';

/** Date.now, read once it has moved on from any time read before. */
function tickingClock(): () => number {
  let last = 0;
  return () => {
    let now = Date.now();
    while (now <= last) now = Date.now();
    last = now;
    return now;
  };
}

describe('Redis commands on an etcd store', () => {
  needsServer(etcd);
  const address = etcdForFile('redis-commands');
  const scenarios = [...stringScenarios, ...keyScenarios].filter((s) => !s.tzkv && !s.milliseconds);

  it.each(scenarios.map((s) => [s.name, s] as const))('%s', async (_, scenario: Scenario) => {
    const now = tickingClock();
    const store = await open(address(), { now });
    try {
      await play(directContext(new DirectServedStore(store), [...stringCommands, ...keyCommands], { now }), scenario, () => {
        throw new Error('a scenario on etcd cannot move the clock');
      });
    } finally {
      await store.close();
    }
  });
});
