// The layers of src/ (CONTRIBUTING.md "Layers") hold: no file or folder
// imports itself through others, and each layer imports only the layers below
// it. The rules are .dependency-cruiser.cjs; `npm run lint:layers` prints the
// same report. test/fixtures/layers-bad breaks three rules, to show the check
// can fail.
import { execa } from 'execa';
import path from 'node:path';
import { describe, expect, it } from 'vitest';

const root = path.resolve(import.meta.dirname, '../..');
const config = path.join(root, '.dependency-cruiser.cjs');
const depcruise = path.join(root, 'node_modules/dependency-cruiser/bin/dependency-cruise.mjs');

function cruise(cwd: string) {
  return execa(process.execPath, [depcruise, 'src', '--config', config, '--output-type', 'err'], { cwd, reject: false });
}

describe('layers', () => {
  it('src/ breaks no layer rule', async () => {
    const run = await cruise(root);
    expect(run.stdout + run.stderr).not.toMatch(/error/);
    expect(run.exitCode).toBe(0);
  }, 60_000);

  it('a cycle, an engine that imports the facade and a format file that imports the engine are each reported', async () => {
    const run = await cruise(path.join(root, 'test/fixtures/layers-bad'));
    expect(run.exitCode).not.toBe(0);
    expect(run.stdout).toMatch(/error no-cycle: src\/(engine\/store|local\/facade)\.ts/);
    expect(run.stdout).toMatch(/error engine-below-the-rest: src\/engine\/store\.ts → src\/local\/facade\.ts/);
    expect(run.stdout).toMatch(/error format-is-pure: src\/format\/codec\.ts → src\/engine\/store\.ts/);
    expect(run.stdout).toMatch(/error no-folder-cycle/);
  }, 60_000);
});
