import * as Flags from '@oclif/core/flags';
import { TzkvCommand } from '../cli/base.js';
import { DURATION_HELP } from '../text/duration.js';
import { lockFlag, modeFlag } from '../cli/flags.js';
import { jsonRequested } from '../cli/failure.js';
import { reportServeFailure, serveStore } from '../cli/serve-action.js';
import { refuseSplitSync } from '../cli/serve-options.js';

export default class Serve extends TzkvCommand {
  static override summary = 'Serve the store over the Redis protocol and an HTTP/JSON API, until stopped.';
  static override description = `Runs in the foreground until SIGINT (Ctrl-C), SIGTERM or SIGHUP, then stops accepting, finishes the requests in flight, makes every acknowledged write durable, releases the store and exits 0.

Redis protocol (RESP2, RESP3 after HELLO 3) on --port: redis-cli, redis-benchmark and Redis client libraries work unchanged (docs/serve.md lists every command). HTTP on --http-port: GET/PUT/DELETE /v1/kv/KEY, GET /v1/keys, POST /v1/batch, /v1/stats, /healthz, /metrics.

Both listen on 127.0.0.1 only unless --bind says otherwise. --requirepass (or $TZKV_PASSWORD, which keeps it out of ps) makes clients authenticate: AUTH, or an HTTP "Authorization: Bearer" header. --tls-cert with --tls-key serves both protocols over TLS.

Writes are acknowledged once fsynced (--sync always); writes arriving together share one fsync. The writer lock is held only while a commit is written, so tzkv commands on the same store keep working, and a change they make is seen by the server's next read.

The store must be there (exit 5 otherwise, nothing created) unless --create starts one. The log goes to stderr: one line per start, stop and error (--json: one JSON object per line, for journald).`;
  static override examples = [
    '<%= config.bin %> <%= command.id %> -d /var/lib/tzkv &   # then: redis-cli -p 6380 get greeting; curl localhost:8080/v1/kv/greeting',
    'TZKV_PASSWORD=s3cret <%= config.bin %> <%= command.id %> --bind 0.0.0.0 --tls-cert cert.pem --tls-key key.pem',
    '<%= config.bin %> <%= command.id %> --port 0 --no-http --json   # any free port; the first log line names it',
    '<%= config.bin %> <%= command.id %> --sync batch-ms=100 --cache 256MB   # fsync at most 100 ms after acknowledging',
  ];
  static override flags = {
    port: Flags.integer({ summary: 'Redis protocol port (0: any free port).', default: 6380, helpValue: 'PORT' }),
    'http-port': Flags.integer({ summary: 'HTTP API port (0: any free port).', default: 8080, helpValue: 'PORT' }),
    redis: Flags.boolean({ summary: 'Serve the Redis protocol (--no-redis: HTTP only).', default: true, allowNo: true }),
    http: Flags.boolean({ summary: 'Serve the HTTP API (--no-http: Redis protocol only).', default: true, allowNo: true }),
    bind: Flags.string({ summary: 'Address to listen on (0.0.0.0: every interface).', default: '127.0.0.1', helpValue: 'ADDRESS' }),
    unix: Flags.string({ summary: 'Also serve the Redis protocol on this Unix socket.', helpValue: 'PATH' }),
    requirepass: Flags.string({
      summary: 'Require this password: Redis AUTH, HTTP "Authorization: Bearer".',
      description: 'Defaults to $TZKV_PASSWORD; prefer the variable, as command lines are visible to every user of the machine (ps).',
      env: 'TZKV_PASSWORD',
      helpValue: 'PASSWORD',
    }),
    'tls-cert': Flags.string({ summary: 'Serve over TLS with this certificate (PEM); needs --tls-key.', helpValue: 'FILE' }),
    'tls-key': Flags.string({ summary: 'The TLS private key (PEM).', helpValue: 'FILE' }),
    sync: Flags.string({
      summary: 'When writes are fsynced: always, batch-ms=N, or never.',
      description:
        'always (the default): before each acknowledgement, one fsync per group of writes arriving together; nothing acknowledged is lost. batch-ms=N: acknowledged once written to the OS, fsynced at most N ms later; a power loss loses up to N ms of writes (as Redis appendfsync everysec, with N=1000). never: the OS writes when it likes; a power loss loses what it had not written (a crash of tzkv alone loses nothing).',
      default: 'always',
      helpValue: 'MODE',
    }),
    cache: Flags.string({ summary: 'Read cache size: bytes, or with K, M or G (0: no cache).', default: '64MB', helpValue: 'SIZE' }),
    'max-clients': Flags.integer({ summary: 'Most connections at once; more are refused.', default: 10_000, helpValue: 'N' }),
    timeout: Flags.string({
      summary: 'Close a Redis connection idle this long (default: never).',
      description: `A duration: ${DURATION_HELP}; 0 is never.`,
      helpValue: 'DURATION',
    }),
    create: Flags.boolean({ summary: 'Start a store where there is none (as put does).', default: false }),
    json: Flags.boolean({ summary: 'Log as JSON Lines on stderr, one object per line (for journald); stdout stays empty.', default: false }),
    ...modeFlag,
    ...lockFlag,
  };

  override async init(): Promise<void> {
    await super.init();
    refuseSplitSync(this.argv);
  }

  async run(): Promise<void> {
    const { flags } = await this.parse(Serve);
    await serveStore(flags);
  }

  /** With --json the failure is a log line on stderr: stdout stays empty. */
  override async catch(err: Error & { exitCode?: number }): Promise<void> {
    reportServeFailure(err, { json: jsonRequested(this.argv), command: this.id ?? 'serve' });
  }
}
