// The fast path reads the commands' flags from src/cli/declared-flags.ts, which
// the build generates from the commands (scripts/declared-flags.mjs). A flag
// added to a command must reach the table, and the generator must read the
// declarations as oclif does.

import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, test } from 'vitest';
import { declaredFlagsSource } from '../../scripts/declared-flags.mjs';
import { BASE_FLAGS, COMMAND_ARGUMENTS, COMMAND_FLAGS } from '../../src/cli/declared-flags.js';
import { COMMANDS } from '../../src/commands/index.js';

const ROOT = join(import.meta.dirname, '..', '..');

interface ManifestFlag {
  type: 'option' | 'boolean';
  char?: string;
  env?: string;
}

interface Manifest {
  commands: Record<string, { strict?: boolean; flags: Record<string, ManifestFlag>; args: Record<string, { required?: boolean }> }>;
}

describe('src/cli/declared-flags.ts', () => {
  test('is what scripts/declared-flags.mjs makes from the commands (`npm run build` regenerates it: commit it)', () => {
    expect(readFileSync(join(ROOT, 'src', 'cli', 'declared-flags.ts'), 'utf8')).toBe(declaredFlagsSource(COMMANDS));
  });

  test("says what oclif's manifest says of every command's flags and arguments", () => {
    const manifest = JSON.parse(readFileSync(join(ROOT, 'oclif.manifest.json'), 'utf8')) as Manifest;
    expect(Object.keys(COMMAND_FLAGS).sort()).toEqual(Object.keys(manifest.commands).sort());
    for (const [id, command] of Object.entries(manifest.commands)) {
      const flags = Object.fromEntries(
        Object.entries(command.flags).map(([name, flag]) => [name, { value: flag.type === 'option', ...(flag.char ? { char: flag.char } : {}), ...(flag.env ? { env: flag.env } : {}) }]),
      );
      expect({ ...BASE_FLAGS, ...COMMAND_FLAGS[id] }, id).toEqual(flags);
      const args = Object.values(command.args);
      expect(COMMAND_ARGUMENTS[id], id).toEqual([args.filter((arg) => arg.required).length, command.strict === false ? null : args.length]);
    }
  });
});
