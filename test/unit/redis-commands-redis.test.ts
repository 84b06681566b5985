// The scenarios of test/unit/redis-command-cases.ts on a real redis-server:
// the replies the tables expect of tzkv are Redis's own. (Scenarios marked
// `tzkv` check tzkv's limits or need its fake clock, and are left out.)
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RawConnection, type RawReply, readReply } from '../helpers/raw-resp.js';
import { startRedisServer } from '../helpers/redis-servers.js';
import { needsServer, redisServer } from '../helpers/servers.js';
import { type Expected, type Scenario, type Word, globCases, keyScenarios, normalise, stringScenarios } from './redis-command-cases.js';

/** A RESP2 reply in the tables' form. */
function tableForm(reply: RawReply): Expected {
  if ('text' in reply) return `${reply.type}${reply.text}`;
  if ('bytes' in reply) return reply.bytes === null ? 'nil' : `$${reply.bytes.toString('latin1')}`;
  return reply.items === null ? '*nil' : reply.items.map(tableForm);
}

describe('the tables are what redis-server answers', () => {
  needsServer(redisServer);
  let redis: RawConnection | undefined;
  const send = async (words: Word[]) => tableForm(readReply(await redis!.send(words))!.reply);

  beforeAll(async () => {
    if (redisServer.present) redis = await RawConnection.open((await startRedisServer()).port);
  });

  // The server itself is stopped by redis-servers.ts after the file.
  afterAll(() => redis?.close());

  const redisScenarios = [...stringScenarios, ...keyScenarios].filter((s) => !s.tzkv);
  it.each(redisScenarios.map((s) => [s.name, s] as const))('%s', async (_, scenario: Scenario) => {
    expect(await send(['FLUSHALL'])).toBe('+OK');
    for (const [words, expected] of scenario.steps) {
      expect(normalise(words[0], await send(words)), words.map(String).join(' ').slice(0, 120)).toEqual(expected);
    }
  });

  it.each(globCases)('KEYS %j finds %j: %s', async (pattern, key, matches) => {
    await send(['FLUSHALL']);
    await send(['SET', Buffer.from(key, 'latin1'), '1']);
    expect(await send(['KEYS', Buffer.from(pattern, 'latin1')])).toEqual(matches ? [`$${key}`] : []);
  });
});
