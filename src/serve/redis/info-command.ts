// INFO [section ...] and DBSIZE. INFO answers Redis's sections that mean
// something for tzkv (server, clients, memory, persistence, stats, keyspace)
// with Redis's field names, so monitoring that reads them works, and adds
// tzkv's own (tzkv_*). A section it does not know is empty, as in Redis.
import { arch, platform, release } from 'node:os';
import { randomBytes } from 'node:crypto';
import { VerbatimReply } from '../resp/reply.js';
import type { CommandContext } from './command.js';
import { defineCommand } from './define-command.js';

/** The Redis version tzkv answers as (HELLO, INFO): the one whose replies it follows. */
export const REDIS_VERSION = '7.0.0';
/** Redis's run_id: 40 hex characters, new for each server process. */
const RUN_ID = randomBytes(20).toString('hex');

type Fields = Array<[string, string | number]>;
type Section = (ctx: CommandContext) => Fields | Promise<Fields>;

function human(bytes: number): string {
  const units = ['B', 'K', 'M', 'G', 'T'];
  let value = bytes;
  let unit = 0;
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024;
    unit++;
  }
  return unit === 0 ? `${bytes}B` : `${value.toFixed(2)}${units[unit]}`;
}

const SECTIONS: Record<string, [title: string, fields: Section]> = {
  server: [
    'Server',
    (ctx) => {
      const uptime = Math.max(0, Math.floor((ctx.now() - ctx.server.startedAt) / 1000));
      return [
        ['redis_version', REDIS_VERSION],
        ['tzkv_version', ctx.server.version ?? ''],
        ['redis_mode', 'standalone'],
        ['os', `${platform()} ${release()} ${arch()}`],
        ['arch_bits', 64],
        ['process_id', process.pid],
        ['run_id', RUN_ID],
        ['tcp_port', ctx.server.port ?? 0],
        ['uptime_in_seconds', uptime],
        ['uptime_in_days', Math.floor(uptime / 86400)],
        ['executable', process.execPath],
        ['tzkv_store', ctx.server.location],
      ];
    },
  ],
  clients: [
    'Clients',
    (ctx) => [
      ['connected_clients', ctx.server.connectedClients()],
      ['maxclients', ctx.server.maxClients ?? 0],
      ['blocked_clients', 0],
    ],
  ],
  memory: [
    'Memory',
    (ctx) => {
      const memory = process.memoryUsage();
      const used = memory.heapUsed + memory.external;
      return [
        ['used_memory', used],
        ['used_memory_human', human(used)],
        ['used_memory_rss', memory.rss],
        ['used_memory_rss_human', human(memory.rss)],
        ['maxmemory', 0],
        ['maxmemory_policy', 'noeviction'],
        ['tzkv_cache_bytes', ctx.store.counters.cacheBytes],
        ['tzkv_cache_entries', ctx.store.counters.cacheEntries],
      ];
    },
  ],
  persistence: ['Persistence', () => [['loading', 0]]],
  stats: [
    'Stats',
    (ctx) => {
      const counters = ctx.store.counters;
      return [
        ['total_commands_processed', ctx.server.totalCommands()],
        ['keyspace_hits', counters.cacheHits],
        ['keyspace_misses', counters.cacheMisses],
        ['tzkv_commits', counters.commits],
        ['tzkv_writes', counters.writes],
      ];
    },
  ],
  keyspace: [
    'Keyspace',
    async (ctx) => {
      const keys = (await ctx.store.stats()).keys;
      return keys === 0 ? [] : [['db0', `keys=${keys},expires=0,avg_ttl=0`]];
    },
  ],
};

const EVERY_SECTION = new Set(['all', 'default', 'everything']);

export const infoCommand = defineCommand('info', -1, 'loading stale', [0, 0, 0], async (ctx, args) => {
  const asked = args.map((arg) => arg.toString('utf8').toLowerCase());
  const names = asked.length === 0 || asked.some((name) => EVERY_SECTION.has(name)) ? Object.keys(SECTIONS) : asked;
  const texts: string[] = [];
  for (const name of new Set(names)) {
    if (!Object.hasOwn(SECTIONS, name)) continue;
    const [title, section] = SECTIONS[name]!;
    const fields = await section(ctx);
    texts.push(`# ${title}\r\n${fields.map(([key, value]) => `${key}:${value}\r\n`).join('')}`);
  }
  return new VerbatimReply(texts.join('\r\n'));
});

export const dbsizeCommand = defineCommand('dbsize', 1, 'readonly fast', [0, 0, 0], async (ctx) => (await ctx.store.stats()).keys);
