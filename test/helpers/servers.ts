// Tests that need a server tzkv can't install from npm (Debian's etcd-server,
// redis-server with redis-cli and redis-benchmark), or another program from
// Debian (the shells that test/e2e/completion.test.ts completes in). On a
// machine without it, such a test is skipped with a note naming the binary and
// the command that installs it, and test/helpers/skip-report.ts repeats the
// note after vitest's summary. With TZKV_REQUIRE_SERVERS=1 (set by .ci/run,
// which installs them) a missing server fails the test instead, so CI can
// never skip it silently.
import { accessSync, constants, statSync } from 'node:fs';
import { delimiter, join } from 'node:path';
import { beforeEach } from 'vitest';

export interface ServerNeed {
  binary: string;
  /** The command that installs it, for the skip note. */
  install: string;
  present: boolean;
  /** A missing server fails the tests instead of skipping them. */
  required: boolean;
  /** Why the tests are skipped, when they are. */
  note: string;
}

/** Whether `binary` is an executable file in one of PATH's folders. */
export function onPath(binary: string, path: string | undefined): boolean {
  for (const dir of (path ?? '').split(delimiter)) {
    if (dir === '') continue;
    const file = join(dir, binary);
    try {
      accessSync(file, constants.X_OK);
      if (statSync(file).isFile()) return true;
    } catch {
      // not in this folder
    }
  }
  return false;
}

export function serverNeed(binary: string, install: string, env: NodeJS.ProcessEnv = process.env): ServerNeed {
  return {
    binary,
    install,
    present: onPath(binary, env.PATH),
    required: env.TZKV_REQUIRE_SERVERS === '1',
    note: `needs ${binary}, which is not on PATH; install it with \`${install}\``,
  };
}

/**
 * Gates every test of the enclosing describe block (or file) on the server:
 * it runs when the binary is present, is skipped with `need.note` when not,
 * and fails when the server is required.
 */
export function needsServer(need: ServerNeed): void {
  beforeEach((ctx) => {
    if (need.present) return;
    if (need.required) throw new Error(`TZKV_REQUIRE_SERVERS=1, but this test ${need.note}`);
    ctx.skip(need.note);
  });
}

export const etcd = serverNeed('etcd', 'apt-get install -y etcd-server');
export const bash = serverNeed('bash', 'apt-get install -y bash');
export const zsh = serverNeed('zsh', 'apt-get install -y zsh');
export const fish = serverNeed('fish', 'apt-get install -y fish');
// Debian's redis-server is the reference the tests of `tzkv serve` hold its
// replies to; redis-tools brings the clients they drive it with.
const redisInstall = 'apt-get install -y redis-server redis-tools';
export const redisServer = serverNeed('redis-server', redisInstall);
export const redisCli = serverNeed('redis-cli', redisInstall);
export const redisBenchmark = serverNeed('redis-benchmark', redisInstall);
