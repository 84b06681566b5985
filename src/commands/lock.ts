import { TzkvCommand } from '../cli/base.js';
import { shellWord } from '../cli/dash-words.js';
import { hasFlag } from '../cli/failure.js';
import { lockWaitFlags, modeFlag } from '../cli/flags.js';
import { checkLockName, lockTimes, newHolder, withLockStore } from '../cli/lock-action.js';
import { type LockLine, readLockLine } from '../cli/lock-line.js';
import { checkRunnable, runLocked } from '../cli/lock-run.js';

export default class Lock extends TzkvCommand {
  static override summary = 'Run a command while holding a named lock.';
  static override description = `NAME is the lock's name (1 to 200 printable ASCII characters, no spaces); COMMAND is the program to run and its arguments, after "--".

Takes the lock NAME, runs COMMAND (no shell; stdin, stdout and stderr passed through) while holding it, and releases it when COMMAND ends. Exits with COMMAND's exit code (126/127 when it cannot be started, as a shell). While another holds the lock, waits (at most --wait, then exit 3 naming the holder).

The lock is renewed every TTL/3 while COMMAND runs; a holder that dies (kill -9, a reboot) loses it once --ttl has passed. SIGINT, SIGTERM and SIGHUP sent to tzkv go to COMMAND; the lock is released when it ends. A store is started where none is, as put starts one (--mode).

The lock is the key .tzkv-lock/NAME in the store, so keys, export, stats and replicate show it. For scripts that cannot wrap a command: lock acquire, lock release. lock list shows the holders (docs/cli.md "lock").`;
  static override usage = '<%= command.id %> NAME [-d DIR] [--ttl DURATION] [--wait DURATION] -- COMMAND...';
  static override examples = [
    '<%= config.bin %> <%= command.id %> backup --wait 0 -d /var/lib/jobs -- ./backup.sh --full   # cron: skip this run (exit 3) while the last one runs',
    "<%= config.bin %> <%= command.id %> deploy --wait 10m --ttl 1m -d etcd://kv1:2379/ci -- sh -c 'make deploy'   # across machines",
    '<%= config.bin %> lock list -d /var/lib/jobs   # who holds which lock',
  ];
  static override strict = false;
  // No oclif args: the line is read by readLockLine (oclif's help would print NAME... for a non-strict command).
  static override flags = { ...lockWaitFlags, ...modeFlag };

  private line: LockLine | undefined;

  /** Reads the line before anything else: "--" is required (src/cli/lock-line.ts). */
  override async init(): Promise<void> {
    if (!hasFlag(this.argv, '--help', '-h')) this.line = readLockLine(this.argv, { ...Lock.baseFlags, ...Lock.flags });
    await super.init();
  }

  async run(): Promise<void> {
    const line = this.line!;
    if ('subcommand' in line) return this.config.runCommand(line.subcommand, line.argv);
    const { flags } = await this.parse(Lock);
    checkLockName(line.name);
    const { ttlMs, wait } = lockTimes(flags);
    checkRunnable(line.command[0]!);
    const holder = newHolder(['tzkv', 'lock', line.name, '--', ...line.command].map(shellWord).join(' '), ttlMs);
    process.exitCode = await withLockStore(flags, 'tzkv lock', (store) => runLocked(store, line.name, holder, wait, line.command));
  }
}
