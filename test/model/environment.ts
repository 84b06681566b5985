// Faults of the model test's environment, planted in a store's directory as
// other processes, crashes and bit rot leave them: a LOCK naming a holder (a
// process of the test's FakeProcesses), a compaction marker of another
// process with its output file, a flipped byte. Each says what it did, for
// the model to expect.
import { readFileSync, utimesSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { VERSION_2 } from '../../src/format/constants.js';
import { encodeManifest } from '../../src/format/manifest.js';
import { realFs, replaceFile } from '../../src/io/fs.js';
import type { FakeClock } from '../helpers/fake-clock.js';
import type { FakeProcesses } from '../helpers/fake-processes.js';
import type { LoggedRecord } from './log-oracle.js';
import { lostWith, readLog, readStoreManifest } from './log-oracle.js';

/**
 * Who a planted LOCK names. dead: a pid that does not run; recycled: a pid that
 * runs with another start time; own: this process, with a token it does not
 * hold (a release that failed); unreadable: an empty LOCK (a power loss between
 * create and write); live: a running process; foreign: a process on another host.
 */
export type LockHolderKind = 'dead' | 'recycled' | 'own' | 'unreadable' | 'live' | 'foreign';

/** Writes a LOCK into `dir` naming a holder of `kind` with `pid` (made to run or not in `processes`); its time is `clock`'s. */
export function plantLock(dir: string, kind: LockHolderKind, pid: number, processes: FakeProcesses, clock: FakeClock): void {
  const path = join(dir, 'LOCK');
  const holder = (p: number, host: string, startTime: string) =>
    JSON.stringify({ pid: p, host, startTime, acquiredAt: new Date(clock.now()).toISOString(), command: 'model test', token: `planted-${pid}` }) + '\n';
  if (kind === 'unreadable') writeFileSync(path, '');
  else if (kind === 'own') writeFileSync(path, holder(process.pid, processes.host(), processes.startTime(process.pid)));
  else if (kind === 'foreign') writeFileSync(path, holder(pid, 'other-host', 'elsewhere'));
  else {
    if (kind !== 'dead') processes.start(pid, 'now');
    writeFileSync(path, holder(pid, processes.host(), kind === 'recycled' ? 'before' : processes.startTime(pid)));
  }
  const seconds = clock.now() / 1000; // written now, by the lock's wall clock
  utimesSync(path, seconds, seconds);
}

/**
 * Records a compaction by process `pid` in the manifest (its snapshot: every
 * sealed segment and run; two file numbers reserved) and writes the output
 * file it would be writing. Returns that file's path.
 */
export function plantCompaction(dir: string, pid: number, processes: FakeProcesses, now: number): string {
  const m = readStoreManifest(dir);
  const files = { first: m.nextFile, count: 2 };
  m.compaction = {
    ...processes.identity(pid),
    token: `planted-${pid}`,
    started: new Date(now).toISOString(),
    generation: m.generation,
    segments: m.segments.filter((s) => s.size !== null).map((s) => s.file),
    runs: m.runs.map((r) => r.file),
    files,
  };
  m.nextFile += files.count;
  m.generation++;
  if (m.census) m.census.generation = m.generation; // the data is unchanged: the census stays valid
  const output = join(dir, `compact-${pid}-${String(files.first).padStart(8, '0')}.tzds.tmp`);
  writeFileSync(output, 'a compaction output half written');
  replaceFile(realFs, dir, 'MANIFEST', encodeManifest(m));
  return output;
}

export type DamageTarget = 'record' | 'run' | 'manifest';

export interface Damage {
  /** File and offset. */
  where: string;
  /** The records the damage costs (docs/format.md "Reading past damage"); none for a run or the MANIFEST, which a repair rebuilds from the data. */
  lost: LoggedRecord[];
  /** The log before the damage. */
  log: LoggedRecord[];
  /** The flip made a file header's format version newer than this tzkv's: a repair refuses (VERSION) and touches nothing. */
  newerVersion: boolean;
  /** Puts the byte back. */
  undo: () => void;
}

/**
 * Flips one byte (xor `xor`, 1..255) of the store: in a record of a segment
 * (the `pick`th, modulo their number), an index run, or the MANIFEST, at
 * `at` modulo its length.
 */
export function flipByte(dir: string, target: DamageTarget, pick: number, at: number, xor: number): Damage {
  const m = readStoreManifest(dir);
  const log = readLog(dir, m);
  if (target === 'run' && m.runs.length > 0) {
    const file = `${String(m.runs[pick % m.runs.length].file).padStart(8, '0')}.tzix`;
    return { ...flip(dir, file, (size) => at % size, xor), lost: [], log };
  }
  if (target === 'manifest' || log.length === 0) return { ...flip(dir, 'MANIFEST', (size) => at % size, xor), lost: [], log };
  const i = pick % log.length;
  const r = log[i];
  return { ...flip(dir, r.file, () => r.offset + (at % r.length), xor), lost: lostWith(log, i), log };
}

/** The format version's two bytes in a MANIFEST's or an index run's header (docs/format.md). */
const VERSION_AT = 4;

function flip(dir: string, file: string, offsetIn: (size: number) => number, xor: number): Pick<Damage, 'where' | 'newerVersion' | 'undo'> {
  const path = join(dir, file);
  const bytes = readFileSync(path);
  const offset = offsetIn(bytes.length);
  bytes[offset] ^= xor;
  writeFileSync(path, bytes);
  const newerVersion = (offset === VERSION_AT || offset === VERSION_AT + 1) && !file.endsWith('.tzds') && bytes.readUInt16LE(VERSION_AT) > VERSION_2;
  const undo = () => {
    bytes[offset] ^= xor;
    writeFileSync(path, bytes);
  };
  return { where: `${file} offset ${offset}`, newerVersion, undo };
}
