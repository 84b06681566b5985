// tzkv watch through real processes (docs/cli.md "watch"): a writer in
// another process makes the changes, the built CLI prints them. The same
// cases run on a store directory and on a real etcd server.
import { execa, type ResultPromise } from 'execa';
import { existsSync, mkdirSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { describe, expect, test } from 'vitest';
import { etcdForFile, startEtcd } from './fixtures/etcd.js';
import { FIXTURES } from './fixtures/processes.js';
import { type ServerNeed, etcd, needsServer } from '../helpers/servers.js';
import { BIN, NODE, childEnv, expectNoStack, storeDir, tempDir, tzkv } from './helpers.js';

const etcdStore = etcdForFile('watch');

type Child = ResultPromise<{ reject: false; buffer: false; stdin: 'pipe' }>;

/** A process whose stdout lines the test reads as they come. */
class Running {
  readonly lines: string[] = [];
  stderr = '';
  private changed: () => void = () => undefined;

  constructor(readonly child: Child) {
    createInterface({ input: child.stdout! }).on('line', (line) => {
      this.lines.push(line);
      this.changed();
    });
    child.stderr!.on('data', (d: Buffer) => (this.stderr += d.toString()));
    void child.then(() => this.changed());
  }

  /** Waits until `done()` holds (checked at each new line), failing after `ms`. */
  async until(done: () => boolean, what: string, ms = 60_000): Promise<void> {
    const deadline = Date.now() + ms;
    while (!done()) {
      if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}; stdout so far:\n${this.lines.slice(-5).join('\n')}\nstderr: ${this.stderr}`);
      await new Promise<void>((resolve) => {
        this.changed = resolve;
        setTimeout(resolve, 100);
      });
    }
  }

  get exited(): boolean {
    return this.child.exitCode !== null || this.child.signalCode !== null;
  }
}

function start(command: string[], node = [BIN]): Running {
  return new Running(execa(NODE, [...node, ...command], { reject: false, buffer: false, stdin: 'pipe', env: childEnv(), extendEnv: false, timeout: 180_000 }) as Child);
}

const watch = (args: string[]) => start(['watch', ...args]);
const changer = (args: string[]) => start([join(FIXTURES, 'changer.mjs'), ...args], []);

const SENTINEL = 'sentinel-';
interface Change {
  type: string;
  key: string;
  value: string | null;
}

/** The watch's JSON lines as the writer prints its changes, without the readiness puts. */
const changes = (w: Running): Change[] =>
  w.lines
    .map((l) => JSON.parse(l) as Change & { expiresAt?: string | null })
    .filter((e) => e.type !== undefined && !e.value?.startsWith(SENTINEL))
    .map(({ type, key, value }) => ({ type, key, value }));

/**
 * Puts `key` (a key the watch reports) until the watch prints it: from then
 * on it sees every change. Changes before a watch starts are not its to report.
 */
async function ready(store: string, w: Running, key: string): Promise<void> {
  for (let i = 0; i < 60; i++) {
    const value = `${SENTINEL}${i}`;
    expect((await tzkv(['put', '-d', store, key, value])).exitCode).toBe(0);
    const seen = () => w.lines.some((l) => l.includes(value));
    try {
      await w.until(seen, 'the readiness put', 1000);
      return;
    } catch {
      if (w.exited) throw new Error(`watch exited: ${w.stderr}`);
    }
  }
  throw new Error('the watch never saw a put');
}

/** Stops a watch with a signal; it ends at once and says nothing. */
async function stop(w: Running, signal: NodeJS.Signals = 'SIGTERM'): Promise<void> {
  const t0 = Date.now();
  w.child.kill(signal);
  const result = await w.child;
  expect(result.signal).toBe(signal);
  expect(Date.now() - t0).toBeLessThan(5000);
  expect(w.stderr).toBe('');
}

const backends: Array<[string, () => Promise<string>, ServerNeed | undefined]> = [
  // An empty directory is an empty store, which a watch follows (a missing one is exit 5).
  ['a store directory', async () => {
    const dir = await storeDir();
    mkdirSync(dir);
    return dir;
  }, undefined],
  ['an etcd server', async () => etcdStore(), etcd],
];

describe.each(backends)('tzkv watch against %s', (name, newStore, server) => {
  if (server) needsServer(server);
  const directory = name === 'a store directory';

  test('1,000 changes from another process: every one, in order, once — across segment rolls and compactions', async () => {
    const s = await newStore();
    const w = watch(['--prefix', 'p:', '-d', s, '--json']);
    await ready(s, w, 'p:0');
    // On a directory: 4 KiB segments roll every few dozen changes, and the writer compacts twice
    // (a switch with nothing written meanwhile: the compaction's last segment becomes the active one).
    const c = changer(directory ? [s, 'p:', '1000', '4096', '300,700'] : [s, 'p:', '1000']);
    const made = () => c.lines.map((l) => JSON.parse(l) as Record<string, unknown>).filter((l) => l.type !== undefined);
    for (let paused = 0; ; ) {
      await c.until(() => c.exited || c.lines.length > paused, 'the writer');
      if (c.exited) break;
      for (; paused < c.lines.length; paused++) {
        const line = JSON.parse(c.lines[paused]) as { compacting?: number };
        if (line.compacting === undefined) continue;
        await w.until(() => changes(w).length >= line.compacting!, `the watch to read ${line.compacting} changes`);
        c.child.stdin!.write('go\n');
      }
    }
    expect((await c.child).exitCode).toBe(0);
    expect(made()).toHaveLength(1000);
    await w.until(() => changes(w).length >= 1000, 'the watch to read 1,000 changes');
    await new Promise((r) => setTimeout(r, 500)); // nothing more may come: no duplicates
    expect(changes(w)).toEqual(made());
    await stop(w);
    if (directory) expect(JSON.parse((await tzkv(['stats', '-d', s, '--json'])).stdout).compactedRecords).toBeGreaterThan(0);
  }, 180_000);

  test('KEY watches that key alone, --prefix every key under it, -b within a bucket; text lines quote what needs it', async () => {
    const s = await newStore();
    const one = watch(['a:1', '-d', s]);
    const under = watch(['--prefix', 'a:', '-d', s]);
    const bucket = watch(['-b', 'a', '--prefix', '', '-d', s, '--json']);
    await ready(s, one, 'a:1');
    await ready(s, under, 'a:1');
    await ready(s, bucket, 'a:1');
    // A readiness put may reach one watch after another said it was ready: compare without them.
    const after = (w: Running) => w.lines.filter((l) => !l.includes(SENTINEL));
    for (const [k, v] of [['a:10', 'ten'], ['b:1', 'other'], ['a:2', 'two words'], ['a:1', 'line\nbreak'], ['a:3', '']]) {
      expect((await tzkv(['put', '-d', s, k, v])).exitCode).toBe(0);
    }
    expect((await tzkv(['del', '-d', s, 'a:1'])).exitCode).toBe(0);
    await under.until(() => after(under).length >= 5, 'the prefix watch');
    await one.until(() => after(one).length >= 2, 'the key watch');
    await bucket.until(() => after(bucket).length >= 5, 'the bucket watch');
    await new Promise((r) => setTimeout(r, 300));
    expect(after(one)).toEqual(['put a:1 "line\\nbreak"', 'del a:1']);
    expect(after(under)).toEqual(['put a:10 ten', 'put a:2 "two words"', 'put a:1 "line\\nbreak"', 'put a:3 ""', 'del a:1']);
    expect(after(bucket).map((l) => JSON.parse(l))).toEqual([
      { type: 'put', key: '10', value: 'ten', expiresAt: null },
      { type: 'put', key: '2', value: 'two words', expiresAt: null },
      { type: 'put', key: '1', value: 'line\nbreak', expiresAt: null },
      { type: 'put', key: '3', value: '', expiresAt: null },
      { type: 'del', key: '1', value: null, expiresAt: null },
    ]);
    for (const w of [one, under, bucket]) await stop(w, 'SIGINT');
  }, 60_000);

  test('--once exits 0 after the first change, printing just it', async () => {
    const s = await newStore();
    const w = watch(['job', '-d', s, '--once', '--json']);
    for (let i = 0; !w.exited && i < 100; i++) {
      await tzkv(['put', '-d', s, 'job', `v${i}`, '--ttl', '1h']);
      await w.until(() => w.exited, 'the watch to exit', 300).catch(() => undefined);
    }
    const result = await w.child;
    expect([result.exitCode, w.stderr]).toEqual([0, '']);
    expect(w.lines).toHaveLength(1);
    const event = JSON.parse(w.lines[0]) as { type: string; key: string; value: string; expiresAt: string };
    expect(event).toMatchObject({ type: 'put', key: 'job', value: expect.stringMatching(/^v\d+$/) });
    expect(Date.parse(event.expiresAt) - Date.now()).toBeGreaterThan(3_500_000);
  }, 60_000);

  test('--existing reports the key written before the watch started, at once (a CI step waiting for a fixture)', async () => {
    const s = await newStore();
    expect((await tzkv(['put', '-d', s, 'ready', 'yes'])).exitCode).toBe(0);
    const run = await tzkv(['watch', 'ready', '--existing', '--once', '--timeout', '30s', '-d', s]);
    expect([run.exitCode, run.stdout, run.stderr]).toEqual([0, 'put ready yes\n', '']);
    const missing = await tzkv(['watch', 'absent', '--existing', '--once', '--timeout', '1s', '-d', s]);
    expect([missing.exitCode, missing.stdout]).toEqual([1, '']);
    // --timeout after a change was printed: a watch that ran its time, exit 0.
    const ran = await tzkv(['watch', 'ready', '--existing', '--timeout', '1s', '-d', s]);
    expect([ran.exitCode, ran.stdout, ran.stderr]).toEqual([0, 'put ready yes\n', '']);
  }, 60_000);

  test('--timeout: exit 1 and a message when nothing changed (the error document with --json); a bad duration is exit 2', async () => {
    const s = await newStore();
    expect((await tzkv(['put', '-d', s, 'other', 'x'])).exitCode).toBe(0);
    const t0 = Date.now();
    const quiet = await tzkv(['watch', 'k', '--timeout', '1s', '-d', s]);
    expect(Date.now() - t0).toBeGreaterThanOrEqual(1000);
    expect([quiet.exitCode, quiet.stdout, quiet.stderr]).toEqual([1, '', 'tzkv: no change to "k" within 1s\n']);
    const json = await tzkv(['watch', '--prefix', 'k', '--timeout', '500ms', '-d', s, '--json']);
    expect(json.exitCode).toBe(1);
    expect(JSON.parse(json.stdout)).toEqual({ error: { code: 'TIMEOUT', message: 'no change under prefix "k" within 500ms', exitCode: 1 } });
    for (const bad of ['1.5h', '0', 'soon']) {
      const run = await tzkv(['watch', 'k', '--timeout', bad, '-d', s]);
      expect(run.exitCode).toBe(2);
      expect(run.stderr).toContain(`invalid --timeout "${bad}"`);
      expectNoStack(run);
    }
  }, 60_000);

  test('a key whose expiry passes: put, then expire', async () => {
    const s = await newStore();
    const w = watch(['--prefix', 't:', '-d', s, '--json']);
    await ready(s, w, 't:ready');
    expect((await tzkv(['put', '-d', s, 't:k', 'v', '--ttl', '2s'])).exitCode).toBe(0);
    await w.until(() => changes(w).length >= 2, 'the expiry', 15_000);
    const [put, expired] = w.lines.map((l) => JSON.parse(l) as Change & { expiresAt: string }).filter((e) => !e.value?.startsWith(SENTINEL));
    expect(put).toMatchObject({ type: 'put', key: 't:k', value: 'v' });
    expect(expired).toMatchObject({ type: 'expire', key: 't:k', value: null });
    expect(Date.parse(expired.expiresAt)).toBeGreaterThanOrEqual(Date.parse(put.expiresAt) - 1000);
    await stop(w);
  }, 60_000);

  test('its reader gone (watch | head -1): the watch ends quietly with exit 0 at its next change', async () => {
    const s = await newStore();
    const pipeline = execa('bash', ['-c', `set -o pipefail; "${NODE}" "${BIN}" watch --prefix h: -d "${s}" | head -1; echo "statuses \${PIPESTATUS[*]}" >&2`], {
      reject: false,
      env: childEnv(),
      extendEnv: false,
      timeout: 60_000,
    });
    for (let i = 0; pipeline.exitCode === null && i < 200; i++) {
      await tzkv(['put', '-d', s, `h:${i}`, `v${i}`]);
      await new Promise((r) => setTimeout(r, 50));
    }
    const result = await pipeline;
    expect(result.stdout).toMatch(/^put h:\d+ v\d+$/);
    expect(result.stderr).toBe('statuses 0 0');
  }, 90_000);

  test('usage: KEY or --prefix, exactly one', async () => {
    const s = await newStore();
    const neither = await tzkv(['watch', '-d', s]);
    expect([neither.exitCode, neither.stderr]).toEqual([2, 'tzkv: missing KEY: give a key to watch, or --prefix P for every key under P\n']);
    const both = await tzkv(['watch', 'k', '--prefix', 'p', '-d', s]);
    expect([both.exitCode, both.stderr]).toEqual([2, 'tzkv: give KEY or --prefix, not both\n']);
  });
});

describe('tzkv watch on a store directory', () => {
  test('a directory that does not exist: exit 5 and nothing created; an empty one is watched until its first write', async () => {
    const missing = join(await tempDir(), 'typo');
    const run = await tzkv(['watch', 'k', '-d', missing, '--timeout', '5s']);
    expect([run.exitCode, run.stderr]).toEqual([5, `tzkv: no tzkv store at ${missing}: the directory does not exist (watch follows a store that is there: an empty directory is an empty store, watched until its first write)\n`]);
    expect(existsSync(missing)).toBe(false);
    const s = await storeDir();
    mkdirSync(s); // empty: an empty store
    const w = watch(['--prefix', '', '-d', s]);
    await ready(s, w, 'first');
    expect(w.lines[0]).toMatch(/^put first sentinel-\d+$/);
    await stop(w);
  }, 60_000);

  test('compactions by another process while a writer writes: no change twice, none made up', async () => {
    const s = await storeDir();
    mkdirSync(s);
    const w = watch(['--prefix', 'p:', '-d', s, '--json']);
    await ready(s, w, 'p:0');
    const c = changer([s, 'p:', '1500']);
    let compactions = 0;
    while (!c.exited) {
      const run = await tzkv(['compact', '-d', s]);
      expect(run.stderr).toBe('');
      compactions++;
    }
    expect((await c.child).exitCode).toBe(0);
    const made = c.lines.map((l) => JSON.parse(l) as unknown);
    await w.until(() => changes(w).length >= made.length, 'the watch to read every change');
    await new Promise((r) => setTimeout(r, 500));
    expect(changes(w)).toEqual(made);
    expect(compactions).toBeGreaterThan(1);
    await stop(w);
  }, 180_000);

  test('a watch stopped while segments it never read were compacted away says so, exit 5, after every change it could read', async () => {
    const s = await storeDir();
    mkdirSync(s);
    const w = watch(['--prefix', 'p:', '-d', s, '--json']);
    await ready(s, w, 'p:0');
    w.child.kill('SIGSTOP');
    const c = changer([s, 'p:', '600', '4096']);
    expect((await c.child).exitCode).toBe(0);
    expect((await tzkv(['compact', '-d', s])).exitCode).toBe(0);
    w.child.kill('SIGCONT');
    const result = await w.child;
    expect(result.exitCode).toBe(5);
    expect(w.stderr).toMatch(/^tzkv: the watch of .* fell behind: a compaction or repair removed \d+\.tzds, written after \d+\.tzds, before the watch read the changes in it; start it again/);
    const seen = changes(w);
    const made = c.lines.map((l) => JSON.parse(l) as unknown);
    expect(seen.length).toBeLessThan(made.length);
    expect(seen).toEqual(made.slice(0, seen.length));
  }, 120_000);

  test('damaged data in the log: a warning where it is met, every change around it, exit 4 when the watch ends', async () => {
    const s = join(await tempDir(), 'store'); // damaged on purpose: not verified at the end
    mkdirSync(s);
    const w = watch(['--prefix', 'p:', '-d', s, '--timeout', '3s']);
    await ready(s, w, 'p:ready');
    w.child.kill('SIGSTOP');
    for (const i of [1, 2, 3]) expect((await tzkv(['put', '-d', s, `p:${i}`, `value-${i}`])).exitCode).toBe(0);
    const segment = join(s, readdirSync(s).filter((n) => n.endsWith('.tzds')).sort().at(-1)!);
    const bytes = readFileSync(segment);
    bytes[bytes.indexOf('value-2')] ^= 0xff;
    writeFileSync(segment, bytes);
    w.child.kill('SIGCONT');
    const result = await w.child;
    expect(result.exitCode).toBe(4);
    expect(w.lines.filter((l) => !l.includes(SENTINEL))).toEqual(['put p:1 value-1', 'put p:3 value-3']);
    expect(w.stderr).toMatch(/^tzkv: warning: \d+\.tzds offset \d+: CRC mismatch \(\d+ bytes unreadable up to the next valid record\); changes it held cannot be reported; stepped over it \(run `tzkv verify --repair`\)\n/);
    expect(w.stderr).toMatch(/\ntzkv: the watch stepped over 1 damaged stretch of the store: changes the damage held were not reported; run `tzkv verify --repair`\n$/);
  }, 60_000);
});

describe('tzkv watch on a 3-member etcd cluster', () => {
  needsServer(etcd);

  test('the member it streams from dies: the watch goes on from another, missing no change and repeating none', async () => {
    const c = await startEtcd(3);
    try {
      const url = c.url('watch');
      const w = watch(['--prefix', 'p:', '-d', url]);
      await ready(url, w, 'p:ready');
      const after = () => w.lines.filter((l) => !l.includes(SENTINEL));
      for (let i = 0; i < 5; i++) expect((await tzkv(['put', '-d', url, `p:${i}`, `before-${i}`])).exitCode).toBe(0);
      await w.until(() => after().length >= 5, 'the changes before');
      await c.kill(0); // the first endpoint: the one the watch streams from
      for (let i = 0; i < 5; i++) {
        const put = await tzkv(['put', '-d', url, `p:${i}`, `after-${i}`]);
        expect(put.exitCode, put.stderr).toBe(0); // the put's own message, should etcd refuse it
      }
      await w.until(() => after().length >= 10, 'the changes after');
      await new Promise((r) => setTimeout(r, 500));
      expect(after()).toEqual([...[0, 1, 2, 3, 4].map((i) => `put p:${i} before-${i}`), ...[0, 1, 2, 3, 4].map((i) => `put p:${i} after-${i}`)]);
      await stop(w);
    } finally {
      await c.stop();
    }
  }, 90_000);
});
