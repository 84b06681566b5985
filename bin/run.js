#!/usr/bin/env node
// The tzkv executable: starts the CLI (dist/launch.cjs, from src/cli/launch.ts), nothing else.
// Built-ins through process.getBuiltinModule where Node has it: cheaper than import.
const builtin = async (name) => process.getBuiltinModule?.(name) ?? (await import(name));
const { createRequire } = await builtin('node:module');
const { fileURLToPath } = await builtin('node:url');

await createRequire(import.meta.url)('../dist/launch.cjs').launch(fileURLToPath(new URL('..', import.meta.url)));
