// The frozen surface of the CLI: the committed oclif.manifest.json is what a
// fresh build makes, every command documents itself with examples and has a
// section in docs/cli.md, and no argument can be filled from stdin behind the
// user's back.

import { execa } from 'execa';
import { readFileSync } from 'node:fs';
import { symlink } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { describe, expect, test } from 'vitest';
import { BIN, NODE, ROOT, childEnv, tempDir, tzkv } from './helpers.js';

interface Manifest {
  version: string;
  commands: Record<string, { summary?: string; description?: string; examples?: string[]; args: Record<string, unknown>; flags: Record<string, unknown> }>;
}

const committedManifest = async (): Promise<string> => {
  const git = await execa('git', ['show', 'HEAD:oclif.manifest.json'], { cwd: ROOT, reject: false });
  // Outside a git checkout (an unpacked tarball), the shipped file is the committed one.
  return git.exitCode === 0 ? `${git.stdout}\n` : readFileSync(join(ROOT, 'oclif.manifest.json'), 'utf8');
};

describe('the CLI surface', () => {
  test('the committed oclif.manifest.json equals a freshly generated one', async () => {
    const fresh = await execa(process.execPath, [join(ROOT, 'scripts', 'manifest.mjs'), '--stdout'], { cwd: ROOT });
    expect(await committedManifest()).toBe(fresh.stdout + '\n');
    expect(readFileSync(join(ROOT, 'oclif.manifest.json'), 'utf8')).toBe(fresh.stdout + '\n');
  });

  const manifest = JSON.parse(readFileSync(join(ROOT, 'oclif.manifest.json'), 'utf8')) as Manifest;
  const ids = Object.keys(manifest.commands);

  test('the manifest lists the commands of the contract', () => {
    expect(ids.sort()).toEqual(['batch', 'compact', 'completion', 'del', 'export', 'get', 'getset', 'import', 'incr', 'init', 'keygen', 'keys', 'lock', 'lock:acquire', 'lock:list', 'lock:release', 'promote', 'put', 'rekey', 'replicate', 'serve', 'stats', 'ttl', 'unlock', 'verify', 'watch']);
    expect(manifest.version).toBe(JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')).version);
  });

  test('docs/cli.md has a section for every command (a subcommand in its topic\'s)', () => {
    const headings = readFileSync(join(ROOT, 'docs', 'cli.md'), 'utf8').match(/^### \S+/gm)!.map((h) => h.slice(4));
    expect(ids.filter((id) => !id.includes(':')).filter((id) => !headings.includes(id))).toEqual([]);
  });

  test.each(ids)('%s --help has a description, examples and the common flags', async (id) => {
    const run = await tzkv([id, '--help']);
    expect(run.exitCode).toBe(0);
    expect(run.stdout).toContain(manifest.commands[id].summary!);
    expect(run.stdout).toMatch(/\nDESCRIPTION\n/);
    expect(run.stdout).toMatch(/\nEXAMPLES\n\s+\$ tzkv /);
    expect(run.stdout).toMatch(/-d, --dir=DIR/);
    expect(run.stdout).toMatch(/--json/);
    expect(manifest.commands[id].examples!.length).toBeGreaterThanOrEqual(2);
  });

  test('tzkv --help (and tzkv help) lists every command; a subcommand (lock acquire) is listed by its topic\'s --help', async () => {
    const run = await tzkv(['--help']);
    expect(run.exitCode).toBe(0);
    for (const id of ids.filter((i) => !i.includes(':'))) expect(run.stdout).toMatch(new RegExp(`^\\s+${id}\\s+\\S`, 'm'));
    for (const id of ids.filter((i) => i.includes(':'))) {
      const topic = await tzkv([id.split(':')[0]!, '--help']);
      expect(topic.stdout, id).toMatch(new RegExp(`^\\s+${id.replace(':', ' ')}\\s+\\S`, 'm'));
    }
    expect((await tzkv(['help'])).stdout).toBe(run.stdout);
    expect((await tzkv(['help', 'get'])).stdout).toBe((await tzkv(['get', '--help'])).stdout);
  });

  test('no argument is ever filled from stdin by oclif', () => {
    const require = createRequire(import.meta.url);
    const { COMMANDS } = require(join(ROOT, 'dist', 'tzkv.cjs')) as { COMMANDS: Record<string, { args?: Record<string, { ignoreStdin?: boolean }> }> };
    expect(Object.keys(COMMANDS).sort()).toEqual(ids.sort());
    for (const [id, command] of Object.entries(COMMANDS)) {
      for (const [name, arg] of Object.entries(command.args ?? {})) expect(arg.ignoreStdin, `${id} ${name}`).toBe(true);
    }
  });

  test('TZKV_TRACE_STARTUP=1 reports the phases of start-up on stderr', async () => {
    const run = await tzkv(['--version'], { env: { TZKV_TRACE_STARTUP: '1' } });
    expect(run.exitCode).toBe(0);
    expect(run.stderr).toMatch(/^tzkv start-up: node [\d.]+ ms, read [\d.]+ ms, compile [\d.]+ ms, load [\d.]+ ms, config [\d.]+ ms, command [\d.]+ ms \(code cache: (used|none|rejected)\)\n$/);
    expect((await tzkv(['--version'])).stderr).toBe('');
  });

  test('runs through a link, as npm installs it', async () => {
    const link = join(await tempDir(), 'tzkv');
    await symlink(BIN, link);
    const run = await execa(NODE, [link, '--version'], { env: childEnv(), extendEnv: false, reject: false });
    expect(run.exitCode).toBe(0);
    expect(run.stdout).toMatch(/^tzkv\//);
  });

  test('--version names tzkv and its version', async () => {
    const run = await tzkv(['--version']);
    expect(run.exitCode).toBe(0);
    expect(run.stdout).toMatch(new RegExp(`^tzkv/${manifest.version.replace(/\./g, '\\.')} `));
  });
});
