#!/usr/bin/env node
// The tzkv executable: starts the CLI (dist/launch.cjs, from src/cli/launch.ts), nothing else.
// CommonJS (bin/package.json) because an ES module entry point costs every run
// several milliseconds of module-loader start-up (docs/cli.md "Start-up time").
'use strict';

require('../dist/launch.cjs').launch(require('node:path').join(__dirname, '..'));
