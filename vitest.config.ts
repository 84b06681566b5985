import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    testTimeout: 60_000,
    hookTimeout: 60_000,
    // verify's worker thread runs from its bundle: built from src/ before the tests (test/helpers/verify-worker-bundle.ts).
    globalSetup: ['./test/helpers/verify-worker-bundle.ts'],
    pool: 'forks',
    maxWorkers: 2,
    // The skip report's lines come last: tests skipped for a missing server, and why (test/helpers/servers.ts).
    reporters: ['default', './test/helpers/skip-report.ts'],
  },
});
