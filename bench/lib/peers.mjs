// The peers tzkv is measured against, as the command lines a user would run, and the
// cached stores each is read from. Every store of a size is built from the same TSV.
import { spawnSync } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { cleanEnv, runOnce } from './measure.mjs';
import { tsvFile } from './data.mjs';

const bench = join(dirname(fileURLToPath(import.meta.url)), '..');
const node = process.execPath;
const script = (name) => join(bench, 'peers', `${name}.mjs`);
export const TZKV = [node, join(bench, '..', 'bin', 'run.js')];
export const FLOOR = { name: 'node -e 0', argv: [node, '-e', '0'] };
/** A JSON file of more records than this cannot be read back (V8's longest string is ~512M characters). */
export const JSON_MAX_RECORDS = 1_000_000;

/** Why a peer cannot run here, or null when it can. Node peers must load their prebuilt binaries. */
export function peerAvailability() {
  const out = { tzkv: null, json: null };
  const sqlite = spawnSync('sqlite3', ['-version']);
  out.sqlite = sqlite.status === 0 ? null : 'sqlite3 not installed (apt-get install sqlite3)';
  for (const [peer, pkg] of [['level', 'classic-level'], ['lmdb', 'lmdb']]) {
    const r = spawnSync(node, [script(peer), 'probe'], { env: cleanEnv(), encoding: 'utf8' });
    if (r.status === 0) out[peer] = null;
    else if (/ERR_MODULE_NOT_FOUND|Cannot find package/.test(r.stderr)) out[peer] = `${pkg} not installed (npm run bench:install)`;
    else out[peer] = `${pkg} did not load: ${r.stderr.trim().split('\n').find((l) => /Error/.test(l)) ?? r.stderr.trim()}`;
  }
  return out;
}

export const PEER_NAMES = { tzkv: 'tzkv', sqlite: 'sqlite3 CLI', level: 'Node + LevelDB', lmdb: 'Node + LMDB', json: 'Node + JSON file' };

const sqliteDb = (dir) => join(dir, 'kv.db');
const quote = (s) => `'${s.replace(/'/g, "''")}'`;
const SQLITE_SCHEMA = 'CREATE TABLE IF NOT EXISTS kv (k TEXT PRIMARY KEY, v TEXT);';

/**
 * The command that loads a data file (TSV, or JSON Lines when its name ends in .jsonl) into a
 * new store in dir, for each peer (perTxn: LMDB's records per transaction). sqlite3 imports
 * JSON Lines as one column of lines and inserts their fields with its JSON functions.
 */
export function loadArgv(peer, dir, file, { perTxn } = {}) {
  const jsonl = file.endsWith('.jsonl');
  switch (peer) {
    case 'tzkv':
      return [...TZKV, 'import', '--format', jsonl ? 'jsonl' : 'tsv', '-d', dir, file];
    case 'sqlite':
      return jsonl
        ? ['sqlite3', sqliteDb(dir), SQLITE_SCHEMA, 'CREATE TEMP TABLE lines (line TEXT);', '.mode ascii', '.separator "\\037" "\\n"', 'BEGIN;', `.import ${file} lines`, "INSERT INTO kv SELECT line->>'key', line->>'value' FROM lines;", 'COMMIT;']
        : ['sqlite3', sqliteDb(dir), SQLITE_SCHEMA, '.mode tabs', 'BEGIN;', `.import ${file} kv`, 'COMMIT;'];
    case 'lmdb':
      return [node, script('lmdb'), 'load', dir, file, ...(perTxn ? [String(perTxn)] : [])];
    default:
      return [node, script(peer), 'load', dir, file];
  }
}

export function getArgv(peer, dir, key) {
  if (peer === 'tzkv') return [...TZKV, 'get', '-d', dir, key];
  if (peer === 'sqlite') return ['sqlite3', '-readonly', sqliteDb(dir), `SELECT v FROM kv WHERE k = ${quote(key)};`];
  return [node, script(peer), 'get', dir, key];
}

export function putArgv(peer, dir, key, value) {
  if (peer === 'tzkv') return [...TZKV, 'put', '-d', dir, '--', key, value]; // a value may start with '-'
  if (peer === 'sqlite') return ['sqlite3', '-cmd', '.timeout 60000', sqliteDb(dir), `INSERT OR REPLACE INTO kv VALUES (${quote(key)}, ${quote(value)});`];
  return [node, script(peer), 'put', dir, key, value];
}

/** Lists the keys in [prefix, upper): tzkv by its prefix, the others by that range. */
export function keysArgv(peer, dir, prefix, upper) {
  if (peer === 'tzkv') return [...TZKV, 'keys', '-d', dir, prefix];
  if (peer === 'sqlite') return ['sqlite3', '-readonly', sqliteDb(dir), `SELECT k FROM kv WHERE k >= ${quote(prefix)} AND k < ${quote(upper)} ORDER BY k;`];
  return [node, script(peer), 'keys', dir, prefix, upper];
}

export const emptyStore = (peer, dir) => {
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(dir, { recursive: true });
  if (peer === 'sqlite') runOnce(['sqlite3', sqliteDb(dir), SQLITE_SCHEMA]);
  if (peer === 'lmdb') runOnce([node, script('lmdb'), 'init', dir]);
  if (peer === 'tzkv') rmSync(dir, { recursive: true, force: true }); // a write creates it
};

/** The cached store of records 1..n for a peer under dataDir, built once (then marked complete). */
export function cachedStore(peer, dataDir, n, log) {
  const dir = join(dataDir, `${peer}-${n}`);
  if (existsSync(join(dir, '.bench-complete'))) return dir;
  const tsv = tsvFile(dataDir, n);
  const building = `${dir}.building`;
  rmSync(building, { recursive: true, force: true });
  mkdirSync(building, { recursive: true });
  log(`building the ${PEER_NAMES[peer]} store of ${n} records`);
  if (peer === 'tzkv') runOnce([node, script('tzkv-build'), building, tsv]);
  else runOnce(loadArgv(peer, building, tsv, { perTxn: 1_000_000 }));
  writeFileSync(join(building, '.bench-complete'), '');
  rmSync(dir, { recursive: true, force: true });
  renameSync(building, dir);
  return dir;
}

/** A private copy of a cached store (for workloads that change it). */
export function copyStore(from, to) {
  rmSync(to, { recursive: true, force: true });
  cpSync(from, to, { recursive: true });
  return to;
}
